"""Per-request DataLoaders: every nested field is fetched by level, one round trip per level.

Each loader batches the keys asked for during one tick into one repository call, whose Cypher
carries the caller's scope.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Final, TypeAlias, TypeVar

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


class Loaders:
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
        self.region = DataLoader[str, regions.RegionRecord | None](self._load_regions)
        self.child_regions = DataLoader[str, list[regions.RegionRecord]](self._load_child_regions)

        self.person = self._by_id(persons.get_persons, None)
        self.household = self._by_id(households.get_households, None)
        self.institution = self._by_id(institutions.get_institutions, None)
        self.institution_load = self._by_id(institutions.loads, 0)
        self.members = self._by_id(households.members, [])
        self.parents = self._by_id(guardianship.parents, [])
        self.guardians = self._by_id(guardianship.guardians, [])
        self.caregivers = self._by_id(guardianship.caregivers, [])
        self.enrollments = self._by_id(persons.enrollments, [])
        self.placements = self._by_id(placements.of_children, [])
        self.registrations = self._by_id(persons.registrations, [])
        self.conditions = self._by_id(persons.conditions, [])
        self.pairings = self._by_id(persons.pairings, [])
        self.contacts = self._by_id(lambda g, ids, scope: persons.contacts(g, ids, scope=scope, recent=RECENT), [])
        self.case_ids = self._by_id(persons.case_ids, [])
        self.case = self._by_id(cases.get_cases, None)
        self.visits = self._by_id(lambda g, ids, scope: persons.visits(g, ids, scope=scope, recent=RECENT), [])
        rules = deadlines or followup.StageDeadlines()
        self.case_deadline = self._by_id(
            lambda g, ids, scope: followup.deadlines(g, ids, scope=scope, rules=rules, zone=zone), None
        )
        self.case_changes = self._by_id(followup.changes, [])
        self.case_assessments = self._by_id(followup.assessments, [])
        self.case_plans = self._by_id(followup.plans, [])
        self.case_referrals = self._by_id(referrals.referrals_of_cases, [])

        #: (child id, parts) -> the child's file read in one statement; `file_of` primes the
        #: loaders above with it.
        self.file = self._batched(child_file.child_files)

        self.child_page = self._batched(persons.child_pages)
        self.child_count = self._batched(persons.count_children)
        self.household_page = self._batched(households.pages)
        self.household_count = self._batched(households.counts)
        self.institution_page = self._batched(institutions.pages)
        self.institution_count = self._batched(institutions.counts)

        #: Full records this request read: (operation, ids touched) -> the child's village. The
        #: request appends one audit event each when it ends (`schema.audit`).
        self.full_record_reads: dict[tuple[str, tuple[str, ...]], str | None] = {}
        #: Look-ups by a full ID number this request made (at most one is answered).
        self.id_lookups = 0

    def _by_id(self, fetch: Callable[..., Awaitable[Mapping[str, Any]]], default: Any) -> DataLoader[str, Any]:
        async def load(ids: Sequence[str]) -> list[Any]:
            found = await fetch(self.graph, list(ids), scope=self.scope)
            return [found.get(key, default) for key in ids]

        return DataLoader[str, Any](load)

    def _batched(self, fetch: Callable[..., Awaitable[Sequence[V]]]) -> DataLoader[Any, V]:
        async def load(keys: Sequence[Any]) -> list[V]:
            return list(await fetch(self.graph, list(keys), scope=self.scope))

        return DataLoader[Any, V](load)

    async def files(self, ids: Sequence[str], parts: child_file.Parts) -> list[child_file.ChildFile | None]:
        """The files of the children `ids` (one round trip), the loaders primed with them."""
        found = await self.file.load_many([(key, parts) for key in ids])
        for file in found:
            if file is not None:
                self.prime_file(file)
        return found

    def prime_file(self, file: child_file.ChildFile) -> None:
        """Prime the loaders with what a file read, so the fields below it answer at once."""
        child = file.person.id
        self.person.prime(child, file.person)
        if file.parents is not None:
            self.parents.prime(child, file.parents)
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

    async def _load_regions(self, codes: Sequence[str]) -> list[regions.RegionRecord | None]:
        found = await regions.get_regions(self.graph, list(codes), scope=self.scope)
        return [found.get(code) for code in codes]

    async def _load_child_regions(self, codes: Sequence[str]) -> list[list[regions.RegionRecord]]:
        found = await regions.child_regions(self.graph, list(codes), scope=self.scope)
        return [found[code] for code in codes]


def cached(loader: DataLoader[K, V], key: K) -> Maybe[V]:
    """The loader's value for `key` when it already holds it, else the awaitable `load`."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return loader.load(key)


def then(found: Maybe[V], convert: Callable[[V], R]) -> Maybe[R]:
    """`convert` applied to a value at once, or when an awaitable one arrives."""
    if inspect.isawaitable(found):
        awaitable: Awaitable[V] = found

        async def later() -> R:
            return convert(await awaitable)

        return later()
    return convert(found)
