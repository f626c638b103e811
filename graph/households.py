"""Households (户): members, village and low-income statuses, in scope by their village."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

from graph import paging
from graph.driver import Graph
from graph.persons import PERSON_FIELDS, PersonRecord, collected, person_record

HOUSEHOLD_FIELDS: LiteralString = "h {.id, .address, .lowIncome, .regionCode}"

GET_HOUSEHOLDS: LiteralString = (
    """
UNWIND $ids AS id
MATCH (h:Household {id: id})
WHERE h.regionCode STARTS WITH $scope
RETURN """
    + HOUSEHOLD_FIELDS
    + """ AS household
"""
)

#: The members of the household bound to `h`, eldest first. Members share their household's
#: village, so a household in scope has its members in scope.
MEMBERS_PART: LiteralString = (
    """
CALL (h) {
  MATCH (p:Person)-[:MEMBER_OF]->(h)
  WITH p ORDER BY p.birthDate, p.id
  RETURN collect("""
    + PERSON_FIELDS
    + """) AS members
}
"""
)

MEMBERS: LiteralString = (
    """
UNWIND $ids AS id
MATCH (h:Household {id: id})
WHERE h.regionCode STARTS WITH $scope
"""
    + MEMBERS_PART
    + "RETURN h.id AS owner, members AS items"
)

PAGES: LiteralString = (
    """
UNWIND $requests AS r
CALL (r) {
  MATCH (h:Household)
  WHERE h.regionCode STARTS WITH r.region AND h.regionCode STARTS WITH $scope
    AND (r.lowIncome IS NULL OR r.lowIncome IN h.lowIncome)
    AND (r.afterId IS NULL OR h.id > r.afterId)
  WITH h ORDER BY h.id LIMIT $cap
  RETURN collect("""
    + HOUSEHOLD_FIELDS
    + """) AS page
}
RETURN r.key AS key, page
"""
)

COUNTS: LiteralString = """
UNWIND $requests AS r
CALL (r) {
  MATCH (h:Household)
  WHERE h.regionCode STARTS WITH r.region AND h.regionCode STARTS WITH $scope
    AND (r.lowIncome IS NULL OR r.lowIncome IN h.lowIncome)
  RETURN count(h) AS total
}
RETURN r.key AS key, total
"""


@dataclass(frozen=True, slots=True)
class HouseholdRecord:
    id: str
    address: str | None
    low_income: tuple[str, ...]
    region_code: str


@dataclass(frozen=True, slots=True)
class HouseholdFilter:
    region: str
    low_income: str | None = None


@dataclass(frozen=True, slots=True)
class HouseholdPageRequest:
    filter: HouseholdFilter
    first: int
    after: str | None = None


def household_record(data: Mapping[str, Any]) -> HouseholdRecord:
    return HouseholdRecord(
        id=data["id"],
        address=data.get("address"),
        low_income=tuple(data.get("lowIncome") or ()),
        region_code=data["regionCode"],
    )


async def get_households(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, HouseholdRecord]:
    rows = await graph.read(GET_HOUSEHOLDS, {"ids": list(ids), "scope": scope})
    return {row["household"]["id"]: household_record(row["household"]) for row in rows}


async def members(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[PersonRecord]]:
    rows = await graph.read(MEMBERS, {"ids": list(ids), "scope": scope})
    return collected(rows, ids, person_record)


def _parameters(f: HouseholdFilter) -> dict[str, Any]:
    return {"region": f.region, "lowIncome": f.low_income}


async def pages(
    graph: Graph, requests: Sequence[HouseholdPageRequest], *, scope: str
) -> list[tuple[list[HouseholdRecord], bool]]:
    return await paging.pages(
        graph,
        PAGES,
        [({**_parameters(r.filter), "afterId": r.after}, r.first) for r in requests],
        household_record,
        scope=scope,
    )


async def counts(graph: Graph, filters: Sequence[HouseholdFilter], *, scope: str) -> list[int]:
    return await paging.counts(graph, COUNTS, [_parameters(f) for f in filters], scope=scope)
