"""Guardianship tracing (case workers, coordinators, admins): who is legally responsible for a
child and who looks after them on a date, a caregiver's network, and how two people are linked.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from api.context import Info
from graph import guardianship as records
from schema.persons import Care, Guardian, LinkedPersonType, Parent, Person
from schema.placements import Placement


@strawberry.type(description="Who is responsible for a child on a date, and the whole history.")
class Guardianship:
    child: Person
    as_of: dt.date
    parents: list[Parent]
    legal_guardians: list[Guardian] = strawberry.field(description="Guardianships holding at `asOf`.")
    caregivers: list[Care] = strawberry.field(description="Entrusted caregivers holding at `asOf`.")
    placement: Placement | None = strawberry.field(description="The residential placement holding at `asOf`.")
    guardian_history: list[Guardian] = strawberry.field(description="Every guardianship interval, oldest first.")
    care_history: list[Care] = strawberry.field(description="Every care interval, oldest first.")
    placement_history: list[Placement]


@strawberry.type(description="A child one caregiver looks after (or did), with the interval and agreement.")
class CaredChild:
    child: LinkedPersonType
    since: dt.date
    until: dt.date | None
    agreement_signed_on: dt.date | None
    entrusted_by: LinkedPersonType | None
    current: bool = strawberry.field(description="The care holds today.")


@strawberry.type(description="Every child in scope one caregiver looks after, across households.")
class CaregiverNetwork:
    caregiver: Person
    children: list[CaredChild]


@strawberry.enum(description="How two nodes on a path are linked.")
class LinkType(Enum):
    PARENT_OF = "PARENT_OF"
    GUARDIAN_OF = "GUARDIAN_OF"
    CARES_FOR = "CARES_FOR"
    MEMBER_OF = "MEMBER_OF"


@strawberry.type(description="A person, household or institution on a path.")
class PathNode:
    id: strawberry.ID
    name: str | None
    kind: str = strawberry.field(description="person, household or institution")


@strawberry.type(description="One typed step: `from` is linked to `to` by `type` (e.g. from PARENT_OF to).")
class PathStep:
    type: LinkType
    from_: strawberry.ID = strawberry.field(name="from")
    to: strawberry.ID
    since: dt.date | None
    until: dt.date | None


@strawberry.type(description="The shortest link between two people, as nodes in order and the steps between them.")
class PersonPath:
    length: int
    nodes: list[PathNode]
    steps: list[PathStep]


@strawberry.type
class GuardianshipQueries:
    @strawberry.field(
        description="Who is legally responsible for a child and who looks after them on `asOf` (default "
        "today), with the full history; null when the child is absent or out of scope. Audited."
    )
    async def guardianship(
        self, info: Info, child_id: strawberry.ID, as_of: dt.date | None = None
    ) -> Guardianship | None:
        loaders = info.context.loaders
        record = await loaders.person.load(str(child_id))
        if record is None:
            return None
        loaders.note_full_record_read(record, info.context.today)
        day = info.context.as_of(as_of)
        # Whole records: the guardianship shows each parent's status.
        parents = await loaders.parent_records.load(record.id)
        guardians = await loaders.guardians.load(record.id)
        cares = await loaders.caregivers.load(record.id)
        placements = await loaders.placements.load(record.id)
        return Guardianship(
            child=Person.from_record(record),
            as_of=day,
            parents=[Parent.from_record(p, record.id, default_as_of=day) for p in parents],
            legal_guardians=[Guardian.from_record(g) for g in guardians if g.interval.holds(day)],
            caregivers=[Care.from_record(c) for c in cares if c.interval.holds(day)],
            placement=next((Placement.from_record(p) for p in placements if p.holds(day)), None),
            guardian_history=[Guardian.from_record(g) for g in guardians],
            care_history=[Care.from_record(c) for c in cares],
            placement_history=[Placement.from_record(p) for p in placements],
        )

    @strawberry.field(
        description="Every child in scope one caregiver looks after, across households; null when absent."
    )
    async def caregiver_network(self, info: Info, person_id: strawberry.ID) -> CaregiverNetwork | None:
        loaders = info.context.loaders
        caregiver = await loaders.person.load(str(person_id))
        if caregiver is None:
            return None
        cares = await records.caregiver_network(info.context.graph, caregiver.id, scope=loaders.scope) or []
        today = info.context.today
        return CaregiverNetwork(
            caregiver=Person.from_record(caregiver),
            children=[
                CaredChild(
                    child=LinkedPersonType.from_record(c.other),
                    since=c.interval.since,
                    until=c.interval.until,
                    agreement_signed_on=c.agreement_signed_on,
                    entrusted_by=None if c.entrusted_by is None else LinkedPersonType.from_record(c.entrusted_by),
                    current=c.interval.holds(today),
                )
                for c in cares
            ],
        )

    @strawberry.field(
        description="How two people in scope are linked through family, guardianship, care and household, "
        "in at most `maxHops` steps (1 to 6); null when they are not, or either is absent or out of scope."
    )
    async def path_between(
        self, info: Info, a: strawberry.ID, b: strawberry.ID, max_hops: int = 4
    ) -> PersonPath | None:
        found = await records.path_between(
            info.context.graph, str(a), str(b), max_hops=max_hops, scope=info.context.loaders.scope
        )
        if found is None:
            return None
        return PersonPath(
            length=len(found.steps),
            nodes=[PathNode(id=strawberry.ID(n.id), name=n.name, kind=n.kind) for n in found.nodes],
            steps=[
                PathStep(
                    type=LinkType(s.type),
                    from_=strawberry.ID(s.source),
                    to=strawberry.ID(s.target),
                    since=s.since,
                    until=s.until,
                )
                for s in found.steps
            ],
        )
