"""Whom to refer a child to, and whom to pair a child with.

`recommend_institutions` ranks exactly as docs/graphql.md says: institutions that offer the service
and are not at capacity (open referrals, `pending` or `accepted`, below `capacity`), first
those in the child's township, then the child's county, then the child's city; within each,
the lowest load ratio (open referrals / capacity; no capacity counts as 0), then by id. An
institution with capacity 0 is always at capacity.

`recommend_volunteers`: people serving the child's village or township (a current `SERVES`
whose region is that village or township) and volunteers living in the child's township (a
person with any `PAIRED_WITH`), fewest current pairings first, then by id; the child, the
dead and those already paired with the child are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, LiteralString

from graph import writes
from graph.bundle.records import SERVICES
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.writes import Actor

MAX_FIRST: Final = 500
TIERS: Final = ("township", "county", "city")

RECOMMEND_INSTITUTIONS: LiteralString = """
MATCH (c:Person {id: $child})
WHERE $scope = '' OR c.regionCode STARTS WITH $scope
WITH substring(c.regionCode, 0, 9) AS township, substring(c.regionCode, 0, 6) AS county,
     substring(c.regionCode, 0, 4) AS city
MATCH (i:Institution)
WHERE i.regionCode STARTS WITH city AND $service IN i.services
WITH i, CASE WHEN i.regionCode STARTS WITH township THEN 0 WHEN i.regionCode STARTS WITH county THEN 1 ELSE 2 END
        AS tier,
     COUNT { MATCH (f:Referral)-[:TO]->(i) WHERE f.status IN ['pending', 'accepted'] } AS open
WHERE i.capacity IS NULL OR open < i.capacity
WITH i, tier, open, CASE WHEN i.capacity IS NULL THEN 0.0 ELSE toFloat(open) / i.capacity END AS load
RETURN i.id AS id, i.name AS name, i.type AS type, i.regionCode AS regionCode, i.services AS services,
       i.capacity AS capacity, open, load, tier
ORDER BY tier, load, id
LIMIT $first
"""

RECOMMEND_VOLUNTEERS: LiteralString = """
MATCH (c:Person {id: $child})
WHERE c.regionCode IS NOT NULL AND ($scope = '' OR c.regionCode STARTS WITH $scope)
WITH c, substring(c.regionCode, 0, 9) AS township
CALL (c, township) {
  MATCH (p:Person)-[s:SERVES]->()
  WHERE s.regionCode IN [c.regionCode, township + '000']
    AND s.since <= $today AND (s.until IS NULL OR s.until >= $today)
  RETURN p, s.role AS role
  UNION
  MATCH (p:Person)-[:PAIRED_WITH]->(:Person)
  WHERE p.regionCode STARTS WITH township
  RETURN p, 'volunteer' AS role
}
WITH c, p, collect(DISTINCT role) AS roles
WHERE p <> c AND (p.deceasedOn IS NULL OR p.deceasedOn > $today)
  AND NOT EXISTS { (p)-[q:PAIRED_WITH]->(c) WHERE q.since <= $today AND (q.until IS NULL OR q.until >= $today) }
WITH p, roles,
     COUNT { (p)-[q:PAIRED_WITH]->(:Person) WHERE q.since <= $today AND (q.until IS NULL OR q.until >= $today) }
       AS pairings
RETURN p.id AS id, p.name AS name, roles, pairings
ORDER BY pairings, id
LIMIT $first
"""


@dataclass(frozen=True, slots=True)
class InstitutionRecommendationRecord:
    institution_id: str
    name: str
    type: str
    region_code: str
    services: tuple[str, ...]
    capacity: int | None
    open_referrals: int
    load: float
    #: `township`, `county` or `city`: how near the child the institution is
    tier: str


@dataclass(frozen=True, slots=True)
class VolunteerRecommendationRecord:
    person_id: str
    name: str
    #: staff roles they serve in (`children_director`...), and `volunteer` for earlier pairings
    roles: tuple[str, ...]
    current_pairings: int


def _first(first: int) -> int:
    if not 0 <= first <= MAX_FIRST:
        raise InvalidInput("first", f"must be between 0 and {MAX_FIRST}")
    return first


async def recommend_institutions(
    graph: Graph, actor: Actor, child_id: str, service: str, *, first: int = 10
) -> list[InstitutionRecommendationRecord]:
    """Institutions to refer `child_id` to for `service`; empty when the child is not in scope."""
    writes.require(actor, "recommendInstitutions")
    if service not in SERVICES:
        raise InvalidInput("service", f"{service!r} is not one of {', '.join(sorted(SERVICES))}")
    params = {"child": child_id, "service": service, "scope": actor.scope, "first": _first(first)}
    return [
        InstitutionRecommendationRecord(
            institution_id=row["id"],
            name=row["name"],
            type=row["type"],
            region_code=row["regionCode"],
            services=tuple(row["services"]),
            capacity=row["capacity"],
            open_referrals=row["open"],
            load=float(row["load"]),
            tier=TIERS[row["tier"]],
        )
        for row in await graph.read(RECOMMEND_INSTITUTIONS, params)
    ]


async def recommend_volunteers(
    graph: Graph, actor: Actor, child_id: str, *, today: date, first: int = 10
) -> list[VolunteerRecommendationRecord]:
    """People to pair `child_id` with; empty when the child is not in scope."""
    writes.require(actor, "recommendVolunteers")
    params = {"child": child_id, "scope": actor.scope, "today": today, "first": _first(first)}
    return [
        VolunteerRecommendationRecord(row["id"], row["name"], tuple(sorted(row["roles"])), row["pairings"])
        for row in await graph.read(RECOMMEND_VOLUNTEERS, params)
    ]
