"""The county's statistics in GraphQL (see `graph.statistics`); each figure lists its children."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import statistics
from graph.statistics import Rate
from schema.access import scope
from schema.discovery import RiskLevel, _thresholds
from schema.persons import Person


async def _children(info: Info, ids: frozenset[str]) -> list[Person]:
    records = await info.context.loaders.person.load_many(sorted(ids))
    return [Person.from_record(record) for record in records if record is not None]


@strawberry.interface(description="A count of children; `key` names it for `statisticsChildren`.")
class Counted:
    key: str
    count: int
    ids: strawberry.Private[frozenset[str]]

    @strawberry.field(description="The children counted, by id.")
    async def children(self, info: Info) -> list[Person]:
        return await _children(info, self.ids)


@strawberry.type(description="Children at one level (GREEN included).")
class LevelCount(Counted):
    level: RiskLevel


@strawberry.type(description="Children with a finding of one rule.")
class RuleCount(Counted):
    rule: str


@strawberry.type(description="Children with a registration of one category holding at `asOf`.")
class CategoryCount(Counted):
    category: str


@strawberry.type(description="Those covered among the children concerned (docs/statistics.md defines each).")
class Coverage:
    key: str = strawberry.field(description="`<key>:population`, `:covered` and `:uncovered` list the children.")
    population: int
    covered: int
    rate: float | None = strawberry.field(description="covered / population; null when no child is concerned.")
    uncovered_ids: strawberry.Private[frozenset[str]]

    @classmethod
    def from_record(cls, rate: Rate) -> Self:
        return cls(
            key=rate.key,
            population=rate.population.count,
            covered=rate.covered.count,
            rate=rate.rate,
            uncovered_ids=rate.uncovered.children,
        )

    @strawberry.field(description="The children concerned and not covered: the ones to act on.")
    async def uncovered(self, info: Info) -> list[Person]:
        return await _children(info, self.uncovered_ids)


@strawberry.type(description="Care records (委托照护) holding at `asOf` for the region's children.")
class Agreements:
    current: int
    signed: int = strawberry.field(description="Of those, with a written agreement signed on or before `asOf`.")


@strawberry.type(description="A township's institutions and minor-protection workstations (未成年人保护工作站).")
class TownshipStatistics:
    code: str
    name: str
    institutions: int
    workstations: int


@strawberry.type(description="A village's children and the children's directors (儿童主任) serving it at `asOf`.")
class VillageStatistics:
    code: str
    name: str
    director_ids: list[strawberry.ID]
    children: int
    registered: int = strawberry.field(description="Children with a registration holding at `asOf`.")
    load: float | None = strawberry.field(description="Registered children per director; null when none serves.")
    key: str = strawberry.field(description="`village:<code>` lists its children, `…:registered` the registered.")


@strawberry.type(description="The statistics of a region's subtree within the caller's scope, as of a date.")
class Statistics:
    region: str
    as_of: dt.date
    children: int = strawberry.field(description="Every child at `asOf` (what `discover` with GREEN lists).")
    by_level: list[LevelCount]
    by_rule: list[RuleCount]
    by_category: list[CategoryCount]
    visit_coverage: Coverage
    contact_coverage: Coverage
    agreements: Agreements
    education_rate: Coverage = strawberry.field(description="教育保障率 (docs/statistics.md).")
    guardianship_duty_rate: Coverage = strawberry.field(description="监护职责落实率 (docs/statistics.md).")
    townships: list[TownshipStatistics]
    villages: list[VillageStatistics]

    @classmethod
    def from_record(cls, record: statistics.Statistics) -> Self:
        return cls(
            region=record.region,
            as_of=record.as_of,
            children=record.children.count,
            by_level=[
                LevelCount(key=f.key, count=f.count, ids=f.children, level=RiskLevel(f.label)) for f in record.by_level
            ],
            by_rule=[RuleCount(key=f.key, count=f.count, ids=f.children, rule=f.label) for f in record.by_rule],
            by_category=[
                CategoryCount(key=f.key, count=f.count, ids=f.children, category=f.label) for f in record.by_category
            ],
            visit_coverage=Coverage.from_record(record.visit_coverage),
            contact_coverage=Coverage.from_record(record.contact_coverage),
            agreements=Agreements(current=record.agreements_current, signed=record.agreements_signed),
            education_rate=Coverage.from_record(record.education),
            guardianship_duty_rate=Coverage.from_record(record.guardianship),
            townships=[
                TownshipStatistics(code=t.code, name=t.name, institutions=t.institutions, workstations=t.workstations)
                for t in record.townships
            ],
            villages=[
                VillageStatistics(
                    code=v.code,
                    name=v.name,
                    director_ids=[strawberry.ID(d) for d in v.directors],
                    children=v.children.count,
                    registered=v.registered.count,
                    load=v.load,
                    key=v.children.key,
                )
                for v in record.villages
            ],
        )


async def _statistics(info: Info, operation: str, region: str, as_of: dt.date | None) -> statistics.Statistics:
    return await statistics.statistics(
        info.context.graph,
        region=region,
        scope=scope(info, operation),
        as_of=info.context.as_of(as_of),
        thresholds=_thresholds(info),
        materialised=True,
    )


@strawberry.type
class StatisticsQueries:
    @strawberry.field(
        description="Children by colour, rule and category, coverage, agreements, the education and guardianship-duty "
        "rates, institutions per township and directors per village, for the region's subtree in your scope."
    )
    async def statistics(self, info: Info, region: str, as_of: dt.date | None = None) -> Statistics:
        return Statistics.from_record(await _statistics(info, "statistics", region, as_of))

    @strawberry.field(description="The children one figure of `statistics` counts, by the figure's `key`.")
    async def statistics_children(
        self, info: Info, region: str, key: str, as_of: dt.date | None = None
    ) -> list[Person]:
        found = await _statistics(info, "statisticsChildren", region, as_of)
        return await _children(info, found.figure(key).children)
