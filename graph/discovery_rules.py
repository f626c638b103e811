"""The fourteen proactive-discovery rules (docs/discovery.md) as Cypher.

Every rule is a named fragment below. The fragments share one pipeline: a *head* selects the
child set once (a region subtree, or one child), `FACTS` derives per child what several rules
need (parents away or lacking capacity, registrations, current caregivers), each rule appends
at most one finding `{rule, level, rank, evidence}` to `findings`, and a *tail* ranks and
returns. The rules exist once; `discover`, its pages, its count and `riskProfile` differ only
in head and tail, so one child is judged exactly as in a sweep of the county.

Parameters every query takes (built by `graph.discovery.parameters`):

- `$asOf` (DATE) the date D; records dated after D do not exist, intervals hold at D when
  `since <= D` and (`until` is null or `until >= D`).
- `$region`, `$scope`: region-code prefixes, the requested subtree and the caller's scope;
  both are tested ('' matches every child that has a household).
- `$born6`, `$born16`, `$born18`, `$bornOld`: the latest birth date of a person aged 6, 16,
  18 and the caregiver age threshold at D (completed years, Feb 29 handled in Python), so
  "under 18 at D" is `birthDate > $born18`.
- `$incapacity`, `$disqualifying`: the condition types of the incapacity set and those that
  make a caregiver unfit (`graph.bundle.records`).
- `$rules`: the rule names to evaluate; a rule not listed adds nothing and reads nothing.
- `$part`, `$parts` (region queries): which share of the region's villages to evaluate.
- thresholds `$contactBlue`, `$contactYellow`, `$visitBlue`, `$visitYellow`, `$overload`,
  `$reportImmediate`, `$reportHigh`, `$reportNormal`; `$zone`, the time zone in which a
  report's or status change's `at` is read as a date.
"""

from __future__ import annotations

from typing import LiteralString

# A person is a child at D: born on or before D, not dead at D, under 18 at D, and in scope.
_CHILD_AT_D: LiteralString = """
  c.regionCode STARTS WITH $scope
  AND c.birthDate <= $asOf AND c.birthDate > $born18
  AND coalesce(c.deceasedOn > $asOf, true)
"""

#: Head: every child at D whose household's village lies in `$region` and `$scope`, in part
#: `$part` of `$parts` (villages split by the last digit of their code), so that a large region
#: is evaluated by several queries at once, one core each; `$parts = 1` is the whole region. The
#: index of (region code, birth date) gives each person's birth date with its entry, so telling
#: the children from the adults reads no person (a person without one is no child at D).
CHILDREN_IN_REGION: LiteralString = (
    """
MATCH (c:Person)
USING INDEX SEEK c:Person(regionCode, birthDate)
WHERE c.regionCode STARTS WITH $region AND c.birthDate IS NOT NULL
  AND ($parts = 1 OR toInteger(right(c.regionCode, 1)) % $parts = $part) AND"""
    + _CHILD_AT_D
)

#: Head: every child at D whose household lies in one of the villages `$villages` (codes), in
#: `$region` and `$scope`, in part `$part` of `$parts`: what one batch of a sweep judges. The
#: index is sought by each village alone, inside its own subquery: given the region and scope
#: prefixes beside it, the planner sought by those (a sweep passes '', every person of the
#: database) once per village of the batch.
CHILDREN_IN_VILLAGES: LiteralString = (
    """
UNWIND $villages AS village
CALL (village) {
  MATCH (c:Person)
  USING INDEX SEEK c:Person(regionCode, birthDate)
  WHERE c.regionCode STARTS WITH village AND c.birthDate IS NOT NULL
  RETURN c
}
WITH c
WHERE c.regionCode STARTS WITH $region
  AND ($parts = 1 OR toInteger(right(c.regionCode, 1)) % $parts = $part) AND"""
    + _CHILD_AT_D
)

#: Head: the one child `$childId`, if it is a child at D in scope.
ONE_CHILD: LiteralString = (
    """
MATCH (c:Person {id: $childId})
WHERE c.regionCode STARTS WITH $region AND"""
    + _CHILD_AT_D
)

#: Head: the children among `$childIds` who are children at D in `$region` and scope: what a
#: write re-evaluates (the children it touched), judged by the same rules as a sweep.
CHILDREN_BY_ID: LiteralString = (
    """
UNWIND $childIds AS childId
MATCH (c:Person {id: childId})
WHERE c.regionCode STARTS WITH $region AND"""
    + _CHILD_AT_D
)

#: Per-child facts shared by the rules, gathered once into the map `f`. What every child needs
#: is read first, in one walk of C's relationships of those kinds: parents, current care,
#: registrations, reports, cases (a walk per kind costs the same time, but reads C's relationship
#: chain once per kind). Then each parent's
#: conditions and away episodes in one more pass, and each current caregiver's conditions (and,
#: for CAREGIVER_OVERLOAD, how many children they care for). A fact only some rules read, for
#: children those rules can fire for, is read only for those children: a subquery inside a
#: `CASE` runs only when its branch is taken (one pass over every relationship of every child,
#: sorted out by `CASE`, was most of the evaluation's cost). A fact not read holds its empty
#: value, which the rules that would read it never see.
#:
#: `leftBehind` (under 16, >= 1 recorded parent, every parent away or lacking capacity, >= 1
#: away), `deFactoUnsupported` (>= 2 recorded parents, every one dead or holding an
#: incapacity condition, and not two of them dead: both parents holding a condition, or one
#: dead and the other holding one; two dead parents make an orphan, 民发〔2019〕62号),
#: `parentEvidence`, `registrations` holding at D, `carers` (the `care` records holding at D,
#: with what the caregiver rules need), `reports` and `cases` about C; read only for the rules
#: that need them: `placed` (NO_CAREGIVER, left-behind), `paired` (UNPAIRED), `schooling`
#: (OUT_OF_SCHOOL, 6 to 15: school enrollments begun by D), `poorHouseholds`
#: (LOW_INCOME_HOUSEHOLD, left-behind), `family` (recorded parents and guardians holding at D)
#: and `contacts` to C (CONTACT_LAPSE, left-behind), home `visits` to C (VISIT_OVERDUE), dated on
#: or before D. A parent is away when alive and an `away` episode holds; lacks capacity when
#: dead at D or an incapacity condition holds. Each list keeps the order of C's relationships,
#: as evidence built from it does.
FACTS: LiteralString = """
CALL (c) {
  MATCH (c)-[r:PARENT_OF|CARES_FOR|REGISTERED|ABOUT|CONCERNS]-(x)
  WITH r, x, type(r) AS t, endNode(r) = c AS incoming
  RETURN
    collect(CASE WHEN t = 'PARENT_OF' AND incoming THEN x END) AS parentNodes,
    collect(CASE WHEN t = 'CARES_FOR' AND incoming
                      AND r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)
                 THEN {node: x, since: r.since, signed: r.agreementSignedOn} END) AS cares,
    collect(CASE WHEN t = 'REGISTERED' AND x.since <= $asOf AND (x.until IS NULL OR x.until >= $asOf)
                 THEN {kind: 'registration', key: x.key, category: x.category,
                       since: x.since} END) AS registrations,
    collect(CASE WHEN t = 'ABOUT' AND incoming AND x:Report THEN x END) AS reports,
    collect(CASE WHEN t = 'CONCERNS' AND incoming AND x:Case AND x.openedOn <= $asOf
                 THEN x END) AS cases
}
CALL (parentNodes) {
  UNWIND parentNodes AS par
  WITH par, par.deceasedOn IS NOT NULL AND par.deceasedOn <= $asOf AS dead
  CALL (par, dead) {
    MATCH (par)-[r:HAS_CONDITION|AWAY]->(x)
    WHERE x.since <= $asOf AND (x.until IS NULL OR x.until >= $asOf)
    RETURN
      collect(CASE WHEN type(r) = 'HAS_CONDITION'
                        AND x.type IN $incapacity
                   THEN {kind: 'condition', key: x.key, type: x.type, personId: par.id,
                         since: x.since} END) AS conditions,
      collect(CASE WHEN type(r) = 'AWAY' AND NOT dead
                   THEN {kind: 'away', key: x.key, personId: par.id, since: x.since} END) AS episodes
  }
  WITH par, dead, conditions, episodes,
       size(episodes) > 0 AS away, dead OR size(conditions) > 0 AS incapable
  RETURN count(par) AS parents,
         count(CASE WHEN away THEN 1 END) AS awayParents,
         count(CASE WHEN incapable THEN 1 END) AS incapableParents,
         count(CASE WHEN dead THEN 1 END) AS deadParents,
         count(CASE WHEN away OR incapable THEN 1 END) AS absentParents,
         reduce(acc = [], e IN collect(
             [{kind: 'parent', id: par.id}]
             + CASE WHEN dead THEN [{kind: 'death', personId: par.id, on: par.deceasedOn}]
                    ELSE [] END
             + episodes + conditions) | acc + e) AS parentEvidence
}
WITH c, parentNodes, cares, registrations, reports, cases, parents, incapableParents, deadParents,
     parentEvidence,
     c.birthDate > $born16 AND parents >= 1 AND absentParents = parents AND awayParents >= 1
       AS leftBehind,
     CASE WHEN size(cares) = 0 THEN [] ELSE COLLECT {
       UNWIND cares AS k
       WITH k, k.node AS cg
       WITH k, cg, cg.deceasedOn IS NOT NULL AND cg.deceasedOn <= $asOf AS dead,
            COLLECT { MATCH (cg)-[:HAS_CONDITION]->(x)
                      WHERE x.since <= $asOf AND (x.until IS NULL OR x.until >= $asOf)
                      RETURN {kind: 'condition', key: x.key, type: x.type, personId: cg.id,
                              since: x.since} } AS conditions
       RETURN {
         node: cg, id: cg.id, birthDate: cg.birthDate, dead: dead, deceasedOn: cg.deceasedOn,
         since: k.since, signed: k.signed,
         incapacity: [x IN conditions WHERE x.type IN $incapacity],
         disqualifying: [x IN conditions WHERE x.type IN $disqualifying],
         children: CASE WHEN 'CAREGIVER_OVERLOAD' IN $rules THEN size(COLLECT {
           // No label on `o`: the plan must expand from the caregiver, never seek every child.
           MATCH (cg)-[q:CARES_FOR]->(o)
           WHERE q.since <= $asOf AND (q.until IS NULL OR q.until >= $asOf)
             AND o.birthDate <= $asOf AND o.birthDate > $born18
             AND (o.deceasedOn IS NULL OR o.deceasedOn > $asOf)
           RETURN DISTINCT o
         }) END
       }
     } END AS carers
WITH c, parentNodes, parentEvidence, registrations, carers, reports, cases, leftBehind,
     parents >= 2 AND incapableParents = parents AND deadParents < 2 AS deFactoUnsupported,
     [g IN registrations WHERE g.category IN ['de_facto_unsupported', 'orphan', 'in_difficulty']]
       AS watched
WITH c, {
  leftBehind: leftBehind,
  deFactoUnsupported: deFactoUnsupported,
  parentEvidence: parentEvidence,
  registrations: registrations,
  registered: [g IN registrations | g.category],
  carers: carers,
  placed: CASE WHEN 'NO_CAREGIVER' IN $rules AND leftBehind THEN EXISTS {
    MATCH (c)-[r:PLACED_IN]->() WHERE r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)
  } ELSE false END,
  paired: CASE WHEN 'UNPAIRED' IN $rules
                    AND (leftBehind OR any(g IN watched WHERE g.category <> 'in_difficulty'))
          THEN EXISTS {
    MATCH (c)<-[r:PAIRED_WITH]-() WHERE r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)
  } ELSE false END,
  schooling: CASE WHEN 'OUT_OF_SCHOOL' IN $rules AND c.birthDate <= $born6 AND c.birthDate > $born16
             THEN COLLECT {
    MATCH (c)-[r:ENROLLED_IN]->(x)
    WHERE r.since <= $asOf AND x.type = 'school'
    RETURN {kind: 'enrollment', id: x.id, since: r.since, until: r.until,
            holds: r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)}
  } ELSE [] END,
  poorHouseholds: CASE WHEN 'LOW_INCOME_HOUSEHOLD' IN $rules AND leftBehind THEN COLLECT {
    MATCH (c)-[:MEMBER_OF]->(x) WHERE size(coalesce(x.lowIncome, [])) > 0
    RETURN {kind: 'household', id: x.id, values: x.lowIncome}
  } ELSE [] END,
  reports: reports,
  cases: cases,
  family: CASE WHEN 'CONTACT_LAPSE' IN $rules AND leftBehind THEN parentNodes + COLLECT {
    MATCH (c)<-[r:GUARDIAN_OF]-(x) WHERE r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)
    RETURN x
  } ELSE [] END,
  contacts: CASE WHEN 'CONTACT_LAPSE' IN $rules AND leftBehind THEN COLLECT {
    MATCH (c)<-[r:CONTACTED]-(x) WHERE r.on <= $asOf RETURN {from: x, on: r.on}
  } ELSE [] END,
  visits: CASE WHEN 'VISIT_OVERDUE' IN $rules AND (leftBehind OR size(watched) > 0) THEN COLLECT {
    MATCH (c)<-[r:VISITED]-(x) WHERE r.on <= $asOf AND r.type = 'home_visit'
    RETURN {by: x.id, on: r.on}
  } ELSE [] END
} AS f, [] AS findings
"""

#: NO_CAREGIVER (red): C is left-behind, no `care` holds at D whose caregiver is alive at D,
#: and no `placement` of C holds at D. Evidence: the parents (away, dead, conditions) and any
#: current caregiver who is dead at D.
NO_CAREGIVER: LiteralString = """
WITH c, f, findings + CASE
  WHEN 'NO_CAREGIVER' IN $rules AND f.leftBehind
       AND none(k IN f.carers WHERE NOT k.dead) AND NOT f.placed
  THEN [{rule: 'NO_CAREGIVER', level: 'red', rank: 3,
         evidence: f.parentEvidence
           + [k IN f.carers | {kind: 'care', caregiverId: k.id, since: k.since}]
           + [k IN f.carers | {kind: 'death', personId: k.id, on: k.deceasedOn}]}]
  ELSE [] END AS findings
"""

#: CAREGIVER_UNFIT (red): a current caregiver holds a disqualifying condition
#: (`abuse_record`, `substance_abuse`, `neglect_record`) at D or is under 18 at D.
#: Evidence: each such caregiver and the conditions.
CAREGIVER_UNFIT: LiteralString = """
WITH c, f, findings,
     [k IN f.carers WHERE size(k.disqualifying) > 0 OR k.birthDate > $born18] AS unfit
WITH c, f, findings + CASE
  WHEN 'CAREGIVER_UNFIT' IN $rules AND size(unfit) > 0
  THEN [{rule: 'CAREGIVER_UNFIT', level: 'red', rank: 3,
         evidence: reduce(e = [], k IN unfit |
           e + [{kind: 'caregiver', id: k.id, on: k.birthDate}] + k.disqualifying)}]
  ELSE [] END AS findings
"""

#: UNREGISTERED_DE_FACTO_UNSUPPORTED (red): C is de facto unsupported at D (see `FACTS`)
#: and has no `de_facto_unsupported` registration holding at D. Evidence: the parents, their deaths and conditions.
UNREGISTERED_DE_FACTO_UNSUPPORTED: LiteralString = """
WITH c, f, findings + CASE
  WHEN 'UNREGISTERED_DE_FACTO_UNSUPPORTED' IN $rules AND f.deFactoUnsupported
       AND NOT 'de_facto_unsupported' IN f.registered
  THEN [{rule: 'UNREGISTERED_DE_FACTO_UNSUPPORTED', level: 'red', rank: 3,
         evidence: f.parentEvidence}]
  ELSE [] END AS findings
"""

#: REPORT_UNHANDLED (red for `immediate`/`high`, yellow for `normal`): a report about C made
#: at t (its date read in `$zone`, on or before D) has no case for C opened on or after that
#: date (and on or before D), and D is more than 1/3/7 days after it. Evidence: every such
#: report; the level is the highest among them.
REPORT_UNHANDLED: LiteralString = """
WITH c, f, findings,
     CASE WHEN 'REPORT_UNHANDLED' IN $rules AND size(f.reports) > 0 THEN COLLECT {
       UNWIND f.reports AS r
       WITH r, date(datetime({datetime: r.at, timezone: $zone})) AS madeOn
       WHERE madeOn <= $asOf
         AND duration.inDays(madeOn, $asOf).days > CASE r.urgency
               WHEN 'immediate' THEN $reportImmediate WHEN 'high' THEN $reportHigh
               ELSE $reportNormal END
         AND none(k IN f.cases WHERE k.openedOn >= madeOn)
       WITH r, madeOn ORDER BY r.at, r.id
       RETURN {kind: 'report', id: r.id, at: r.at, on: madeOn, urgency: r.urgency}
     } ELSE [] END AS reports
WITH c, f, findings + CASE WHEN size(reports) = 0 THEN [] ELSE [{
    rule: 'REPORT_UNHANDLED',
    level: CASE WHEN any(x IN reports WHERE x.urgency IN ['immediate', 'high'])
                THEN 'red' ELSE 'yellow' END,
    rank: CASE WHEN any(x IN reports WHERE x.urgency IN ['immediate', 'high'])
               THEN 3 ELSE 2 END,
    evidence: reports}] END AS findings
"""

#: CAREGIVER_INCAPABLE (yellow): C is left-behind, has at least one current caregiver, and
#: every current caregiver lacks capacity at D (dead, or an incapacity condition) or is at
#: least the caregiver age threshold (70) at D. Evidence: the caregivers and conditions.
CAREGIVER_INCAPABLE: LiteralString = """
WITH c, f, findings + CASE
  WHEN 'CAREGIVER_INCAPABLE' IN $rules AND f.leftBehind AND size(f.carers) > 0
       AND all(k IN f.carers WHERE k.dead OR size(k.incapacity) > 0
                                   OR k.birthDate <= $bornOld)
  THEN [{rule: 'CAREGIVER_INCAPABLE', level: 'yellow', rank: 2,
         evidence: reduce(e = [], k IN f.carers |
           e + [{kind: 'caregiver', id: k.id, on: k.birthDate}]
             + CASE WHEN k.dead THEN [{kind: 'death', personId: k.id, on: k.deceasedOn}]
                    ELSE [] END
             + k.incapacity)}]
  ELSE [] END AS findings
"""

#: CONTACT_LAPSE (blue over 7 days, yellow over 30 days or no contact ever): C is left-behind;
#: the gap is D minus the date of the latest `contact` to C on or before D from any recorded
#: parent or any guardian holding at D. Evidence: that contact (with the gap in days), or the
#: parents when there was none.
CONTACT_LAPSE: LiteralString = """
WITH c, f, findings, 'CONTACT_LAPSE' IN $rules AND f.leftBehind AS applies,
     reduce(last = null, x IN f.contacts |
       CASE WHEN x.from IN f.family
                 AND (last IS NULL OR x.on > last.on OR (x.on = last.on AND x.from.id < last.from.id))
            THEN x ELSE last END)
     AS last
WITH c, f, findings, applies, last,
     CASE WHEN last IS NULL THEN null ELSE duration.inDays(last.on, $asOf).days END AS gap
WITH c, f, findings + CASE WHEN applies AND (gap IS NULL OR gap > $contactBlue) THEN [{
    rule: 'CONTACT_LAPSE',
    level: CASE WHEN gap IS NULL OR gap > $contactYellow THEN 'yellow' ELSE 'blue' END,
    rank: CASE WHEN gap IS NULL OR gap > $contactYellow THEN 2 ELSE 1 END,
    evidence: CASE WHEN last IS NULL THEN f.parentEvidence
              ELSE [{kind: 'contact', personId: last.from.id, on: last.on, days: gap}] END
  }] ELSE [] END AS findings
"""

#: VISIT_OVERDUE (blue over 31 days, yellow over 92 days or no visit ever): C is left-behind
#: or has a `de_facto_unsupported`, `orphan` or `in_difficulty` registration holding at D; the
#: gap is D minus the date of the latest `home_visit` to C on or before D. Evidence: that
#: visit (with the gap), or the registrations and parents that put C under watch.
VISIT_OVERDUE: LiteralString = """
WITH c, f, findings,
     [g IN f.registrations
      WHERE g.category IN ['de_facto_unsupported', 'orphan', 'in_difficulty']] AS watched,
     reduce(last = null, x IN f.visits | CASE WHEN last IS NULL OR x.on > last.on
                                              OR (x.on = last.on AND x.by < last.by)
                                              THEN x ELSE last END) AS last
WITH c, f, findings, watched, last,
     'VISIT_OVERDUE' IN $rules AND (f.leftBehind OR size(watched) > 0) AS applies,
     CASE WHEN last IS NULL THEN null ELSE duration.inDays(last.on, $asOf).days END AS gap
WITH c, f, findings + CASE WHEN applies AND (gap IS NULL OR gap > $visitBlue) THEN [{
    rule: 'VISIT_OVERDUE',
    level: CASE WHEN gap IS NULL OR gap > $visitYellow THEN 'yellow' ELSE 'blue' END,
    rank: CASE WHEN gap IS NULL OR gap > $visitYellow THEN 2 ELSE 1 END,
    evidence: CASE WHEN last IS NULL THEN []
              ELSE [{kind: 'visit', personId: last.by, on: last.on, days: gap}] END
              + watched + CASE WHEN f.leftBehind THEN f.parentEvidence ELSE [] END
  }] ELSE [] END AS findings
"""

#: OUT_OF_SCHOOL (yellow): C is 6 to 15 at D (inclusive) and no `enrollment` of C in an
#: institution of type `school` holds at D. Evidence: C's birth date and C's latest school
#: enrollment begun on or before D, if any.
OUT_OF_SCHOOL: LiteralString = """
WITH c, f, findings + CASE
  WHEN 'OUT_OF_SCHOOL' IN $rules AND c.birthDate <= $born6 AND c.birthDate > $born16
       AND none(e IN f.schooling WHERE e.holds)
  THEN [{rule: 'OUT_OF_SCHOOL', level: 'yellow', rank: 2,
         evidence: [{kind: 'birth', personId: c.id, on: c.birthDate}]
           + [e IN f.schooling WHERE none(o IN f.schooling WHERE o.since > e.since)][..1]}]
  ELSE [] END AS findings
"""

#: UNREGISTERED_LEFT_BEHIND (yellow): C is left-behind at D and has no `left_behind`
#: registration holding at D. Evidence: the parents and their away episodes or conditions.
UNREGISTERED_LEFT_BEHIND: LiteralString = """
WITH c, f, findings + CASE
  WHEN 'UNREGISTERED_LEFT_BEHIND' IN $rules AND f.leftBehind
       AND NOT 'left_behind' IN f.registered
  THEN [{rule: 'UNREGISTERED_LEFT_BEHIND', level: 'yellow', rank: 2,
         evidence: f.parentEvidence}]
  ELSE [] END AS findings
"""

#: REFERRAL_OVERDUE (yellow): a referral on a case of C (case opened and referral made on or
#: before D) has status `pending` or `accepted` at D and `dueOn < D`. The status at D is that
#: of the latest `StatusChange` whose `at` (read in `$zone`) falls on or before D; a referral
#: with no change on or before D has the status as recorded (imported referrals carry no
#: history). Evidence: every such referral.
REFERRAL_OVERDUE: LiteralString = """
WITH c, f, findings,
     CASE WHEN 'REFERRAL_OVERDUE' IN $rules AND size(f.cases) > 0 THEN COLLECT {
       UNWIND f.cases AS k
       MATCH (k)-[:REFERRED]->(x)
       WHERE x.on <= $asOf AND x.dueOn < $asOf
       OPTIONAL CALL (x) {
         MATCH (x)-[:HAD_STATUS]->(s)
         WHERE date(datetime({datetime: s.at, timezone: $zone})) <= $asOf
         RETURN s.status AS statusThen ORDER BY s.at DESC LIMIT 1
       }
       WITH k, x, coalesce(statusThen, x.status) AS status
       WHERE status IN ['pending', 'accepted']
       WITH k, x, status ORDER BY x.dueOn, x.id
       RETURN {kind: 'referral', id: x.id, dueOn: x.dueOn, status: status, caseId: k.id}
     } ELSE [] END AS referrals
WITH c, f, findings + CASE WHEN size(referrals) = 0 THEN []
  ELSE [{rule: 'REFERRAL_OVERDUE', level: 'yellow', rank: 2, evidence: referrals}] END AS findings
"""

#: NO_WRITTEN_AGREEMENT (blue): a current `care` record of C has no `agreementSignedOn`, or
#: one after D. Evidence: those care records.
NO_WRITTEN_AGREEMENT: LiteralString = """
WITH c, f, findings,
     [k IN f.carers WHERE k.signed IS NULL OR k.signed > $asOf] AS unsigned
WITH c, f, findings + CASE
  WHEN 'NO_WRITTEN_AGREEMENT' IN $rules AND size(unsigned) > 0
  THEN [{rule: 'NO_WRITTEN_AGREEMENT', level: 'blue', rank: 1,
         evidence: [k IN unsigned | {kind: 'care', caregiverId: k.id, since: k.since}]}]
  ELSE [] END AS findings
"""

#: CAREGIVER_OVERLOAD (blue): a current caregiver of C has `care` records holding at D for at
#: least `$overload` (4) distinct living children under 18 at D, C included, wherever those
#: children live. Evidence: each such caregiver with the count.
CAREGIVER_OVERLOAD: LiteralString = """
WITH c, f, findings,
     CASE WHEN 'CAREGIVER_OVERLOAD' IN $rules AND any(k IN f.carers WHERE k.children >= $overload)
     THEN COLLECT {
       UNWIND f.carers AS k
       WITH DISTINCT k.node AS cg, k.children AS children
       WHERE children >= $overload
       WITH cg, children ORDER BY cg.id
       RETURN {kind: 'caregiver', id: cg.id, count: children}
     } ELSE [] END AS heavy
WITH c, f, findings + CASE WHEN size(heavy) = 0 THEN []
  ELSE [{rule: 'CAREGIVER_OVERLOAD', level: 'blue', rank: 1, evidence: heavy}] END AS findings
"""

#: UNPAIRED (blue): C is left-behind, or has a `de_facto_unsupported` or `orphan`
#: registration holding at D, and no `pairing` of C holds at D. Evidence: the registrations
#: or parents that call for a pairing.
UNPAIRED: LiteralString = """
WITH c, f, findings,
     [g IN f.registrations WHERE g.category IN ['de_facto_unsupported', 'orphan']] AS needy
WITH c, f, findings + CASE
  WHEN 'UNPAIRED' IN $rules AND (f.leftBehind OR size(needy) > 0) AND NOT f.paired
  THEN [{rule: 'UNPAIRED', level: 'blue', rank: 1,
         evidence: needy + CASE WHEN f.leftBehind THEN f.parentEvidence ELSE [] END}]
  ELSE [] END AS findings
"""

#: LOW_INCOME_HOUSEHOLD (blue): C is left-behind and C's household has at least one
#: `lowIncome` status. Households keep no history of their statuses, so the current ones
#: are used at every D. Evidence: the household and its statuses.
LOW_INCOME_HOUSEHOLD: LiteralString = """
WITH c, f, findings + CASE
  WHEN 'LOW_INCOME_HOUSEHOLD' IN $rules AND f.leftBehind AND size(f.poorHouseholds) > 0
  THEN [{rule: 'LOW_INCOME_HOUSEHOLD', level: 'blue', rank: 1, evidence: f.poorHouseholds}]
  ELSE [] END AS findings
"""

#: The rules in their documented order, by name.
RULES: dict[str, LiteralString] = {
    "NO_CAREGIVER": NO_CAREGIVER,
    "CAREGIVER_UNFIT": CAREGIVER_UNFIT,
    "UNREGISTERED_DE_FACTO_UNSUPPORTED": UNREGISTERED_DE_FACTO_UNSUPPORTED,
    "REPORT_UNHANDLED": REPORT_UNHANDLED,
    "CAREGIVER_INCAPABLE": CAREGIVER_INCAPABLE,
    "CONTACT_LAPSE": CONTACT_LAPSE,
    "VISIT_OVERDUE": VISIT_OVERDUE,
    "OUT_OF_SCHOOL": OUT_OF_SCHOOL,
    "UNREGISTERED_LEFT_BEHIND": UNREGISTERED_LEFT_BEHIND,
    "REFERRAL_OVERDUE": REFERRAL_OVERDUE,
    "NO_WRITTEN_AGREEMENT": NO_WRITTEN_AGREEMENT,
    "CAREGIVER_OVERLOAD": CAREGIVER_OVERLOAD,
    "UNPAIRED": UNPAIRED,
    "LOW_INCOME_HOUSEHOLD": LOW_INCOME_HOUSEHOLD,
}

_ALL_RULES: LiteralString = (
    NO_CAREGIVER
    + CAREGIVER_UNFIT
    + UNREGISTERED_DE_FACTO_UNSUPPORTED
    + REPORT_UNHANDLED
    + CAREGIVER_INCAPABLE
    + CONTACT_LAPSE
    + VISIT_OVERDUE
    + OUT_OF_SCHOOL
    + UNREGISTERED_LEFT_BEHIND
    + REFERRAL_OVERDUE
    + NO_WRITTEN_AGREEMENT
    + CAREGIVER_OVERLOAD
    + UNPAIRED
    + LOW_INCOME_HOUSEHOLD
)

# The child's level: the highest rank among its findings (red 3, yellow 2, blue 1, green 0).
_RANKED: LiteralString = """
WITH c, findings, reduce(top = 0, x IN findings | CASE WHEN x.rank > top THEN x.rank ELSE top END)
     AS rank
"""

# A child's findings as returned: the evidence's dates as ISO text, which the client parses
# many times faster than it builds the driver's own date values.
_FINDINGS: LiteralString = """
[x IN findings | {rule: x.rule, level: x.level, evidence: [e IN x.evidence | e {
  .*, on: toString(e.on), since: toString(e.since), until: toString(e.until), dueOn: toString(e.dueOn)
}]}]"""

_ROW: LiteralString = (
    """
RETURN c.id AS id, c.name AS name, c.regionCode AS regionCode, rank,"""
    + _FINDINGS
    + """ AS findings
"""
)

# The children of one village in one row, each as `_ROW` gives it: the driver's cost is per
# row (two socket reads and a task each), and was most of the client's time for a county of
# 20,000 rows; a village's children arrive in one. The index seek yields the children in
# region-code order, so the rows are grouped as they stream (an ordered aggregation): the
# database holds one village at a time, never a province.
_BY_VILLAGE: LiteralString = (
    """
WITH c.regionCode AS regionCode, collect({id: c.id, name: c.name, rank: rank, findings:"""
    + _FINDINGS
    + """}) AS children
RETURN regionCode, children
"""
)

#: Every child at D in the region and scope, with its rank and findings, one row per village
#: (unordered: the caller sorts, so the database never holds a province's rows for a sort).
DISCOVER: LiteralString = CHILDREN_IN_REGION + FACTS + _ALL_RULES + _RANKED + _BY_VILLAGE

#: The same for the villages `$villages` (see `CHILDREN_IN_VILLAGES`).
DISCOVER_VILLAGES: LiteralString = CHILDREN_IN_VILLAGES + FACTS + _ALL_RULES + _RANKED + _BY_VILLAGE

#: One page of the children whose rank is at least `$minRank`, most severe first then by id,
#: after the keyset cursor (`$afterRank`, `$afterId`; both null for the first page).
DISCOVER_PAGE: LiteralString = (
    CHILDREN_IN_REGION
    + FACTS
    + _ALL_RULES
    + _RANKED
    + """
WHERE rank >= $minRank
  AND ($afterRank IS NULL OR rank < $afterRank OR (rank = $afterRank AND c.id > $afterId))
WITH c, findings, rank ORDER BY rank DESC, c.id LIMIT $limit
"""
    + _ROW
    + """
ORDER BY rank DESC, id
"""
)

#: How many children at D in the region and scope have a rank of at least `$minRank`.
DISCOVER_COUNT: LiteralString = (
    CHILDREN_IN_REGION
    + FACTS
    + _ALL_RULES
    + _RANKED
    + """
WHERE rank >= $minRank
RETURN count(*) AS total
"""
)

#: Only the children with a finding, and only (rule, level) for each: what a sweep persists.
DISCOVER_FINDINGS: LiteralString = (
    CHILDREN_IN_REGION
    + FACTS
    + _ALL_RULES
    + _RANKED
    + """
WHERE rank > 0
RETURN c.id AS id, [x IN findings | [x.rule, x.level]] AS findings
"""
)

#: The same rules for the one child `$childId`.
RISK_PROFILE: LiteralString = ONE_CHILD + FACTS + _ALL_RULES + _RANKED + _ROW

#: The same rules for the children `$childIds` (see `CHILDREN_BY_ID`), green included, one row
#: per village as `DISCOVER` gives them (an import's re-evaluation judges thousands).
CHILDREN_RISK: LiteralString = CHILDREN_BY_ID + FACTS + _ALL_RULES + _RANKED + _BY_VILLAGE
