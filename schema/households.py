"""Households in GraphQL: members, village and low-income statuses."""

from __future__ import annotations

from typing import Self

import strawberry

from api.context import Info
from graph.households import HouseholdFilter, HouseholdPageRequest, HouseholdRecord
from graph.regions import scope_prefix
from schema.loaders import Maybe, cached, then
from schema.pagination import PageInfo, after_id, encode_cursor, page_info, page_size
from schema.persons import Person
from schema.regions import Region


@strawberry.type(description="A registered household (户) in its village.")
class Household:
    id: strawberry.ID
    address: str | None
    low_income: list[str] = strawberry.field(description="dibao, tekun, dibao_edge, poverty_monitoring.")
    region_code: str
    record: strawberry.Private[HouseholdRecord]

    @classmethod
    def from_record(cls, record: HouseholdRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            address=record.address,
            low_income=list(record.low_income),
            region_code=record.region_code,
            record=record,
        )

    @strawberry.field(description="Its members, eldest first.", graphql_type=list[Person])
    def members(self, info: Info) -> Maybe[list[Person]]:
        return then(
            cached(info.context.loaders.members, self.record.id),
            lambda found: [Person.from_record(p) for p in found],
        )

    @strawberry.field(description="The village it lies in.")
    async def village(self, info: Info) -> Region | None:
        record = await info.context.loaders.region.load(self.record.region_code)
        return None if record is None else Region.from_record(record)


@strawberry.type
class HouseholdEdge:
    cursor: str
    node: Household


@strawberry.type
class HouseholdConnection:
    edges: list[HouseholdEdge]
    page_info: PageInfo
    filter: strawberry.Private[HouseholdFilter]

    @strawberry.field(description="Households matching the filter in the caller's scope, on every page.")
    async def total_count(self, info: Info) -> int:
        total: int = await info.context.loaders.household_count.load(self.filter)
        return total


async def household_page(
    info: Info, region: str, low_income: str | None, first: int | None, after: str | None
) -> HouseholdConnection:
    request = HouseholdPageRequest(
        HouseholdFilter(scope_prefix(region), low_income),
        page_size(first, info.context.settings.limits),
        after_id(after),
    )
    items, more = await info.context.loaders.household_page.load(request)
    edges = [HouseholdEdge(cursor=encode_cursor("id", None, h.id), node=Household.from_record(h)) for h in items]
    return HouseholdConnection(
        edges=edges,
        page_info=page_info([e.cursor for e in edges], more),
        filter=request.filter,
    )


@strawberry.type
class HouseholdQueries:
    @strawberry.field(description="A household by id; null when absent or out of scope.")
    async def household(self, info: Info, id: strawberry.ID) -> Household | None:
        record = await info.context.loaders.household.load(str(id))
        return None if record is None else Household.from_record(record)

    @strawberry.field(description="Households in a region's subtree (and the caller's scope), by id.")
    async def households(
        self,
        info: Info,
        region: str,
        low_income: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> HouseholdConnection:
        return await household_page(info, region, low_income, first, after)
