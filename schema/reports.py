"""Reports of concern in GraphQL: `reportConcern`, the mandatory report an institution files
(`fileMandatoryReport`, answered by a receipt only), the intake's `reports` and `matchReport`.

Who filed a report (`reporterId`, `recordedBy`, `institutionId`) is null for every role below
`case_worker` (docs/access.md, Masking).
"""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import reports
from graph.errors import InvalidInput
from graph.reports import Receipt, ReportListRequest, ReportRecord
from schema.access import may
from schema.masking import mask_id_number
from schema.pagination import PageInfo, decode_cursor, encode_cursor, page_info, page_size
from schema.persons import Person
from schema.writing import actor, idempotency_key, mutate


def sees_reporter(info: Info) -> bool:
    """Who filed a report is hidden from every role below case_worker (`reporterIdentity`)."""
    return may(info, "reporterIdentity")


@strawberry.type(description="Whom a mandatory report names, as the reporter wrote it.")
class NamedChild:
    name: str | None
    birth_date: dt.date | None
    id_number: str | None = strawberry.field(description="Masked as every ID number is.")


@strawberry.type(description="A report of concern about a child (强制报告).")
class Report:
    id: strawberry.ID
    at: dt.datetime
    child_id: strawberry.ID | None = strawberry.field(description="Null while a mandatory report matches nobody.")
    reporter_role: str
    category: str
    urgency: str
    description: str
    mandatory: bool = strawberry.field(description="Filed by an institution as a mandatory report.")
    intake_region: str | None = strawberry.field(description="The county whose intake receives it (mandatory).")
    matched_by: str | None
    matched_at: dt.datetime | None
    record: strawberry.Private[ReportRecord]

    @classmethod
    def from_record(cls, record: ReportRecord, *, reporter: bool = True) -> Self:
        """`reporter`: whether the reader may know who filed it (`reporterIdentity`)."""
        return cls(
            id=strawberry.ID(record.id),
            at=record.at,
            child_id=None if record.child_id is None else strawberry.ID(record.child_id),
            reporter_role=record.reporter_role,
            category=record.category,
            urgency=record.urgency,
            description=record.description,
            mandatory=record.mandatory,
            intake_region=record.intake_region,
            matched_by=record.matched_by,
            matched_at=record.matched_at,
            record=record,
        )

    @strawberry.field(description="The person who reported; null below case_worker.")
    def reporter_id(self, info: Info) -> strawberry.ID | None:
        known = self.record.reporter_id
        return strawberry.ID(known) if known is not None and sees_reporter(info) else None

    @strawberry.field(description="The token subject who recorded it; null below case_worker.")
    def recorded_by(self, info: Info) -> str | None:
        return self.record.recorded_by if sees_reporter(info) else None

    @strawberry.field(description="The institution that filed it (mandatory); null below case_worker.")
    def institution_id(self, info: Info) -> strawberry.ID | None:
        known = self.record.institution_id
        return strawberry.ID(known) if known is not None and sees_reporter(info) else None

    @strawberry.field(description="Whom a mandatory report names; null for other reports.")
    def named(self, info: Info) -> NamedChild | None:
        named = self.record.named
        if named is None:
            return None
        number = mask_id_number(named.id_number, info.context.caller)
        return NamedChild(name=named.name, birth_date=named.birth_date, id_number=number)

    @strawberry.field(description="The child reported about; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        if self.child_id is None:
            return None
        record = await info.context.loaders.person.load(str(self.child_id))
        return None if record is None else Person.from_record(record)


@strawberry.type(description="All an institution learns from filing a mandatory report: that it was received.")
class ReportReceipt:
    receipt_id: strawberry.ID
    received_at: dt.datetime

    @classmethod
    def from_record(cls, record: Receipt) -> Self:
        return cls(receipt_id=strawberry.ID(record.id), received_at=record.received_at)


@strawberry.input(description="A mandatory report (强制报告): name the child by name and birth date, or ID number.")
class MandatoryReportInput:
    category: str = strawberry.field(description="neglect, abuse, abandonment, injury, unsupervised, dropout, ...")
    urgency: str = strawberry.field(description="immediate, high or normal")
    description: str
    child_name: str | None = None
    birth_date: dt.date | None = None
    id_number: str | None = None
    at: dt.datetime | None = strawberry.field(default=None, description="When the concern was raised; default now.")
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type
class ReportEdge:
    cursor: str
    node: Report


@strawberry.type
class ReportConnection:
    edges: list[ReportEdge]
    page_info: PageInfo
    request: strawberry.Private[ReportListRequest]

    @strawberry.field(description="Reports matching the filter in the caller's scope, on every page.")
    async def total_count(self, info: Info) -> int:
        return await reports.count_reports(info.context.graph, self.request, scope=actor(info).scope)


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
        return Report.from_record(record)

    @strawberry.mutation(
        description="An institution's mandatory report about a child it names; the answer is a receipt, "
        "the same whether or not the child is on file."
    )
    async def file_mandatory_report(self, info: Info, input: MandatoryReportInput) -> ReportReceipt:
        receipt = await mutate(
            reports.file_mandatory_report(
                info.context.graph,
                actor(info),
                name=input.child_name,
                birth_date=input.birth_date,
                id_number=input.id_number,
                category=input.category,
                urgency=input.urgency,
                description=input.description,
                at=input.at,
                now=dt.datetime.now(info.context.settings.timezone),
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return ReportReceipt.from_record(receipt)

    @strawberry.mutation(description="Link a mandatory report that matched nobody to the child it is about.")
    async def match_report(
        self,
        info: Info,
        report_id: strawberry.ID,
        child_id: strawberry.ID,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Report:
        key = idempotency_key(info, client_mutation_id)
        graph, writer = info.context.graph, actor(info)
        record = await mutate(reports.match_report(graph, writer, str(report_id), str(child_id), note=note, key=key))
        return Report.from_record(record)


@strawberry.type
class ReportQueries:
    @strawberry.field(
        description="The reports about a region's children in scope, and the mandatory reports its county's "
        "intake has not matched yet (`matched: false`), newest first."
    )
    async def reports(
        self,
        info: Info,
        region: str,
        matched: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ReportConnection:
        request = ReportListRequest(region, matched)
        cursor = decode_cursor(after, "at")
        page, more = await reports.list_reports(
            info.context.graph,
            request,
            scope=actor(info).scope,
            first=page_size(first, info.context.settings.limits),
            after=None if cursor is None or cursor[0] is None else (_instant(str(cursor[0])), cursor[1]),
        )
        for record in page:
            ids = [i for i in (record.id, record.child_id) if i]
            info.context.loaders.note_read("reports", ids, record.region or record.intake_region)
        edges = [
            ReportEdge(cursor=encode_cursor("at", record.at.isoformat(), record.id), node=Report.from_record(record))
            for record in page
        ]
        return ReportConnection(edges=edges, page_info=page_info([e.cursor for e in edges], more), request=request)


def _instant(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput("after", "not a cursor of this list") from error
