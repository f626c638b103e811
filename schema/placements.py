"""Placements in GraphQL: `placeChild`, `endPlacement`, and the coordinator's `capacityOverrides`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from api.context import Info
from graph import placements
from graph.placements import OverrideRecord, PlacementRecord
from schema.writing import actor, idempotency_key, mutate

if TYPE_CHECKING:
    from schema.persons import Person

PersonType = Annotated["Person", strawberry.lazy("schema.persons")]


@strawberry.type(
    description="A child placed in an institution's care over an interval: emergency_shelter (临时庇护), "
    "temporary_state_guardianship (临时监护), long_term_state_guardianship (长期监护), foster_care (家庭寄养) "
    "or kinship_care (亲属抚养); imported placements have no kind."
)
class Placement:
    child_id: strawberry.ID
    institution_id: strawberry.ID
    institution_name: str | None
    kind: str | None
    since: dt.date
    until: dt.date | None
    case_id: strawberry.ID | None
    capacity_override: bool = strawberry.field(description="Placed over the institution's capacity.")
    override_reason: str | None
    note: str | None
    recorded_by: str | None
    recorded_at: dt.datetime | None
    ended_by: str | None
    ended_at: dt.datetime | None
    end_note: str | None

    @classmethod
    def from_record(cls, record: PlacementRecord) -> Self:
        return cls(
            child_id=strawberry.ID(record.child_id),
            institution_id=strawberry.ID(record.institution_id),
            institution_name=record.institution_name,
            kind=record.kind,
            since=record.since,
            until=record.until,
            case_id=None if record.case_id is None else strawberry.ID(record.case_id),
            capacity_override=record.capacity_override,
            override_reason=record.override_reason,
            note=record.note,
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
            ended_by=record.ended_by,
            ended_at=record.ended_at,
            end_note=record.end_note,
        )

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> PersonType | None:
        from schema.persons import Person

        record = await info.context.loaders.person.load(str(self.child_id))
        return None if record is None else Person.from_record(record)


@strawberry.type(description="A placement or referral that went over an institution's capacity: a flag for the county.")
class CapacityOverride:
    kind: str = strawberry.field(description="placement or referral")
    at: dt.datetime
    by: str | None
    child_id: strawberry.ID
    institution_id: strawberry.ID
    reason: str | None
    load: int | None = strawberry.field(description="Placements (or open referrals) it already had.")
    capacity: int | None
    subject: str = strawberry.field(description="The referral's id, or child|institution|since of the placement.")

    @classmethod
    def from_record(cls, record: OverrideRecord) -> Self:
        return cls(
            kind=record.kind,
            at=record.at,
            by=record.by,
            child_id=strawberry.ID(record.child_id),
            institution_id=strawberry.ID(record.institution_id),
            reason=record.reason,
            load=record.load,
            capacity=record.capacity,
            subject=record.subject,
        )


@strawberry.input(description="A placement; a full institution takes one only as an emergency_shelter override.")
class PlacementInput:
    child_id: strawberry.ID
    institution_id: strawberry.ID
    kind: str = strawberry.field(
        description="emergency_shelter, temporary_state_guardianship, long_term_state_guardianship, foster_care "
        "or kinship_care"
    )
    since: dt.date | None = strawberry.field(default=None, description="Default today.")
    until: dt.date | None = None
    case_id: strawberry.ID | None = strawberry.field(default=None, description="The child's case it serves, if any.")
    override_capacity: bool = strawberry.field(
        default=False, description="Place in a full emergency shelter anyway; needs overrideReason."
    )
    override_reason: str | None = None
    note: str | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type
class PlacementMutations:
    @strawberry.mutation(description="Place a child in an institution; a child has one placement at a time.")
    async def place_child(self, info: Info, input: PlacementInput) -> Placement:
        record = await mutate(
            placements.place_child(
                info.context.graph,
                actor(info),
                child=str(input.child_id),
                institution=str(input.institution_id),
                kind=input.kind,
                since=input.since,
                until=input.until,
                case=None if input.case_id is None else str(input.case_id),
                override_capacity=input.override_capacity,
                reason=input.override_reason,
                note=input.note,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Placement.from_record(record)

    @strawberry.mutation(description="End a placement on `until` (default today).")
    async def end_placement(
        self,
        info: Info,
        child_id: strawberry.ID,
        institution_id: strawberry.ID,
        since: dt.date,
        until: dt.date | None = None,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Placement:
        record = await mutate(
            placements.end_placement(
                info.context.graph,
                actor(info),
                child=str(child_id),
                institution=str(institution_id),
                since=since,
                until=until,
                note=note,
                today=info.context.today,
                key=idempotency_key(info, client_mutation_id),
            )
        )
        return Placement.from_record(record)


@strawberry.type
class PlacementQueries:
    @strawberry.field(
        description="Placements and referrals that went over an institution's capacity for the children of a "
        "region, newest first (at most 500)."
    )
    async def capacity_overrides(
        self, info: Info, region: str, since: dt.datetime | None = None
    ) -> list[CapacityOverride]:
        found = await placements.capacity_overrides(info.context.graph, actor(info), region, since=since)
        return [CapacityOverride.from_record(record) for record in found]
