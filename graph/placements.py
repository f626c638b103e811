"""Placements (安置): a child placed in an institution's care, its kind, and going over capacity.

Stored as discovery reads it (`NO_CAREGIVER` clears while one holds): `(:Person)-[:PLACED_IN
{since, until, kind, ...}]->(:Institution)`, keyed by child, institution and `since`, with who
placed, when, and who ended it. Kinds and the service the institution must offer:

| kind | 中文 | the institution must offer |
| --- | --- | --- |
| `emergency_shelter` | 临时庇护 | `emergency_shelter` |
| `temporary_state_guardianship` | 临时监护 | `temporary_guardianship` |
| `long_term_state_guardianship` | 长期监护 | `long_term_guardianship` |
| `foster_care` | 家庭寄养 | nothing named: the institution arranging and supervising it |
| `kinship_care` | 亲属抚养 | nothing named: the institution supervising it |

A child has at most one placement holding on a day: a new one starts after the last ends.

Capacity: an institution with a `capacity` is full when that many placements hold on the day
(referrals count against it separately, `graph.referrals`). Placing a child in a full
institution is a `CONFLICT`, except an emergency shelter placement with `overrideCapacity` and
a reason: it is written with `capacityOverride`, the reason and the count it went over, is
audited a second time as `capacityOverride`, and is listed to the county's coordinators by
`capacity_overrides` (the GraphQL `capacityOverrides`), with referrals that did the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import audit, persons, writes
from graph.audit import AuditEntry
from graph.dates import fixed_offset
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, NotFound
from graph.regions import scope_prefix
from graph.writes import Actor, Outcome

#: kind -> the service its institution must offer (None: any institution).
KINDS: Final[dict[str, str | None]] = {
    "emergency_shelter": "emergency_shelter",
    "temporary_state_guardianship": "temporary_guardianship",
    "long_term_state_guardianship": "long_term_guardianship",
    "foster_care": None,
    "kinship_care": None,
}
#: The only placements (and referral services) that may go over capacity, with a reason.
OVERRIDABLE: Final = "emergency_shelter"

PLACEMENT_FIELDS: LiteralString = """
RETURN c.id AS childId, i.id AS institutionId, i.name AS institutionName, r.kind AS kind, r.since AS since,
       r.until AS until, r.caseId AS caseId, coalesce(r.capacityOverride, false) AS capacityOverride,
       r.overrideReason AS overrideReason, r.note AS note, r.recordedBy AS recordedBy, r.recordedAt AS recordedAt,
       r.endedBy AS endedBy, r.endedAt AS endedAt, r.endNote AS endNote, c.regionCode AS region
"""

OF_CHILDREN: LiteralString = (
    persons.ANCHOR
    + """
MATCH (c)-[r:PLACED_IN]->(i:Institution)
WITH c, r, i ORDER BY r.since, i.id
"""
    + PLACEMENT_FIELDS
)

GET: LiteralString = (
    """
MATCH (c:Person {id: $child})-[r:PLACED_IN {since: $since}]->(i:Institution {id: $institution})
"""
    + PLACEMENT_FIELDS
)

# The institution's write lock first, so two placements racing for its last bed get one.
INSTITUTION_STATE: LiteralString = """
MATCH (i:Institution {id: $institution})
SET i._lock = true REMOVE i._lock
RETURN i.services AS services, i.capacity AS capacity,
       COUNT { MATCH (:Person)-[p:PLACED_IN]->(i) WHERE p.since <= $since AND (p.until IS NULL OR p.until >= $since) }
         AS placed
"""

CHILD_STATE: LiteralString = """
MATCH (c:Person {id: $child})
SET c._lock = true REMOVE c._lock
RETURN EXISTS { (c)-[p:PLACED_IN]->() WHERE p.until IS NULL OR p.until >= $since } AS placedThen,
       EXISTS { (c)-[:PLACED_IN {since: $since}]->(:Institution {id: $institution}) } AS duplicate
"""

CASE_OF_CHILD: LiteralString = """
RETURN EXISTS { (:Case {id: $case})-[:CONCERNS]->(:Person {id: $child}) } AS ok
"""

CREATE: LiteralString = (
    """
MATCH (c:Person {id: $child}), (i:Institution {id: $institution})
CREATE (c)-[r:PLACED_IN {since: $since, until: $until, kind: $kind, caseId: $case, note: $note,
                         capacityOverride: $override, overrideReason: $overrideReason,
                         placedBeforeOverride: $placed, capacityAtOverride: $capacity,
                         recordedBy: $by, recordedAt: datetime()}]->(i)
"""
    + PLACEMENT_FIELDS
)

END: LiteralString = (
    """
MATCH (c:Person {id: $child})-[r:PLACED_IN {since: $since}]->(i:Institution {id: $institution})
SET r.until = $until, r.endedBy = $by, r.endedAt = datetime(), r.endNote = $note
"""
    + PLACEMENT_FIELDS
)

TO_END: LiteralString = """
MATCH (c:Person {id: $child})-[r:PLACED_IN {since: $since}]->(:Institution {id: $institution})
SET c._lock = true REMOVE c._lock
RETURN r.until AS until
"""

# Placements and referrals that went over capacity in a region, newest first.
OVERRIDES: LiteralString = """
CALL () {
  MATCH (c:Person)-[r:PLACED_IN {capacityOverride: true}]->(i:Institution)
  WHERE c.regionCode STARTS WITH $region AND ($scope = '' OR c.regionCode STARTS WITH $scope)
  RETURN 'placement' AS kind, r.recordedAt AS at, r.recordedBy AS by, c.id AS childId, i.id AS institutionId,
         r.overrideReason AS reason, r.placedBeforeOverride AS load, r.capacityAtOverride AS capacity,
         c.id + '|' + i.id + '|' + toString(r.since) AS subject
  UNION ALL
  MATCH (k:Case)-[:REFERRED]->(f:Referral {capacityOverride: true})-[:TO]->(i:Institution)
  MATCH (k)-[:CONCERNS]->(c:Person)
  WHERE c.regionCode STARTS WITH $region AND ($scope = '' OR c.regionCode STARTS WITH $scope)
  RETURN 'referral' AS kind, f.overrideAt AS at, f.overrideBy AS by,
         c.id AS childId, i.id AS institutionId, f.overrideReason AS reason, f.openBeforeOverride AS load,
         f.capacityAtOverride AS capacity, f.id AS subject
}
WITH * WHERE $since IS NULL OR at >= $since
RETURN kind, at, by, childId, institutionId, reason, load, capacity, subject
ORDER BY at DESC, subject
LIMIT $limit
"""


@dataclass(frozen=True, slots=True)
class PlacementRecord:
    child_id: str
    institution_id: str
    institution_name: str | None
    kind: str | None
    since: date
    until: date | None
    case_id: str | None
    capacity_override: bool
    override_reason: str | None
    note: str | None
    recorded_by: str | None
    recorded_at: datetime | None
    ended_by: str | None
    ended_at: datetime | None
    end_note: str | None

    def holds(self, day: date) -> bool:
        return self.since <= day and (self.until is None or self.until >= day)


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """A write that went over an institution's capacity: what the coordinator is shown."""

    kind: str
    at: datetime
    by: str | None
    child_id: str
    institution_id: str
    reason: str | None
    load: int | None
    capacity: int | None
    subject: str


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def placement_record(row: Mapping[str, Any]) -> PlacementRecord:
    return PlacementRecord(
        child_id=row["childId"],
        institution_id=row["institutionId"],
        institution_name=row["institutionName"],
        kind=row["kind"],
        since=row["since"].to_native(),
        until=_native(row["until"]),
        case_id=row["caseId"],
        capacity_override=bool(row["capacityOverride"]),
        override_reason=row["overrideReason"],
        note=row["note"],
        recorded_by=row["recordedBy"],
        recorded_at=_native(row["recordedAt"]),
        ended_by=row["endedBy"],
        ended_at=_native(row["endedAt"]),
        end_note=row["endNote"],
    )


async def of_children(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[PlacementRecord]]:
    """Every placement of each child in scope, oldest first."""
    found: dict[str, list[PlacementRecord]] = {i: [] for i in ids}
    for row in await graph.read(OF_CHILDREN, {"ids": list(ids), "scope": scope}):
        found[row["childId"]].append(placement_record(row))
    return found


def _key(child: str, institution: str, since: date) -> str:
    return f"{child}|{institution}|{since.isoformat()}"


async def _get_in(tx: AsyncManagedTransaction, key: str) -> PlacementRecord:
    child, institution, since = key.split("|")
    params = {"child": child, "institution": institution, "since": date.fromisoformat(since)}
    return placement_record((await writes.rows(tx, GET, params))[0])


def override_reason(reason: str | None, what: str) -> str:
    """The reason a write over capacity must give; refused for anything but an emergency shelter."""
    if what != OVERRIDABLE:
        raise InvalidInput("overrideCapacity", f"only an {OVERRIDABLE} may go over capacity")
    if reason is None or not reason.strip():
        raise InvalidInput("overrideReason", "required to go over capacity: say why")
    return reason.strip()


async def audit_override(tx: AsyncManagedTransaction, actor: Actor, ids: Sequence[str], region: str | None) -> None:
    """The second audit event of a write over capacity, so every override is found by name."""
    entry = AuditEntry(actor.sub, actor.role, "capacityOverride", list(ids), "ok", region or actor.scope)
    await audit.append_in(tx, entry)


async def place_child(
    graph: Graph,
    actor: Actor,
    *,
    child: str,
    institution: str,
    kind: str,
    today: date,
    since: date | None = None,
    until: date | None = None,
    case: str | None = None,
    override_capacity: bool = False,
    reason: str | None = None,
    note: str | None = None,
    key: str | None = None,
) -> PlacementRecord:
    """Place `child` in `institution` from `since` (default today)."""
    start = since or today
    inputs = {
        "child": child,
        "institution": institution,
        "kind": kind,
        "since": start,
        "until": until,
        "case": case,
        "overrideCapacity": override_capacity,
        "overrideReason": reason,
        "note": note,
    }

    async def work(tx: AsyncManagedTransaction) -> Outcome[PlacementRecord]:
        if kind not in KINDS:
            raise InvalidInput("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        line = {"child": child, "institution": institution, "since": start, "until": until}
        data = writes.validate_as("placement", line, today=today)
        if start > today:
            raise InvalidInput("since", "is in the future")
        region = await writes.person_in_scope(tx, actor, child)
        await writes.institution(tx, actor, institution, region)
        state = (await writes.rows(tx, INSTITUTION_STATE, {"institution": institution, "since": start}))[0]
        service = KINDS[kind]
        if service is not None and service not in (state["services"] or []):
            raise InvalidInput("institutionId", f"a {kind} placement needs an institution offering {service}")
        if case is not None and not (await writes.rows(tx, CASE_OF_CHILD, {"case": case, "child": child}))[0]["ok"]:
            raise InvalidInput("caseId", "not a case of this child")
        held = (await writes.rows(tx, CHILD_STATE, {"child": child, "since": start, "institution": institution}))[0]
        if held["duplicate"]:
            raise Conflict("this placement is already recorded")
        if held["placedThen"]:
            raise Conflict(f"{child} has a placement that has not ended: end it first")
        full = state["capacity"] is not None and state["placed"] >= state["capacity"]
        why: str | None = None
        if full and not override_capacity:
            raise Conflict(
                f"institution {institution} is full ({state['placed']} of {state['capacity']} placed); "
                f"an {OVERRIDABLE} placement may go over it with overrideCapacity and overrideReason"
            )
        if full:
            why = override_reason(reason, kind)
        params = {
            "child": child,
            "institution": institution,
            "since": data["since"],
            "until": data["until"],
            "kind": kind,
            "case": case,
            "note": note,
            "override": full,
            "overrideReason": why,
            "placed": state["placed"] if full else None,
            "capacity": state["capacity"] if full else None,
            "by": actor.sub,
        }
        created = placement_record((await writes.rows(tx, CREATE, params))[0])
        ids = [child, institution] + ([case] if case else [])
        if full:
            await audit_override(tx, actor, ids, region)
        return Outcome(created, _key(child, institution, start), ids, region)

    return await writes.perform(
        graph, actor, "placeChild", inputs=inputs, work=work, replay=_get_in, key=key, ids=[child, institution]
    )


async def end_placement(
    graph: Graph,
    actor: Actor,
    *,
    child: str,
    institution: str,
    since: date,
    today: date,
    until: date | None = None,
    note: str | None = None,
    key: str | None = None,
) -> PlacementRecord:
    """End the placement of `child` in `institution` that began on `since`, on `until` (default today)."""
    end = until or today
    inputs = {"child": child, "institution": institution, "since": since, "until": end, "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[PlacementRecord]:
        region = await writes.person_in_scope(tx, actor, child)
        found = await writes.rows(tx, TO_END, {"child": child, "institution": institution, "since": since})
        if not found:
            raise NotFound("no such placement")
        if found[0]["until"] is not None:
            raise Conflict(f"this placement already ended on {found[0]['until'].to_native().isoformat()}")
        if end < since:
            raise InvalidInput("until", f"is before since {since.isoformat()}")
        if end > today:
            raise InvalidInput("until", "is in the future")
        params = {"child": child, "institution": institution, "since": since, "until": end, "by": actor.sub}
        ended = placement_record((await writes.rows(tx, END, params | {"note": note}))[0])
        return Outcome(ended, _key(child, institution, since), [child, institution], region)

    return await writes.perform(
        graph, actor, "endPlacement", inputs=inputs, work=work, replay=_get_in, key=key, ids=[child, institution]
    )


async def capacity_overrides(
    graph: Graph, actor: Actor, region: str, *, since: datetime | None = None, limit: int = 500
) -> list[OverrideRecord]:
    """Every placement and referral that went over capacity for the children of `region` in
    the actor's scope, newest first: the coordinator's flag."""
    params = {
        "region": scope_prefix(region),
        "scope": actor.scope,
        "since": None if since is None else fixed_offset(since),
        "limit": limit,
    }
    return [
        OverrideRecord(
            kind=row["kind"],
            at=row["at"].to_native(),
            by=row["by"],
            child_id=row["childId"],
            institution_id=row["institutionId"],
            reason=row["reason"],
            load=row["load"],
            capacity=row["capacity"],
            subject=row["subject"],
        )
        for row in await graph.read(OVERRIDES, params)
    ]
