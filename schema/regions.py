"""Regions in GraphQL: the division tree, scoped to the caller."""

from __future__ import annotations

from typing import Self

import strawberry

from api.context import Info
from graph import regions
from graph.regions import RegionRecord


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


@strawberry.type
class RegionQueries:
    @strawberry.field(description="A region by its 12-digit code; null when absent or out of scope.")
    async def region(self, info: Info, code: str) -> Region | None:
        record = await regions.get_region(info.context.graph, code, scope=info.context.caller.scope)
        return None if record is None else Region.from_record(record)
