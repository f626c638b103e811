"""Reports of concern in GraphQL: `reportConcern`."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import reports
from graph.reports import ReportRecord
from schema.access import may
from schema.persons import Person
from schema.writing import actor, idempotency_key, mutate


@strawberry.type(description="A report of concern about a child (强制报告).")
class Report:
    id: strawberry.ID
    at: dt.datetime
    child_id: strawberry.ID
    reporter_id: strawberry.ID | None = strawberry.field(
        description="Who filed it; null for roles below case_worker (docs/access.md: the reporter is protected)."
    )
    reporter_role: str
    category: str
    urgency: str
    description: str
    recorded_by: str | None = strawberry.field(
        description="The token subject who recorded it; null for roles below case_worker."
    )

    @classmethod
    def from_record(cls, record: ReportRecord, *, reporter: bool = True) -> Self:
        """`reporter`: whether the reader may know who filed it (`reporterIdentity`)."""
        return cls(
            id=strawberry.ID(record.id),
            at=record.at,
            child_id=strawberry.ID(record.child_id),
            reporter_id=None if record.reporter_id is None or not reporter else strawberry.ID(record.reporter_id),
            reporter_role=record.reporter_role,
            category=record.category,
            urgency=record.urgency,
            description=record.description,
            recorded_by=record.recorded_by if reporter else None,
        )

    @strawberry.field(description="The child reported about; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        record = await info.context.loaders.person.load(str(self.child_id))
        return None if record is None else Person.from_record(record)


@strawberry.input(description="A report of concern; field rules as the bundle's `report` line.")
class ReportInput:
    child_id: strawberry.ID
    reporter_role: str = strawberry.field(description="teacher, doctor, village_committee, police, neighbor, ...")
    category: str = strawberry.field(description="neglect, abuse, abandonment, injury, unsupervised, dropout, ...")
    urgency: str = strawberry.field(description="immediate, high or normal")
    description: str
    reporter_id: strawberry.ID | None = None
    at: dt.datetime | None = strawberry.field(default=None, description="When the concern was raised; default now.")
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type
class ReportMutations:
    @strawberry.mutation(description="Report a concern about a child in your scope.")
    async def report_concern(self, info: Info, input: ReportInput) -> Report:
        now = dt.datetime.now(info.context.settings.timezone)
        record = await mutate(
            reports.report_concern(
                info.context.graph,
                actor(info),
                child=str(input.child_id),
                reporter=None if input.reporter_id is None else str(input.reporter_id),
                reporter_role=input.reporter_role,
                category=input.category,
                urgency=input.urgency,
                description=input.description,
                at=input.at,
                now=now,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Report.from_record(record, reporter=may(info, "reporterIdentity"))
