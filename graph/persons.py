"""Persons: the child's file (一人一档), lists of children, search and duplicate candidates.

Every query carries the caller's scope (`$scope`, a region-code prefix) in its own text: a
person is in scope when their household's village is. A person with no household has no
`regionCode`; only the empty scope (admin) sees them, hence `coalesce(p.regionCode, '')`.
People linked to a person in scope but living outside it come back as a `LinkedPerson`: id
and name, and nothing else.

Loaders' queries take a list (`UNWIND $ids`), so each level of a GraphQL request costs one
round trip however many persons it holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import audit, paging
from graph.audit import AuditEntry
from graph.bundle.records import CATEGORIES, INCAPACITY
from graph.dates import birth_cutoff, native_date
from graph.driver import Graph
from graph.errors import InvalidInput, LimitExceeded

#: The stored fields of the person bound to `p`, and their household's id. Dates come as ISO
#: text (`native_date` reads both): the driver builds a date in pure Python, about 25 times
#: what parsing its text costs, and a list of 50 files carries a thousand of them.
PERSON_FIELDS: LiteralString = """p {
  .id, .name, .gender, birthDate: toString(p.birthDate), .idNumber, .phone,
  deceasedOn: toString(p.deceasedOn), .regionCode,
  householdId: [(p)-[:MEMBER_OF]->(h:Household) | h.id][0]
}"""

#: The person bound to `p` as a link seen from a person in scope: everything when `p` is in
#: scope too, else only id and name (docs/access.md: "only as far as the link requires").
LINKED_FIELDS: LiteralString = (
    """{id: p.id, name: p.name, inScope: coalesce(p.regionCode, '') STARTS WITH $scope,
  person: CASE WHEN coalesce(p.regionCode, '') STARTS WITH $scope THEN """
    + PERSON_FIELDS
    + """ END}"""
)

#: The anchor `c` of every per-child loader: the person `id`, only when in scope.
ANCHOR: LiteralString = """
UNWIND $ids AS id
MATCH (c:Person {id: id})
WHERE coalesce(c.regionCode, '') STARTS WITH $scope
"""

GET_PERSONS: LiteralString = (
    """
UNWIND $ids AS id
MATCH (p:Person {id: id})
WHERE coalesce(p.regionCode, '') STARTS WITH $scope
RETURN """
    + PERSON_FIELDS
    + """ AS person
"""
)

ENROLLMENTS: LiteralString = (
    ANCHOR
    + """
MATCH (c)-[r:ENROLLED_IN]->(i:Institution)
RETURN c.id AS owner, i.id AS institutionId, i.name AS institutionName, r.since AS since,
       r.until AS until, r.grade AS grade, r.boarding AS boarding
ORDER BY owner, since, institutionId
"""
)

REGISTRATIONS: LiteralString = (
    ANCHOR
    + """
MATCH (c)-[:REGISTERED]->(g:Registration)
RETURN c.id AS owner, g.category AS category, g.since AS since, g.until AS until
ORDER BY owner, since, category
"""
)

# A person's own conditions (a child's severe disability, an adult's imprisonment).
CONDITIONS: LiteralString = (
    ANCHOR
    + """
MATCH (c)-[:HAS_CONDITION]->(x:Condition)
RETURN c.id AS owner, x.type AS type, x.since AS since, x.until AS until
ORDER BY owner, since, type
"""
)

PAIRINGS: LiteralString = (
    ANCHOR
    + """
MATCH (p:Person)-[r:PAIRED_WITH]->(c)
RETURN c.id AS owner, r.since AS since, r.until AS until, """
    + LINKED_FIELDS
    + """ AS other
ORDER BY owner, since, other.id
"""
)

#: The most recent contacts of each child, newest first (at most $recent each).
CONTACTS: LiteralString = (
    ANCHOR
    + """
CALL (c) {
  MATCH (p:Person)-[r:CONTACTED]->(c)
  RETURN p, r ORDER BY r.on DESC, p.id LIMIT $recent
}
RETURN c.id AS owner, r.on AS on, r.channel AS kind, null AS notes, """
    + LINKED_FIELDS
    + """ AS other
ORDER BY owner, on DESC, other.id
"""
)

VISITS: LiteralString = (
    ANCHOR
    + """
CALL (c) {
  MATCH (p:Person)-[r:VISITED]->(c)
  RETURN p, r ORDER BY r.on DESC, p.id LIMIT $recent
}
RETURN c.id AS owner, r.on AS on, r.type AS kind, r.notes AS notes, """
    + LINKED_FIELDS
    + """ AS other
ORDER BY owner, on DESC, other.id
"""
)

#: The ids of the cases about each child, newest first (the cases repository loads them).
CASE_IDS: LiteralString = (
    ANCHOR
    + """
MATCH (k:Case)-[:CONCERNS]->(c)
RETURN c.id AS owner, k.id AS id
ORDER BY owner, k.openedOn DESC, id
"""
)

# --- lists of children ------------------------------------------------------------------------

#: A child at `r.asOf` with the optional filters of one request (the region and the scope
#: are each variant's own, below).
_CHILD_FILTERS: LiteralString = """
    AND p.birthDate <= r.asOf AND p.birthDate > r.born18
    AND (p.deceasedOn IS NULL OR p.deceasedOn > r.asOf)
    AND (r.bornOnOrBefore IS NULL OR p.birthDate <= r.bornOnOrBefore)
    AND (r.bornAfter IS NULL OR p.birthDate > r.bornAfter)
    AND (r.category IS NULL OR EXISTS {
      MATCH (p)-[:REGISTERED]->(g:Registration)
      WHERE g.category = r.category AND g.since <= r.asOf AND (g.until IS NULL OR g.until >= r.asOf)
    })
"""

#: Seek the region's persons by code prefix: right for a county or smaller, where the region
#: holds a small part of the graph. The seek is by `seek`, the longer of the region and the
#: scope (`_PAGE_HEAD`): left to itself the planner seeks by `$scope`, a parameter, so a
#: county coordinator's township page read all 68,000 persons of the county to keep 1,000.
#: The region and the scope are then filters the seek cannot use (`coalesce`), so the planner
#: has only `seek` to choose; and a plain variable, unlike the `CASE` it was before, lets the
#: seek hand the filters the code it read from the index, where they read it again from each
#: of the township's persons. The index is the one on (code, birth date), so the birth date
#: that tells a child comes from the index too, and only the children are read (PROFILE of a
#: township of 3,333 persons: 13,652 database hits for the page, now 5,116).
_CHILD_IN_REGION: LiteralString = (
    """
  MATCH (p:Person)
  USING INDEX p:Person(regionCode, birthDate)
  WHERE p.regionCode STARTS WITH seek
    AND coalesce(p.regionCode, '') STARTS WITH r.region AND coalesce(p.regionCode, '') STARTS WITH $scope"""
    + _CHILD_FILTERS
)

#: Walk persons in id order and keep the region's: right for a province or a city, where most
#: persons match and seeking by prefix would sort a million children to return fifty
#: (measured on a generated province: 2.8 s by prefix, 5 ms in id order; the other way round
#: for a county).
_CHILD_IN_WIDE_REGION: LiteralString = (
    """
  MATCH (p:Person)
  USING INDEX p:Person(id)
  WHERE p.id > coalesce(r.afterId, '')
    AND p.regionCode STARTS WITH r.region AND coalesce(p.regionCode, '') STARTS WITH $scope"""
    + _CHILD_FILTERS
)

#: Regions whose code prefix is this short or shorter (province, city) are walked in id order.
WIDE_PREFIX: Final = 4

#: Left-behind at D = `r.leftBehind` (docs/domain.md): under 16 at D, at least one recorded parent,
#: every parent away or lacking capacity at D, at least one away (alive, an episode holding at
#: D). A separate variant, because the planner evaluates these subqueries for every child
#: even when the filter is off.
_LEFT_BEHIND: LiteralString = """
    AND p.birthDate <= r.leftBehind AND p.birthDate > r.leftBehindBorn16
    AND (p.deceasedOn IS NULL OR p.deceasedOn > r.leftBehind)
    AND EXISTS { (:Person)-[:PARENT_OF]->(p) }
    AND all(par IN COLLECT { MATCH (par:Person)-[:PARENT_OF]->(p) RETURN par } WHERE
      (par.deceasedOn IS NOT NULL AND par.deceasedOn <= r.leftBehind)
      OR EXISTS {
        MATCH (par)-[:HAS_CONDITION]->(x:Condition)
        WHERE x.type IN $incapacity AND x.since <= r.leftBehind
          AND (x.until IS NULL OR x.until >= r.leftBehind)
      }
      OR EXISTS {
        MATCH (par)-[:AWAY]->(a:AwayEpisode)
        WHERE a.since <= r.leftBehind AND (a.until IS NULL OR a.until >= r.leftBehind)
      })
    AND any(par IN COLLECT { MATCH (par:Person)-[:PARENT_OF]->(p) RETURN par } WHERE
      (par.deceasedOn IS NULL OR par.deceasedOn > r.leftBehind)
      AND EXISTS {
        MATCH (par)-[:AWAY]->(a:AwayEpisode)
        WHERE a.since <= r.leftBehind AND (a.until IS NULL OR a.until >= r.leftBehind)
      })
"""

_PAGE_HEAD: LiteralString = """
UNWIND $requests AS r
WITH r, CASE WHEN size(r.region) >= size($scope) THEN r.region ELSE $scope END AS seek
CALL (r, seek) {"""

_PAGE_COLLECT: LiteralString = (
    """  LIMIT $cap
  RETURN collect("""
    + PERSON_FIELDS
    + """) AS page"""
)
_PAGE_TAIL: LiteralString = (
    _PAGE_COLLECT
    + """
}
RETURN r.key AS key, page
"""
)
#: The page's children as nodes only (`graph.child_file` reads their files, whose persons are
#: the page: reading the fields here too read every child twice).
_PAGE_AND_NODES_TAIL: LiteralString = """  LIMIT $cap
  RETURN collect(p) AS nodes
}
"""

_COUNT_TAIL: LiteralString = """  RETURN count(p) AS total
}
RETURN r.key AS key, total
"""


class ChildSort(StrEnum):
    ID = "id"
    NAME = "name"
    BIRTH_DATE = "birth_date"


#: Where a page starts (strictly after the cursor's sort value and id) and its order.
_ORDERS: Final[Mapping[ChildSort, LiteralString]] = {
    ChildSort.ID: """    AND (r.afterId IS NULL OR p.id > r.afterId)
  WITH p ORDER BY p.id
""",
    ChildSort.NAME: """    AND (r.afterId IS NULL OR p.name > r.afterValue
         OR (p.name = r.afterValue AND p.id > r.afterId))
  WITH p ORDER BY p.name, p.id
""",
    ChildSort.BIRTH_DATE: """    AND (r.afterId IS NULL OR p.birthDate > r.afterValue
         OR (p.birthDate = r.afterValue AND p.id > r.afterId))
  WITH p ORDER BY p.birthDate, p.id
""",
}

#: Which page statement a request is read by: (sort, with the left-behind filter, walking
#: the id index of a wide region).
PageVariant = tuple[ChildSort, bool, bool]

#: Each variant's statement up to its page's ordered, limited children `p`.
_PAGE_MATCHES: Final[Mapping[PageVariant, LiteralString]] = {
    **{(sort, False, False): _PAGE_HEAD + _CHILD_IN_REGION + order for sort, order in _ORDERS.items()},
    **{(sort, True, False): _PAGE_HEAD + _CHILD_IN_REGION + _LEFT_BEHIND + order for sort, order in _ORDERS.items()},
    (ChildSort.ID, False, True): _PAGE_HEAD + _CHILD_IN_WIDE_REGION + _ORDERS[ChildSort.ID],
    (ChildSort.ID, True, True): _PAGE_HEAD + _CHILD_IN_WIDE_REGION + _LEFT_BEHIND + _ORDERS[ChildSort.ID],
}

#: One fixed query per sort order, without and with the left-behind filter; pages in id
#: order of a wide region walk the id index instead.
CHILD_PAGES: Final[Mapping[PageVariant, LiteralString]] = {
    variant: match + _PAGE_TAIL for variant, match in _PAGE_MATCHES.items()
}

#: The same pages, ending with `r` and `nodes` bound (`graph.child_file.PAGES_WITH_FILES`).
CHILD_PAGES_AND_NODES: Final[Mapping[PageVariant, LiteralString]] = {
    variant: match + _PAGE_AND_NODES_TAIL for variant, match in _PAGE_MATCHES.items()
}


def _walks_id_order(request: ChildPageRequest, scope: str) -> bool:
    narrowest = max(len(request.filter.region), len(scope))
    return request.sort is ChildSort.ID and narrowest <= WIDE_PREFIX


def page_variant(request: ChildPageRequest, scope: str) -> PageVariant:
    return (request.sort, request.filter.left_behind_as_of is not None, _walks_id_order(request, scope))


#: What every page statement takes besides `$requests`, `$scope` and `$cap`.
PAGE_EXTRA: Final = {"incapacity": list(INCAPACITY)}


COUNT_CHILDREN: Final[Mapping[bool, LiteralString]] = {
    False: _PAGE_HEAD + _CHILD_IN_REGION + _COUNT_TAIL,
    True: _PAGE_HEAD + _CHILD_IN_REGION + _LEFT_BEHIND + _COUNT_TAIL,
}

# --- search and duplicates --------------------------------------------------------------------

SEARCH: LiteralString = (
    """
MATCH (p:Person)
WHERE coalesce(p.regionCode, '') STARTS WITH $scope
  AND ($name IS NULL OR p.name STARTS WITH $name)
  AND ($birthDate IS NULL OR p.birthDate = $birthDate)
  AND ($idNumber IS NULL OR p.idNumber = $idNumber)
RETURN """
    + PERSON_FIELDS
    + """ AS person
ORDER BY p.name, p.id
LIMIT $limit
"""
)

#: Pairs of persons in the region and scope that look like one human: the same name and birth
#: date, the same phone, or ID numbers equal but for the check character.
DUPLICATES: LiteralString = (
    """
CALL () {
  MATCH (p:Person)
  WHERE p.regionCode STARTS WITH $region AND p.regionCode STARTS WITH $scope
  WITH p.name AS name, p.birthDate AS born, collect(p) AS same WHERE size(same) > 1
  UNWIND same AS a UNWIND same AS b
  WITH a, b WHERE a.id < b.id
  RETURN a, b, 'same_name_and_birth_date' AS reason
  UNION
  MATCH (p:Person)
  WHERE p.regionCode STARTS WITH $region AND p.regionCode STARTS WITH $scope AND p.phone IS NOT NULL
  WITH p.phone AS phone, collect(p) AS same WHERE size(same) > 1
  UNWIND same AS a UNWIND same AS b
  WITH a, b WHERE a.id < b.id
  RETURN a, b, 'same_phone' AS reason
  UNION
  MATCH (p:Person)
  WHERE p.regionCode STARTS WITH $region AND p.regionCode STARTS WITH $scope
    AND size(p.idNumber) = 18
  WITH left(p.idNumber, 17) AS stem, collect(p) AS same WHERE size(same) > 1
  UNWIND same AS a UNWIND same AS b
  WITH a, b WHERE a.id < b.id
  RETURN a, b, 'id_number_differs_in_check_character' AS reason
}
WITH a, b, collect(reason) AS reasons
ORDER BY a.id, b.id
LIMIT $limit
WITH a AS p, b, reasons
WITH """
    + PERSON_FIELDS
    + """ AS first, b AS p, reasons
RETURN first, """
    + PERSON_FIELDS
    + """ AS second, reasons
"""
)


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    name: str
    gender: str | None
    birth_date: dt.date | None
    id_number: str | None
    phone: str | None
    deceased_on: dt.date | None
    region_code: str | None
    household_id: str | None

    def is_child_at(self, day: dt.date) -> bool:
        return self.birth_date is not None and birth_cutoff(day, 18) < self.birth_date <= day


@dataclass(frozen=True, slots=True)
class LinkedPerson:
    """A person seen through a link; `person` is None when they live outside the scope."""

    id: str
    name: str
    in_scope: bool
    person: PersonRecord | None


@dataclass(frozen=True, slots=True)
class Interval:
    since: dt.date
    until: dt.date | None

    def holds(self, day: dt.date) -> bool:
        return self.since <= day and (self.until is None or self.until >= day)


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    """A condition a person holds (missing, imprisoned, severe_disability...) over its interval."""

    type: str
    interval: Interval


@dataclass(frozen=True, slots=True)
class Enrollment:
    institution_id: str
    institution_name: str | None
    interval: Interval
    grade: str | None = None
    boarding: bool | None = None


@dataclass(frozen=True, slots=True)
class Registration:
    category: str
    interval: Interval


@dataclass(frozen=True, slots=True)
class Pairing:
    volunteer: LinkedPerson
    interval: Interval


@dataclass(frozen=True, slots=True)
class Encounter:
    """A contact (from a parent or guardian) or a visit (by a worker) on one day."""

    on: dt.date
    kind: str
    by: LinkedPerson
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class ChildFilter:
    """What a list of children asks for; ages and categories are judged at `as_of`."""

    region: str
    as_of: dt.date
    category: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    left_behind_as_of: dt.date | None = None

    def validate(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise InvalidInput("registrationCategory", f"unknown category {self.category!r}")
        for name, value in (("minAge", self.min_age), ("maxAge", self.max_age)):
            if value is not None and not 0 <= value <= 17:
                raise InvalidInput(name, "must be between 0 and 17")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise InvalidInput("maxAge", "must not be below minAge")

    def parameters(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "asOf": self.as_of,
            "born18": birth_cutoff(self.as_of, 18),
            "category": self.category,
            "bornOnOrBefore": None if self.min_age is None else birth_cutoff(self.as_of, self.min_age),
            "bornAfter": None if self.max_age is None else birth_cutoff(self.as_of, self.max_age + 1),
            "leftBehind": self.left_behind_as_of,
            "leftBehindBorn16": None if self.left_behind_as_of is None else birth_cutoff(self.left_behind_as_of, 16),
        }


@dataclass(frozen=True, slots=True)
class ChildPageRequest:
    """One page: `after` is the (sort value, id) of the last child of the previous page."""

    filter: ChildFilter
    sort: ChildSort
    first: int
    after: tuple[str | dt.date | None, str] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[PersonRecord, ...]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    first: PersonRecord
    second: PersonRecord
    reasons: tuple[str, ...]


# --- conversions ------------------------------------------------------------------------------


def interval(row: Mapping[str, Any]) -> Interval:
    since = native_date(row["since"])
    assert since is not None
    return Interval(since, native_date(row["until"]))


def person_record(data: Mapping[str, Any]) -> PersonRecord:
    return PersonRecord(
        id=data["id"],
        name=data["name"],
        gender=data.get("gender"),
        birth_date=native_date(data.get("birthDate")),
        id_number=data.get("idNumber"),
        phone=data.get("phone"),
        deceased_on=native_date(data.get("deceasedOn")),
        region_code=data.get("regionCode"),
        household_id=data.get("householdId"),
    )


def linked_person(data: Mapping[str, Any]) -> LinkedPerson:
    inner = data.get("person")
    return LinkedPerson(
        id=data["id"],
        name=data["name"],
        in_scope=bool(data["inScope"]),
        person=None if inner is None else person_record(inner),
    )


def grouped(rows: Sequence[Any], ids: Sequence[str], convert: Any) -> dict[str, list[Any]]:
    """Rows of a per-owner loader query, converted and grouped by their `owner` column."""
    out: dict[str, list[Any]] = {key: [] for key in ids}
    for row in rows:
        out[row["owner"]].append(convert(row))
    return out


def collected(rows: Sequence[Any], ids: Sequence[str], convert: Any) -> dict[str, list[Any]]:
    """Rows of a per-owner loader query that collects each owner's list (`owner`, `items`), converted."""
    out: dict[str, list[Any]] = {key: [] for key in ids}
    for row in rows:
        out[row["owner"]] = [convert(item) for item in row["items"]]
    return out


# --- reads ------------------------------------------------------------------------------------


async def get_persons(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, PersonRecord]:
    rows = await graph.read(GET_PERSONS, {"ids": list(ids), "scope": scope})
    return {row["person"]["id"]: person_record(row["person"]) for row in rows}


async def enrollments(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[Enrollment]]:
    rows = await graph.read(ENROLLMENTS, {"ids": list(ids), "scope": scope})
    return grouped(
        rows,
        ids,
        lambda row: Enrollment(
            row["institutionId"], row["institutionName"], interval(row), row["grade"], row["boarding"]
        ),
    )


async def registrations(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[Registration]]:
    rows = await graph.read(REGISTRATIONS, {"ids": list(ids), "scope": scope})
    return grouped(rows, ids, lambda row: Registration(row["category"], interval(row)))


async def conditions(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[ConditionRecord]]:
    rows = await graph.read(CONDITIONS, {"ids": list(ids), "scope": scope})
    return grouped(rows, ids, lambda row: ConditionRecord(row["type"], interval(row)))


async def pairings(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[Pairing]]:
    rows = await graph.read(PAIRINGS, {"ids": list(ids), "scope": scope})
    return grouped(rows, ids, lambda row: Pairing(linked_person(row["other"]), interval(row)))


def _encounter(row: Mapping[str, Any]) -> Encounter:
    on = native_date(row["on"])
    assert on is not None
    return Encounter(on, row["kind"], linked_person(row["other"]), row["notes"])


async def contacts(graph: Graph, ids: Sequence[str], *, scope: str, recent: int) -> dict[str, list[Encounter]]:
    rows = await graph.read(CONTACTS, {"ids": list(ids), "scope": scope, "recent": recent})
    return grouped(rows, ids, _encounter)


async def visits(graph: Graph, ids: Sequence[str], *, scope: str, recent: int) -> dict[str, list[Encounter]]:
    rows = await graph.read(VISITS, {"ids": list(ids), "scope": scope, "recent": recent})
    return grouped(rows, ids, _encounter)


async def case_ids(graph: Graph, ids: Sequence[str], *, scope: str) -> dict[str, list[str]]:
    rows = await graph.read(CASE_IDS, {"ids": list(ids), "scope": scope})
    return grouped(rows, ids, lambda row: row["id"])


async def child_pages(graph: Graph, requests: Sequence[ChildPageRequest], *, scope: str) -> list[Page]:
    """One page per request; requests with the same query variant share one round trip."""
    pages: dict[int, Page] = {}
    for variant, query in CHILD_PAGES.items():
        batch = [(i, request) for i, request in enumerate(requests) if page_variant(request, scope) == variant]
        if not batch:
            continue
        found = await paging.pages(
            graph,
            query,
            [(page_parameters(request), request.first) for _, request in batch],
            person_record,
            scope=scope,
            extra=PAGE_EXTRA,
        )
        for (i, _), (items, more) in zip(batch, found, strict=True):
            pages[i] = Page(tuple(items), more)
    return [pages[i] for i in range(len(requests))]


def page_parameters(request: ChildPageRequest) -> dict[str, Any]:
    after_value, after_id = request.after if request.after is not None else (None, None)
    return {**request.filter.parameters(), "afterValue": after_value, "afterId": after_id}


async def count_children(graph: Graph, filters: Sequence[ChildFilter], *, scope: str) -> list[int]:
    totals: dict[int, int] = {}
    for left_behind, query in COUNT_CHILDREN.items():
        batch = [(i, f) for i, f in enumerate(filters) if (f.left_behind_as_of is not None) is left_behind]
        found = await paging.counts(graph, query, [f.parameters() for _, f in batch], scope=scope, extra=PAGE_EXTRA)
        totals.update((i, total) for (i, _), total in zip(batch, found, strict=True))
    return [totals[i] for i in range(len(filters))]


async def search(
    graph: Graph,
    *,
    scope: str,
    name: str | None,
    birth_date: dt.date | None,
    limit: int,
) -> list[PersonRecord]:
    """Persons in scope matching every criterion given: name by prefix, birth date exactly. A
    look-up by ID number is `search_by_id_number`, never this."""
    rows = await graph.read(SEARCH, _search_parameters(scope, name, birth_date, None, limit))
    return [person_record(row["person"]) for row in rows]


#: The audit operation of a look-up by a full ID number.
ID_LOOKUP: Final = "lookup:idNumber"


@dataclass(frozen=True, slots=True)
class IdLookup:
    """Who looks a person up by a full ID number, and how many such look-ups they may make."""

    sub: str
    role: str
    per_minute: int
    per_day: int


async def id_lookups_used(tx: AsyncManagedTransaction, sub: str) -> tuple[int, int]:
    """The subject's answered look-ups by ID number in the last minute and the last day, counted
    from the audit trail under the subject's lock (held until `tx` commits its own event)."""
    now = dt.datetime.now(dt.UTC)
    minute, day = await audit.count_since(
        tx, sub, ID_LOOKUP, [now - dt.timedelta(minutes=1), now - dt.timedelta(days=1)]
    )
    return minute, day


async def search_by_id_number(
    graph: Graph,
    lookup: IdLookup,
    *,
    scope: str,
    name: str | None,
    birth_date: dt.date | None,
    id_number: str,
    limit: int,
) -> list[PersonRecord]:
    """`search` with a full ID number: a probe for a masked value, so it is rate-limited per
    subject and audited in one transaction. The limit counts the subject's own audited
    look-ups (misses too: enumerating candidates mostly misses), so it holds across restarts
    and replicas; the event names the persons found, never the number asked for."""
    parameters = _search_parameters(scope, name, birth_date, id_number, limit)

    async def transaction(tx: AsyncManagedTransaction) -> list[PersonRecord]:
        minute, day = await id_lookups_used(tx, lookup.sub)
        if minute >= lookup.per_minute or day >= lookup.per_day:
            limit_, window = (lookup.per_minute, "minute") if minute >= lookup.per_minute else (lookup.per_day, "day")
            raise LimitExceeded(f"idNumber: at most {limit_} look-ups by ID number a {window}")
        result = await tx.run(SEARCH, parameters)
        found = [person_record(record["person"]) async for record in result]
        region = next((p.region_code for p in found if p.region_code), scope)
        await audit.append_in(tx, AuditEntry(lookup.sub, lookup.role, ID_LOOKUP, [p.id for p in found], "ok", region))
        return found

    return await graph.write_transaction(transaction)


def _search_parameters(
    scope: str, name: str | None, birth_date: dt.date | None, id_number: str | None, limit: int
) -> dict[str, Any]:
    name = name.strip() if name is not None else None
    if not name and birth_date is None and not id_number:
        raise InvalidInput("name", "give at least one of name, birthDate and idNumber")
    return {
        "scope": scope,
        "name": name or None,
        "birthDate": birth_date,
        # Stored numbers end in an upper-case X (graph.bundle.idnumber's canonical form).
        "idNumber": id_number.strip().upper() if id_number else None,
        "limit": limit,
    }


async def duplicate_candidates(graph: Graph, region: str, *, scope: str, limit: int) -> list[DuplicateCandidate]:
    rows = await graph.read(DUPLICATES, {"region": region, "scope": scope, "limit": limit})
    return [
        DuplicateCandidate(person_record(row["first"]), person_record(row["second"]), tuple(sorted(row["reasons"])))
        for row in rows
    ]
