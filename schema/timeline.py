"""A child's file as one timeline, in GraphQL (see `graph.timeline`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Self

import strawberry

from api.context import Info
from graph import timeline
from graph.timeline import TimelineEvent as Event
from schema.access import may
from schema.writing import actor


@strawberry.type(description="One event in a child's file.")
class TimelineEvent:
    kind: str = strawberry.field(
        description="report, case_stage, referral_status, visit, contact, care_started, care_ended, "
        "care_agreement_signed, guardian_set, guardian_ended, alert, away_started, away_ended (a parent's), "
        "condition_started, condition_ended (the child's or a parent's), registered, deregistered, enrolled, "
        "enrollment_ended, placed, placement_ended, paired, unpaired, file_corrected (value: the operation)"
    )
    on: dt.date = strawberry.field(description="Its day (in the configured zone).")
    at: dt.datetime | None = strawberry.field(description="Its instant, for events that have one.")
    subject_id: strawberry.ID = strawberry.field(
        description="The report, case, referral or alert; the visitor, parent, caregiver, guardian or volunteer; "
        "the person away or with the condition; the child (registrations); the institution (enrollments, placements)."
    )
    value: str | None = strawberry.field(
        description="Category, stage, status, visit type, channel, basis, destination, condition type, grade or "
        "placement kind."
    )
    detail: str | None = strawberry.field(
        description="A report's urgency; a referral's `service @ institution`; an alert's `rule level`; an away "
        "episode's destination region."
    )
    actor: str | None = strawberry.field(description="Who did or recorded it.")
    note: str | None

    @classmethod
    def from_record(cls, record: Event) -> Self:
        return cls(
            kind=record.kind,
            on=record.on,
            at=record.at,
            subject_id=strawberry.ID(record.subject),
            value=record.value,
            detail=record.detail,
            actor=record.actor,
            note=record.note,
        )


@strawberry.type
class TimelineQueries:
    @strawberry.field(
        description="A child's reports, case stages, referrals, visits, contacts, care and guardianship "
        "changes, alerts, the parents' away episodes, conditions, registrations, enrollments, placements and "
        "pairings in time order; empty when the child is absent or out of scope. Audited."
    )
    async def timeline(self, info: Info, child_id: strawberry.ID) -> list[TimelineEvent]:
        zone = info.context.settings.timezone.key
        found = await timeline.timeline(info.context.graph, actor(info), str(child_id), zone=zone)
        if found:
            child = await info.context.loaders.person.load(str(child_id))
            info.context.loaders.note_read("timeline", [str(child_id)], None if child is None else child.region_code)
        hide_reporter = not may(info, "reporterIdentity")
        return [
            TimelineEvent.from_record(replace(event, actor=None) if hide_reporter and event.kind == "report" else event)
            for event in found
        ]
