"""Keeping a child's file current in GraphQL: care, guardians, away episodes, conditions,
registrations, pairings and enrollments (see `graph.care` for the rules).

Every `record…`/`set…`/`pair…`/`enrol…`/`register…` mutation writes a new interval;
every `end…`/`unpair…`/`deregister…` sets the `until` of one, identified by its endpoints and
`since`. All return an `IntervalRecord`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

import strawberry

from api.context import Info
from graph import care
from graph.care import IntervalRecord as Record
from schema.writing import actor, idempotency_key, mutate


def _key() -> Any:
    return strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type(description="One interval record of a child's file, as written or ended.")
class IntervalRecord:
    kind: str = strawberry.field(description="care, guardian, away, condition, registration, pairing or enrollment")
    id: strawberry.ID = strawberry.field(description="kind|endpoints…|since: the record's identity.")
    since: dt.date
    until: dt.date | None
    child_id: strawberry.ID | None
    person_id: strawberry.ID | None = strawberry.field(description="away, condition: whose record it is.")
    caregiver_id: strawberry.ID | None
    guardian_id: strawberry.ID | None = strawberry.field(description="A person or an institution.")
    volunteer_id: strawberry.ID | None
    institution_id: strawberry.ID | None
    type: str | None = strawberry.field(description="condition: its type.")
    category: str | None = strawberry.field(description="registration: its category.")
    basis: str | None
    agreement_signed_on: dt.date | None
    entrusted_by_id: strawberry.ID | None
    destination: str | None
    destination_region: str | None
    grade: str | None
    boarding: bool | None
    recorded_by: str | None
    recorded_at: dt.datetime | None
    ended_by: str | None
    ended_at: dt.datetime | None
    end_note: str | None

    @classmethod
    def from_record(cls, record: Record) -> Self:
        every = record.identity | record.values

        def ident(name: str) -> strawberry.ID | None:
            value = every.get(name)
            return None if value is None else strawberry.ID(str(value))

        return cls(
            kind=record.kind,
            id=strawberry.ID(record.id),
            since=record.since,
            until=record.until,
            child_id=ident("child"),
            person_id=ident("person"),
            caregiver_id=ident("caregiver"),
            guardian_id=ident("guardian"),
            volunteer_id=ident("volunteer"),
            institution_id=ident("institution"),
            type=every.get("type"),
            category=every.get("category"),
            basis=every.get("basis"),
            agreement_signed_on=every.get("agreementSignedOn"),
            entrusted_by_id=ident("entrustedBy"),
            destination=every.get("destination"),
            destination_region=every.get("destinationRegion"),
            grade=every.get("grade"),
            boarding=every.get("boarding"),
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
            ended_by=record.ended_by,
            ended_at=record.ended_at,
            end_note=record.end_note,
        )


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


@strawberry.input(description="Day-to-day care by an entrusted caregiver, with its written agreement.")
class CareInput:
    caregiver_id: strawberry.ID
    child_id: strawberry.ID
    since: dt.date
    until: dt.date | None = None
    agreement_signed_on: dt.date | None = strawberry.field(default=None, description="书面照护协议: when signed.")
    entrusted_by_id: strawberry.ID | None = strawberry.field(default=None, description="The guardian entrusting.")
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {
            "caregiver": str(self.caregiver_id),
            "child": str(self.child_id),
            "since": self.since,
            "until": self.until,
            "agreementSignedOn": self.agreement_signed_on,
            "entrustedBy": _id(self.entrusted_by_id),
        }


@strawberry.input(description="A legal guardian (a person or an institution) of a child.")
class GuardianInput:
    guardian_id: strawberry.ID
    child_id: strawberry.ID
    since: dt.date
    basis: str = strawberry.field(description="parent, relative, court_appointed or state")
    until: dt.date | None = None
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {
            "guardian": str(self.guardian_id),
            "child": str(self.child_id),
            "since": self.since,
            "until": self.until,
            "basis": self.basis,
        }


@strawberry.input(description="A time a person is away for work (外出务工).")
class AwayInput:
    person_id: strawberry.ID
    since: dt.date
    destination: str
    until: dt.date | None = None
    destination_region: str | None = None
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {
            "person": str(self.person_id),
            "since": self.since,
            "until": self.until,
            "destination": self.destination,
            "destinationRegion": self.destination_region,
        }


@strawberry.input(description="A condition of a person (missing, imprisoned, abuse_record, ...).")
class ConditionInput:
    person_id: strawberry.ID
    type: str
    since: dt.date
    until: dt.date | None = None
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {"person": str(self.person_id), "type": self.type, "since": self.since, "until": self.until}


@strawberry.input(description="A registration of a child in a category (left_behind, orphan, ...).")
class RegistrationInput:
    child_id: strawberry.ID
    category: str
    since: dt.date
    until: dt.date | None = None
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {"child": str(self.child_id), "category": self.category, "since": self.since, "until": self.until}


@strawberry.input(description="A volunteer or cadre paired with a child (结对帮扶).")
class PairingInput:
    volunteer_id: strawberry.ID
    child_id: strawberry.ID
    since: dt.date
    until: dt.date | None = None
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {
            "volunteer": str(self.volunteer_id),
            "child": str(self.child_id),
            "since": self.since,
            "until": self.until,
        }


@strawberry.input(description="A child's enrollment in a school or kindergarten.")
class EnrollmentInput:
    child_id: strawberry.ID
    institution_id: strawberry.ID
    since: dt.date
    until: dt.date | None = None
    grade: str | None = None
    boarding: bool | None = None
    client_mutation_id: str | None = _key()

    def bundle(self) -> dict[str, Any]:
        return {
            "child": str(self.child_id),
            "institution": str(self.institution_id),
            "since": self.since,
            "until": self.until,
            "grade": self.grade,
            "boarding": self.boarding,
        }


async def _record(info: Info, kind: str, fields: dict[str, Any], client_mutation_id: str | None) -> IntervalRecord:
    record = await mutate(
        care.record_interval(
            info.context.graph,
            actor(info),
            kind,
            fields,
            today=info.context.today,
            key=idempotency_key(info, client_mutation_id),
        )
    )
    return IntervalRecord.from_record(record)


async def _end(
    info: Info,
    kind: str,
    identity: dict[str, str],
    since: dt.date,
    until: dt.date | None,
    note: str | None,
    client_mutation_id: str | None,
) -> IntervalRecord:
    record = await mutate(
        care.end_interval(
            info.context.graph,
            actor(info),
            kind,
            identity,
            since,
            until or info.context.today,
            note=note,
            key=idempotency_key(info, client_mutation_id),
        )
    )
    return IntervalRecord.from_record(record)


UNTIL = "The last day it held (inclusive); default today."


@strawberry.type
class CareMutations:
    @strawberry.mutation(description="Record that a caregiver looks after a child from `since`.")
    async def record_care(self, info: Info, input: CareInput) -> IntervalRecord:
        return await _record(info, "care", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End a care arrangement. " + UNTIL)
    async def end_care(
        self,
        info: Info,
        caregiver_id: strawberry.ID,
        child_id: strawberry.ID,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        identity = {"caregiver": str(caregiver_id), "child": str(child_id)}
        return await _end(info, "care", identity, since, until, note, client_mutation_id)

    @strawberry.mutation(description="Record that the written agreement of a care arrangement was signed.")
    async def sign_care_agreement(
        self,
        info: Info,
        caregiver_id: strawberry.ID,
        child_id: strawberry.ID,
        since: dt.date,
        signed_on: dt.date | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        record = await mutate(
            care.sign_care_agreement(
                info.context.graph,
                actor(info),
                caregiver=str(caregiver_id),
                child=str(child_id),
                since=since,
                signed_on=signed_on or info.context.today,
                today=info.context.today,
                key=idempotency_key(info, client_mutation_id),
            )
        )
        return IntervalRecord.from_record(record)

    @strawberry.mutation(description="Record a legal guardian of a child from `since`.")
    async def set_guardian(self, info: Info, input: GuardianInput) -> IntervalRecord:
        return await _record(info, "guardian", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End a guardianship. " + UNTIL)
    async def end_guardian(
        self,
        info: Info,
        guardian_id: strawberry.ID,
        child_id: strawberry.ID,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        identity = {"guardian": str(guardian_id), "child": str(child_id)}
        return await _end(info, "guardian", identity, since, until, note, client_mutation_id)

    @strawberry.mutation(description="Record a time away for work.")
    async def record_away(self, info: Info, input: AwayInput) -> IntervalRecord:
        return await _record(info, "away", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End a time away (the person came back). " + UNTIL)
    async def end_away(
        self,
        info: Info,
        person_id: strawberry.ID,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        return await _end(info, "away", {"person": str(person_id)}, since, until, note, client_mutation_id)

    @strawberry.mutation(description="Record a condition of a person.")
    async def record_condition(self, info: Info, input: ConditionInput) -> IntervalRecord:
        return await _record(info, "condition", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End a condition. " + UNTIL)
    async def end_condition(
        self,
        info: Info,
        person_id: strawberry.ID,
        type: str,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        identity = {"person": str(person_id), "type": type}
        return await _end(info, "condition", identity, since, until, note, client_mutation_id)

    @strawberry.mutation(description="Register a child in a category (coordinators).")
    async def register_child(self, info: Info, input: RegistrationInput) -> IntervalRecord:
        return await _record(info, "registration", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End a child's registration in a category (coordinators). " + UNTIL)
    async def deregister_child(
        self,
        info: Info,
        child_id: strawberry.ID,
        category: str,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        identity = {"child": str(child_id), "category": category}
        return await _end(info, "registration", identity, since, until, note, client_mutation_id)

    @strawberry.mutation(description="Pair a volunteer with a child.")
    async def pair_volunteer(self, info: Info, input: PairingInput) -> IntervalRecord:
        return await _record(info, "pairing", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End a pairing. " + UNTIL)
    async def unpair_volunteer(
        self,
        info: Info,
        volunteer_id: strawberry.ID,
        child_id: strawberry.ID,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        identity = {"volunteer": str(volunteer_id), "child": str(child_id)}
        return await _end(info, "pairing", identity, since, until, note, client_mutation_id)

    @strawberry.mutation(description="Enrol a child in a school.")
    async def enrol_child(self, info: Info, input: EnrollmentInput) -> IntervalRecord:
        return await _record(info, "enrollment", input.bundle(), input.client_mutation_id)

    @strawberry.mutation(description="End an enrollment (left or graduated). " + UNTIL)
    async def end_enrollment(
        self,
        info: Info,
        child_id: strawberry.ID,
        institution_id: strawberry.ID,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> IntervalRecord:
        identity = {"child": str(child_id), "institution": str(institution_id)}
        return await _end(info, "enrollment", identity, since, until, note, client_mutation_id)
