"""Who is responsible for a child: parents and their status, legal guardians, entrusted
caregivers, with every interval kept; a caregiver's network; how two people are linked.

Intervals are returned whole (history included); which of them hold at a date is decided by
the caller with `Interval.holds`, so one round trip serves any `asOf`. Scope is in every
query: the anchor must be in scope, and linked people outside it come back as id and name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, LiteralString

from graph.bundle.records import INCAPACITY
from graph.dates import native_date
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.institutions import INSTITUTION_FIELDS, InstitutionRecord, institution_record
from graph.persons import (
    ANCHOR,
    LINKED_FIELDS,
    PERSON_FIELDS,
    ConditionRecord,
    Interval,
    LinkedPerson,
    PersonRecord,
    collected,
    interval,
    linked_person,
    person_record,
)

# Each part below reads one kind of link of the child bound to `c` into one list, in the
# order the file shows it. A part serves its own loader (a list of children, one round trip)
# and `graph.child_file`, which reads several parts and the households they reach at once.

#: What a parent's status is worked out from: their away episodes and conditions, every one.
_PARENT_HISTORY: LiteralString = """,
    away: [(p)-[:AWAY]->(a:AwayEpisode) | {since: toString(a.since), until: toString(a.until),
      destination: a.destination, destinationRegion: a.destinationRegion}],
    conditions: [(p)-[:HAS_CONDITION]->(x:Condition) |
      {type: x.type, since: toString(x.since), until: toString(x.until)}]"""

_PARENTS_HEAD: LiteralString = (
    """
CALL (c) {
  MATCH (p:Person)-[r:PARENT_OF]->(c)
  WITH r, p ORDER BY p.id
  RETURN collect({relation: r.type, deceasedOn: toString(p.deceasedOn), other: """
    + LINKED_FIELDS
)
_PARENTS_TAIL: LiteralString = """}) AS parents
}
"""

#: The child's recorded parents, by id: the link, and the parent's away episodes and conditions.
PARENTS_PART: LiteralString = _PARENTS_HEAD + _PARENT_HISTORY + _PARENTS_TAIL

#: The same links without what a status is worked out from (`parent_link` reads these rows;
#: `parent_record` refuses them): for a file whose request selects no parent's status.
PARENT_LINKS_PART: LiteralString = _PARENTS_HEAD + _PARENTS_TAIL

#: A guardian is a person or an institution (the civil-affairs department); an institution is
#: in scope when its region is.
GUARDIANS_PART: LiteralString = (
    """
CALL (c) {
  MATCH (g)-[r:GUARDIAN_OF]->(c)
  WITH r, g, coalesce(g.regionCode, '') STARTS WITH $scope AS inScope,
       CASE WHEN g:Person THEN g END AS p, CASE WHEN g:Institution THEN g END AS i
  ORDER BY r.since, g.id
  RETURN collect({since: toString(r.since), until: toString(r.until), basis: r.basis, id: g.id, name: g.name,
    inScope: inScope,
    kind: CASE WHEN p IS NULL THEN 'institution' ELSE 'person' END,
    person: CASE WHEN inScope AND p IS NOT NULL THEN """
    + PERSON_FIELDS
    + """ END,
    institution: CASE WHEN inScope AND i IS NOT NULL THEN """
    + INSTITUTION_FIELDS
    + """ END}) AS guardians
}
"""
)

CAREGIVERS_PART: LiteralString = (
    """
CALL (c) {
  MATCH (p:Person)-[r:CARES_FOR]->(c)
  OPTIONAL MATCH (e:Person {id: r.entrustedBy})
  WITH r, p, e ORDER BY r.since, p.id
  RETURN collect({since: toString(r.since), until: toString(r.until), signed: toString(r.agreementSignedOn),
    entrustedById: e.id, entrustedByName: e.name,
    entrustedByInScope: coalesce(e.regionCode, '') STARTS WITH $scope, other: """
    + LINKED_FIELDS
    + """}) AS caregivers
}
"""
)

PARENTS: LiteralString = ANCHOR + PARENTS_PART + "RETURN c.id AS owner, parents AS items"
GUARDIANS: LiteralString = ANCHOR + GUARDIANS_PART + "RETURN c.id AS owner, guardians AS items"
CAREGIVERS: LiteralString = ANCHOR + CAREGIVERS_PART + "RETURN c.id AS owner, caregivers AS items"

#: Every child one caregiver looks after (or did), across households; children outside the
#: scope are left out entirely, as if they did not exist.
NETWORK: LiteralString = (
    """
MATCH (g:Person {id: $id})
WHERE coalesce(g.regionCode, '') STARTS WITH $scope
OPTIONAL MATCH (g)-[r:CARES_FOR]->(p:Person)
WHERE coalesce(p.regionCode, '') STARTS WITH $scope
OPTIONAL MATCH (e:Person {id: r.entrustedBy})
WITH g, r, p, e ORDER BY p.id, r.since
RETURN g.id AS caregiver, collect(CASE WHEN p IS NOT NULL THEN {
  since: r.since, until: r.until, signed: r.agreementSignedOn,
  entrustedById: e.id, entrustedByName: e.name,
  entrustedByInScope: coalesce(e.regionCode, '') STARTS WITH $scope,
  other: """
    + LINKED_FIELDS
    + """
} END) AS cares
"""
)

_PATH_HEAD: LiteralString = """
MATCH (a:Person {id: $a}), (b:Person {id: $b})
WHERE coalesce(a.regionCode, '') STARTS WITH $scope AND coalesce(b.regionCode, '') STARTS WITH $scope
  AND a <> b
MATCH path = shortestPath((a)-[:PARENT_OF|GUARDIAN_OF|CARES_FOR|MEMBER_OF"""

# Only people, households and institutions in scope may lie on the path: it must not reveal
# anyone the caller could not read directly.
_PATH_TAIL: LiteralString = """]-(b))
WHERE all(n IN nodes(path) WHERE coalesce(n.regionCode, '') STARTS WITH $scope)
RETURN [r IN relationships(path) | {
  type: type(r), from: startNode(r).id, to: endNode(r).id, since: r.since, until: r.until
}] AS steps,
[n IN nodes(path) | {
  id: n.id, name: n.name,
  kind: CASE WHEN n:Person THEN 'person' WHEN n:Household THEN 'household' ELSE 'institution' END
}] AS nodes
"""

#: shortestPath needs its bound in the query text: one fixed query per allowed `maxHops`.
PATHS: Final[Mapping[int, LiteralString]] = {
    1: _PATH_HEAD + "*..1" + _PATH_TAIL,
    2: _PATH_HEAD + "*..2" + _PATH_TAIL,
    3: _PATH_HEAD + "*..3" + _PATH_TAIL,
    4: _PATH_HEAD + "*..4" + _PATH_TAIL,
    5: _PATH_HEAD + "*..5" + _PATH_TAIL,
    6: _PATH_HEAD + "*..6" + _PATH_TAIL,
}


@dataclass(frozen=True, slots=True)
class AwayEpisode:
    interval: Interval
    destination: str | None
    destination_region: str | None


@dataclass(frozen=True, slots=True)
class ParentLink:
    """A recorded parent as the link shows them. What their status is worked out from is a
    `ParentRecord`'s alone: a link read without it cannot pass for one with none recorded."""

    parent: LinkedPerson
    relation: str | None
    deceased_on: dt.date | None


@dataclass(frozen=True, slots=True)
class ParentRecord(ParentLink):
    """A parent link with every away episode and condition of the parent: what a status is
    worked out from (`PARENTS_PART`)."""

    away: tuple[AwayEpisode, ...]
    conditions: tuple[ConditionRecord, ...]

    def dead_at(self, day: dt.date) -> bool:
        return self.deceased_on is not None and self.deceased_on <= day

    def away_at(self, day: dt.date) -> AwayEpisode | None:
        if self.dead_at(day):
            return None
        return next((a for a in self.away if a.interval.holds(day)), None)

    def conditions_at(self, day: dt.date) -> list[ConditionRecord]:
        return [x for x in self.conditions if x.interval.holds(day)]

    def lacks_capacity_at(self, day: dt.date) -> bool:
        return self.dead_at(day) or any(x.type in INCAPACITY for x in self.conditions_at(day))


@dataclass(frozen=True, slots=True)
class GuardianInterval:
    id: str
    name: str
    kind: str
    in_scope: bool
    basis: str | None
    interval: Interval
    person: PersonRecord | None
    institution: InstitutionRecord | None


@dataclass(frozen=True, slots=True)
class CareInterval:
    """`other` is the caregiver seen from the child, or the child seen from the caregiver."""

    other: LinkedPerson
    interval: Interval
    agreement_signed_on: dt.date | None
    entrusted_by: LinkedPerson | None


@dataclass(frozen=True, slots=True)
class PathNode:
    id: str
    name: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class PathStep:
    type: str
    source: str
    target: str
    since: dt.date | None
    until: dt.date | None


@dataclass(frozen=True, slots=True)
class PathRecord:
    nodes: tuple[PathNode, ...]
    steps: tuple[PathStep, ...]


def parent_link(row: Mapping[str, Any]) -> ParentLink:
    """A row of `PARENT_LINKS_PART` (or of `PARENTS_PART`, its history left unread)."""
    return ParentLink(
        parent=linked_person(row["other"]), relation=row["relation"], deceased_on=native_date(row["deceasedOn"])
    )


def parent_record(row: Mapping[str, Any]) -> ParentRecord:
    """A row of `PARENTS_PART`: a row without the parent's history is a KeyError here, never a
    parent with none."""
    away, conditions = row["away"], row["conditions"]
    return ParentRecord(
        parent=linked_person(row["other"]),
        relation=row["relation"],
        deceased_on=native_date(row["deceasedOn"]),
        away=tuple(
            AwayEpisode(interval(a), a.get("destination"), a.get("destinationRegion"))
            for a in sorted(away, key=lambda a: a["since"])
        ),
        conditions=tuple(ConditionRecord(x["type"], interval(x)) for x in sorted(conditions, key=lambda x: x["since"])),
    )


def guardian_interval(row: Mapping[str, Any]) -> GuardianInterval:
    return GuardianInterval(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        in_scope=bool(row["inScope"]),
        basis=row["basis"],
        interval=interval(row),
        person=None if row["person"] is None else person_record(row["person"]),
        institution=None if row["institution"] is None else institution_record(row["institution"]),
    )


def care_interval(row: Mapping[str, Any]) -> CareInterval:
    entrusted = None
    if row["entrustedById"] is not None:
        entrusted = LinkedPerson(row["entrustedById"], row["entrustedByName"], bool(row["entrustedByInScope"]), None)
    return CareInterval(linked_person(row["other"]), interval(row), native_date(row["signed"]), entrusted)


async def parents(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[ParentRecord]]:
    rows = await graph.read(PARENTS, {"ids": list(ids), "scope": scope})
    return collected(rows, ids, parent_record)


async def guardians(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[GuardianInterval]]:
    rows = await graph.read(GUARDIANS, {"ids": list(ids), "scope": scope})
    return collected(rows, ids, guardian_interval)


async def caregivers(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[CareInterval]]:
    rows = await graph.read(CAREGIVERS, {"ids": list(ids), "scope": scope})
    return collected(rows, ids, care_interval)


async def caregiver_network(graph: Graph, caregiver_id: str, *, scope: str) -> list[CareInterval] | None:
    """Every care record of the caregiver with a child in scope; None when the caregiver is
    absent or out of scope."""
    rows = await graph.read(NETWORK, {"id": caregiver_id, "scope": scope})
    if not rows:
        return None
    return [care_interval(item) for item in rows[0]["cares"]]


async def path_between(graph: Graph, a: str, b: str, *, max_hops: int, scope: str) -> PathRecord | None:
    """The shortest link between two people in scope through people, households and
    institutions in scope; None when there is none within `max_hops`."""
    query = PATHS.get(max_hops)
    if query is None:
        raise InvalidInput("maxHops", f"must be between 1 and {max(PATHS)}")
    rows = await graph.read(query, {"a": a, "b": b, "scope": scope})
    if not rows:
        return None
    row = rows[0]
    return PathRecord(
        nodes=tuple(PathNode(n["id"], n["name"], n["kind"]) for n in row["nodes"]),
        steps=tuple(
            PathStep(s["type"], s["from"], s["to"], native_date(s["since"]), native_date(s["until"]))
            for s in row["steps"]
        ),
    )
