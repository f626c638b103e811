"""Institutions in GraphQL: type, services, capacity, current load and region."""

from __future__ import annotations

from typing import Self

import strawberry

from api.context import Info
from graph.institutions import InstitutionFilter, InstitutionPageRequest, InstitutionRecord
from graph.regions import scope_prefix
from schema.pagination import PageInfo, after_id, encode_cursor, page_info, page_size
from schema.regions import Region


@strawberry.type(description="A school, protection centre, welfare institution or other service provider.")
class Institution:
    id: strawberry.ID
    name: str
    type: str
    services: list[str]
    capacity: int | None = strawberry.field(description="Most open referrals it takes; null when not limited.")
    region_code: str
    record: strawberry.Private[InstitutionRecord]

    @classmethod
    def from_record(cls, record: InstitutionRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            type=record.type,
            services=list(record.services),
            capacity=record.capacity,
            region_code=record.region_code,
            record=record,
        )

    @strawberry.field(description="Open referrals to it now: pending or accepted.")
    async def current_load(self, info: Info) -> int:
        load: int = await info.context.loaders.institution_load.load(self.record.id)
        return load

    @strawberry.field(description="The region it lies in.")
    async def region(self, info: Info) -> Region | None:
        record = await info.context.loaders.region.load(self.record.region_code)
        return None if record is None else Region.from_record(record)


@strawberry.type
class InstitutionEdge:
    cursor: str
    node: Institution


@strawberry.type
class InstitutionConnection:
    edges: list[InstitutionEdge]
    page_info: PageInfo
    filter: strawberry.Private[InstitutionFilter]

    @strawberry.field(description="Institutions matching the filter in the caller's scope, on every page.")
    async def total_count(self, info: Info) -> int:
        total: int = await info.context.loaders.institution_count.load(self.filter)
        return total


async def institution_page(
    info: Info, region: str, type: str | None, service: str | None, first: int | None, after: str | None
) -> InstitutionConnection:
    request = InstitutionPageRequest(
        InstitutionFilter(scope_prefix(region), type, service),
        page_size(first, info.context.settings.limits),
        after_id(after),
    )
    items, more = await info.context.loaders.institution_page.load(request)
    edges = [InstitutionEdge(cursor=encode_cursor("id", None, i.id), node=Institution.from_record(i)) for i in items]
    return InstitutionConnection(
        edges=edges,
        page_info=page_info([e.cursor for e in edges], more),
        filter=request.filter,
    )


@strawberry.type
class InstitutionQueries:
    @strawberry.field(description="An institution by id; null when absent or out of scope.")
    async def institution(self, info: Info, id: strawberry.ID) -> Institution | None:
        record = await info.context.loaders.institution.load(str(id))
        return None if record is None else Institution.from_record(record)

    @strawberry.field(description="Institutions in a region's subtree (and the caller's scope), by id.")
    async def institutions(
        self,
        info: Info,
        region: str,
        type: str | None = None,
        service: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> InstitutionConnection:
        return await institution_page(info, region, type, service, first, after)
