"""Persons in GraphQL: the child's file (一人一档) and the people linked to it.

Every nested field goes through the request's DataLoaders, so a list of children and their
parents, guardians, caregivers and households costs one round trip per level. `child` and the
lists of children read the parts of the file their selection asks for in one statement
(`graph.child_file`) and prime the loaders with it; the fields below then answer from the
loaders without awaiting (`schema.loaders.cached`). Fields about a date take `asOf` (default:
today in the configured zone). People linked to a person in scope
but living outside it are a `LinkedPerson` whose `person` is null: id, name, and the link's
own facts (relation, status, interval), nothing more.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeVar

import strawberry
from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.dataloader import DataLoader

from api.context import Info
from graph import guardianship as records
from graph import persons as person_records
from graph.audit import AuditEntry, ReadAudit
from graph.child_file import Part, Parts, parts_of
from graph.dates import age_at
from graph.errors import LimitExceeded, NotFound
from graph.persons import ChildFilter, ChildPageRequest, ChildSort, PersonRecord
from graph.regions import scope_prefix
from schema.cost import page_limit
from schema.institutions import Institution
from schema.loaders import READ_CHILD, RECENT, Maybe, cached, then
from schema.masking import mask_id_number, mask_phone
from schema.pagination import PageInfo, decode_cursor, encode_cursor, page_info, page_size
from schema.placements import Placement
from schema.regions import Region
from schema.writing import audited, refuse

if TYPE_CHECKING:
    from schema.cases import Case
    from schema.households import Household

HouseholdType = Annotated["Household", strawberry.lazy("schema.households")]
CaseType = Annotated["Case", strawberry.lazy("schema.cases")]
ChildOrder = strawberry.enum(ChildSort, name="ChildSort", description="Orders a list of children may take.")
T = TypeVar("T")

#: The fields of a `Parent` worked out from the parent's away episodes and conditions.
HISTORY_FIELDS: frozenset[str] = frozenset({"status", "awayHistory"})

#: The fields whose selection below a root field makes it read that part of the files.
FILE_FIELDS: dict[str, Part] = {
    "parents": Part.PARENTS,
    "guardians": Part.GUARDIANS,
    "caregivers": Part.CAREGIVERS,
    "household": Part.HOUSEHOLDS,
    "members": Part.MEMBERS,
}


def file_parts(info: Info) -> Parts:
    """The parts of the children's files the root field's selection asks for, at any depth
    (fragments included): a part selected deeper than the file reaches reads for nothing.
    Read from the document itself: strawberry's `selected_fields` would first convert the whole
    selection with its arguments, which cost a tenth of a child file's execution.

    The parents' history is read only when a field worked out from it is selected below
    `parents`. Only the cost rests on getting this right: a status asked for of a parent read
    without it reads it (`Parent.status`)."""
    raw = info._raw_info
    found: set[Part] = set()
    seen: set[tuple[str, bool]] = set()
    for node in raw.field_nodes:
        _walk_parts(node.selection_set, False, raw.fragments, found, seen)
    return parts_of(found)


def _walk_parts(
    selection_set: SelectionSetNode | None,
    under_parents: bool,
    fragments: dict[str, FragmentDefinitionNode],
    found: set[Part],
    seen: set[tuple[str, bool]],
) -> None:
    """`file_parts`' walk, at module level: a nested function calling itself is a cycle (it and
    its cell), which kept the request's resolve info, context and records alive until the
    collector ran."""
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            name = selection.name.value
            part = FILE_FIELDS.get(name)
            if part is not None:
                found.add(part)
            if under_parents and name in HISTORY_FIELDS:
                found.add(Part.PARENT_HISTORY)
            _walk_parts(selection.selection_set, under_parents or part is Part.PARENTS, fragments, found, seen)
        elif isinstance(selection, InlineFragmentNode):
            _walk_parts(selection.selection_set, under_parents, fragments, found, seen)
        elif isinstance(selection, FragmentSpreadNode) and (selection.name.value, under_parents) not in seen:
            seen.add((selection.name.value, under_parents))
            fragment = fragments.get(selection.name.value)
            _walk_parts(None if fragment is None else fragment.selection_set, under_parents, fragments, found, seen)


#: The fields of a `Person` that note a read of a child's full record (`_read_full_record`).
FULL_RECORD_FIELDS: frozenset[str] = frozenset({"idNumber", "guardians", "caregivers", "cases"})


def reveals_full_record(info: Info) -> bool:
    """Whether the root field's selection surely resolves a field of `FULL_RECORD_FIELDS` on
    the person it returns: one directly below it (through fragments on `Person`), with no
    directive on it or on a fragment on the way, which might leave it out. Only then may the
    read append the event of the full-record read before the field is resolved; any other
    selection notes the read as it resolves, and has it appended after."""
    raw = info._raw_info
    return any(_selects_full_record(node.selection_set, raw.fragments, set()) for node in raw.field_nodes)


def _selects_full_record(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> bool:
    for selection in selection_set.selections if selection_set is not None else ():
        if selection.directives:
            continue
        if isinstance(selection, FieldNode):
            if selection.name.value in FULL_RECORD_FIELDS:
                return True
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if (condition is None or condition.name.value == "Person") and _selects_full_record(
                selection.selection_set, fragments, seen
            ):
                return True
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if (
                fragment is not None
                and not fragment.directives
                and fragment.type_condition.name.value == "Person"
                and _selects_full_record(fragment.selection_set, fragments, seen)
            ):
                return True
    return False


@functools.cache
def _household_type() -> type[Household]:
    """`Household`, which imports this module: an import statement in `Person.household` ran
    for every person of a list and was a tenth of the list's field resolution."""
    from schema.households import Household

    return Household


@strawberry.type(description="A person: for a child, their whole file (一人一档).")
class Person:
    id: strawberry.ID
    name: str
    gender: str | None
    birth_date: dt.date | None
    deceased_on: dt.date | None
    region_code: str | None = strawberry.field(description="Their household's village; null without one.")
    record: strawberry.Private[PersonRecord]

    @classmethod
    def from_record(cls, record: PersonRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            gender=record.gender,
            birth_date=record.birth_date,
            deceased_on=record.deceased_on,
            region_code=record.region_code,
            record=record,
        )

    def _read_full_record(self, info: Info) -> None:
        info.context.loaders.note_full_record_read(self.record, info.context.today)

    async def _holding(
        self, info: Info, loader: DataLoader[str, Any], as_of: dt.date | None, include_history: bool
    ) -> list[Any]:
        """This person's interval records from `loader`: those holding at `asOf`, or all."""
        day = info.context.as_of(as_of)
        return [r for r in await loader.load(self.record.id) if include_history or r.interval.holds(day)]

    def _holding_now(
        self,
        info: Info,
        loader: DataLoader[str, Any],
        as_of: dt.date | None,
        include_history: bool,
        convert: Callable[[Any], T],
    ) -> Maybe[list[T]]:
        """`_holding`, converted, at once when the loader holds this person's records."""
        day = info.context.as_of(as_of)
        return then(
            cached(loader, self.record.id),
            lambda found: [convert(r) for r in found if include_history or r.interval.holds(day)],
        )

    @strawberry.field(description="Age in completed years at `asOf`; null before birth or without a birth date.")
    def age(self, info: Info, as_of: dt.date | None = None) -> int | None:
        day = info.context.as_of(as_of)
        if self.record.birth_date is None or self.record.birth_date > day:
            return None
        return age_at(self.record.birth_date, day)

    @strawberry.field(description="Resident ID number, masked unless the caller's role sees it whole. Audited.")
    def id_number(self, info: Info) -> str | None:
        self._read_full_record(info)
        return mask_id_number(self.record.id_number, info.context.caller)

    @strawberry.field(description="Phone number; only the last 4 digits unless the caller's role sees it whole.")
    def phone(self, info: Info) -> str | None:
        return mask_phone(self.record.phone, info.context.caller)

    @strawberry.field(description="Their registered household.", graphql_type=HouseholdType | None)
    def household(self, info: Info) -> Maybe[Household | None]:
        if self.record.household_id is None:
            return None
        household = _household_type()
        return then(
            cached(info.context.loaders.household, self.record.household_id),
            lambda found: None if found is None else household.from_record(found),
        )

    @strawberry.field(description="Their household's village.")
    async def village(self, info: Info) -> Region | None:
        if self.record.region_code is None:
            return None
        found = await info.context.loaders.region.load(self.record.region_code)
        return None if found is None else Region.from_record(found)

    @strawberry.field(description="Recorded parents, with their status at a date.", graphql_type=list["Parent"])
    def parents(self, info: Info) -> Maybe[list[Parent]]:
        return then(
            cached(info.context.loaders.parents, self.record.id),
            lambda found: [Parent.from_record(p, self.record.id) for p in found],
        )

    @strawberry.field(
        description="Legal guardians at `asOf`, or every guardianship ever with `includeHistory`. Audited.",
        graphql_type=list["Guardian"],
    )
    def guardians(
        self, info: Info, as_of: dt.date | None = None, include_history: bool = False
    ) -> Maybe[list[Guardian]]:
        self._read_full_record(info)
        return self._holding_now(info, info.context.loaders.guardians, as_of, include_history, Guardian.from_record)

    @strawberry.field(
        description="Entrusted caregivers at `asOf`, or all of them with `includeHistory`. Audited.",
        graphql_type=list["Care"],
    )
    def caregivers(self, info: Info, as_of: dt.date | None = None, include_history: bool = False) -> Maybe[list[Care]]:
        self._read_full_record(info)
        return self._holding_now(info, info.context.loaders.caregivers, as_of, include_history, Care.from_record)

    @strawberry.field(description="School enrollments at `asOf`, or all with `includeHistory`.")
    async def enrollments(
        self, info: Info, as_of: dt.date | None = None, include_history: bool = False
    ) -> list[Enrollment]:
        found = await self._holding(info, info.context.loaders.enrollments, as_of, include_history)
        return [Enrollment.from_record(r) for r in found]

    @strawberry.field(description="The residential placement holding at `asOf`, if any.")
    async def placement(self, info: Info, as_of: dt.date | None = None) -> Placement | None:
        found = await info.context.loaders.placements.load(self.record.id)
        day = info.context.as_of(as_of)
        return next((Placement.from_record(p) for p in found if p.holds(day)), None)

    @strawberry.field(description="Every residential placement, oldest first.")
    async def placements(self, info: Info) -> list[Placement]:
        return [Placement.from_record(p) for p in await info.context.loaders.placements.load(self.record.id)]

    @strawberry.field(description="Volunteers or cadres paired with the child at `asOf`, or all with `includeHistory`.")
    async def pairings(self, info: Info, as_of: dt.date | None = None, include_history: bool = False) -> list[Pairing]:
        found = await self._holding(info, info.context.loaders.pairings, as_of, include_history)
        return [Pairing.from_record(r) for r in found]

    @strawberry.field(description="Registrations in a category at `asOf`, or all with `includeHistory`.")
    async def registrations(
        self, info: Info, as_of: dt.date | None = None, include_history: bool = False
    ) -> list[Registration]:
        found = await self._holding(info, info.context.loaders.registrations, as_of, include_history)
        return [Registration.from_record(r) for r in found]

    @strawberry.field(
        description="The person's own conditions (a child's severe disability, an adult's imprisonment) at `asOf`, "
        "or all with `includeHistory`."
    )
    async def conditions(
        self, info: Info, as_of: dt.date | None = None, include_history: bool = False
    ) -> list[ConditionType]:
        found = await self._holding(info, info.context.loaders.conditions, as_of, include_history)
        return [ConditionType.from_record(r) for r in found]

    @strawberry.field(description="Cases about this child, newest first, with their stage history. Audited.")
    async def cases(self, info: Info) -> list[CaseType]:
        from schema.cases import Case

        self._read_full_record(info)
        loaders = info.context.loaders
        found = await loaders.case.load_many(await loaders.case_ids.load(self.record.id))
        return [Case.from_record(record) for record in found if record is not None]

    @strawberry.field(
        description=f"The most recent contacts from parents or guardians, newest first (at most {RECENT}).",
        metadata=page_limit(RECENT),
    )
    async def recent_contacts(self, info: Info, first: int = 10) -> list[PersonContact]:
        found = await info.context.loaders.contacts.load(self.record.id)
        return [PersonContact.from_record(c) for c in found[: max(first, 0)]]

    @strawberry.field(
        description=f"The most recent visits, newest first (at most {RECENT}).", metadata=page_limit(RECENT)
    )
    async def recent_visits(self, info: Info, first: int = 10) -> list[PersonVisit]:
        found = await info.context.loaders.visits.load(self.record.id)
        return [PersonVisit.from_record(v) for v in found[: max(first, 0)]]


@strawberry.type(
    name="LinkedPerson",
    description="A person seen through a link. Outside the caller's scope only id and name are given.",
)
class LinkedPersonType:
    id: strawberry.ID
    name: str
    in_scope: bool
    person: Person | None = strawberry.field(
        description="The full record; null when the person lives outside the caller's scope."
    )

    @classmethod
    def from_record(cls, record: person_records.LinkedPerson) -> Self:
        person = None if record.person is None else Person.from_record(record.person)
        return cls(id=strawberry.ID(record.id), name=record.name, in_scope=record.in_scope, person=person)


@strawberry.type(name="AwayEpisode", description="A time away for work (外出务工).")
class AwayEpisodeType:
    since: dt.date
    until: dt.date | None
    destination: str | None
    destination_region: str | None

    @classmethod
    def from_record(cls, record: records.AwayEpisode) -> Self:
        return cls(
            since=record.interval.since,
            until=record.interval.until,
            destination=record.destination,
            destination_region=record.destination_region,
        )


@strawberry.type(name="Condition", description="A recorded condition (missing, imprisoned, ...) with its interval.")
class ConditionType:
    type: str
    since: dt.date
    until: dt.date | None

    @classmethod
    def from_record(cls, record: person_records.ConditionRecord) -> Self:
        return cls(type=record.type, since=record.interval.since, until=record.interval.until)


@strawberry.type(description="A parent's situation on one date.")
class ParentStatus:
    as_of: dt.date
    dead: bool
    away: AwayEpisodeType | None
    conditions: list[ConditionType]
    lacks_capacity: bool = strawberry.field(
        description="Dead, or missing, imprisoned, in compulsory rehab, detained, severely disabled or seriously ill."
    )


@strawberry.type(description="A recorded parent of a child.")
class Parent:
    parent: LinkedPersonType
    relation: str | None = strawberry.field(description="biological, adoptive or step.")
    record: strawberry.Private[records.ParentLink]
    #: The child whose parent this is: where the parent's history is looked up when `record`
    #: is a bare link.
    child_id: strawberry.Private[str]
    #: The date `status` is read at when it names none (a guardianship's `asOf`), else today.
    default_as_of: strawberry.Private[dt.date | None] = None

    @classmethod
    def from_record(cls, record: records.ParentLink, child_id: str, default_as_of: dt.date | None = None) -> Self:
        return cls(
            parent=LinkedPersonType.from_record(record.parent),
            relation=record.relation,
            record=record,
            child_id=child_id,
            default_as_of=default_as_of,
        )

    def _with_history(self, info: Info, convert: Callable[[records.ParentRecord], T]) -> Maybe[T]:
        """`convert` of this parent with what their status is worked out from: the record itself
        when it holds it, else the one the loader of whole records holds (a file read without
        the parents' history left it out, and its absence is no history). One `then` at most:
        the walk closes an awaitable it gives up on, and one nested in it would go unawaited."""
        record = self.record
        if isinstance(record, records.ParentRecord):
            return convert(record)
        parent = record.parent.id

        def find(found: list[records.ParentRecord]) -> T:
            for candidate in found:
                if candidate.parent.id == parent:
                    return convert(candidate)
            # Unlinked between the two reads: nothing to work a status out from.
            raise NotFound(f"parent {parent} of {self.child_id} is no longer recorded")

        return then(cached(info.context.loaders.parent_records, self.child_id), find)

    @strawberry.field(
        description="Away (where, since when), conditions and capacity at `asOf` (default: the enclosing date).",
        graphql_type=ParentStatus,
    )
    def status(self, info: Info, as_of: dt.date | None = None) -> Maybe[ParentStatus]:
        day = info.context.as_of(as_of or self.default_as_of)
        return self._with_history(info, lambda record: _status(record, day))

    @strawberry.field(description="Every time away, oldest first.", graphql_type=list[AwayEpisodeType])
    def away_history(self, info: Info) -> Maybe[list[AwayEpisodeType]]:
        return self._with_history(info, lambda record: [AwayEpisodeType.from_record(a) for a in record.away])


def _status(record: records.ParentRecord, day: dt.date) -> ParentStatus:
    away = record.away_at(day)
    return ParentStatus(
        as_of=day,
        dead=record.dead_at(day),
        away=None if away is None else AwayEpisodeType.from_record(away),
        conditions=[ConditionType.from_record(x) for x in record.conditions_at(day)],
        lacks_capacity=record.lacks_capacity_at(day),
    )


@strawberry.type(description="A legal guardianship (监护) of a child over an interval: a person or an institution.")
class Guardian:
    id: strawberry.ID
    name: str
    kind: str = strawberry.field(description="person or institution")
    in_scope: bool
    basis: str | None
    since: dt.date
    until: dt.date | None
    person: Person | None = strawberry.field(
        description="The guardian's full record when a person in the caller's scope."
    )
    institution: Institution | None = strawberry.field(
        description="The guardian when an institution in the caller's scope."
    )

    @classmethod
    def from_record(cls, record: records.GuardianInterval) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            kind=record.kind,
            in_scope=record.in_scope,
            basis=record.basis,
            since=record.interval.since,
            until=record.interval.until,
            person=None if record.person is None else Person.from_record(record.person),
            institution=None if record.institution is None else Institution.from_record(record.institution),
        )


def _linked(record: person_records.LinkedPerson | None) -> LinkedPersonType | None:
    return None if record is None else LinkedPersonType.from_record(record)


@strawberry.type(description="Day-to-day care by an entrusted caregiver (被委托照护人) over an interval.")
class Care:
    caregiver: LinkedPersonType
    since: dt.date
    until: dt.date | None
    agreement_signed_on: dt.date | None = strawberry.field(description="The written care agreement; null if none.")
    entrusted_by: LinkedPersonType | None

    @classmethod
    def from_record(cls, record: records.CareInterval) -> Self:
        return cls(
            caregiver=LinkedPersonType.from_record(record.other),
            since=record.interval.since,
            until=record.interval.until,
            agreement_signed_on=record.agreement_signed_on,
            entrusted_by=_linked(record.entrusted_by),
        )


@strawberry.type(description="A school enrollment over an interval.")
class Enrollment:
    institution_id: strawberry.ID
    institution_name: str | None
    since: dt.date
    until: dt.date | None
    grade: str | None
    boarding: bool | None

    @classmethod
    def from_record(cls, record: person_records.Enrollment) -> Self:
        return cls(
            institution_id=strawberry.ID(record.institution_id),
            institution_name=record.institution_name,
            since=record.interval.since,
            until=record.interval.until,
            grade=record.grade,
            boarding=record.boarding,
        )

    @strawberry.field(description="The institution, when in the caller's scope.")
    async def institution(self, info: Info) -> Institution | None:
        found = await info.context.loaders.institution.load(str(self.institution_id))
        return None if found is None else Institution.from_record(found)


@strawberry.type(description="A registration of a child in a category (left_behind, orphan, ...).")
class Registration:
    category: str
    since: dt.date
    until: dt.date | None

    @classmethod
    def from_record(cls, record: person_records.Registration) -> Self:
        return cls(category=record.category, since=record.interval.since, until=record.interval.until)


@strawberry.type(description="A volunteer or cadre paired with a child (结对帮扶).")
class Pairing:
    volunteer: LinkedPersonType
    since: dt.date
    until: dt.date | None

    @classmethod
    def from_record(cls, record: person_records.Pairing) -> Self:
        return cls(
            volunteer=LinkedPersonType.from_record(record.volunteer),
            since=record.interval.since,
            until=record.interval.until,
        )


@strawberry.type(description="A contact from a parent or guardian, as listed in a child's file.")
class PersonContact:
    on: dt.date
    channel: str
    by: LinkedPersonType

    @classmethod
    def from_record(cls, record: person_records.Encounter) -> Self:
        return cls(on=record.on, channel=record.kind, by=LinkedPersonType.from_record(record.by))


@strawberry.type(description="A visit to a child, as listed in the child's file.")
class PersonVisit:
    on: dt.date
    type: str
    notes: str | None
    by: LinkedPersonType

    @classmethod
    def from_record(cls, record: person_records.Encounter) -> Self:
        return cls(on=record.on, type=record.kind, notes=record.notes, by=LinkedPersonType.from_record(record.by))


# --- lists --------------------------------------------------------------------------------------


def _cursor(record: PersonRecord, sort: ChildSort) -> str:
    return encode_cursor(sort.value, _sort_value(record, sort), record.id)


def _edge_cursor(root: PersonEdge) -> str:
    # Made when asked for: most lists select the nodes alone, and making a cursor for each of
    # 50 children (JSON, then base64) was about 1% of a list's CPU.
    return _cursor(root.node.record, root.sort)


@strawberry.type
class PersonEdge:
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: Person
    sort: strawberry.Private[ChildSort]


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    filter: strawberry.Private[ChildFilter]

    @strawberry.field(description="Children matching the filter in the caller's scope, on every page.")
    async def total_count(self, info: Info) -> int:
        total: int = await info.context.loaders.child_count.load(self.filter)
        return total


def _sort_value(record: PersonRecord, sort: ChildSort) -> str | dt.date | None:
    if sort is ChildSort.NAME:
        return record.name
    if sort is ChildSort.BIRTH_DATE:
        return record.birth_date
    return None


async def child_page(
    info: Info,
    region: str,
    *,
    as_of: dt.date | None = None,
    registration_category: str | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    left_behind_as_of: dt.date | None = None,
    sort: ChildSort = ChildSort.ID,
    first: int | None = None,
    after: str | None = None,
) -> PersonConnection:
    """One page of living children under 18 at `asOf` in a region subtree and the scope."""
    child_filter = ChildFilter(
        scope_prefix(region),
        info.context.as_of(as_of),
        registration_category,
        min_age,
        max_age,
        left_behind_as_of,
    )
    child_filter.validate()
    request = ChildPageRequest(
        child_filter,
        sort,
        page_size(first, info.context.settings.limits),
        decode_cursor(after, sort.value, dated=sort is ChildSort.BIRTH_DATE),
    )
    parts = file_parts(info)
    loaders = info.context.loaders
    page = await loaders.page_with_files(request, parts) if parts else await loaders.child_page.load(request)
    edges = [PersonEdge(node=Person.from_record(p), sort=sort) for p in page.items]
    return PersonConnection(
        edges=edges,
        page_info=page_info([_cursor(p, sort) for p in page.items[-1:]], page.has_next_page),
        filter=child_filter,
    )


@strawberry.type(description="Two persons who look like the same human, and why.")
class DuplicateCandidate:
    first: Person
    second: Person
    reasons: list[str] = strawberry.field(
        description="same_name_and_birth_date, same_phone, id_number_differs_in_check_character"
    )


@contextmanager
def _lone_reader(info: Info) -> Iterator[ReadAudit | None]:
    """Who reads, when the root field's file statement is to append the event of its full-record
    read itself: a selection that surely reveals it, read while no shared audit transaction is
    under way (`AuditLog.alone`); else None, and the read is noted and appended after."""
    context = info.context
    if not reveals_full_record(info):
        yield None
        return
    with nullcontext(True) if context.audit_log is None else context.audit_log.alone() as alone:
        caller = context.caller
        yield ReadAudit(caller.sub, caller.role.value, READ_CHILD, caller.scope, context.today) if alone else None


@strawberry.type
class PersonQueries:
    @strawberry.field(description="A child (under 18 today) by id; null when absent, an adult, or out of scope.")
    async def child(self, info: Info, id: strawberry.ID) -> Person | None:
        parts = file_parts(info)
        loaders = info.context.loaders
        with _lone_reader(info) as reader:
            if parts or reader is not None:
                file = (await loaders.files([str(id)], parts, reader))[0]
                record = None if file is None else file.person
            else:
                record = await loaders.person.load(str(id))
        if record is None or not record.is_child_at(info.context.today):
            return None
        return Person.from_record(record)

    @strawberry.field(description="A person by id; null when absent or out of scope.")
    async def person(self, info: Info, id: strawberry.ID) -> Person | None:
        record = await info.context.loaders.person.load(str(id))
        return None if record is None else Person.from_record(record)

    @strawberry.field(
        description="Living children under 18 at `asOf` in a region's subtree and the caller's scope, "
        "optionally registered in a category, within an age range, or left-behind at a date."
    )
    async def children(
        self,
        info: Info,
        region: str,
        as_of: dt.date | None = None,
        registration_category: str | None = None,
        min_age: int | None = None,
        max_age: int | None = None,
        left_behind_as_of: dt.date | None = None,
        sort: ChildOrder = ChildSort.ID,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> PersonConnection:
        return await child_page(
            info,
            region,
            as_of=as_of,
            registration_category=registration_category,
            min_age=min_age,
            max_age=max_age,
            left_behind_as_of=left_behind_as_of,
            sort=ChildSort(sort),
            first=first,
            after=after,
        )

    @strawberry.field(
        description="Persons in scope matching every criterion given: name by prefix, birth date and ID number exactly."
    )
    async def search_persons(
        self,
        info: Info,
        name: str | None = None,
        birth_date: dt.date | None = None,
        id_number: str | None = None,
        first: int | None = None,
    ) -> list[Person]:
        context = info.context
        limit = page_size(first, context.settings.limits)
        if not id_number:
            found = await person_records.search(
                context.graph, scope=context.loaders.scope, name=name, birth_date=birth_date, limit=limit
            )
            return [Person.from_record(p) for p in found]
        caller = context.caller
        limits = context.settings.limits
        lookup = person_records.IdLookup(
            caller.sub, caller.role.value, limits.id_lookups_per_minute, limits.id_lookups_per_day
        )
        entry = AuditEntry(caller.sub, caller.role.value, person_records.ID_LOOKUP, [], "ok", context.loaders.scope)
        context.loaders.id_lookups += 1
        if context.loaders.id_lookups > 1:
            # Aliases would otherwise try every candidate a masked number allows in one request.
            await refuse(info, entry, LimitExceeded("idNumber: one look-up by ID number per request"))
        search = person_records.search_by_id_number(
            context.graph,
            lookup,
            scope=context.loaders.scope,
            name=name,
            birth_date=birth_date,
            id_number=id_number,
            limit=limit,
        )
        return [Person.from_record(p) for p in await audited(info, entry, search)]

    @strawberry.field(
        description="Pairs of persons in a region's subtree (and the caller's scope) who look like the same "
        "human: same name and birth date, same phone, or ID numbers that differ only in the check character."
    )
    async def duplicate_candidates(self, info: Info, region: str, first: int | None = None) -> list[DuplicateCandidate]:
        found = await person_records.duplicate_candidates(
            info.context.graph,
            scope_prefix(region),
            scope=info.context.loaders.scope,
            limit=page_size(first, info.context.settings.limits),
        )
        return [
            DuplicateCandidate(
                first=Person.from_record(d.first), second=Person.from_record(d.second), reasons=list(d.reasons)
            )
            for d in found
        ]
