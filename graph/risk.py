"""Today's findings kept current: per-child risk nodes and alerts reconciled after every write.

A write that can change a child's findings (a visit, a contact, a care or guardian record, an
away episode, a condition, a registration, a pairing, an enrollment, a placement, a referral's
answer, a case, a report, an import) names the records it touched; after its transaction
commits, `reevaluate_touched` widens those ids to the children whose findings they can change
(`AFFECTED`) and `reevaluate` judges exactly those children by the fourteen rules, then in one
write transaction:

- materialises each child's level, findings and evidence as a `ChildRisk` node (what a page of
  today's discovery can later be read from, without evaluating the rules again);
- raises, escalates and lowers the children's alerts from the findings and resolves their live
  alerts whose finding stopped holding, with the very queries a sweep runs (`graph.alerts`);
- gives each newly raised alert an owner (the village's children's director holding a `SERVES`
  post at the date) and a due date by colour (`AlertPolicy`), and hands every alert that is
  still live after its due date up one tier: the township's supervisor, then the county's
  coordinator, each step an `AlertChange`.

A sweep (`graph.alerts.sweep`) runs the same reconciliation one village at a time.

    (:ChildRisk {childId, level, rank, rules, ranks, findings (JSON), asOf, evaluatedAt, thresholds,
                 regionCode, inProvince, inCity, inCounty, inTownship})-[:RISK_OF]->(:Person)
    (:ChildRisk)-[:FLAGGED {childId, rule, rank, regionCode, inProvince, ...}]->(the same ChildRisk)

Today's `discover` reads these nodes when `graph.risk_index` finds them trustworthy; every
write leaves a pending marker that its re-evaluation removes (`pending` below).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, LiteralString

import orjson
from neo4j import AsyncManagedTransaction

from graph import audit, deadlines, risk_index
from graph.audit import AuditEntry
from graph.bundle.records import KINDS
from graph.dates import birth_cutoff
from graph.discovery import ChildRisk, Level, Thresholds, children_risk_in
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.grouping import GroupCommit

if TYPE_CHECKING:
    from graph.alerts import Alert

log = logging.getLogger("shouhu.risk")

#: The tiers an overdue alert is handed up through, after its owner (tier 0).
TOWNSHIP_TIER: Final = 1
COUNTY_TIER: Final = 2

#: How many ids one round of `AFFECTED` and of the re-evaluation after writes takes.
BATCH: Final = 500
#: How many ids one transaction of `reevaluate` judges: an import's thousands in a few
#: transactions, each holding about as many findings as a sweep's batch of villages (adults,
#: which most ids of an import are, cost a seek each and hold nothing).
JUDGE_BATCH: Final = 2000


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """How long an alert of each colour may stay live before it is overdue (docs/operations.md)."""

    red_days: int = 1
    yellow_days: int = 7
    blue_days: int = 30

    def validate(self) -> None:
        for name in ("red_days", "yellow_days", "blue_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise InvalidInput(name, "must be a whole number of days, 0 or more")

    def days(self, level: Level) -> int:
        return {Level.RED: self.red_days, Level.YELLOW: self.yellow_days, Level.BLUE: self.blue_days}.get(
            level, self.blue_days
        )

    def as_parameter(self) -> dict[str, int]:
        return {"red": self.red_days, "yellow": self.yellow_days, "blue": self.blue_days}


#: The kinds a re-evaluation starts from: what a write or an import names is sought under these
#: labels only (`AFFECTED`'s `$named` maps each to ids).
NAMED_KINDS: Final = ("person", "household", "institution", "case", "report", "referral")

#: The one definition of the children whose findings a change can reach, from `$named` (kind ->
#: ids, every kind of `NAMED_KINDS` present): a child named itself; the children of a person
#: named (parent, guardian, caregiver: away episodes, conditions and a caregiver's overload reach
#: all of them); the other children of a named child's caregivers (the child's birth or death
#: changes how many children each caregiver has, CAREGIVER_OVERLOAD); the members of a
#: household; the children enrolled in an institution (its type decides OUT_OF_SCHOOL); the
#: child of a case, a report or a referral named. Each id is sought under its own label only, in
#: one statement however many ids: an import names them by kind (`named_ids`), a write gives
#: every kind the same ids (`every_kind`). The lists travel inside a map, so the plan does not
#: depend on their sizes (Neo4j keys its plan cache by the sizes of top-level string and list
#: parameters only).
_AFFECTED: LiteralString = """
CALL () {
  UNWIND $named.person AS id
  MATCH (p:Person {id: id})
  CALL (p) {
    RETURN p.id AS child
    UNION
    MATCH (p)-[:PARENT_OF|GUARDIAN_OF|CARES_FOR]->(o:Person) RETURN o.id AS child
    UNION
    MATCH (p)<-[:CARES_FOR]-(:Person)-[:CARES_FOR]->(o:Person) RETURN o.id AS child
  }
  RETURN child
  UNION
  UNWIND $named.household AS id
  MATCH (o:Person)-[:MEMBER_OF]->(:Household {id: id}) RETURN o.id AS child
  UNION
  UNWIND $named.institution AS id
  MATCH (o:Person)-[:ENROLLED_IN]->(:Institution {id: id}) RETURN o.id AS child
  UNION
  UNWIND $named.case AS id
  MATCH (:Case {id: id})-[:CONCERNS]->(o:Person) RETURN o.id AS child
  UNION
  UNWIND $named.report AS id
  MATCH (:Report {id: id})-[:ABOUT]->(o:Person) RETURN o.id AS child
  UNION
  UNWIND $named.referral AS id
  MATCH (k:Case)-[:REFERRED]->(:Referral {id: id}) MATCH (k)-[:CONCERNS]->(o:Person) RETURN o.id AS child
}
WITH collect(DISTINCT child) AS children
"""

AFFECTED: LiteralString = _AFFECTED + "RETURN children"


def every_kind(ids: Iterable[str]) -> dict[str, list[str]]:
    """`AFFECTED`'s `$named` for a write, which names ids without their kinds: each id is sought
    under every label (one list, sent once per kind)."""
    listed = list(ids)
    return {kind: listed for kind in NAMED_KINDS}


#: Inside a write's transaction, after it wrote: the children it can change (`AFFECTED`, as the
#: write left the graph), and, when there are any, its marker on the villages their risk can
#: change in: where each lives now and where its risk node files it (a child who moved away is
#: listed under the old village until judged again). Where an adult lives (a visitor, a parent)
#: is left out: born on or before `$adult`, they are no child on any day from now on, in any
#: zone, so no discovery of today lists them there.
MARK: LiteralString = (
    _AFFECTED
    + """
CALL (children) {
  UNWIND children AS childId
  MATCH (c:Person {id: childId})
  OPTIONAL MATCH (k:ChildRisk {childId: childId})
  UNWIND [CASE WHEN coalesce(c.birthDate <= $adult, false) THEN null ELSE c.regionCode END, k.regionCode] AS code
  WITH code WHERE code IS NOT NULL
  RETURN collect(DISTINCT code) AS villages
}
FOREACH (_ IN CASE WHEN size(children) > 0 THEN [1] ELSE [] END |
  CREATE (:RiskPending {token: $token, at: $at, villages: villages, children: children}))
WITH children, COLLECT {
  MATCH (o:RiskPending) WHERE o.at < $leftBefore AND o.children IS NOT NULL
  RETURN o {.token, .children} ORDER BY o.at LIMIT $leftPerWrite
} AS left
"""
)

#: `MARK` and the write's audit event (`graph.audit.APPEND`, whose `$ids` are the ids marked)
#: in one round: the last statement of a mutation. It also returns (`left`) a few markers of
#: earlier writes whose re-evaluation never came (it failed, the process died): older than any
#: request lives, so this write's re-evaluation judges their children too and removes them.
MARK_AUDITED: LiteralString = MARK + "CALL () {" + audit.APPEND + "}\nRETURN children, left\n"

#: A marker older than this was left behind (no request's re-evaluation runs that long; one
#: that did would only have its children judged twice).
LEFT_AFTER: Final = dt.timedelta(minutes=2)
#: How many left markers one write takes up, so a write never pays for a backlog at once.
LEFT_PER_WRITE: Final = 3

#: Live alerts of `$childIds` whose (child, rule) is not among `$keys`: their finding stopped.
RESOLVE_CHILDREN: LiteralString = """
UNWIND $childIds AS childId
MATCH (:Person {id: childId})<-[:RAISED_FOR]-(a:Alert)
WHERE a.status IN ['open', 'acknowledged'] AND NOT (a.childId + '|' + a.rule) IN $keys
SET a.status = 'resolved', a.resolvedOn = $asOf, a.updatedAt = $at
CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: 'resolved', level: a.level, at: $at, on: $asOf,
                                         by: $by, sweepId: $sweepId, change: 'resolved'})
RETURN collect(a.id) AS alertIds
"""

#: A new alert is due `$dueDays[level]` days after it was raised, and one whose level rose no
#: later than that many days after the rise; a new alert is owned by its village's children's
#: director holding a post at D (the first by id when there are several), or, when the village
#: has none, by the township's supervisor. `fresh`: the ids of the alerts just raised or
#: escalated, a variable of the reconciliation it runs in (`reconciliation`).
ASSIGN: LiteralString = """
UNWIND fresh AS alertId
MATCH (a:Alert {id: alertId})
WITH a, $asOf + duration({days: $dueDays[a.level]}) AS due
SET a.dueOn = CASE WHEN a.dueOn IS NULL OR due < a.dueOn THEN due ELSE a.dueOn END
WITH a WHERE a.ownerId IS NULL
OPTIONAL CALL (a) {
  MATCH (p:Person)-[s:SERVES]->(r:Region)
  WHERE (r.code = a.regionCode AND s.role = 'children_director'
         OR r.code = left(a.regionCode, 9) + '000' AND s.role = 'children_supervisor')
    AND s.since <= $asOf AND (s.until IS NULL OR s.until >= $asOf)
  RETURN p.id AS ownerId ORDER BY CASE s.role WHEN 'children_director' THEN 0 ELSE 1 END, p.id LIMIT 1
}
WITH a, ownerId WHERE ownerId IS NOT NULL
SET a.ownerId = ownerId, a.tier = 0
CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: a.status, level: a.level, at: $at, on: $asOf,
                                         by: $by, change: 'assigned', to: ownerId})
"""

# An alert live after its due date goes up one tier: the township's supervisor (tier 1), then
# the county's coordinator (tier 2), each holding a post at D; it is due again the colour's
# days later. A tier with nobody in post is still passed (recorded with no one), so the county
# is never waited for in vain.
_ESCALATE: LiteralString = """
WITH a WHERE a.status IN ['open', 'acknowledged'] AND a.dueOn < $asOf AND coalesce(a.tier, 0) < 2
WITH a, coalesce(a.tier, 0) + 1 AS tier
OPTIONAL CALL (a, tier) {
  MATCH (p:Person)-[s:SERVES]->(r:Region)
  WHERE s.role = CASE tier WHEN 1 THEN 'children_supervisor' ELSE 'coordinator' END
    AND r.code = CASE tier WHEN 1 THEN left(a.regionCode, 9) + '000'
                 ELSE left(a.regionCode, 6) + '000000' END
    AND s.since <= $asOf AND (s.until IS NULL OR s.until >= $asOf)
  RETURN p.id AS target ORDER BY p.id LIMIT 1
}
SET a.tier = tier, a.escalatedToId = target, a.dueOn = $asOf + duration({days: $dueDays[a.level]}),
    a.updatedAt = $at
CREATE (a)-[:HAD_CHANGE]->(:AlertChange {
  status: a.status, level: a.level, at: $at, on: $asOf, by: $by, sweepId: $sweepId,
  change: 'overdue', to: target,
  note: CASE tier WHEN 1 THEN '逾期未处置，升级至乡镇儿童督导员' ELSE '逾期未处置，升级至县级协调员' END})
RETURN collect(a.id) AS alertIds
"""

#: Escalate the overdue alerts of the children `$childIds`.
ESCALATE_CHILDREN: LiteralString = (
    """
UNWIND $childIds AS childId
MATCH (:Person {id: childId})<-[:RAISED_FOR]-(a:Alert)
"""
    + _ESCALATE
)

#: Escalate the overdue alerts of the villages `$villages` (codes).
ESCALATE_VILLAGES: LiteralString = (
    """
UNWIND $villages AS village
MATCH (a:Alert)
WHERE a.regionCode STARTS WITH village AND a.regionCode STARTS WITH $scope
"""
    + _ESCALATE
)

#: Take each judged child's risk node (made if new) in id order before touching its alerts: two
#: reconciliations of one child (two writes at once, a write during the sweep) run one after the
#: other, so neither raises an alert the other has just raised.
LOCK: LiteralString = """
UNWIND $lockIds AS childId
MERGE (k:ChildRisk {childId: childId})
SET k.lockedAt = $at
"""

#: Each evaluated child's level and findings as of D, on its own node, with the region-code
#: prefixes today's discovery seeks by (`graph.risk_index`), and one `FLAGGED` loop per
#: finding carrying the rule, its rank and the same prefixes, which a page filtered by rules
#: seeks (rewritten only when they differ from the findings). A node is replaced only by a
#: judgement that read the graph no earlier (`$readAt`) and as of the same day or later, so a
#: sweep that read the village before a write never undoes the write's re-evaluation. Judged
#: with other thresholds than its village's stamp says, the village loses its stamp.
MATERIALISE: LiteralString = """
UNWIND $risks AS r
MATCH (c:Person {id: r.childId})
MERGE (k:ChildRisk {childId: r.childId})
WITH r, c, k
WHERE (k.evaluatedAt IS NULL OR k.evaluatedAt <= $readAt) AND (k.asOf IS NULL OR k.asOf <= $asOf)
WITH r, c, k, [(k)-[f:FLAGGED]->(k) | [f.rule, f.rank, f.regionCode]] AS loops,
     [i IN range(0, size(r.rules) - 1) | [r.rules[i], r.ranks[i], c.regionCode]] AS flags
// The loops themselves are compared (one per rule), never the node's copy of the findings,
// which a process of an earlier version may have changed without them.
WITH r, c, k, all(l IN loops WHERE l IN flags) AND all(l IN flags WHERE l IN loops) AS kept
SET k.level = r.level, k.rank = r.rank, k.rules = r.rules, k.ranks = r.ranks, k.findings = r.findings,
    k.asOf = $asOf, k.evaluatedAt = $readAt, k.regionCode = c.regionCode, k.thresholds = $thresholds,
    k.inProvince = left(c.regionCode, 2), k.inCity = left(c.regionCode, 4),
    k.inCounty = left(c.regionCode, 6), k.inTownship = left(c.regionCode, 9)
MERGE (k)-[:RISK_OF]->(c)
WITH r, c, k, kept
CALL (k, kept) {
  WITH k WHERE NOT kept
  MATCH (k)-[old:FLAGGED]->(k)
  DELETE old
}
CALL (r, c, k, kept) {
  WITH r, c, k WHERE NOT kept
  UNWIND range(0, size(r.rules) - 1) AS i
  CREATE (k)-[:FLAGGED {childId: r.childId, rule: r.rules[i], rank: r.ranks[i], regionCode: c.regionCode,
                        inProvince: left(c.regionCode, 2), inCity: left(c.regionCode, 4),
                        inCounty: left(c.regionCode, 6), inTownship: left(c.regionCode, 9)}]->(k)
}
WITH DISTINCT c.regionCode AS code
MATCH (v:Region {code: code})
WHERE v.riskThresholds <> $thresholds
SET v.riskAsOf = null
"""

#: Persons evaluated who are no longer children at D (grown up, dead, moved out of every
#: village) keep no risk node (unless a later judgement made it).
FORGET: LiteralString = """
UNWIND $gone AS childId
MATCH (k:ChildRisk {childId: childId})
WHERE (k.evaluatedAt IS NULL OR k.evaluatedAt <= $readAt) AND (k.asOf IS NULL OR k.asOf <= $asOf)
DETACH DELETE k
"""

#: Children whose risk node lies in one of the villages `$villages` but who were not
#: evaluated there.
FORGET_VILLAGES: LiteralString = """
UNWIND $villages AS village
MATCH (k:ChildRisk)
WHERE k.regionCode STARTS WITH village AND k.regionCode STARTS WITH $scope
  AND NOT k.childId IN $evaluated
  AND (k.evaluatedAt IS NULL OR k.evaluatedAt <= $readAt) AND (k.asOf IS NULL OR k.asOf <= $asOf)
DETACH DELETE k
"""

#: The villages of a region with households, or with alerts (a child who moved away), and
#: how many households each has.
VILLAGES: LiteralString = """
CALL () {
  MATCH (h:Household) WHERE h.regionCode STARTS WITH $region AND h.regionCode STARTS WITH $scope
  RETURN h.regionCode AS code, count(h) AS households
  UNION
  MATCH (a:Alert) WHERE a.regionCode STARTS WITH $region AND a.regionCode STARTS WITH $scope
  RETURN DISTINCT a.regionCode AS code, 0 AS households
}
WITH code, households WHERE code IS NOT NULL
RETURN code, sum(households) AS households ORDER BY code
"""

#: How many households the villages of one batch of a sweep hold together at most (a village
#: larger than that is a batch of its own): each batch is one evaluation and one write
#: transaction, so a province's sweep never holds more than a batch's findings and evidence.
BATCH_HOUSEHOLDS = 1500


@dataclass(slots=True)
class Changes:
    """The alerts one reconciliation changed, by kind."""

    raised: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    lowered: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)

    def add(self, other: Changes) -> None:
        for name in ("raised", "escalated", "lowered", "resolved", "overdue"):
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What `reevaluate` did: the children judged, the alerts changed, and how long it took."""

    children: tuple[str, ...]
    changes: Changes
    seconds: float


def findings_rows(risks: Iterable[ChildRisk]) -> list[dict[str, Any]]:
    """The rows `graph.alerts.RAISE` takes: one per finding."""
    return [
        {
            "id": str(uuid.uuid4()),
            "childId": risk.child_id,
            "rule": finding.rule,
            "level": finding.level.value,
            "rank": finding.level.rank,
        }
        for risk in risks
        for finding in risk.findings
    ]


def risk_rows(risks: Iterable[ChildRisk]) -> list[dict[str, Any]]:
    return [
        {
            "childId": risk.child_id,
            "level": risk.level.value,
            "rank": risk.level.rank,
            "rules": [f.rule for f in risk.findings],
            "ranks": [f.level.rank for f in risk.findings],
            "findings": json.dumps(
                [
                    {"rule": f.rule, "level": f.level.value, "evidence": [e.as_dict() for e in f.evidence]}
                    for f in risk.findings
                ],
                ensure_ascii=False,
            ),
        }
        for risk in risks
    ]


def reconciliation(
    *, raise_: LiteralString, resolve: LiteralString, escalate: LiteralString, forget: LiteralString,
    number: LiteralString,
) -> LiteralString:  # fmt: skip
    """A whole reconciliation as one statement, each part a subquery run in this order (as the
    parts ran as statements of one transaction before): take the judged children's risk nodes
    (`LOCK`), raise, escalate and lower their alerts (`raise_`, `graph.alerts.RAISE`), resolve
    those whose finding stopped (`resolve`), give the new ones owners and due dates (`ASSIGN`),
    hand up the overdue (`escalate`), materialise the risks (`MATERIALISE`), forget those no
    longer children (`forget`), number the new red alerts (`number`, `graph.alerts.NUMBER_RED`:
    last but the markers, so the counter it locks is held for the least time before the commit)
    and remove the markers `$tokens` (`graph.risk_index.CLOSE_PENDING`). A round of writes is
    two statements so, the evaluation and this, not ten: each cost a round trip of the driver
    and Neo4j's setting up of a statement, for a handful of rows. Its strings and lists travel
    in one map (`SIZED`)."""
    statement: LiteralString = (
        "CALL () {"
        + LOCK
        + "}\nCALL () {"
        + raise_
        + "}\nWITH collect({change: change, alertIds: alertIds}) AS raised\n"
        "WITH raised, reduce(ids = [], r IN raised | ids + CASE WHEN r.change IN ['raised', 'escalated']\n"
        "                                                         THEN r.alertIds ELSE [] END) AS fresh\n"
        "CALL () {"
        + resolve
        + "}\nWITH raised, fresh, alertIds AS resolved\nCALL (fresh) {"
        + ASSIGN
        + "}\nCALL () {"
        + escalate
        + "}\nWITH raised, resolved, fresh, alertIds AS overdue\nCALL () {"
        + MATERIALISE
        + "}\nCALL () {"
        + forget
        + "}\nCALL (fresh) {"
        + number
        + "}\nCALL () {"
        + risk_index.CLOSE_PENDING
        + "}\nRETURN raised, resolved, overdue\n"
    )
    for name in SIZED:
        statement = statement.replace("$" + name, "$sized." + name)
    if not set(_IN_SIZED.findall(statement)) <= set(SIZED):  # a name that another one starts with
        raise RuntimeError(f"parameters taken for sized ones: {set(_IN_SIZED.findall(statement)) - set(SIZED)}")
    return statement


_IN_SIZED = re.compile(r"\$sized\.(\w+)")


#: The parameters of a reconciliation that are strings or lists, which it takes inside one map
#: (`$sized`): Neo4j keys a plan by the size bucket of every top-level string and list (0, 1, up
#: to 10, ...), and a statement of ten parts with nine of them would be planned again for every
#: combination of sizes a round of writes brings (measured: 50 ms of Neo4j CPU a visit at
#: concurrency 32, 13 ms as separate statements); inside a map their sizes key nothing.
SIZED: Final[tuple[LiteralString, ...]] = (
    "lockIds", "findings", "keys", "risks", "childIds", "gone", "tokens", "villages", "evaluated", "scope", "by",
    "sweepId", "thresholds",
)  # fmt: skip


async def reconcile_in(tx: AsyncManagedTransaction, params: dict[str, Any], statement: LiteralString) -> Changes:
    """Raise, escalate, lower, resolve, assign, hand up overdue alerts and materialise risks,
    inside the caller's transaction, in one statement (`reconciliation`). `params` holds what
    every part takes, and the markers to remove with them (`tokens`, none if absent)."""
    values = {"tokens": []} | params | {"lockIds": sorted(r["childId"] for r in params["risks"])}
    sized = {name: values.pop(name) for name in SIZED if name in values}
    record = await (await tx.run(statement, _named(statement, values) | {"sized": sized})).single(strict=True)
    changes = Changes(resolved=list(record["resolved"]), overdue=list(record["overdue"]))
    for row in record["raised"]:
        getattr(changes, row["change"]).extend(row["alertIds"])
    return changes


_PARAMETER = re.compile(r"\$(\w+)")


@functools.cache
def _parameter_names(query: str) -> frozenset[str]:
    return frozenset(_PARAMETER.findall(query))


def _named(query: LiteralString, params: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters `query` names: each statement of a reconciliation would otherwise
    send a sweep batch's findings and evidence again (most of its time in the driver's packer)."""
    names = _parameter_names(query)
    return {name: value for name, value in params.items() if name in names}


def reconcile_parameters(
    risks: Sequence[ChildRisk],
    *,
    as_of: dt.date,
    at: dt.datetime,
    by: str,
    thresholds: Thresholds,
    policy: AlertPolicy,
    sweep_id: str | None,
    read_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """`read_at`: when the evaluation of `risks` began to read the graph (default `at`)."""
    findings = findings_rows(risks)
    return {
        "findings": findings,
        "keys": [f"{f['childId']}|{f['rule']}" for f in findings],
        "risks": risk_rows(risks),
        "asOf": as_of,
        "at": at,
        "readAt": read_at or at,
        "by": by,
        "sweepId": sweep_id,
        "dueDays": policy.as_parameter(),
        "thresholds": risk_index.thresholds_key(thresholds.as_dict()),
    }


async def reevaluate(
    graph: Graph,
    child_ids: Sequence[str],
    *,
    as_of: dt.date,
    thresholds: Thresholds,
    policy: AlertPolicy,
    by: str,
    at: dt.datetime | None = None,
    pending: Sequence[str] = (),
) -> Evaluation:
    """Judge `child_ids` as of `as_of` and reconcile their risk nodes and alerts (see the module).

    Each batch is judged and reconciled in one write transaction; the markers `pending` go with
    the last, so they are removed exactly when every child they stand for is reconciled."""
    started = time.perf_counter()
    at = at or dt.datetime.now(dt.UTC)
    ids = sorted(set(child_ids))
    total = Changes()
    batches = [ids[start : start + JUDGE_BATCH] for start in range(0, len(ids), JUDGE_BATCH)]
    for number, batch in enumerate(batches, start=1):
        closing = list(pending) if number == len(batches) else []
        judge = Judgement(batch, as_of, at, by, thresholds, policy, closing)
        total.add(await graph.write_transaction(judge.reconcile))
    if not batches and pending:
        await risk_index.close_pending(graph, pending)
    return Evaluation(tuple(ids), total, time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class Judgement:
    """One batch of `reevaluate`: read the children's facts and write what they amount to in one
    transaction (retried whole), so the judgement and its markers' removal commit together."""

    batch: Sequence[str]
    as_of: dt.date
    at: dt.datetime
    by: str
    thresholds: Thresholds
    policy: AlertPolicy
    closing: Sequence[str]

    async def reconcile(self, tx: AsyncManagedTransaction) -> Changes:
        risks = await children_risk_in(tx, self.batch, as_of=self.as_of, thresholds=self.thresholds)
        judged = {r.child_id for r in risks}
        params = reconcile_parameters(
            risks, as_of=self.as_of, at=self.at, by=self.by, thresholds=self.thresholds, policy=self.policy,
            sweep_id=None,
        ) | {"childIds": list(self.batch), "gone": [i for i in self.batch if i not in judged]}  # fmt: skip
        return await reconcile_in(tx, params | {"tokens": list(self.closing)}, _children_reconciliation())


@functools.cache
def _children_reconciliation() -> LiteralString:
    """The reconciliation of judged children (`reconciliation`)."""
    from graph.alerts import NUMBER_RED, RAISE  # the sweep's own queries: one reconciliation, two callers

    return reconciliation(
        raise_=RAISE, resolve=RESOLVE_CHILDREN, escalate=ESCALATE_CHILDREN, forget=FORGET, number=NUMBER_RED
    )


async def mark_in(tx: AsyncManagedTransaction, entry: AuditEntry) -> risk_index.Pending | None:
    """Inside a write's transaction, after it wrote: its marker on the ids of its audit event
    `entry`, and the event (`MARK_AUDITED`); with the children it can change, None if none."""
    token = risk_index.new_token()
    at = dt.datetime.now(dt.UTC)
    adult = birth_cutoff(at.date() - dt.timedelta(days=2), 18)
    params = {
        "token": token, "at": at, "adult": adult, "leftBefore": at - LEFT_AFTER, "leftPerWrite": LEFT_PER_WRITE,
        "named": every_kind(entry.ids),
    }  # fmt: skip
    record = await (await tx.run(MARK_AUDITED, audit.parameters(entry) | params)).single(strict=True)
    left = record["left"]
    if not record["children"] and not left:
        return None
    children = set(record["children"]).union(*(marker["children"] for marker in left))
    return risk_index.Pending(token, tuple(sorted(children)), tuple(marker["token"] for marker in left))


#: Bundle fields that name a person, a household, a case, a report or a referral.
BUNDLE_REFERENCES: Final = (
    "id", "person", "child", "parent", "guardian", "caregiver", "household", "from", "visitor",
    "volunteer", "entrustedBy", "case", "report", "reporter", "worker",
)  # fmt: skip


def _named_fields(kind: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(field, kinds) of a bundle kind's `BUNDLE_REFERENCES` fields, each with the kinds of
    `NAMED_KINDS` its value names: a reference's targets, an entity's own key its own kind."""
    spec = KINDS[kind]
    fields = []
    for field_ in spec.fields:
        if field_.name not in BUNDLE_REFERENCES:
            continue
        targets = field_.refs or ((kind,) if field_.name == spec.key else ())
        named = tuple(target for target in targets if target in NAMED_KINDS)
        if named:
            fields.append((field_.name, named))
    return tuple(fields)


NAMED_FIELDS: Final = {kind: _named_fields(kind) for kind in KINDS}


def named_ids(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, id) of what one bundle record names, as `bundle_ids` reads it, by kind."""
    for name, kinds in NAMED_FIELDS[kind]:
        value = data.get(name)
        if isinstance(value, str):
            for target in kinds:
                yield target, value


def bundle_ids(lines: Iterable[str]) -> list[str]:
    """The ids an NDJSON bundle's lines name: what an import touched (regions excepted)."""
    ids: set[str] = set()
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # blank, a comment, or a line the import rejected
        if not isinstance(record, dict) or record.get("kind") == "region":
            continue
        ids.update(v for k in BUNDLE_REFERENCES if isinstance(v := record.get(k), str))
    return sorted(ids)


async def affected_children(graph: Graph, ids: Iterable[str]) -> list[str]:
    """The children whose findings a write naming `ids` can change (`AFFECTED`)."""
    named = sorted({i for i in ids if i})
    found: set[str] = set()
    for start in range(0, len(named), BATCH):
        records = await graph.read(AFFECTED, {"named": every_kind(named[start : start + BATCH])})
        found.update(records[0]["children"] if records else [])
    return sorted(found)


async def affected_named(graph: Graph, named: Mapping[str, Iterable[str]]) -> list[str]:
    """The children whose findings an import that wrote `named` (kind -> ids) can change
    (`AFFECTED`); a kind not in `NAMED_KINDS` is refused, never silently left out."""
    unknown = set(named) - set(NAMED_KINDS)
    if unknown:
        raise ValueError(f"no re-evaluation starts from {sorted(unknown)}")
    ids = {kind: sorted(set(named.get(kind, ()))) for kind in NAMED_KINDS}
    if not any(ids.values()):
        return []
    records = await graph.read(AFFECTED, {"named": ids})
    return sorted(records[0]["children"]) if records else []


async def village_batches(graph: Graph, *, region_prefix: str, scope_prefix: str) -> list[list[str]]:
    """The region's villages (see `VILLAGES`) in code order, in batches of at most
    `BATCH_HOUSEHOLDS` households."""
    households = BATCH_HOUSEHOLDS
    records = await graph.read(VILLAGES, {"region": region_prefix, "scope": scope_prefix})
    batches: list[list[str]] = []
    held = 0
    for record in records:
        size = int(record["households"])
        if not batches or held + size > households:
            batches.append([])
            held = 0
        batches[-1].append(str(record["code"]))
        held += size
    return batches


@dataclass(slots=True)
class _Round:
    """The re-evaluation of the writes that arrived while the previous round ran, for one
    actor and one day: their children judged and their markers closed in one transaction."""

    by: str
    as_of: dt.date
    graph: Graph
    children: set[str] = field(default_factory=set)
    tokens: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Reevaluator:
    """What writes call after they commit (`Graph.after_write`): re-evaluate the children the
    written ids reach, as of today in the configured zone. A failure is logged, never raised:
    the write has committed, and the next sweep reconciles what was missed.

    Writes that commit while a re-evaluation runs are judged together in the next round (one
    transaction for all their children and markers, as the audit's group commit does for read
    events), so a burst of visits costs a few reconciliations, not one each. Each write still
    returns only once its own children are judged and its marker closed; a lone write waits for
    its own round only. Rounds never mix actors (alert history names who caused a change) or days.
    """

    thresholds: Thresholds
    policy: AlertPolicy
    #: told of every alert a re-evaluation raised or escalated to red (the live subscription)
    announce: Callable[[list[Alert]], None] | None = None
    timings: list[float] = field(default_factory=list)
    _rounds: GroupCommit[_Round, Evaluation] = field(init=False)

    def __post_init__(self) -> None:
        self._rounds = GroupCommit(self._judge)

    @property
    def rounds(self) -> int:
        """Rounds committed so far (the tests read it)."""
        return self._rounds.commits

    def today(self) -> dt.date:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(self.thresholds.timezone)).date()

    async def __call__(
        self, graph: Graph, ids: Sequence[str], by: str, pending: risk_index.Pending | None = None
    ) -> Evaluation | None:
        """`pending`: the write's marker (`graph.risk_index`), removed with the judgement of its
        children; on a failure it stays, and today's discovery of its villages evaluates until
        a sweep. When the write found its children (`Pending.children`), they are judged."""
        started = time.perf_counter()
        try:
            if pending is not None and pending.children is not None:
                children = list(pending.children)
            elif pending is not None and pending.named is not None:
                children = await affected_named(graph, pending.named)
            else:
                children = await affected_children(graph, ids)
            tokens = [pending.token, *pending.left] if pending is not None else []
            if not children and not tokens:
                return None
            done = self._join(graph, by, children, tokens)
            # Waited for within the request's deadline; a request that gives up (or is
            # cancelled) leaves its round to commit for the others, its marker with it.
            result = await asyncio.wait_for(asyncio.shield(done), timeout=deadlines.remaining())
            if not children:
                return None
        except TimeoutError:
            log.warning("a write's re-evaluation outlasted its request; its round goes on")
            return None
        except Exception:  # the write stands; the sweep will catch up
            log.exception("re-evaluation after a write failed")
            return None
        self.timings.append(time.perf_counter() - started)
        del self.timings[:-1000]
        return result

    def _join(
        self, graph: Graph, by: str, children: Sequence[str], tokens: Sequence[str]
    ) -> asyncio.Future[Evaluation]:
        as_of = self.today()

        def fits(round_: _Round) -> bool:
            return (round_.by, round_.as_of) == (by, as_of) and len(round_.children.union(children)) <= max(
                BATCH, len(children)
            )

        round_, done = self._rounds.join(fits, lambda: _Round(by, as_of, graph))
        round_.children.update(children)
        round_.tokens.extend(tokens)
        return done

    async def _judge(self, round_: _Round) -> Evaluation:
        graph = round_.graph
        result = await reevaluate(
            graph, sorted(round_.children), as_of=round_.as_of, thresholds=self.thresholds, policy=self.policy,
            by=round_.by, pending=round_.tokens,
        )  # fmt: skip
        fresh = result.changes.raised + result.changes.escalated
        if self.announce is not None and fresh:
            from graph.alerts import alerts_by_id

            try:
                self.announce([a for a in await alerts_by_id(graph, fresh) if a.level is Level.RED])
            except Exception:  # the round has committed; only the live subscription missed it
                log.exception("announcing the alerts of a re-evaluation failed")
        return result
