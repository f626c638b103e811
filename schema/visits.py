"""Visits and contacts in GraphQL: `recordVisit`, `recordContact`."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import visits
from graph.visits import ContactRecord, VisitRecord
from schema.persons import Person
from schema.writing import actor, idempotency_key, mutate


async def _person(info: Info, person_id: str) -> Person | None:
    record = await info.context.loaders.person.load(person_id)
    return None if record is None else Person.from_record(record)


@strawberry.type(description="A visit to a child by a children's director, case worker or volunteer.")
class Visit:
    id: strawberry.ID = strawberry.field(
        description="visitor|child|on|type|digest of the notes: every field of its bundle line identifies a visit."
    )
    visitor_id: strawberry.ID
    child_id: strawberry.ID
    on: dt.date
    type: str = strawberry.field(description="home_visit, school_visit or phone_check")
    notes: str | None
    recorded_by: str | None
    recorded_at: dt.datetime | None

    @classmethod
    def from_record(cls, record: VisitRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            visitor_id=strawberry.ID(record.visitor_id),
            child_id=strawberry.ID(record.child_id),
            on=record.on,
            type=record.type,
            notes=record.notes,
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
        )

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        return await _person(info, str(self.child_id))

    @strawberry.field(description="The visitor; null outside the caller's reach.")
    async def visitor(self, info: Info) -> Person | None:
        return await _person(info, str(self.visitor_id))


@strawberry.type(description="A contact from a parent or guardian to a child.")
class Contact:
    id: strawberry.ID = strawberry.field(description="from|child|on|channel: a contact's identity.")
    from_id: strawberry.ID
    child_id: strawberry.ID
    on: dt.date
    channel: str = strawberry.field(description="phone, video, in_person or message")
    recorded_by: str | None
    recorded_at: dt.datetime | None

    @classmethod
    def from_record(cls, record: ContactRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            from_id=strawberry.ID(record.from_id),
            child_id=strawberry.ID(record.child_id),
            on=record.on,
            channel=record.channel,
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
        )

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        return await _person(info, str(self.child_id))


@strawberry.input(description="A visit; field rules as the bundle's `visit` line.")
class VisitInput:
    child_id: strawberry.ID
    type: str = strawberry.field(description="home_visit, school_visit or phone_check")
    visitor_id: strawberry.ID | None = strawberry.field(default=None, description="Default: the caller.")
    on: dt.date | None = strawberry.field(default=None, description="Default today; never in the future.")
    notes: str | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.input(description="A contact; field rules as the bundle's `contact` line.")
class ContactInput:
    child_id: strawberry.ID
    from_id: strawberry.ID = strawberry.field(description="A parent or guardian of the child.")
    channel: str = strawberry.field(description="phone, video, in_person or message")
    on: dt.date | None = strawberry.field(default=None, description="Default today; never in the future.")
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type
class VisitMutations:
    @strawberry.mutation(
        description="Record a visit to a child in your scope. A second visit of the same day is another visit; "
        "one identical in every field to a kept visit is a CONFLICT; only a retry with its clientMutationId replays."
    )
    async def record_visit(self, info: Info, input: VisitInput) -> Visit:
        record = await mutate(
            visits.record_visit(
                info.context.graph,
                actor(info),
                child=str(input.child_id),
                type=input.type,
                visitor=None if input.visitor_id is None else str(input.visitor_id),
                on=input.on,
                notes=input.notes,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Visit.from_record(record)

    @strawberry.mutation(description="Record a contact from a parent or guardian to a child in your scope.")
    async def record_contact(self, info: Info, input: ContactInput) -> Contact:
        record = await mutate(
            visits.record_contact(
                info.context.graph,
                actor(info),
                child=str(input.child_id),
                sender=str(input.from_id),
                channel=input.channel,
                on=input.on,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Contact.from_record(record)
