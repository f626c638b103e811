"""Per-request DataLoaders: every nested field is fetched by level, one round trip per level.

Each loader batches the keys asked for during one tick into one repository call, whose Cypher
carries the caller's scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Final, TypeVar

from strawberry.dataloader import DataLoader

from graph import cases, followup, guardianship, households, institutions, persons, placements, referrals, regions
from graph.access import read_scope
from graph.callers import Caller
from graph.driver import Graph

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

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
