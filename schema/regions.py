"""Regions in GraphQL: the division tree, scoped to the caller."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from api.context import Info
from graph import regions
from graph.households import HouseholdFilter
from graph.institutions import InstitutionFilter
from graph.persons import ChildFilter
from graph.regions import RegionRecord
from schema.access import scope

if TYPE_CHECKING:
    from schema.households import HouseholdConnection
    from schema.institutions import InstitutionConnection
    from schema.persons import PersonConnection

Households = Annotated["HouseholdConnection", strawberry.lazy("schema.households")]
Institutions = Annotated["InstitutionConnection", strawberry.lazy("schema.institutions")]
Children = Annotated["PersonConnection", strawberry.lazy("schema.persons")]


@strawberry.type(description="How many households, children and institutions lie in a region's subtree and scope.")
class RegionCounts:
    households: int
    children: int = strawberry.field(description="Living children under 18 at `asOf`.")
    institutions: int


@strawberry.type(description="A statistical division: province, city, county, township or village.")
class Region:
    code: str
    name: str
    level: str
    parent_code: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, record: RegionRecord) -> Self:
        return cls(code=record.code, name=record.name, level=record.level, parent_code=record.parent_code)

    @strawberry.field(description="The region this one is part of; null at the top or outside the caller's scope.")
    async def parent(self, info: Info) -> Region | None:
        if self.parent_code is None:
            return None
        record = await info.context.loaders.region.load(self.parent_code)
        return None if record is None else Region.from_record(record)

    @strawberry.field(description="The regions directly below this one, by code.")
    async def children(self, info: Info) -> list[Region]:
        return [Region.from_record(r) for r in await info.context.loaders.child_regions.load(self.code)]

    @strawberry.field(description="Counts in this subtree, within the caller's scope.")
    async def counts(self, info: Info, as_of: dt.date | None = None) -> RegionCounts:
        loaders = info.context.loaders
        prefix = regions.scope_prefix(self.code)
        households = await loaders.household_count.load(HouseholdFilter(prefix))
        children = await loaders.child_count.load(ChildFilter(prefix, info.context.as_of(as_of)))
        institutions = await loaders.institution_count.load(InstitutionFilter(prefix))
        return RegionCounts(households=households, children=children, institutions=institutions)

    @strawberry.field(description="Households in this subtree, by id.")
    async def households(self, info: Info, first: int | None = None, after: str | None = None) -> Households:
        from schema.households import household_page

        return await household_page(info, self.code, None, first, after)

    @strawberry.field(
        name="childList", description="Living children under 18 at `asOf` whose household lies in this subtree, by id."
    )
    async def child_list(
        self, info: Info, as_of: dt.date | None = None, first: int | None = None, after: str | None = None
    ) -> Children:
        from schema.persons import child_page

        return await child_page(info, self.code, as_of=as_of, first=first, after=after)

    @strawberry.field(description="Institutions in this subtree, by id.")
    async def institutions(self, info: Info, first: int | None = None, after: str | None = None) -> Institutions:
        from schema.institutions import institution_page

        return await institution_page(info, self.code, None, None, first, after)


@strawberry.type
class RegionQueries:
    @strawberry.field(description="A region by its 12-digit code; null when absent or out of scope.")
    async def region(self, info: Info, code: str) -> Region | None:
        record = await regions.get_region(info.context.graph, code, scope=scope(info, "region"))
        return None if record is None else Region.from_record(record)
