"""Case follow-through: stage deadlines by urgency, the county's case list, reassignment,
transfer to another county, reopening, and the assessment (需求评估) and plan (评估帮扶).

Deadlines (docs/graphql.md, "Case follow-through"). A case that is not closed is due at the
end of its current stage's allowance, counted in hours from when it entered the stage; for
`reported` from the report it came from (an immediate report needs emergency response within
24 hours of being made, not of the case being opened); for `intervention` with a case plan,
the plan's review date (due at the start of the day after it, in the configured zone). The
urgency is the case's own (`openCase`), else its report's, else `normal`. A case is overdue at
`now` when it is due before `now`. The allowances are settings (`StageDeadlines`); the rule is
`DUE_AT`, the one Cypher fragment every read of a deadline goes through.

Who holds a case: the county of its child, until a coordinator whose scope covers both
counties transfers it (`heldBy`, a county's 12-digit code). A case is in a caller's reach when
its child is, or its holding county is: the receiving county sees what was handed to it even
when the child still lives in the other.

Reopening: only `coordinator` and `admin` reopen a closed case (closing is the case worker's
decision; undoing it is the county's), with a reason, to `emergency_response`, `assessment`
(the default) or `intervention`; it is a new stage change, so the history shows the closing
and the reopening. The child must not have another case that is not closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import access, cases, referrals, writes
from graph.bundle.records import SERVICES
from graph.cases import CaseRecord
from graph.dates import fixed_offset
from graph.driver import Graph
from graph.errors import Conflict, Forbidden, InvalidInput, OutOfReach
from graph.referrals import ReferralRecord
from graph.regions import scope_prefix
from graph.writes import Actor, Outcome

OPEN_STAGES: Final = ("reported", "emergency_response", "assessment", "intervention")
REOPEN_STAGES: Final = ("emergency_response", "assessment", "intervention")
#: What an assessment may find a child needs (需求评估).
NEEDS: Final = frozenset(
    {
        "safety",
        "guardianship",
        "daily_care",
        "education",
        "health",
        "psychological",
        "financial",
        "legal",
        "family_relationship",
        "other",
    }
)


@dataclass(frozen=True, slots=True)
class StageDeadlines:
    """Hours a case may stay at each open stage, by urgency (`SHOUHU_CASE_DUE_<URGENCY>`)."""

    hours: Mapping[str, Mapping[str, int]] = field(
        default_factory=lambda: {
            "immediate": {"reported": 24, "emergency_response": 72, "assessment": 168, "intervention": 720},
            "high": {"reported": 72, "emergency_response": 168, "assessment": 360, "intervention": 2160},
            "normal": {"reported": 168, "emergency_response": 360, "assessment": 720, "intervention": 4320},
        }
    )

    def parameter(self) -> dict[str, dict[str, int]]:
        return {urgency: dict(stages) for urgency, stages in self.hours.items()}

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> StageDeadlines:
        """Override some urgencies with `"24,72,168,720"` (hours at reported, emergency_response,
        assessment, intervention); a bad value raises `ValueError` naming the urgency."""
        hours = {urgency: dict(stages) for urgency, stages in cls().hours.items()}
        for urgency, raw in values.items():
            parts = [p.strip() for p in raw.split(",")]
            if len(parts) != len(OPEN_STAGES) or not all(p.isdigit() and int(p) > 0 for p in parts):
                raise ValueError(f"{urgency}: four positive whole numbers of hours, as 24,72,168,720")
            hours[urgency] = dict(zip(OPEN_STAGES, map(int, parts), strict=True))
        return cls(hours)


#: `dueAt` of the case `k` (null when closed); needs `$deadlines` and `$zone`.
DUE_AT: LiteralString = """
OPTIONAL CALL (k) {
  WITH k WHERE k.stage <> 'closed'
  OPTIONAL MATCH (k)-[:FROM_REPORT]->(r:Report)
  WITH k, r, coalesce(k.urgency, r.urgency, 'normal') AS urgency,
       COLLECT { MATCH (k)-[:HAD_STAGE]->(s:StageChange) RETURN s.at AS at ORDER BY s.at DESC LIMIT 1 } AS latest,
       COLLECT { MATCH (k)-[:PLANNED]->(p:CasePlan) RETURN p.reviewOn AS on ORDER BY p.recordedAt DESC LIMIT 1 }
         AS review
  WITH k, urgency, review,
       CASE WHEN k.stage = 'reported' AND r IS NOT NULL THEN r.at
            ELSE coalesce(latest[0], datetime({date: k.openedOn, timezone: $zone})) END AS since
  RETURN CASE WHEN k.stage = 'intervention' AND size(review) > 0
              THEN datetime({date: review[0] + duration({days: 1}), timezone: $zone})
              ELSE since + duration({hours: $deadlines[urgency][k.stage]}) END AS dueAt, urgency
}
"""

DEADLINES: LiteralString = (
    """
UNWIND $ids AS id
MATCH (k:Case {id: id})-[:CONCERNS]->(c:Person)
WHERE """
    + cases.IN_REACH
    + DUE_AT
    + """
RETURN k.id AS id, dueAt, coalesce(urgency, k.urgency, [(k)-[:FROM_REPORT]->(r:Report) | r.urgency][0], 'normal')
       AS urgency
"""
)

# The cases of a region, oldest first, keyset on (openedOn, id).
_LISTED: LiteralString = (
    """
MATCH (k:Case)-[:CONCERNS]->(c:Person)
WHERE (coalesce(c.regionCode STARTS WITH $region, false) OR coalesce(k.heldBy STARTS WITH $region, false))
  AND """
    + cases.IN_REACH
    + """
  AND ($stage IS NULL OR k.stage = $stage)
  AND ($child IS NULL OR c.id = $child)
"""
    + DUE_AT
    + """
WITH k, dueAt WHERE ($overdue IS NULL OR (dueAt IS NOT NULL AND dueAt < $now) = $overdue)
"""
)

LIST_CASES: LiteralString = (
    _LISTED
    + """
  AND ($afterId IS NULL OR k.openedOn > $afterOn OR (k.openedOn = $afterOn AND k.id > $afterId))
WITH k, dueAt ORDER BY k.openedOn, k.id LIMIT $limit
RETURN k.id AS id, dueAt
"""
)

COUNT_CASES: LiteralString = _LISTED + "RETURN count(k) AS total\n"

CASE_TARGET: LiteralString = (
    """
MATCH (k:Case {id: $id})-[:CONCERNS]->(c:Person)
SET k._lock = true REMOVE k._lock
RETURN k.stage AS stage, c.id AS childId, c.regionCode AS region, """
    + cases.IN_REACH
    + """ AS inScope,
       coalesce(k.heldBy, left(c.regionCode, 6) + '000000') AS county,
       [(k)-[:ASSIGNED_TO]->(w:Person) | w.id][0] AS workerId,
       EXISTS { (o:Case)-[:CONCERNS]->(c) WHERE o.stage <> 'closed' AND o <> k } AS otherOpen
"""
)

COUNTY: LiteralString = "OPTIONAL MATCH (g:Region {code: $code}) RETURN g.level AS level"

REASSIGN: LiteralString = """
MATCH (k:Case {id: $id})
OPTIONAL MATCH (k)-[a:ASSIGNED_TO]->(:Person)
DELETE a
WITH DISTINCT k
MATCH (w:Person {id: $worker})
CREATE (k)-[:ASSIGNED_TO]->(w)
CREATE (k)-[:HAD_CHANGE]->(:CaseChange {change: $change, at: datetime(), by: $by, note: $note,
                                        fromWorker: $fromWorker, toWorker: $worker,
                                        fromCounty: $fromCounty, toCounty: $toCounty})
SET k.updatedAt = datetime(), k.heldBy = coalesce($toCounty, k.heldBy)
RETURN k.id AS id
"""

TRANSFER_ONLY: LiteralString = """
MATCH (k:Case {id: $id})
CREATE (k)-[:HAD_CHANGE]->(:CaseChange {change: 'transferred', at: datetime(), by: $by, note: $note,
                                        fromWorker: $fromWorker, toWorker: $fromWorker,
                                        fromCounty: $fromCounty, toCounty: $toCounty})
SET k.updatedAt = datetime(), k.heldBy = $toCounty
RETURN k.id AS id
"""

REOPEN: LiteralString = """
MATCH (k:Case {id: $id})
SET k.stage = $stage, k.updatedAt = datetime()
CREATE (k)-[:HAD_STAGE]->(:StageChange {stage: $stage, at: datetime(), by: $by, note: $note, reopened: true})
RETURN k.id AS id
"""

CHANGES: LiteralString = """
UNWIND $ids AS id
MATCH (k:Case {id: id})-[:HAD_CHANGE]->(x:CaseChange)
RETURN id, x {.change, .at, .by, .note, .fromWorker, .toWorker, .fromCounty, .toCounty} AS change
ORDER BY x.at
"""

ADD_ASSESSMENT: LiteralString = """
MATCH (k:Case {id: $case})
CREATE (k)-[:ASSESSED]->(a:Assessment {id: $id, needs: $needs, summary: $summary, assessedBy: $assessor,
                                       assessedOn: $on, recordedBy: $by, recordedAt: datetime()})
SET k.updatedAt = datetime()
RETURN a.id AS id
"""

ADD_PLAN: LiteralString = """
MATCH (k:Case {id: $case})
WITH k, COUNT { (k)-[:PLANNED]->(:CasePlan) } AS before
CREATE (k)-[:PLANNED]->(p:CasePlan {id: $id, version: before + 1, goals: $goals, services: $services,
                                    reviewOn: $reviewOn, note: $note, recordedBy: $by, recordedAt: datetime()})
SET k.updatedAt = datetime()
RETURN p.id AS id
"""

ASSESSMENTS: LiteralString = """
UNWIND $ids AS id
MATCH (k:Case {id: id})-[:ASSESSED]->(a:Assessment)
RETURN id AS caseId, a {.id, .needs, .summary, .assessedBy, .assessedOn, .recordedBy, .recordedAt} AS item
ORDER BY a.recordedAt DESC
"""

PLANS: LiteralString = """
UNWIND $ids AS id
MATCH (k:Case {id: id})-[:PLANNED]->(p:CasePlan)
RETURN id AS caseId, p {.id, .version, .goals, .services, .reviewOn, .note, .recordedBy, .recordedAt} AS item
ORDER BY p.version DESC
"""

GET_ASSESSMENT: LiteralString = """
MATCH (k:Case)-[:ASSESSED]->(a:Assessment {id: $id})
RETURN k.id AS caseId, a {.id, .needs, .summary, .assessedBy, .assessedOn, .recordedBy, .recordedAt} AS item
"""

GET_PLAN: LiteralString = """
MATCH (k:Case)-[:PLANNED]->(p:CasePlan {id: $id})
RETURN k.id AS caseId, p {.id, .version, .goals, .services, .reviewOn, .note, .recordedBy, .recordedAt} AS item
"""


@dataclass(frozen=True, slots=True)
class Deadline:
    due_at: datetime | None
    urgency: str


@dataclass(frozen=True, slots=True)
class CaseChangeRecord:
    change: str
    at: datetime
    by: str | None
    note: str | None
    from_worker: str | None
    to_worker: str | None
    from_county: str | None
    to_county: str | None


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    id: str
    case_id: str
    needs: tuple[str, ...]
    summary: str | None
    assessed_by: str | None
    assessed_on: date
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CasePlanRecord:
    id: str
    case_id: str
    version: int
    goals: tuple[str, ...]
    services: tuple[str, ...]
    review_on: date
    note: str | None
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CaseListRequest:
    region: str
    stage: str | None = None
    overdue: bool | None = None
    child: str | None = None


@dataclass(frozen=True, slots=True)
class OverdueWork:
    """What is late in a scope at `now`: cases past their stage deadline, referrals past due."""

    cases: list[tuple[CaseRecord, datetime]]
    referrals: list[ReferralRecord]


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def _assessment(case_id: str, a: Mapping[str, Any]) -> AssessmentRecord:
    return AssessmentRecord(
        id=a["id"],
        case_id=case_id,
        needs=tuple(a["needs"] or ()),
        summary=a["summary"],
        assessed_by=a["assessedBy"],
        assessed_on=a["assessedOn"].to_native(),
        recorded_by=a["recordedBy"],
        recorded_at=a["recordedAt"].to_native(),
    )


def _plan(case_id: str, p: Mapping[str, Any]) -> CasePlanRecord:
    return CasePlanRecord(
        id=p["id"],
        case_id=case_id,
        version=int(p["version"]),
        goals=tuple(p["goals"] or ()),
        services=tuple(p["services"] or ()),
        review_on=p["reviewOn"].to_native(),
        note=p["note"],
        recorded_by=p["recordedBy"],
        recorded_at=p["recordedAt"].to_native(),
    )


def _deadline_parameters(deadlines: StageDeadlines, zone: str) -> dict[str, Any]:
    return {"deadlines": deadlines.parameter(), "zone": zone}


async def deadlines(
    graph: Graph, ids: Sequence[str], *, scope: str, rules: StageDeadlines, zone: str
) -> dict[str, Deadline]:
    params = {"ids": list(ids), "scope": scope} | _deadline_parameters(rules, zone)
    found = await graph.read(DEADLINES, params)
    return {row["id"]: Deadline(_native(row["dueAt"]), row["urgency"]) for row in found}


def _list_parameters(request: CaseListRequest, scope: str, now: datetime) -> dict[str, Any]:
    if request.stage is not None and request.stage not in cases.STAGES:
        raise InvalidInput("stage", f"{request.stage!r} is not one of {', '.join(cases.STAGES)}")
    return {
        # An empty region is the whole reach (the worklist of a caller with no region, admin).
        "region": scope_prefix(request.region) if request.region else "",
        "scope": scope,
        "stage": request.stage,
        "overdue": request.overdue,
        "child": request.child,
        "now": fixed_offset(now),
    }


async def list_cases(
    graph: Graph,
    request: CaseListRequest,
    *,
    scope: str,
    now: datetime,
    rules: StageDeadlines,
    zone: str,
    first: int,
    after: tuple[date, str] | None = None,
) -> tuple[list[tuple[CaseRecord, datetime | None]], bool]:
    """One page of a region's cases in the caller's reach, oldest first, with their `dueAt`."""
    params = _list_parameters(request, scope, now) | _deadline_parameters(rules, zone)
    params |= {
        "afterOn": None if after is None else after[0],
        "afterId": None if after is None else after[1],
        "limit": first + 1,
    }
    rows = await graph.read(LIST_CASES, params)
    ids = [row["id"] for row in rows[:first]]
    due = {row["id"]: _native(row["dueAt"]) for row in rows}
    found = await cases.get_cases(graph, ids, scope=scope) if ids else {}
    return [(found[i], due[i]) for i in ids if i in found], len(rows) > first


async def count_cases(
    graph: Graph, request: CaseListRequest, *, scope: str, now: datetime, rules: StageDeadlines, zone: str
) -> int:
    params = _list_parameters(request, scope, now) | _deadline_parameters(rules, zone)
    return int((await graph.read(COUNT_CASES, params))[0]["total"])


async def overdue_work(
    graph: Graph, actor: Actor, region: str, *, now: datetime, rules: StageDeadlines, zone: str, limit: int = 500
) -> OverdueWork:
    """The cases past their stage deadline and the referrals past their due date at `now`, in
    `region` within the actor's reach (for the worklist): cases soonest due first."""

    page, _ = await list_cases(
        graph, CaseListRequest(region, overdue=True), scope=actor.scope, now=now, rules=rules, zone=zone, first=limit
    )
    late = sorted(((record, due) for record, due in page if due is not None), key=lambda item: (item[1], item[0].id))
    late_referrals = await referrals.overdue(graph, actor, region, as_of=now.date(), zone=zone)
    return OverdueWork(cases=late, referrals=late_referrals)


async def changes(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[CaseChangeRecord]]:
    """Reassignments and transfers of cases the caller has already read (ids from a scoped read)."""
    found: dict[str, list[CaseChangeRecord]] = {i: [] for i in ids}
    for row in await graph.read(CHANGES, {"ids": list(ids)}):
        x = row["change"]
        found[row["id"]].append(
            CaseChangeRecord(
                x["change"],
                x["at"].to_native(),
                x["by"],
                x["note"],
                x["fromWorker"],
                x["toWorker"],
                x["fromCounty"],
                x["toCounty"],
            )
        )
    return found


async def assessments(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[AssessmentRecord]]:
    found: dict[str, list[AssessmentRecord]] = {i: [] for i in ids}
    for row in await graph.read(ASSESSMENTS, {"ids": list(ids)}):
        found[row["caseId"]].append(_assessment(row["caseId"], row["item"]))
    return found


async def plans(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[CasePlanRecord]]:
    found: dict[str, list[CasePlanRecord]] = {i: [] for i in ids}
    for row in await graph.read(PLANS, {"ids": list(ids)}):
        found[row["caseId"]].append(_plan(row["caseId"], row["item"]))
    return found


# --- writes -------------------------------------------------------------------------------------


async def _target(tx: AsyncManagedTransaction, actor: Actor, case_id: str) -> dict[str, Any]:
    """The case `case_id`, locked; absent or out of reach reads the same (`OutOfReach`)."""
    found = await writes.rows(tx, CASE_TARGET, {"id": case_id, "scope": actor.scope})
    if not found or not found[0]["inScope"]:
        raise OutOfReach("case")
    return found[0]


async def _open_target(tx: AsyncManagedTransaction, actor: Actor, case_id: str) -> dict[str, Any]:
    state = await _target(tx, actor, case_id)
    if state["stage"] == "closed":
        raise Conflict(f"case {case_id} is closed")
    return state


def _note(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(field, "required: say why")
    return value.strip()


async def reassign(
    graph: Graph,
    actor: Actor,
    case_id: str,
    worker: str,
    *,
    note: str | None,
    key: str | None = None,
) -> CaseRecord:
    """Give a case that is not closed to another worker, with a note; the change is kept."""

    async def work(tx: AsyncManagedTransaction) -> Outcome[CaseRecord]:
        reason = _note(note, "note")
        state = await _open_target(tx, actor, case_id)
        await writes.person_reference(tx, actor, worker, "worker")
        if state["workerId"] == worker:
            raise Conflict(f"case {case_id} is already assigned to that worker")
        params = {
            "id": case_id,
            "worker": worker,
            "change": "reassigned",
            "by": actor.sub,
            "note": reason,
            "fromWorker": state["workerId"],
            "fromCounty": None,
            "toCounty": None,
        }
        await writes.rows(tx, REASSIGN, params)
        return Outcome(await cases.get_case_in(tx, case_id), case_id, [case_id, state["childId"]], state["region"])

    return await writes.perform(
        graph,
        actor,
        "reassignCase",
        inputs={"caseId": case_id, "workerId": worker, "note": note},
        work=work,
        replay=cases.get_case_in,
        key=key,
        ids=[case_id],
    )


async def transfer(
    graph: Graph,
    actor: Actor,
    case_id: str,
    county: str,
    *,
    note: str | None,
    worker: str | None = None,
    key: str | None = None,
) -> CaseRecord:
    """Hand a case that is not closed to another county (a coordinator whose scope covers both
    counties, or admin), optionally to a worker of that county."""

    async def work(tx: AsyncManagedTransaction) -> Outcome[CaseRecord]:
        reason = _note(note, "note")
        level = (await writes.rows(tx, COUNTY, {"code": county}))[0]["level"]
        if level != "county":
            raise InvalidInput("county", "not the code of a county")
        state = await _open_target(tx, actor, case_id)
        if state["county"] == county:
            raise Conflict(f"case {case_id} is already held by that county")
        if not (access.covers(actor.scope, state["county"]) and access.covers(actor.scope, county)):
            raise Forbidden("a transfer takes a scope that covers both counties")
        params = {
            "id": case_id,
            "by": actor.sub,
            "note": reason,
            "fromWorker": state["workerId"],
            "fromCounty": state["county"],
            "toCounty": county,
        }
        if worker is None:
            await writes.rows(tx, TRANSFER_ONLY, params)
        else:
            # The new worker is one of the receiving county's.
            await writes.person_reference(tx, replace(actor, scope=scope_prefix(county)), worker, "worker")
            await writes.rows(tx, REASSIGN, params | {"worker": worker, "change": "transferred"})
        return Outcome(await cases.get_case_in(tx, case_id), case_id, [case_id, state["childId"]], state["region"])

    return await writes.perform(
        graph,
        actor,
        "transferCase",
        inputs={"caseId": case_id, "county": county, "workerId": worker, "note": note},
        work=work,
        replay=cases.get_case_in,
        key=key,
        ids=[case_id],
    )


async def reopen(
    graph: Graph,
    actor: Actor,
    case_id: str,
    *,
    reason: str | None,
    stage: str | None = None,
    key: str | None = None,
) -> CaseRecord:
    """Reopen a closed case (coordinator or admin) with a reason, as a new stage change."""

    async def work(tx: AsyncManagedTransaction) -> Outcome[CaseRecord]:
        why = _note(reason, "reason")
        target = stage or "assessment"
        if target not in REOPEN_STAGES:
            raise InvalidInput("stage", f"a case reopens at {', '.join(REOPEN_STAGES)}")
        state = await _target(tx, actor, case_id)
        if state["stage"] != "closed":
            raise Conflict(f"case {case_id} is {state['stage']}, not closed")
        if state["otherOpen"]:
            raise Conflict(f"the child of case {case_id} has another case that is not closed")
        await writes.rows(tx, REOPEN, {"id": case_id, "stage": target, "by": actor.sub, "note": why})
        return Outcome(await cases.get_case_in(tx, case_id), case_id, [case_id, state["childId"]], state["region"])

    return await writes.perform(
        graph,
        actor,
        "reopenCase",
        inputs={"caseId": case_id, "reason": reason, "stage": stage},
        work=work,
        replay=cases.get_case_in,
        key=key,
        ids=[case_id],
    )


def _terms(values: Sequence[str], field: str, allowed: frozenset[str] | None) -> list[str]:
    cleaned = [v.strip() for v in values]
    if not cleaned or any(not v for v in cleaned):
        raise InvalidInput(field, "at least one, none empty")
    if allowed is not None:
        unknown = sorted(set(cleaned) - allowed)
        if unknown:
            raise InvalidInput(field, f"{unknown[0]!r} is not one of {', '.join(sorted(allowed))}")
    return list(dict.fromkeys(cleaned))


async def get_assessment_in(tx: AsyncManagedTransaction, assessment_id: str) -> AssessmentRecord:
    row = (await writes.rows(tx, GET_ASSESSMENT, {"id": assessment_id}))[0]
    return _assessment(row["caseId"], row["item"])


async def get_plan_in(tx: AsyncManagedTransaction, plan_id: str) -> CasePlanRecord:
    row = (await writes.rows(tx, GET_PLAN, {"id": plan_id}))[0]
    return _plan(row["caseId"], row["item"])


async def record_assessment(
    graph: Graph,
    actor: Actor,
    case_id: str,
    *,
    needs: Sequence[str],
    today: date,
    summary: str | None = None,
    assessor: str | None = None,
    on: date | None = None,
    key: str | None = None,
) -> AssessmentRecord:
    """Record what a case's child needs (需求评估), by whom and when; earlier ones are kept."""
    inputs = {"caseId": case_id, "needs": list(needs), "summary": summary, "assessedById": assessor, "assessedOn": on}

    async def work(tx: AsyncManagedTransaction) -> Outcome[AssessmentRecord]:
        found = _terms(needs, "needs", NEEDS)
        day = on or today
        if day > today:
            raise InvalidInput("assessedOn", "is in the future")
        state = await _open_target(tx, actor, case_id)
        by = assessor or actor.sub
        if assessor is not None:
            await writes.person_reference(tx, actor, assessor, "assessedBy")
        assessment_id = str(uuid.uuid4())
        params = {
            "case": case_id,
            "id": assessment_id,
            "needs": found,
            "summary": summary,
            "assessor": by,
            "on": day,
            "by": actor.sub,
        }
        await writes.rows(tx, ADD_ASSESSMENT, params)
        record = await get_assessment_in(tx, assessment_id)
        return Outcome(record, assessment_id, [assessment_id, case_id, state["childId"]], state["region"])

    return await writes.perform(
        graph, actor, "recordAssessment", inputs=inputs, work=work, replay=get_assessment_in, key=key, ids=[case_id]
    )


async def set_plan(
    graph: Graph,
    actor: Actor,
    case_id: str,
    *,
    goals: Sequence[str],
    services: Sequence[str],
    review_on: date,
    today: date,
    note: str | None = None,
    key: str | None = None,
) -> CasePlanRecord:
    """A new version of a case's plan (评估帮扶): goals, services, review date; earlier versions kept."""
    inputs = {"caseId": case_id, "goals": list(goals), "services": list(services), "reviewOn": review_on, "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[CasePlanRecord]:
        wanted = _terms(goals, "goals", None)
        offered = _terms(services, "services", SERVICES)
        if review_on < today:
            raise InvalidInput("reviewOn", "is in the past")
        state = await _open_target(tx, actor, case_id)
        plan_id = str(uuid.uuid4())
        params = {
            "case": case_id,
            "id": plan_id,
            "goals": wanted,
            "services": offered,
            "reviewOn": review_on,
            "note": note,
            "by": actor.sub,
        }
        await writes.rows(tx, ADD_PLAN, params)
        record = await get_plan_in(tx, plan_id)
        return Outcome(record, plan_id, [plan_id, case_id, state["childId"]], state["region"])

    return await writes.perform(
        graph, actor, "setCasePlan", inputs=inputs, work=work, replay=get_plan_in, key=key, ids=[case_id]
    )
