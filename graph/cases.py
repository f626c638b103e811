"""Cases: a child's file moving through 发现报告 → 应急处置 → 评估帮扶 → 监护干预, then closed.

Stages move forward only (docs/graphql.md): `reported` → `emergency_response` → `assessment` →
`intervention`, `emergency_response` may be skipped, any stage may move to `closed` once every referral is
answered (declined, completed) or withdrawn, and only `graph.followup.reopen` takes a closed
case back. Every move is a `(:Case)-[:HAD_STAGE]->(:StageChange {stage, at, by,
note})`. A child has at most one case that is not closed: opening another is a conflict.

Two workers moving one case at the same moment: the write transaction takes the case's write
lock before it reads the stage, so the second waits, then reads the stage the first wrote and
gets a `CONFLICT` when its move is no longer allowed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import writes
from graph.bundle.records import URGENCIES
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, OutOfReach
from graph.writes import Actor, Outcome

STAGES: Final = ("reported", "emergency_response", "assessment", "intervention", "closed")
#: The stages each stage may move to.
NEXT: Final[dict[str, frozenset[str]]] = {
    "reported": frozenset({"emergency_response", "assessment", "closed"}),
    "emergency_response": frozenset({"assessment", "closed"}),
    "assessment": frozenset({"intervention", "closed"}),
    "intervention": frozenset({"closed"}),
    "closed": frozenset(),
}

# The reach of a case `k` about child `c`: the child in `$scope`, or the county holding the
# case since a transfer (`graph.followup`).
IN_REACH: LiteralString = """
($scope = '' OR coalesce(c.regionCode STARTS WITH $scope, false) OR coalesce(k.heldBy STARTS WITH $scope, false))
"""

RETURN_CASE: LiteralString = """
RETURN k.id AS id, k.openedOn AS openedOn, k.stage AS stage, k.updatedAt AS updatedAt,
       k.urgency AS urgency, k.heldBy AS heldBy,
       [(k)-[:CONCERNS]->(c:Person) | c.id][0] AS childId,
       [(k)-[:CONCERNS]->(c:Person) | c.regionCode][0] AS region,
       [(k)-[:ASSIGNED_TO]->(w:Person) | w.id][0] AS workerId,
       [(k)-[:FROM_REPORT]->(r:Report) | r.id][0] AS reportId,
       COLLECT { MATCH (k)-[:HAD_STAGE]->(s:StageChange)
                 RETURN s {.stage, .at, .by, .note} AS change ORDER BY s.at } AS history
"""

GET_CASE: LiteralString = "MATCH (k:Case {id: $id})" + RETURN_CASE

GET_CASES: LiteralString = (
    """
UNWIND $ids AS id
MATCH (k:Case {id: id})-[:CONCERNS]->(c:Person)
WHERE """
    + IN_REACH
    + RETURN_CASE
)

CASELOAD: LiteralString = (
    """
MATCH (k:Case)-[:ASSIGNED_TO]->(:Person {id: $worker})
MATCH (k)-[:CONCERNS]->(c:Person)
WHERE ($scope = '' OR c.regionCode STARTS WITH $scope) AND ($includeClosed OR k.stage <> 'closed')
WITH k ORDER BY k.openedOn, k.id
"""
    + RETURN_CASE
)

# Taking the child's write lock serialises two cases being opened for one child at once.
LOCK_CHILD: LiteralString = """
MATCH (c:Person {id: $child})
SET c._lock = true REMOVE c._lock
RETURN EXISTS { (k:Case)-[:CONCERNS]->(c) WHERE k.stage <> 'closed' } AS hasOpenCase
"""

REPORT_ABOUT: LiteralString = """
RETURN EXISTS { (:Report {id: $report})-[:ABOUT]->(:Person {id: $child}) } AS aboutChild
"""

CREATE_CASE: LiteralString = (
    """
MATCH (c:Person {id: $child})
CREATE (k:Case {id: $id, openedOn: $openedOn, stage: 'reported', urgency: $urgency, updatedAt: datetime()})
       -[:CONCERNS]->(c)
CREATE (k)-[:HAD_STAGE]->(:StageChange {stage: 'reported', at: datetime(), by: $by, note: $note})
WITH k
CALL (k) {
  MATCH (w:Person {id: $worker})
  CREATE (k)-[:ASSIGNED_TO]->(w)
}
CALL (k) {
  MATCH (r:Report {id: $report})
  CREATE (k)-[:FROM_REPORT]->(r)
}
"""
    + RETURN_CASE
)

# The write lock first; the stage is read after it, in the same transaction.
LOCK_CASE: LiteralString = """
MATCH (k:Case {id: $id})
SET k._lock = true REMOVE k._lock
RETURN k.id AS id
"""

CASE_STATE: LiteralString = (
    """
MATCH (k:Case {id: $id})-[:CONCERNS]->(c:Person)
RETURN k.stage AS stage, c.id AS childId, c.regionCode AS region, """
    + IN_REACH
    + """ AS inScope
"""
)

OPEN_REFERRALS: LiteralString = """
MATCH (:Case {id: $id})-[:REFERRED]->(f:Referral)
WHERE f.status IN ['pending', 'accepted']
RETURN f.id AS id ORDER BY f.id
"""

MOVE_CASE: LiteralString = (
    """
MATCH (k:Case {id: $id})
SET k.stage = $stage, k.updatedAt = datetime()
CREATE (k)-[:HAD_STAGE]->(:StageChange {stage: $stage, at: datetime(), by: $by, note: $note})
"""
    + RETURN_CASE
)


@dataclass(frozen=True, slots=True)
class StageChangeRecord:
    stage: str
    at: datetime
    by: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    id: str
    child_id: str
    opened_on: date
    stage: str
    updated_at: datetime | None
    worker_id: str | None
    report_id: str | None
    region: str | None
    history: tuple[StageChangeRecord, ...]
    #: Set by `openCase`; absent, the case has its report's urgency (`graph.followup`).
    urgency: str | None = None
    #: The county holding the case since a transfer; absent, the child's county.
    held_by: str | None = None


def case_record(row: dict[str, Any]) -> CaseRecord:
    return CaseRecord(
        id=row["id"],
        child_id=row["childId"],
        opened_on=row["openedOn"].to_native(),
        stage=row["stage"],
        updated_at=None if row["updatedAt"] is None else row["updatedAt"].to_native(),
        worker_id=row["workerId"],
        report_id=row["reportId"],
        region=row["region"],
        history=tuple(
            StageChangeRecord(s["stage"], s["at"].to_native(), s.get("by"), s.get("note")) for s in row["history"]
        ),
        urgency=row.get("urgency"),
        held_by=row.get("heldBy"),
    )


async def get_case_in(tx: AsyncManagedTransaction, case_id: str) -> CaseRecord:
    return case_record((await writes.rows(tx, GET_CASE, {"id": case_id}))[0])


async def get_cases(graph: Graph, ids: list[str], *, scope: str) -> dict[str, CaseRecord]:
    found = await graph.read(GET_CASES, {"ids": ids, "scope": scope})
    return {row["id"]: case_record(row.data()) for row in found}


async def caseload(graph: Graph, worker_id: str, *, scope: str, include_closed: bool = False) -> list[CaseRecord]:
    """The cases assigned to `worker_id` (a person id: a case worker's own token subject)."""
    found = await graph.read(CASELOAD, {"worker": worker_id, "scope": scope, "includeClosed": include_closed})
    return [case_record(row.data()) for row in found]


async def open_case(
    graph: Graph,
    actor: Actor,
    *,
    child: str,
    today: date,
    report: str | None = None,
    worker: str | None = None,
    opened_on: date | None = None,
    urgency: str | None = None,
    note: str | None = None,
    key: str | None = None,
) -> CaseRecord:
    """Open a case at stage `reported` for `child`, from `report` when given.

    The worker defaults to the caller when the caller's token subject is a person in the
    graph; an explicit `worker` must be one.
    """
    fields = {"child": child, "report": report, "worker": worker, "openedOn": opened_on, "note": note}
    if urgency is not None:
        fields["urgency"] = urgency

    async def work(tx: AsyncManagedTransaction) -> Outcome[CaseRecord]:
        data = writes.validate_as(
            "case",
            {k: v for k, v in fields.items() if k not in ("note", "urgency")}
            | {"id": "new", "stage": "reported", "openedOn": opened_on or today},
            today=today,
        )
        if urgency is not None and urgency not in URGENCIES:
            raise InvalidInput("urgency", f"{urgency!r} is not one of {', '.join(sorted(URGENCIES))}")
        region = await writes.person_in_scope(tx, actor, child)
        if worker is not None:
            await writes.person_reference(tx, actor, worker, "worker")
        locked = await writes.rows(tx, LOCK_CHILD, {"child": child})
        if locked[0]["hasOpenCase"]:
            raise Conflict(f"{child} already has a case that is not closed")
        if report is not None:
            # A report about another child reads as no report at all: it may be out of scope.
            about = (await writes.rows(tx, REPORT_ABOUT, {"report": report, "child": child}))[0]
            if not about["aboutChild"]:
                raise OutOfReach("report")
        assigned = worker or actor.sub
        case_id = str(uuid.uuid4())
        params = {
            "id": case_id,
            "child": child,
            "openedOn": data["openedOn"],
            "worker": assigned,
            "report": report,
            "by": actor.sub,
            "note": note,
            "urgency": urgency,
        }
        created = case_record((await writes.rows(tx, CREATE_CASE, params))[0])
        return Outcome(created, case_id, [i for i in (case_id, child, report) if i], region)

    return await writes.perform(
        graph, actor, "openCase", inputs=fields, work=work, replay=get_case_in, key=key, ids=[child]
    )


async def require_referrals_answered(tx: AsyncManagedTransaction, case_id: str) -> None:
    """A case closes only when every referral is declined, completed or withdrawn."""
    still_open = [row["id"] for row in await writes.rows(tx, OPEN_REFERRALS, {"id": case_id})]
    if still_open:
        raise Conflict(
            f"case {case_id} has referrals not yet answered or withdrawn: {', '.join(still_open)}; "
            "answer or withdraw them before closing"
        )


async def advance_case(
    graph: Graph, actor: Actor, case_id: str, stage: str, *, note: str | None = None, key: str | None = None
) -> CaseRecord:
    """Move a case to `stage`; a move the lifecycle does not allow is a `Conflict` and changes nothing."""

    async def work(tx: AsyncManagedTransaction) -> Outcome[CaseRecord]:
        if stage not in NEXT:
            raise InvalidInput("stage", f"{stage!r} is not one of {', '.join(STAGES)}")
        if not await writes.rows(tx, LOCK_CASE, {"id": case_id}):
            raise OutOfReach("case")
        state = (await writes.rows(tx, CASE_STATE, {"id": case_id, "scope": actor.scope}))[0]
        if not state["inScope"]:
            raise OutOfReach("case")
        current = state["stage"]
        if stage not in NEXT[current]:
            raise Conflict(f"case {case_id} is {current}: it cannot move to {stage}")
        if stage == "closed":
            await require_referrals_answered(tx, case_id)
        moved = case_record(
            (await writes.rows(tx, MOVE_CASE, {"id": case_id, "stage": stage, "by": actor.sub, "note": note}))[0]
        )
        return Outcome(moved, case_id, [case_id, state["childId"]], state["region"])

    return await writes.perform(
        graph,
        actor,
        "advanceCase",
        inputs={"caseId": case_id, "stage": stage, "note": note},
        work=work,
        replay=get_case_in,
        key=key,
        ids=[case_id],
    )
