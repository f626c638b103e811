"""Cases in GraphQL: open, advance, read, and a case worker's own caseload."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import cases
from graph.cases import CaseRecord
from graph.referrals import ReferralRecord
from schema.persons import Person
from schema.referrals import Referral
from schema.writing import actor, idempotency_key, mutate


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
            history=[StageChange(stage=s.stage, at=s.at, by=s.by, note=s.note) for s in record.history],
        )

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        record = await info.context.loaders.person.load(str(self.child_id))
        return None if record is None else Person.from_record(record)

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
    note: str | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


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
                note=input.note,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Case.from_record(record)

    @strawberry.mutation(
        description="Move a case forward: reported → emergency_response → assessment → intervention; "
        "emergency_response may be skipped; any stage → closed. Anything else is a CONFLICT."
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


@strawberry.type
class CaseQueries:
    @strawberry.field(name="case", description="A case by id; null when absent or out of scope.")
    async def case_by_id(self, info: Info, id: strawberry.ID) -> Case | None:
        record = await load_case(info, str(id))
        if record is None:
            return None
        info.context.loaders.note_read("case", [record.id, record.child_id], record.region)
        return Case.from_record(record)

    @strawberry.field(description="A child's cases, newest first; empty when the child is out of scope.")
    async def cases(self, info: Info, child_id: strawberry.ID) -> list[Case]:
        found = await cases.cases_of_child(info.context.graph, str(child_id), scope=actor(info).scope)
        if found:
            ids = [str(child_id), *(record.id for record in found)]
            info.context.loaders.note_read("cases", ids, found[0].region)
        return [Case.from_record(record) for record in found]

    @strawberry.field(description="The cases assigned to the caller, oldest first; closed ones on request.")
    async def my_caseload(self, info: Info, include_closed: bool = False) -> list[Case]:
        writer = actor(info)
        found = await cases.caseload(info.context.graph, writer.sub, scope=writer.scope, include_closed=include_closed)
        for record in found:
            info.context.loaders.note_read("myCaseload", [record.id, record.child_id], record.region)
        return [Case.from_record(record) for record in found]
