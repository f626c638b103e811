"""Per-request DataLoaders: every nested field is fetched by level, one round trip per level.

Each loader batches the keys asked for during one tick into one repository call, whose Cypher
carries the caller's scope.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from functools import cached_property
from types import GeneratorType
from typing import Any, Final, TypeAlias, TypeVar, cast

from strawberry.dataloader import DataLoader

from graph import (
    cases,
    child_file,
    followup,
    guardianship,
    households,
    institutions,
    persons,
    placements,
    referrals,
    regions,
)
from graph.access import read_scope
from graph.audit import ReadAudit
from graph.callers import Caller
from graph.driver import Graph

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

#: What a field resolver returns that answers at once when its loader already holds the value
#: (primed by a file read), and awaits the loader otherwise.
Maybe: TypeAlias = R | Awaitable[R]

#: The operation of an audit event for a child's full record read through its fields.
READ_CHILD: Final = "read:child"

#: Recent contacts and visits fetched per child; a field's `first` picks at most this many.
RECENT: Final = 20


class _ById:
    """A loader of records by id, built the first time a request uses it: a request uses two or
    three of the loaders below, and building all of them for each one was a measurable part of
    a small request's CPU."""

    def __init__(self, fetch: Callable[..., Awaitable[Mapping[str, Any]]], default: Any = None) -> None:
        self.fetch = fetch
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, loaders: Loaders, owner: type | None = None) -> DataLoader[str, Any]:
        fetch, default = self.fetch, self.default
        # Not `loaders` itself: it holds the loader, and a loader holding it back would be a
        # cycle only the collector frees, with every record the request read (`Loaders`).
        graph, scope = loaders.graph, loaders.scope

        async def load(ids: Sequence[str]) -> list[Any]:
            found = await fetch(graph, list(ids), scope=scope)
            return [found.get(key, default) for key in ids]

        loader = DataLoader[str, Any](load)
        # Set on the instance: later reads find it there and never reach this descriptor.
        loaders.__dict__[self.name] = loader
        return loader


class _Batched:
    """A loader whose keys are whole requests (a page, a count, a file), built on first use."""

    def __init__(self, fetch: Callable[..., Awaitable[Sequence[Any]]]) -> None:
        self.fetch = fetch

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, loaders: Loaders, owner: type | None = None) -> DataLoader[Any, Any]:
        fetch = self.fetch
        graph, scope = loaders.graph, loaders.scope

        async def load(keys: Sequence[Any]) -> list[Any]:
            return list(await fetch(graph, list(keys), scope=scope))

        loader = DataLoader[Any, Any](load)
        loaders.__dict__[self.name] = loader
        return loader


def _contacts(g: Graph, ids: Sequence[str], *, scope: str) -> Awaitable[Mapping[str, Any]]:
    return persons.contacts(g, ids, scope=scope, recent=RECENT)


def _visits(g: Graph, ids: Sequence[str], *, scope: str) -> Awaitable[Mapping[str, Any]]:
    return persons.visits(g, ids, scope=scope, recent=RECENT)


class Loaders:
    """A request's loaders. None of them holds the `Loaders` back (their functions take the
    graph and the scope, not it): a cycle through them would keep every record the request read
    alive until the collector found it, and a list's tens of thousands of objects made each of
    its passes long (a pause of tens of milliseconds now and then, in the tail of the latencies)."""

    person = _ById(persons.get_persons)
    region = _ById(regions.get_regions)
    household = _ById(households.get_households)
    institution = _ById(institutions.get_institutions)
    institution_load = _ById(institutions.loads, 0)
    members = _ById(households.members, [])
    parents = _ById(guardianship.parents, [])
    #: Each child's parents with what their status is worked out from: read whole, or primed
    #: from a file that read their history. `parents` may hold bare links; this never does.
    parent_records = _ById(guardianship.parents, [])
    guardians = _ById(guardianship.guardians, [])
    caregivers = _ById(guardianship.caregivers, [])
    enrollments = _ById(persons.enrollments, [])
    placements = _ById(placements.of_children, [])
    registrations = _ById(persons.registrations, [])
    conditions = _ById(persons.conditions, [])
    pairings = _ById(persons.pairings, [])
    contacts = _ById(_contacts, [])
    case_ids = _ById(persons.case_ids, [])
    case = _ById(cases.get_cases)
    visits = _ById(_visits, [])
    case_changes = _ById(followup.changes, [])
    case_assessments = _ById(followup.assessments, [])
    case_plans = _ById(followup.plans, [])
    case_referrals = _ById(referrals.referrals_of_cases, [])

    #: (child id, parts) -> the child's file read in one statement; `file_of` primes the
    #: loaders above with it.
    file = _Batched(child_file.child_files)
    #: (child id, parts, reader) -> the same, the statement appending the event of its read.
    audited_file = _Batched(child_file.audited_child_files)

    child_page = _Batched(persons.child_pages)
    #: (page request, parts) -> the page and its children's files, in one statement.
    child_page_files = _Batched(child_file.pages_with_files)
    child_count = _Batched(persons.count_children)
    household_page = _Batched(households.pages)
    household_count = _Batched(households.counts)
    institution_page = _Batched(institutions.pages)
    institution_count = _Batched(institutions.counts)

    def __init__(
        self,
        graph: Graph,
        caller: Caller,
        deadlines: followup.StageDeadlines | None = None,
        zone: str = "Asia/Shanghai",
    ) -> None:
        self.graph = graph
        self.caller = caller
        #: The prefix every person, household and institution read here must start with.
        self.scope = read_scope(caller)
        self.deadlines = deadlines or followup.StageDeadlines()
        self.zone = zone
        #: Full records this request read: (operation, ids touched) -> the child's village. The
        #: request appends one audit event each when it ends (`schema.audit`).
        self.full_record_reads: dict[tuple[str, tuple[str, ...]], str | None] = {}
        #: Of those, the events the statements that read them appended already: (operation,
        #: ids) -> the scope each was filed under (`files` with a reader).
        self.filed_reads: dict[tuple[str, tuple[str, ...]], str] = {}
        #: Why a statement that was to append the event of its read failed: the request then
        #: answers as when its audit cannot be written (`schema.audit`).
        self.audit_failure: Exception | None = None
        #: Look-ups by a full ID number this request made (at most one is answered).
        self.id_lookups = 0

    @cached_property
    def child_regions(self) -> DataLoader[str, list[regions.RegionRecord]]:
        graph, scope = self.graph, self.scope

        async def load(codes: Sequence[str]) -> list[list[regions.RegionRecord]]:
            found = await regions.child_regions(graph, list(codes), scope=scope)
            return [found[code] for code in codes]

        return DataLoader[str, list[regions.RegionRecord]](load)

    @cached_property
    def case_deadline(self) -> DataLoader[str, Any]:
        graph, scope, rules, zone = self.graph, self.scope, self.deadlines, self.zone

        async def load(ids: Sequence[str]) -> list[Any]:
            found = await followup.deadlines(graph, list(ids), scope=scope, rules=rules, zone=zone)
            return [found.get(key) for key in ids]

        return DataLoader[str, Any](load)

    async def files(
        self, ids: Sequence[str], parts: child_file.Parts, reader: ReadAudit | None = None
    ) -> list[child_file.ChildFile | None]:
        """The files of the children `ids` (one round trip), the loaders primed with them; with
        a `reader`, the same statement appends the event of each child's full-record read."""
        if reader is None:
            found = await self.file.load_many([(key, parts) for key in ids])
        else:
            try:
                found = await self.audited_file.load_many([(key, parts, reader) for key in ids])
            except Exception as error:
                self.audit_failure = error
                raise
        for file in found:
            if file is not None:
                self.prime_file(file)
                if reader is not None and file.audited is not None:
                    self.filed_reads[(reader.operation, (file.person.id,))] = file.audited
        return found

    async def page_with_files(self, request: persons.ChildPageRequest, parts: child_file.Parts) -> persons.Page:
        """A page of children read with their files (one round trip), the loaders primed."""
        found: tuple[persons.Page, list[child_file.ChildFile]] = await self.child_page_files.load((request, parts))
        page, files = found
        for file in files:
            self.prime_file(file)
        return page

    def prime_file(self, file: child_file.ChildFile) -> None:
        """Prime the loaders with what a file read, so the fields below it answer at once."""
        child = file.person.id
        self.person.prime(child, file.person)
        if file.parents is not None:
            self.parents.prime(child, file.parents)
        if file.parent_records is not None:
            self.parent_records.prime(child, file.parent_records)
        if file.guardians is not None:
            self.guardians.prime(child, file.guardians)
        if file.caregivers is not None:
            self.caregivers.prime(child, file.caregivers)
        if file.households is not None:
            self.household.prime_many(file.households)
        if file.members is not None:
            self.members.prime_many(file.members)

    def note_full_record_read(self, person: persons.PersonRecord, today: Any) -> None:
        """Remember that a child's full record was read through one of its fields."""
        if person.is_child_at(today):
            self.note_read(READ_CHILD, [person.id], person.region_code)

    def note_read(self, operation: str, ids: Sequence[str], region: str | None) -> None:
        """Remember a read of a full record (a case, a timeline...) touching `ids`, filed under
        `region` (the child's village)."""
        if ids:
            self.full_record_reads.setdefault((operation, tuple(ids)), region)


def cached(loader: DataLoader[K, V], key: K) -> Maybe[V]:
    """The loader's value for `key` when it already holds it, else the awaitable `load`."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return loader.load(key)


#: Types none of whose values is awaitable, learnt as `then` meets them: whether a value is
#: awaitable depends on its type alone (but for generators), and `inspect.isawaitable` of a
#: record (about 1 us) was some 8% of a list's walk, which meets a few hundred a request.
_NEVER_AWAITABLE: set[type] = set()


def then(found: Maybe[V], convert: Callable[[V], R]) -> Maybe[R]:
    """`convert` applied to a value at once, or when an awaitable one arrives."""
    kind = type(found)
    if kind not in _NEVER_AWAITABLE:
        if inspect.isawaitable(found):
            awaitable: Awaitable[V] = found

            async def later() -> R:
                return convert(await awaitable)

            return later()
        if not issubclass(kind, GeneratorType):
            _NEVER_AWAITABLE.add(kind)
    return convert(cast(V, found))  # not awaitable: its type never is, or was just checked
