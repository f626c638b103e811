"""The child's file (一人一档) in one statement: the child, their parents with what their
status is read from, legal guardians, entrusted caregivers, and the households (with members)
of the child and of every linked person in scope.

A GraphQL request for a child's file, or for a page of children with their files, reads here
once per level of the request's root field instead of once per nested field; the request's
loaders are primed with what comes back (`schema.loaders.Loaders.prime_files`), so every
nested field answers from them. Each part is the very statement fragment its own loader runs
(`graph.guardianship.PARENTS_PART`...), so the scope and what a link shows of a person outside
it are the same either way. Only the parts a request selects are read: one fixed statement per
combination of `Part`s.

A parent's away episodes and conditions (what their status is worked out from) are read only
with `Part.PARENT_HISTORY`: without it the file holds `ParentLink`s, which no status can be
worked out from, and the loader of parents' histories (`Loaders.parent_records`) is primed only
with `ParentRecord`s, read whole. So a status another field asks for later in the same request
is never worked out from a history that was not read: it reads it.

A file read that reveals the child's full record may append the event of that read in its own
statement (`AUDITED_STATEMENTS`, `graph.audit.READ_EVENT_PART`): one round trip, a write
committed before its rows come back, where the read and then the event took two. On a cluster
that statement goes to the leader, as the event alone would.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, LiteralString

from graph import audit, paging
from graph.driver import Graph
from graph.guardianship import (
    CAREGIVERS_PART,
    GUARDIANS_PART,
    PARENT_LINKS_PART,
    PARENTS_PART,
    CareInterval,
    GuardianInterval,
    ParentLink,
    ParentRecord,
    care_interval,
    guardian_interval,
    parent_link,
    parent_record,
)
from graph.households import HOUSEHOLD_FIELDS, MEMBERS_PART, HouseholdRecord, household_record
from graph.persons import (
    ANCHOR,
    CHILD_PAGES_AND_NODES,
    PAGE_EXTRA,
    PERSON_FIELDS,
    ChildPageRequest,
    Page,
    PageVariant,
    PersonRecord,
    page_parameters,
    page_variant,
    person_record,
)


class Part(StrEnum):
    PARENTS = "parents"
    #: the parents' away episodes and conditions, for their status (read only with PARENTS)
    PARENT_HISTORY = "parentHistory"
    GUARDIANS = "guardians"
    CAREGIVERS = "caregivers"
    #: the child's household and those of the parents, guardians and caregivers in scope
    HOUSEHOLDS = "households"
    #: those households' members (read only with HOUSEHOLDS)
    MEMBERS = "members"


Parts = frozenset[Part]

#: The linked persons whose households the file reaches, per part: (the part's list, the
#: path from one of its items to the person's map, null when out of scope).
_LINKED: Final[tuple[tuple[Part, LiteralString], ...]] = (
    (Part.PARENTS, "[x IN parents WHERE x.other.person IS NOT NULL | x.other.person.householdId]"),
    (Part.GUARDIANS, "[x IN guardians WHERE x.person IS NOT NULL | x.person.householdId]"),
    (Part.CAREGIVERS, "[x IN caregivers WHERE x.other.person IS NOT NULL | x.other.person.householdId]"),
)
_PARTS: Final[tuple[tuple[Part, LiteralString, LiteralString], ...]] = (
    (Part.PARENTS, PARENT_LINKS_PART, ", parents"),
    (Part.GUARDIANS, GUARDIANS_PART, ", guardians"),
    (Part.CAREGIVERS, CAREGIVERS_PART, ", caregivers"),
)

_HEAD: LiteralString = (
    ANCHOR
    + """WITH c, c AS p
WITH c, """
    + PERSON_FIELDS
    + """ AS person
"""
)

#: Every household the file reaches, once, when in scope (a household's scope is its village).
_HOUSEHOLDS_HEAD: LiteralString = """
CALL (householdIds) {
  UNWIND householdIds AS hid
  WITH DISTINCT hid WHERE hid IS NOT NULL
  MATCH (h:Household {id: hid})
  WHERE h.regionCode STARTS WITH $scope
"""


#: The file of each child of a page (`nodes`, bound by `graph.persons.CHILD_PAGES_AND_NODES`);
#: the one more child a page reads to tell whether another page follows needs none.
_PAGE_FILES_HEAD: LiteralString = (
    """CALL (r, nodes) {
UNWIND nodes[..r.first] AS c
WITH c, c AS p
WITH c, """
    + PERSON_FIELDS
    + """ AS person
"""
)


def _statement(parts: Parts, head: LiteralString = _HEAD) -> LiteralString:
    """The file's statement up to its RETURN, and that RETURN's columns."""
    query = head
    columns: LiteralString = "person"
    for part, fragment, column in _PARTS:
        if part in parts:
            query += PARENTS_PART if part is Part.PARENTS and Part.PARENT_HISTORY in parts else fragment
            columns += column
    if Part.HOUSEHOLDS in parts:
        reached: LiteralString = "[person.householdId]"
        for part, path in _LINKED:
            if part in parts:
                reached += " + " + path
        query += "WITH c, " + columns + ", " + reached + " AS householdIds" + _HOUSEHOLDS_HEAD
        if Part.MEMBERS in parts:
            query += MEMBERS_PART + "  RETURN collect({household: " + HOUSEHOLD_FIELDS + ", members: members})"
        else:
            query += "  RETURN collect({household: " + HOUSEHOLD_FIELDS + "})"
        query += " AS households\n}\n"
        columns += ", householdIds, households"
    return query + "RETURN " + columns


def _page_statement(variant: PageVariant, parts: Parts) -> LiteralString:
    """A page of children and each one's file, in one statement: the page as `CHILD_PAGES`
    reads it, then the file statement's parts over the page's children, collected."""
    body = _statement(parts, _PAGE_FILES_HEAD)
    query, _, columns = body.rpartition("RETURN ")
    fields: LiteralString = ", ".join(f"{column}: {column}" for column in columns.split(", "))
    return (
        CHILD_PAGES_AND_NODES[variant]
        + query
        + "RETURN collect({"
        + fields
        + "}) AS files\n}\nRETURN r.key AS key, [n IN nodes | n.id] AS ids, files"
    )


def _combinations() -> list[Parts]:
    parents: tuple[tuple[Part, ...], ...] = ((), (Part.PARENTS,), (Part.PARENTS, Part.PARENT_HISTORY))
    linked = (Part.GUARDIANS, Part.CAREGIVERS)
    homes: tuple[tuple[Part, ...], ...] = ((), (Part.HOUSEHOLDS,), (Part.HOUSEHOLDS, Part.MEMBERS))
    return [
        frozenset(parent + chosen + home)
        for parent in parents
        for n in range(len(linked) + 1)
        for chosen in itertools.combinations(linked, n)
        for home in homes
    ]


#: One fixed statement per combination of parts.
STATEMENTS: Final[Mapping[Parts, LiteralString]] = {parts: _statement(parts) for parts in _combinations()}


def _audited(statement: LiteralString) -> LiteralString:
    """`statement` appending the event of its read of each child (`audit.READ_EVENT_PART`)."""
    query, _, columns = statement.rpartition("RETURN ")
    return query + audit.READ_EVENT_PART + "RETURN " + columns + ", audited"


#: The same, each appending the event of its read of the child's full record.
AUDITED_STATEMENTS: Final[Mapping[Parts, LiteralString]] = {
    parts: _audited(statement) for parts, statement in STATEMENTS.items()
}


#: One fixed statement per page variant and combination of parts.
PAGES_WITH_FILES: Final[Mapping[tuple[PageVariant, Parts], LiteralString]] = {
    (variant, parts): _page_statement(variant, parts)
    for variant in CHILD_PAGES_AND_NODES
    for parts in STATEMENTS
    if parts
}


def parts_of(wanted: set[Part] | frozenset[Part]) -> Parts:
    """The combination a request reads: MEMBERS needs HOUSEHOLDS, PARENT_HISTORY needs PARENTS."""
    parts = set(wanted)
    if Part.MEMBERS in parts:
        parts.add(Part.HOUSEHOLDS)
    if Part.PARENT_HISTORY in parts:
        parts.add(Part.PARENTS)
    return frozenset(parts)


@dataclass(frozen=True, slots=True)
class ChildFile:
    """What the file statement read of one child; a part not read is None."""

    person: PersonRecord
    #: the parents' links: `parent_records` themselves when their history was read
    parents: list[ParentLink] | None
    #: the parents with what their status is worked out from (PARENT_HISTORY), else None
    parent_records: list[ParentRecord] | None
    guardians: list[GuardianInterval] | None
    caregivers: list[CareInterval] | None
    #: every household id the file reaches: its record, or None when out of scope
    households: dict[str, HouseholdRecord | None] | None
    members: dict[str, list[PersonRecord]] | None
    #: the scope the event of this read was filed under by the statement that read it (see
    #: `audited_child_files`); None when it appended none
    audited: str | None = None


def _file(row: Mapping[str, Any], parts: Parts, audited: str | None = None) -> ChildFile:
    households: dict[str, HouseholdRecord | None] | None = None
    members: dict[str, list[PersonRecord]] | None = None
    if Part.HOUSEHOLDS in parts:
        households = dict.fromkeys((hid for hid in row["householdIds"] if hid is not None), None)
        members = {} if Part.MEMBERS in parts else None
        for item in row["households"]:
            record = household_record(item["household"])
            households[record.id] = record
            if members is not None:
                members[record.id] = [person_record(p) for p in item["members"]]
    records = [parent_record(x) for x in row["parents"]] if Part.PARENT_HISTORY in parts else None
    links: list[ParentLink] | None = list(records) if records is not None else None
    if links is None and Part.PARENTS in parts:
        links = [parent_link(x) for x in row["parents"]]
    return ChildFile(
        person=person_record(row["person"]),
        parents=links,
        parent_records=records,
        guardians=[guardian_interval(x) for x in row["guardians"]] if Part.GUARDIANS in parts else None,
        caregivers=[care_interval(x) for x in row["caregivers"]] if Part.CAREGIVERS in parts else None,
        households=households,
        members=members,
        audited=audited,
    )


async def child_files(graph: Graph, requests: Sequence[tuple[str, Parts]], *, scope: str) -> list[ChildFile | None]:
    """The file of each (child id, parts) asked for; None for a person absent or out of scope.
    One round trip per combination of parts among the requests."""
    found: dict[tuple[str, Parts], ChildFile] = {}
    for parts in dict.fromkeys(parts for _, parts in requests):
        ids = [child for child, wanted in requests if wanted == parts]
        rows = await graph.read(STATEMENTS[parts], {"ids": ids, "scope": scope})
        for row in rows:
            file = _file(row, parts)
            found[(file.person.id, parts)] = file
    return [found.get(request) for request in requests]


async def audited_child_files(
    graph: Graph, requests: Sequence[tuple[str, Parts, audit.ReadAudit]], *, scope: str
) -> list[ChildFile | None]:
    """`child_files`, each statement appending the event of its read of every child it finds
    (`audit.READ_EVENT_PART`) in the same auto-commit write: when this returns, every file with
    `audited` set has its event committed, and a failed append fails the read. One round trip
    per combination of parts and reader among the requests."""
    found: dict[tuple[str, Parts, audit.ReadAudit], ChildFile] = {}
    for parts, reader in dict.fromkeys((parts, reader) for _, parts, reader in requests):
        ids = [child for child, wanted, by in requests if wanted == parts and by == reader]
        parameters = {"ids": ids, "scope": scope, "audit": reader.parameters()}
        for row in await graph.append(AUDITED_STATEMENTS[parts], parameters):
            file = _file(row, parts, row["audited"])
            found[(file.person.id, parts, reader)] = file
    return [found.get(request) for request in requests]


async def pages_with_files(
    graph: Graph, requests: Sequence[tuple[ChildPageRequest, Parts]], *, scope: str
) -> list[tuple[Page, list[ChildFile]]]:
    """Each page of children with the files of its children (`parts` of them): one round trip
    per page variant and combination of parts among the requests, where a page and then its
    files took two."""
    out: dict[int, tuple[Page, list[ChildFile]]] = {}
    for key in dict.fromkeys((page_variant(request, scope), parts) for request, parts in requests):
        batch = [
            (i, request) for i, (request, parts) in enumerate(requests) if (page_variant(request, scope), parts) == key
        ]
        rows = await paging.page_rows(
            graph,
            PAGES_WITH_FILES[key],
            [(page_parameters(request) | {"first": request.first}, request.first) for _, request in batch],
            scope=scope,
            extra=PAGE_EXTRA,
        )
        for (i, request), row in zip(batch, rows, strict=True):
            files = [] if row is None else [_file(item, key[1]) for item in row["files"]]
            # The page is its children's files, in the page's order: `ids` (one more than the
            # page when another follows) says that order rather than the aggregation's.
            ids: list[str] = [] if row is None else row["ids"]
            by_id = {file.person.id: file.person for file in files}
            items = tuple(by_id[child] for child in ids[: request.first])
            out[i] = (Page(items, len(ids) > request.first), files)
    return [out[i] for i in range(len(requests))]
