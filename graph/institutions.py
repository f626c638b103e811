"""Institutions: schools, protection centres, welfare institutions and the rest, in scope.

An institution is in scope when its region is. Its current load is the number of its open
referrals (pending or accepted), the same count `recommendInstitutions` ranks by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

from graph import paging
from graph.driver import Graph

#: The stored fields of the institution bound to `i`.
INSTITUTION_FIELDS: LiteralString = "i {.id, .name, .type, .services, .capacity, .regionCode}"

GET_INSTITUTIONS: LiteralString = (
    """
UNWIND $ids AS id
MATCH (i:Institution {id: id})
WHERE i.regionCode STARTS WITH $scope
RETURN """
    + INSTITUTION_FIELDS
    + """ AS institution
"""
)

LOADS: LiteralString = """
UNWIND $ids AS id
MATCH (i:Institution {id: id})
WHERE i.regionCode STARTS WITH $scope
RETURN i.id AS id,
       COUNT { (f:Referral WHERE f.status IN ['pending', 'accepted'])-[:TO]->(i) } AS load
"""

#: One page of institutions per request (region subtree, optional type and service), by id.
PAGES: LiteralString = (
    """
UNWIND $requests AS r
CALL (r) {
  MATCH (i:Institution)
  WHERE i.regionCode STARTS WITH r.region AND i.regionCode STARTS WITH $scope
    AND (r.type IS NULL OR i.type = r.type)
    AND (r.service IS NULL OR r.service IN i.services)
    AND (r.afterId IS NULL OR i.id > r.afterId)
  WITH i ORDER BY i.id LIMIT $cap
  RETURN collect("""
    + INSTITUTION_FIELDS
    + """) AS page
}
RETURN r.key AS key, page
"""
)

COUNTS: LiteralString = """
UNWIND $requests AS r
CALL (r) {
  MATCH (i:Institution)
  WHERE i.regionCode STARTS WITH r.region AND i.regionCode STARTS WITH $scope
    AND (r.type IS NULL OR i.type = r.type)
    AND (r.service IS NULL OR r.service IN i.services)
  RETURN count(i) AS total
}
RETURN r.key AS key, total
"""


@dataclass(frozen=True, slots=True)
class InstitutionRecord:
    id: str
    name: str
    type: str
    services: tuple[str, ...]
    capacity: int | None
    region_code: str


@dataclass(frozen=True, slots=True)
class InstitutionFilter:
    region: str
    type: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class InstitutionPageRequest:
    filter: InstitutionFilter
    first: int
    after: str | None = None


def institution_record(data: Mapping[str, Any]) -> InstitutionRecord:
    return InstitutionRecord(
        id=data["id"],
        name=data["name"],
        type=data["type"],
        services=tuple(data.get("services") or ()),
        capacity=data.get("capacity"),
        region_code=data["regionCode"],
    )


async def get_institutions(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, InstitutionRecord]:
    rows = await graph.read(GET_INSTITUTIONS, {"ids": list(ids), "scope": scope})
    return {row["institution"]["id"]: institution_record(row["institution"]) for row in rows}


async def loads(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, int]:
    rows = await graph.read(LOADS, {"ids": list(ids), "scope": scope})
    return {row["id"]: int(row["load"]) for row in rows}


def _filter_parameters(f: InstitutionFilter) -> dict[str, Any]:
    return {"region": f.region, "type": f.type, "service": f.service}


async def pages(
    graph: Graph, requests: Sequence[InstitutionPageRequest], *, scope: str
) -> list[tuple[list[InstitutionRecord], bool]]:
    return await paging.pages(
        graph,
        PAGES,
        [({**_filter_parameters(r.filter), "afterId": r.after}, r.first) for r in requests],
        institution_record,
        scope=scope,
    )


async def counts(graph: Graph, filters: Sequence[InstitutionFilter], *, scope: str) -> list[int]:
    return await paging.counts(graph, COUNTS, [_filter_parameters(f) for f in filters], scope=scope)
