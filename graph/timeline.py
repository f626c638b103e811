"""A child's file (一人一档) as one timeline: reports, case stage changes, referrals and their
status changes, visits, contacts, care and guardianship changes, alert changes (`graph.alerts`,
`-[:RAISED_FOR]->` the child), the parents' away episodes, the child's and the parents'
conditions, registrations, enrollments, placements and pairings (each interval as its start
and, once ended, its end), and corrections of the child's or their household's details
(`graph.village_file`), in time order.

Events with a time (`at`: reports, stage and status changes) sort at that instant; events
with only a day (`on`: visits, contacts, the start or end of an interval) sort at the start of
that day in the configured zone. Ties go by kind, then subject. Reading it is a read of the
child's full record: the GraphQL field audits it under the child's village.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, LiteralString

from graph import writes
from graph.driver import Graph
from graph.writes import Actor

TIMELINE: LiteralString = """
MATCH (c:Person {id: $child})
WHERE $scope = '' OR c.regionCode STARTS WITH $scope
CALL (c) {
  MATCH (r:Report)-[:ABOUT]->(c)
  RETURN r.at AS at, null AS on, 'report' AS kind, r.id AS subject, r.category AS value, r.urgency AS detail,
         [(p:Person)-[:REPORTED]->(r) | p.id][0] AS actor, r.description AS note
  UNION ALL
  MATCH (k:Case)-[:CONCERNS]->(c)
  MATCH (k)-[:HAD_STAGE]->(s:StageChange)
  RETURN s.at AS at, null AS on, 'case_stage' AS kind, k.id AS subject, s.stage AS value, null AS detail,
         s.by AS actor, s.note AS note
  UNION ALL
  MATCH (k:Case)-[:CONCERNS]->(c)
  MATCH (k)-[:REFERRED]->(f:Referral)-[:HAD_STATUS]->(s:StatusChange)
  RETURN s.at AS at, null AS on, 'referral_status' AS kind, f.id AS subject, s.status AS value,
         f.service + ' @ ' + coalesce([(f)-[:TO]->(i:Institution) | i.id][0], '?') AS detail,
         s.by AS actor, s.note AS note
  UNION ALL
  MATCH (v:Person)-[e:VISITED]->(c)
  RETURN null AS at, e.on AS on, 'visit' AS kind, v.id AS subject, e.type AS value, null AS detail,
         coalesce(e.recordedBy, v.id) AS actor, e.notes AS note
  UNION ALL
  MATCH (p:Person)-[e:CONTACTED]->(c)
  RETURN null AS at, e.on AS on, 'contact' AS kind, p.id AS subject, e.channel AS value, null AS detail,
         e.recordedBy AS actor, null AS note
  UNION ALL
  MATCH (g:Person)-[e:CARES_FOR]->(c)
  UNWIND [['care_started', e.since, e.recordedBy, null], ['care_ended', e.until, e.endedBy, e.endNote],
          ['care_agreement_signed', e.agreementSignedOn, e.agreementRecordedBy, null]] AS x
  WITH g, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, g.id AS subject, null AS value, null AS detail,
         x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (a:Alert)-[:RAISED_FOR]->(c)
  MATCH (a)-[:HAD_CHANGE]->(s:AlertChange)
  RETURN s.at AS at, null AS on, 'alert' AS kind, a.id AS subject, s.status AS value,
         a.rule + ' ' + coalesce(s.level, a.level) AS detail, s.by AS actor, s.note AS note
  UNION ALL
  MATCH (g:Person|Institution)-[e:GUARDIAN_OF]->(c)
  UNWIND [['guardian_set', e.since, e.recordedBy, null], ['guardian_ended', e.until, e.endedBy, e.endNote]] AS x
  WITH g, e, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, g.id AS subject, e.basis AS value, null AS detail,
         x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (p:Person)-[:PARENT_OF]->(c)
  MATCH (p)-[:AWAY]->(a:AwayEpisode)
  UNWIND [['away_started', a.since, a.recordedBy, null], ['away_ended', a.until, a.endedBy, a.endNote]] AS x
  WITH p, a, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, p.id AS subject, a.destination AS value,
         a.destinationRegion AS detail, x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (p:Person)-[:HAS_CONDITION]->(k:Condition)
  WHERE p = c OR EXISTS { (p)-[:PARENT_OF]->(c) }
  UNWIND [['condition_started', k.since, k.recordedBy, null], ['condition_ended', k.until, k.endedBy, k.endNote]] AS x
  WITH p, k, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, p.id AS subject, k.type AS value, null AS detail,
         x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (c)-[:REGISTERED]->(r:Registration)
  UNWIND [['registered', r.since, r.recordedBy, null], ['deregistered', r.until, r.endedBy, r.endNote]] AS x
  WITH r, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, c.id AS subject, r.category AS value, null AS detail,
         x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (c)-[e:ENROLLED_IN]->(i:Institution)
  UNWIND [['enrolled', e.since, e.recordedBy, null], ['enrollment_ended', e.until, e.endedBy, e.endNote]] AS x
  WITH i, e, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, i.id AS subject, e.grade AS value, null AS detail,
         x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (c)-[e:PLACED_IN]->(i:Institution)
  UNWIND [['placed', e.since, e.recordedBy, null], ['placement_ended', e.until, e.endedBy, e.endNote]] AS x
  WITH i, e, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, i.id AS subject, e.kind AS value, null AS detail,
         x[2] AS actor, x[3] AS note
  UNION ALL
  MATCH (k:FileCorrection)-[:CORRECTS]->(x)
  WHERE x = c OR EXISTS { (c)-[:MEMBER_OF]->(x) }
  RETURN k.at AS at, null AS on, 'file_corrected' AS kind, x.id AS subject, k.operation AS value,
         null AS detail, k.by AS actor, k.note AS note
  UNION ALL
  MATCH (v:Person)-[e:PAIRED_WITH]->(c)
  UNWIND [['paired', e.since, e.recordedBy, null], ['unpaired', e.until, e.endedBy, e.endNote]] AS x
  WITH v, x WHERE x[1] IS NOT NULL
  RETURN null AS at, x[1] AS on, x[0] AS kind, v.id AS subject, null AS value, null AS detail,
         x[2] AS actor, x[3] AS note
}
WITH at, on, kind, subject, value, detail, actor, note,
     coalesce(at, datetime({date: on, timezone: $zone})) AS sortAt
RETURN at, coalesce(on, date(datetime({datetime: at, timezone: $zone}))) AS on, kind, subject, value, detail,
       actor, note
ORDER BY sortAt, kind, subject
"""


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    #: `report`, `case_stage`, `referral_status`, `visit`, `contact`, `care_started`,
    #: `care_ended`, `care_agreement_signed`, `guardian_set`, `guardian_ended`, `alert`,
    #: `away_started`/`away_ended`, `condition_started`/`condition_ended`,
    #: `registered`/`deregistered`, `enrolled`/`enrollment_ended`, `placed`/`placement_ended`,
    #: `paired`/`unpaired`, `file_corrected` (the child's or their household's details)
    kind: str
    on: date
    at: datetime | None
    #: the report, case, referral or alert id; the visitor, contact, caregiver or guardian id
    subject: str
    #: category, stage, status (also an alert's), visit type, channel or guardianship basis
    value: str | None
    #: a report's urgency; a referral's `service @ institution`; an alert's `rule level`
    detail: str | None
    #: who did or recorded it
    actor: str | None
    note: str | None


def _event(row: dict[str, Any]) -> TimelineEvent:
    return TimelineEvent(
        kind=row["kind"],
        on=row["on"].to_native(),
        at=None if row["at"] is None else row["at"].to_native(),
        subject=row["subject"],
        value=row["value"],
        detail=row["detail"],
        actor=row["actor"],
        note=row["note"],
    )


async def timeline(graph: Graph, actor: Actor, child_id: str, *, zone: str) -> list[TimelineEvent]:
    """The child's events in time order; empty when the child is absent or out of scope."""
    writes.require(actor, "timeline")
    rows = await graph.read(TIMELINE, {"child": child_id, "scope": actor.scope, "zone": zone})
    return [_event(row.data()) for row in rows]
