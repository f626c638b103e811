"""Cases in GraphQL: open, advance, read, list and follow through (deadlines, reassignment,
transfer, reopening, assessment and plan: `graph.followup`), and a case worker's caseload."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import cases, followup
from graph.cases import CaseRecord
from graph.followup import AssessmentRecord, CaseChangeRecord, CaseListRequest, CasePlanRecord, Deadline
from graph.referrals import ReferralRecord
from schema.pagination import PageInfo, decode_cursor, encode_cursor, page_info, page_size
from schema.persons import Person
from schema.referrals import Referral
from schema.writing import actor, idempotency_key, mutate


@strawberry.type(description="A reassignment or a transfer of a case: who, when, why, from and to.")
class CaseChange:
    change: str = strawberry.field(description="reassigned or transferred")
    at: dt.datetime
    by: str | None
    note: str | None
    from_worker_id: strawberry.ID | None
    to_worker_id: strawberry.ID | None
    from_county: str | None
    to_county: str | None

    @classmethod
    def from_record(cls, r: CaseChangeRecord) -> Self:
        return cls(
            change=r.change,
            at=r.at,
            by=r.by,
            note=r.note,
            from_worker_id=None if r.from_worker is None else strawberry.ID(r.from_worker),
            to_worker_id=None if r.to_worker is None else strawberry.ID(r.to_worker),
            from_county=r.from_county,
            to_county=r.to_county,
        )


@strawberry.type(description="A needs assessment (需求评估): what the child needs, found by whom and when.")
class Assessment:
    id: strawberry.ID
    case_id: strawberry.ID
    needs: list[str] = strawberry.field(description=", ".join(sorted(followup.NEEDS)))
    summary: str | None
    assessed_by: str | None = strawberry.field(description="The person who assessed (default who recorded it).")
    assessed_on: dt.date
    recorded_by: str | None
    recorded_at: dt.datetime

    @classmethod
    def from_record(cls, r: AssessmentRecord) -> Self:
        return cls(
            id=strawberry.ID(r.id),
            case_id=strawberry.ID(r.case_id),
            needs=list(r.needs),
            summary=r.summary,
            assessed_by=r.assessed_by,
            assessed_on=r.assessed_on,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
        )


@strawberry.type(description="A version of a case plan (评估帮扶): goals, services and when to review it.")
class CasePlan:
    id: strawberry.ID
    case_id: strawberry.ID
    version: int
    goals: list[str]
    services: list[str]
    review_on: dt.date
    note: str | None
    recorded_by: str | None
    recorded_at: dt.datetime

    @classmethod
    def from_record(cls, r: CasePlanRecord) -> Self:
        return cls(
            id=strawberry.ID(r.id),
            case_id=strawberry.ID(r.case_id),
            version=r.version,
            goals=list(r.goals),
            services=list(r.services),
            review_on=r.review_on,
            note=r.note,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
        )


@strawberry.type(description="One move of a case to a stage: who, when and why.")
class StageChange:
    stage: str
    at: dt.datetime
    by: str | None
    note: str | None


@strawberry.type(
    description="A child's case through 发现报告 reported → 应急处置 emergency_response → 评估帮扶 assessment "
    "→ 监护干预 intervention → closed."
)
class Case:
    id: strawberry.ID
    child_id: strawberry.ID
    opened_on: dt.date
    stage: str
    updated_at: dt.datetime | None
    worker_id: strawberry.ID | None
    report_id: strawberry.ID | None
    held_by: str | None = strawberry.field(description="The county holding it since a transfer; null: the child's.")
    history: list[StageChange] = strawberry.field(description="Every stage it was moved to, oldest first.")

    @classmethod
    def from_record(cls, record: CaseRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            child_id=strawberry.ID(record.child_id),
            opened_on=record.opened_on,
            stage=record.stage,
            updated_at=record.updated_at,
            worker_id=None if record.worker_id is None else strawberry.ID(record.worker_id),
            report_id=None if record.report_id is None else strawberry.ID(record.report_id),
            held_by=record.held_by,
            history=[StageChange(stage=s.stage, at=s.at, by=s.by, note=s.note) for s in record.history],
        )

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        record = await info.context.loaders.person.load(str(self.child_id))
        return None if record is None else Person.from_record(record)

    async def _deadline(self, info: Info) -> Deadline | None:
        found: Deadline | None = await info.context.loaders.case_deadline.load(str(self.id))
        return found

    @strawberry.field(description="immediate, high or normal: the case's own, else its report's, else normal.")
    async def urgency(self, info: Info) -> str:
        found = await self._deadline(info)
        return "normal" if found is None else found.urgency

    @strawberry.field(description="When the current stage's time is up (by urgency and stage); null when closed.")
    async def due_at(self, info: Info) -> dt.datetime | None:
        found = await self._deadline(info)
        return None if found is None else found.due_at

    @strawberry.field(description="Whether the current stage's time was up at `now` (default: now).")
    async def overdue(self, info: Info, now: dt.datetime | None = None) -> bool:
        found = await self._deadline(info)
        moment = now or dt.datetime.now(info.context.settings.timezone)
        return found is not None and found.due_at is not None and found.due_at < moment

    @strawberry.field(description="Reassignments and transfers, oldest first.")
    async def changes(self, info: Info) -> list[CaseChange]:
        found: list[CaseChangeRecord] = await info.context.loaders.case_changes.load(str(self.id))
        return [CaseChange.from_record(r) for r in found]

    @strawberry.field(description="Every needs assessment, newest first.")
    async def assessments(self, info: Info) -> list[Assessment]:
        found: list[AssessmentRecord] = await info.context.loaders.case_assessments.load(str(self.id))
        return [Assessment.from_record(r) for r in found]

    @strawberry.field(description="The current case plan (its latest version), if any.")
    async def plan(self, info: Info) -> CasePlan | None:
        found: list[CasePlanRecord] = await info.context.loaders.case_plans.load(str(self.id))
        return CasePlan.from_record(found[0]) if found else None

    @strawberry.field(description="Every version of the case plan, newest first.")
    async def plans(self, info: Info) -> list[CasePlan]:
        found: list[CasePlanRecord] = await info.context.loaders.case_plans.load(str(self.id))
        return [CasePlan.from_record(r) for r in found]

    @strawberry.field(description="The case's referrals, oldest first.")
    async def referrals(self, info: Info) -> list[Referral]:
        found: list[ReferralRecord] = await info.context.loaders.case_referrals.load(str(self.id))
        return [Referral.of(info, record) for record in found]


async def load_case(info: Info, case_id: str) -> CaseRecord | None:
    record: CaseRecord | None = await info.context.loaders.case.load(case_id)
    return record


@strawberry.input(description="A new case, at stage `reported`.")
class OpenCaseInput:
    child_id: strawberry.ID
    report_id: strawberry.ID | None = strawberry.field(default=None, description="The report it answers, if any.")
    worker_id: strawberry.ID | None = strawberry.field(
        default=None, description="The assigned case worker (a person id); default the caller."
    )
    opened_on: dt.date | None = strawberry.field(default=None, description="Default today.")
    urgency: str | None = strawberry.field(
        default=None, description="immediate, high or normal; default the report's, else normal."
    )
    note: str | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.input(description="A needs assessment of a case that is not closed.")
class AssessmentInput:
    case_id: strawberry.ID
    needs: list[str] = strawberry.field(description=", ".join(sorted(followup.NEEDS)))
    summary: str | None = None
    assessed_by_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who assessed (a person in scope); default the caller."
    )
    assessed_on: dt.date | None = strawberry.field(default=None, description="Default today.")
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.input(description="A new version of a case's plan.")
class CasePlanInput:
    case_id: strawberry.ID
    goals: list[str]
    services: list[str] = strawberry.field(description="Services, as institutions offer them.")
    review_on: dt.date = strawberry.field(
        description="When to review it; a case at intervention is due then (not before today)."
    )
    note: str | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type
class CaseEdge:
    cursor: str
    node: Case


@strawberry.type
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo
    request: strawberry.Private[CaseListRequest]
    now: strawberry.Private[dt.datetime]

    @strawberry.field(description="Cases matching the filter in the caller's reach, on every page.")
    async def total_count(self, info: Info) -> int:
        return await followup.count_cases(
            info.context.graph,
            self.request,
            scope=actor(info).scope,
            now=self.now,
            rules=info.context.settings.case_deadlines,
            zone=info.context.settings.timezone.key,
        )


@strawberry.type
class CaseMutations:
    @strawberry.mutation(description="Open a case for a child with no open case; it starts at `reported`.")
    async def open_case(self, info: Info, input: OpenCaseInput) -> Case:
        record = await mutate(
            cases.open_case(
                info.context.graph,
                actor(info),
                child=str(input.child_id),
                report=None if input.report_id is None else str(input.report_id),
                worker=None if input.worker_id is None else str(input.worker_id),
                opened_on=input.opened_on,
                urgency=input.urgency,
                note=input.note,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Case.from_record(record)

    @strawberry.mutation(
        description="Move a case forward: reported → emergency_response → assessment → intervention; "
        "emergency_response may be skipped; any stage → closed once every referral is answered or withdrawn "
        "(else a CONFLICT naming them). Anything else is a CONFLICT."
    )
    async def advance_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        stage: str,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Case:
        record = await mutate(
            cases.advance_case(
                info.context.graph,
                actor(info),
                str(case_id),
                stage,
                note=note,
                key=idempotency_key(info, client_mutation_id),
            )
        )
        return Case.from_record(record)

    @strawberry.mutation(description="Give a case that is not closed to another worker, saying why.")
    async def reassign_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        worker_id: strawberry.ID,
        note: str,
        client_mutation_id: str | None = None,
    ) -> Case:
        key = idempotency_key(info, client_mutation_id)
        graph, writer = info.context.graph, actor(info)
        record = await mutate(followup.reassign(graph, writer, str(case_id), str(worker_id), note=note, key=key))
        return Case.from_record(record)

    @strawberry.mutation(
        description="Hand a case to another county (a coordinator whose scope covers both, or admin), "
        "optionally to a worker there."
    )
    async def transfer_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        county: str,
        note: str,
        worker_id: strawberry.ID | None = None,
        client_mutation_id: str | None = None,
    ) -> Case:
        record = await mutate(
            followup.transfer(
                info.context.graph,
                actor(info),
                str(case_id),
                county,
                note=note,
                worker=None if worker_id is None else str(worker_id),
                key=idempotency_key(info, client_mutation_id),
            )
        )
        return Case.from_record(record)

    @strawberry.mutation(
        description="Reopen a closed case (coordinator or admin) with a reason, at emergency_response, "
        "assessment (default) or intervention."
    )
    async def reopen_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        reason: str,
        stage: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Case:
        key = idempotency_key(info, client_mutation_id)
        graph, writer = info.context.graph, actor(info)
        record = await mutate(followup.reopen(graph, writer, str(case_id), reason=reason, stage=stage, key=key))
        return Case.from_record(record)

    @strawberry.mutation(description="Record a needs assessment (需求评估); earlier ones are kept.")
    async def record_assessment(self, info: Info, input: AssessmentInput) -> Assessment:
        record = await mutate(
            followup.record_assessment(
                info.context.graph,
                actor(info),
                str(input.case_id),
                needs=input.needs,
                summary=input.summary,
                assessor=None if input.assessed_by_id is None else str(input.assessed_by_id),
                on=input.assessed_on,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Assessment.from_record(record)

    @strawberry.mutation(description="Set a new version of a case's plan (评估帮扶); earlier versions are kept.")
    async def set_case_plan(self, info: Info, input: CasePlanInput) -> CasePlan:
        record = await mutate(
            followup.set_plan(
                info.context.graph,
                actor(info),
                str(input.case_id),
                goals=input.goals,
                services=input.services,
                review_on=input.review_on,
                note=input.note,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return CasePlan.from_record(record)


@strawberry.type
class CaseQueries:
    @strawberry.field(name="case", description="A case by id; null when absent or out of scope.")
    async def case_by_id(self, info: Info, id: strawberry.ID) -> Case | None:
        record = await load_case(info, str(id))
        if record is None:
            return None
        info.context.loaders.note_read("case", [record.id, record.child_id], record.region)
        return Case.from_record(record)

    @strawberry.field(
        description="The cases of a region's children (and those transferred to its county) in the caller's "
        "reach, oldest first; by stage, by whether overdue at `now` (default now), by child."
    )
    async def cases(
        self,
        info: Info,
        region: str,
        stage: str | None = None,
        overdue: bool | None = None,
        child_id: strawberry.ID | None = None,
        now: dt.datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CaseConnection:
        moment = now or dt.datetime.now(info.context.settings.timezone)
        request = CaseListRequest(region, stage, overdue, None if child_id is None else str(child_id))
        cursor = decode_cursor(after, "openedOn", dated=True)
        page, more = await followup.list_cases(
            info.context.graph,
            request,
            scope=actor(info).scope,
            now=moment,
            rules=info.context.settings.case_deadlines,
            zone=info.context.settings.timezone.key,
            first=page_size(first, info.context.settings.limits),
            after=None if cursor is None or not isinstance(cursor[0], dt.date) else (cursor[0], cursor[1]),
        )
        for record, _ in page:
            info.context.loaders.note_read("cases", [record.id, record.child_id], record.region)
        edges = [
            CaseEdge(cursor=encode_cursor("openedOn", record.opened_on, record.id), node=Case.from_record(record))
            for record, _ in page
        ]
        return CaseConnection(
            edges=edges, page_info=page_info([e.cursor for e in edges], more), request=request, now=moment
        )

    @strawberry.field(description="The cases assigned to the caller, oldest first; closed ones on request.")
    async def my_caseload(self, info: Info, include_closed: bool = False) -> list[Case]:
        writer = actor(info)
        found = await cases.caseload(info.context.graph, writer.sub, scope=writer.scope, include_closed=include_closed)
        for record in found:
            info.context.loaders.note_read("myCaseload", [record.id, record.child_id], record.region)
        return [Case.from_record(record) for record in found]
