"""Referrals (转介): a case handed to an institution for a named service, and its answers.

Status (docs/graphql.md): `pending` → `accepted` | `declined` | `withdrawn`; `accepted` →
`completed` | `withdrawn`; the rest are final. Every change is a `(:Referral)-[:HAD_STATUS]->
(:StatusChange {status, at, by, note})`, the first one (`pending`) written with the referral.
Institution staff accept, decline and complete their own institution's referrals; the case
worker withdraws. Answers are serialised on the referral's write lock (see `graph.cases`).

An institution's `capacity` is the most open (pending or accepted) referrals it takes
(docs/bundle-format.md): a referral to an institution at capacity is a conflict, except a
referral for `emergency_shelter` with `overrideCapacity` and a reason, which is recorded on the
referral, audited a second time as `capacityOverride` and flagged to the county's coordinators
(`graph.placements.capacity_overrides`).

Due date: when not given, `on` plus 1 day for urgency `immediate`, 3 for `high`, 7 for
`normal`. The urgency is the one given, else that of the report the case came from, else
`normal`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import placements, writes
from graph.bundle.records import URGENCIES
from graph.callers import Role
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, OutOfReach
from graph.regions import scope_prefix
from graph.writes import Actor, Outcome

DUE_DAYS: Final = {"immediate": 1, "high": 3, "normal": 7}
OPEN: Final = ("pending", "accepted")
#: decision -> the status it sets
DECISIONS: Final = {"accept": "accepted", "decline": "declined", "complete": "completed", "withdraw": "withdrawn"}
#: the statuses each status may move to
NEXT: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"accepted", "declined", "withdrawn"}),
    "accepted": frozenset({"completed", "withdrawn"}),
    "declined": frozenset(),
    "completed": frozenset(),
    "withdrawn": frozenset(),
}
INSTITUTION_DECISIONS: Final = frozenset({"accept", "decline", "complete"})

RETURN_REFERRAL: LiteralString = """
RETURN f.id AS id, f.service AS service, f.on AS on, f.dueOn AS dueOn, f.status AS status,
       f.reason AS reason, f.updatedAt AS updatedAt,
       [(k:Case)-[:REFERRED]->(f) | k.id][0] AS caseId,
       [(f)-[:TO]->(i:Institution) | i.id][0] AS institutionId,
       [(k:Case)-[:REFERRED]->(f) | [(k)-[:CONCERNS]->(c:Person) | c {.id, .name, .birthDate, .regionCode}][0]][0]
         AS child,
       COLLECT { MATCH (f)-[:HAD_STATUS]->(s:StatusChange)
                 RETURN s {.status, .at, .by, .note} AS change ORDER BY s.at } AS history
"""

GET_REFERRAL: LiteralString = "MATCH (f:Referral {id: $id})" + RETURN_REFERRAL

# Institution staff read the referrals addressed to their institution; others those of the
# children in their scope.
READ_REFERRAL: LiteralString = (
    """
MATCH (k:Case)-[:REFERRED]->(f:Referral {id: $id})-[:TO]->(i:Institution)
MATCH (k)-[:CONCERNS]->(c:Person)
WHERE CASE WHEN $staff THEN i.id = $institution ELSE $scope = '' OR c.regionCode STARTS WITH $scope END
"""
    + RETURN_REFERRAL
)

REFERRALS_OF_CASES: LiteralString = (
    """
UNWIND $cases AS caseId
MATCH (k:Case {id: caseId})-[:CONCERNS]->(c:Person)
WHERE $scope = '' OR c.regionCode STARTS WITH $scope
MATCH (k)-[:REFERRED]->(f:Referral)
WITH f ORDER BY f.on, f.id
"""
    + RETURN_REFERRAL
)

# The institution's write lock first, so two referrals racing for its last place get one.
TARGET_INSTITUTION: LiteralString = """
MATCH (i:Institution {id: $institution})
SET i._lock = true REMOVE i._lock
RETURN i.services AS services, i.capacity AS capacity,
       COUNT { MATCH (f:Referral)-[:TO]->(i) WHERE f.status IN ['pending', 'accepted'] } AS open
"""

# Institution staff see what is addressed to their institution; anyone else reading an inbox
# sees the referrals of children in their own scope.
INBOX: LiteralString = (
    """
MATCH (k:Case)-[:REFERRED]->(f:Referral)-[:TO]->(i:Institution {id: $institution})
MATCH (k)-[:CONCERNS]->(c:Person)
WHERE ($staff OR $scope = '' OR c.regionCode STARTS WITH $scope) AND ($status IS NULL OR f.status = $status)
WITH f ORDER BY f.dueOn, f.id
"""
    + RETURN_REFERRAL
)

OVERDUE: LiteralString = (
    """
MATCH (k:Case)-[:CONCERNS]->(c:Person)
WHERE c.regionCode STARTS WITH $region AND c.regionCode STARTS WITH $scope
MATCH (k)-[:REFERRED]->(f:Referral)
WHERE f.dueOn < $asOf AND f.on <= $asOf
OPTIONAL CALL (f) {
  MATCH (f)-[:HAD_STATUS]->(s:StatusChange)
  WHERE date(datetime({datetime: s.at, timezone: $zone})) <= $asOf
  RETURN s.status AS statusThen ORDER BY s.at DESC LIMIT 1
}
WITH f, coalesce(statusThen, f.status) AS statusThen
WHERE statusThen IN ['pending', 'accepted']
WITH f ORDER BY f.dueOn, f.id
"""
    + RETURN_REFERRAL
)

CASE_FOR_REFERRAL: LiteralString = """
MATCH (k:Case {id: $case})-[:CONCERNS]->(c:Person)
SET k._lock = true REMOVE k._lock
RETURN k.stage AS stage, c.id AS childId, c.regionCode AS region,
       ($scope = '' OR coalesce(c.regionCode STARTS WITH $scope, false)) AS inScope,
       [(k)-[:FROM_REPORT]->(r:Report) | r.urgency][0] AS reportUrgency,
       EXISTS { (k)-[:REFERRED]->(o:Referral)-[:TO]->(:Institution {id: $institution})
                WHERE o.service = $service AND o.status IN ['pending', 'accepted'] } AS duplicate
"""

CREATE_REFERRAL: LiteralString = (
    """
MATCH (k:Case {id: $case}), (i:Institution {id: $institution})
CREATE (k)-[:REFERRED]->(f:Referral {id: $id, service: $service, on: $on, dueOn: $dueOn, status: 'pending',
                                      reason: $reason, updatedAt: datetime()})-[:TO]->(i)
FOREACH (_ IN CASE WHEN $override IS NULL THEN [] ELSE [1] END |
  SET f.capacityOverride = true, f.overrideReason = $override.reason, f.openBeforeOverride = $override.open,
      f.capacityAtOverride = $override.capacity, f.overrideBy = $by, f.overrideAt = datetime())
CREATE (f)-[:HAD_STATUS]->(:StatusChange {status: 'pending', at: datetime(), by: $by, note: $note})
SET k.updatedAt = datetime()
"""
    + RETURN_REFERRAL
)

LOCK_REFERRAL: LiteralString = """
MATCH (f:Referral {id: $id})
SET f._lock = true REMOVE f._lock
RETURN f.id AS id
"""

REFERRAL_STATE: LiteralString = """
MATCH (f:Referral {id: $id})
OPTIONAL MATCH (k:Case)-[:REFERRED]->(f)
OPTIONAL MATCH (k)-[:CONCERNS]->(c:Person)
RETURN f.status AS status, [(f)-[:TO]->(i:Institution) | i.id][0] AS institutionId, c.id AS childId,
       c.regionCode AS region, ($scope = '' OR coalesce(c.regionCode STARTS WITH $scope, false)) AS inScope
"""

ANSWER: LiteralString = (
    """
MATCH (f:Referral {id: $id})
SET f.status = $status, f.updatedAt = datetime()
CREATE (f)-[:HAD_STATUS]->(:StatusChange {status: $status, at: datetime(), by: $by, note: $note})
"""
    + RETURN_REFERRAL
)


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    status: str
    at: datetime
    by: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    id: str
    case_id: str | None
    institution_id: str | None
    service: str
    on: date
    due_on: date
    status: str
    reason: str | None
    updated_at: datetime | None
    child_id: str | None
    child_name: str | None
    child_birth_date: date | None
    region: str | None
    history: tuple[StatusChangeRecord, ...]


def referral_record(row: dict[str, Any]) -> ReferralRecord:
    child = row["child"] or {}
    born = child.get("birthDate")
    return ReferralRecord(
        id=row["id"],
        case_id=row["caseId"],
        institution_id=row["institutionId"],
        service=row["service"],
        on=row["on"].to_native(),
        due_on=row["dueOn"].to_native(),
        status=row["status"],
        reason=row["reason"],
        updated_at=None if row["updatedAt"] is None else row["updatedAt"].to_native(),
        child_id=child.get("id"),
        child_name=child.get("name"),
        child_birth_date=None if born is None else born.to_native(),
        region=child.get("regionCode"),
        history=tuple(
            StatusChangeRecord(s["status"], s["at"].to_native(), s.get("by"), s.get("note")) for s in row["history"]
        ),
    )


def due_on(on: date, urgency: str) -> date:
    """The default due date of a referral made on `on` with `urgency`."""
    return on + timedelta(days=DUE_DAYS[urgency])


async def get_referral_in(tx: AsyncManagedTransaction, referral_id: str) -> ReferralRecord:
    return referral_record((await writes.rows(tx, GET_REFERRAL, {"id": referral_id}))[0])


async def get_referral(graph: Graph, actor: Actor, referral_id: str) -> ReferralRecord | None:
    """The referral when the caller may read it (see `READ_REFERRAL`); None otherwise."""
    params = {
        "id": referral_id,
        "staff": actor.role == Role.INSTITUTION_STAFF,
        "institution": actor.institution,
        "scope": actor.scope,
    }
    found = await graph.read(READ_REFERRAL, params)
    return referral_record(found[0].data()) if found else None


async def referrals_of_cases(graph: Graph, case_ids: list[str], *, scope: str) -> dict[str, list[ReferralRecord]]:
    found: dict[str, list[ReferralRecord]] = {case_id: [] for case_id in case_ids}
    for row in await graph.read(REFERRALS_OF_CASES, {"cases": case_ids, "scope": scope}):
        found[row["caseId"]].append(referral_record(row.data()))
    return found


async def inbox(
    graph: Graph, actor: Actor, institution_id: str | None = None, *, status: str | None = None
) -> list[ReferralRecord]:
    """The referrals addressed to an institution: institution staff read their own only."""
    writes.require(actor, "referralInbox")
    staff = actor.role == Role.INSTITUTION_STAFF
    if staff:
        if institution_id not in (None, actor.institution):
            return []
        institution_id = actor.institution
    if institution_id is None:
        raise InvalidInput("institutionId", "required unless you are the institution's staff")
    params = {"institution": institution_id, "staff": staff, "scope": actor.scope, "status": status}
    return [referral_record(row.data()) for row in await graph.read(INBOX, params)]


async def overdue(graph: Graph, actor: Actor, region: str, *, as_of: date, zone: str) -> list[ReferralRecord]:
    """Referrals pending or accepted at `as_of` whose due date is before it, for the children
    of `region`'s subtree in the caller's scope, most overdue first. The status at `as_of` is
    read as discovery's `REFERRAL_OVERDUE` reads it: the latest status change dated on or
    before it (in `zone`), else the status as recorded; the records show today's status."""
    writes.require(actor, "overdueReferrals")
    params = {"region": scope_prefix(region), "scope": actor.scope, "asOf": as_of, "zone": zone}
    return [referral_record(row.data()) for row in await graph.read(OVERDUE, params)]


async def refer_case(
    graph: Graph,
    actor: Actor,
    *,
    case: str,
    institution: str,
    service: str,
    today: date,
    reason: str | None = None,
    on: date | None = None,
    due: date | None = None,
    urgency: str | None = None,
    note: str | None = None,
    override_capacity: bool = False,
    override_reason: str | None = None,
    key: str | None = None,
) -> ReferralRecord:
    """Refer a case that is not closed to an institution that offers `service`; over its
    capacity only for an emergency shelter, with `override_capacity` and a reason."""
    fields: dict[str, Any] = {
        "case": case,
        "institution": institution,
        "service": service,
        "reason": reason,
        "on": on,
        "dueOn": due,
        "urgency": urgency,
        "note": note,
    }
    if override_capacity:
        fields |= {"overrideCapacity": True, "overrideReason": override_reason}

    async def work(tx: AsyncManagedTransaction) -> Outcome[ReferralRecord]:
        if urgency is not None and urgency not in URGENCIES:
            raise InvalidInput("urgency", f"{urgency!r} is not one of {', '.join(sorted(URGENCIES))}")
        params = {"case": case, "institution": institution, "service": service, "scope": actor.scope}
        state = await writes.rows(tx, CASE_FOR_REFERRAL, params)
        if not state or not state[0]["inScope"]:
            raise OutOfReach("case")
        current = state[0]
        made_on = on or today
        due_date = due or due_on(made_on, urgency or current["reportUrgency"] or "normal")
        line = {k: v for k, v in fields.items() if k not in ("urgency", "note", "overrideCapacity", "overrideReason")}
        data = writes.validate_as(
            "referral", line | {"id": "new", "on": made_on, "dueOn": due_date, "status": "pending"}, today=today
        )
        if data["dueOn"] < data["on"]:
            raise InvalidInput("dueOn", f"{data['dueOn'].isoformat()} is before on {data['on'].isoformat()}")
        await writes.institution(tx, actor, institution, current["region"])
        target = (await writes.rows(tx, TARGET_INSTITUTION, {"institution": institution}))[0]
        if service not in (target["services"] or []):
            offered = ", ".join(target["services"] or []) or "nothing"
            raise InvalidInput("service", f"institution {institution} does not offer {service} (it offers {offered})")
        override = None
        if target["capacity"] is not None and target["open"] >= target["capacity"]:
            if not override_capacity:
                raise Conflict(
                    f"institution {institution} is at capacity ({target['open']} open referrals); an "
                    f"{placements.OVERRIDABLE} referral may go over it with overrideCapacity and overrideReason"
                )
            why = placements.override_reason(override_reason, service)
            override = {"reason": why, "open": target["open"], "capacity": target["capacity"]}
        if current["stage"] == "closed":
            raise Conflict(f"case {case} is closed")
        if current["duplicate"]:
            raise Conflict(f"case {case} already has an open referral to {institution} for {service}")
        referral_id = str(uuid.uuid4())
        created = referral_record(
            (
                await writes.rows(
                    tx,
                    CREATE_REFERRAL,
                    {
                        "id": referral_id,
                        "case": case,
                        "institution": institution,
                        "service": service,
                        "on": data["on"],
                        "dueOn": data["dueOn"],
                        "reason": reason,
                        "by": actor.sub,
                        "note": note,
                        "override": override,
                    },
                )
            )[0]
        )
        ids = [referral_id, case, institution, current["childId"]]
        if override is not None:
            await placements.audit_override(tx, actor, ids, current["region"])
        return Outcome(created, referral_id, ids, current["region"])

    return await writes.perform(
        graph, actor, "referCase", inputs=fields, work=work, replay=get_referral_in, key=key, ids=[case, institution]
    )


async def respond(
    graph: Graph, actor: Actor, referral_id: str, decision: str, *, note: str | None = None, key: str | None = None
) -> ReferralRecord:
    """Accept, decline, complete or withdraw a referral (see the module's status machine)."""

    async def work(tx: AsyncManagedTransaction) -> Outcome[ReferralRecord]:
        if decision not in DECISIONS:
            raise InvalidInput("decision", f"{decision!r} is not one of {', '.join(DECISIONS)}")
        writes.require(actor, "answerReferral" if decision in INSTITUTION_DECISIONS else "withdrawReferral")
        if not await writes.rows(tx, LOCK_REFERRAL, {"id": referral_id}):
            raise OutOfReach("referral")
        state = (await writes.rows(tx, REFERRAL_STATE, {"id": referral_id, "scope": actor.scope}))[0]
        if actor.role == Role.INSTITUTION_STAFF:
            if state["institutionId"] != actor.institution:
                raise OutOfReach("referral")
        elif not state["inScope"]:
            raise OutOfReach("referral")
        status = DECISIONS[decision]
        if status not in NEXT[state["status"]]:
            raise Conflict(f"referral {referral_id} is {state['status']}: it cannot be {status}")
        params = {"id": referral_id, "status": status, "by": actor.sub, "note": note}
        answered = referral_record((await writes.rows(tx, ANSWER, params))[0])
        return Outcome(answered, referral_id, [referral_id, state["childId"]], state["region"])

    return await writes.perform(
        graph,
        actor,
        "respondToReferral",
        inputs={"referralId": referral_id, "decision": decision, "note": note},
        work=work,
        replay=get_referral_in,
        key=key,
        ids=[referral_id],
    )
