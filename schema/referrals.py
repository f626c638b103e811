"""Referrals (转介) in GraphQL: refer, answer, inbox, overdue list and recommendations.

Institution staff read a referral addressed to their institution as its service, dates,
status, reason, and the child's name and age, nothing more: `child`, `childId`, `case` and
`caseId` are null for them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Final, Self

import strawberry

from api.context import Info
from graph import recommendations, referrals
from graph.dates import age_at
from graph.recommendations import InstitutionRecommendationRecord, VolunteerRecommendationRecord
from graph.referrals import ReferralRecord
from schema.access import may
from schema.institutions import Institution
from schema.persons import Person
from schema.writing import actor, idempotency_key, mutate

if TYPE_CHECKING:
    from schema.cases import Case

CaseType = Annotated["Case", strawberry.lazy("schema.cases")]

#: The statuses an institution's answer sets: their notes are the institution's own.
ANSWERS: Final = frozenset(referrals.DECISIONS[d] for d in referrals.INSTITUTION_DECISIONS)


@strawberry.type(description="One change of a referral's status: who, when and why.")
class StatusChange:
    status: str
    at: dt.datetime
    by: str | None
    note: str | None


@strawberry.type(description="A case referred to an institution for a service (转介).")
class Referral:
    id: strawberry.ID
    institution_id: strawberry.ID | None
    service: str
    on: dt.date
    due_on: dt.date
    status: str = strawberry.field(description="pending, accepted, declined, completed or withdrawn")
    reason: str | None
    updated_at: dt.datetime | None
    history: list[StatusChange]
    child_name: str | None
    record: strawberry.Private[ReferralRecord]

    @classmethod
    def from_record(cls, record: ReferralRecord, *, notes: bool = True) -> Self:
        """`notes`: whether the reader may see the case side's notes (pending, withdrawn); the
        institution's own answers keep theirs."""
        return cls(
            id=strawberry.ID(record.id),
            institution_id=None if record.institution_id is None else strawberry.ID(record.institution_id),
            service=record.service,
            on=record.on,
            due_on=record.due_on,
            status=record.status,
            reason=record.reason,
            updated_at=record.updated_at,
            history=[
                StatusChange(status=s.status, at=s.at, by=s.by, note=s.note if notes or s.status in ANSWERS else None)
                for s in record.history
            ],
            child_name=record.child_name,
            record=record,
        )

    @classmethod
    def of(cls, info: Info, record: ReferralRecord) -> Self:
        """The referral as the caller may read it: its notes only with `internalNotes`."""
        return cls.from_record(record, notes=may(info, "internalNotes"))

    @strawberry.field(description="The child's age in completed years at `asOf` (default today).")
    def child_age(self, info: Info, as_of: dt.date | None = None) -> int | None:
        born = self.record.child_birth_date
        day = info.context.as_of(as_of)
        return None if born is None or born > day else age_at(born, day)

    @strawberry.field(description="The child's id; null for institution staff.")
    def child_id(self, info: Info) -> strawberry.ID | None:
        if not may(info, "referralCase") or self.record.child_id is None:
            return None
        return strawberry.ID(self.record.child_id)

    @strawberry.field(description="The case referred; null for institution staff.")
    def case_id(self, info: Info) -> strawberry.ID | None:
        if not may(info, "referralCase") or self.record.case_id is None:
            return None
        return strawberry.ID(self.record.case_id)

    @strawberry.field(description="The child; null outside the caller's reach (always for institution staff).")
    async def child(self, info: Info) -> Person | None:
        if self.record.child_id is None or not may(info, "referralCase"):
            return None
        record = await info.context.loaders.person.load(self.record.child_id)
        return None if record is None else Person.from_record(record)

    @strawberry.field(description="The case; null outside the caller's scope (always for institution staff).")
    async def case(self, info: Info) -> CaseType | None:
        from schema.cases import Case, load_case

        if self.record.case_id is None or not may(info, "referralCase"):
            return None
        record = await load_case(info, self.record.case_id)
        return None if record is None else Case.from_record(record)

    @strawberry.field(description="The institution referred to; null outside the caller's scope.")
    async def institution(self, info: Info) -> Institution | None:
        if self.record.institution_id is None:
            return None
        record = await info.context.loaders.institution.load(self.record.institution_id)
        return None if record is None else Institution.from_record(record)


@strawberry.type(
    description="An institution that offers a service and has room, ranked for one child: nearest, then least loaded."
)
class InstitutionRecommendation:
    institution_id: strawberry.ID
    name: str
    type: str
    region_code: str
    services: list[str]
    capacity: int | None
    open_referrals: int = strawberry.field(description="Its referrals now pending or accepted.")
    load_ratio: float = strawberry.field(description="openReferrals / capacity; 0 without a capacity.")
    tier: str = strawberry.field(description="township, county or city: where it lies relative to the child.")

    @classmethod
    def from_record(cls, record: InstitutionRecommendationRecord) -> Self:
        return cls(
            institution_id=strawberry.ID(record.institution_id),
            name=record.name,
            type=record.type,
            region_code=record.region_code,
            services=list(record.services),
            capacity=record.capacity,
            open_referrals=record.open_referrals,
            load_ratio=record.load,
            tier=record.tier,
        )

    @strawberry.field(description="The institution; null when it lies outside the caller's scope.")
    async def institution(self, info: Info) -> Institution | None:
        record = await info.context.loaders.institution.load(str(self.institution_id))
        return None if record is None else Institution.from_record(record)


@strawberry.type(description="Someone who could be paired with a child (结对帮扶).")
class VolunteerRecommendation:
    person_id: strawberry.ID
    name: str
    roles: list[str] = strawberry.field(description="Staff roles they serve in, and `volunteer` for past pairings.")
    current_pairings: int

    @classmethod
    def from_record(cls, record: VolunteerRecommendationRecord) -> Self:
        return cls(
            person_id=strawberry.ID(record.person_id),
            name=record.name,
            roles=list(record.roles),
            current_pairings=record.current_pairings,
        )


@strawberry.input(description="A referral; field rules as the bundle's `referral` line.")
class ReferCaseInput:
    case_id: strawberry.ID
    institution_id: strawberry.ID
    service: str
    reason: str | None = None
    on: dt.date | None = strawberry.field(default=None, description="The referral's date; default today.")
    due_on: dt.date | None = strawberry.field(
        default=None,
        description="Default: `on` plus 1 day (urgency immediate), 3 (high) or 7 (normal); the urgency is "
        "`urgency`, else that of the case's report, else normal.",
    )
    urgency: str | None = None
    note: str | None = None
    override_capacity: bool = strawberry.field(
        default=False, description="Refer to a full emergency shelter anyway; needs overrideReason. Flagged."
    )
    override_reason: str | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description="Idempotency key for retries.")


@strawberry.type
class ReferralMutations:
    @strawberry.mutation(description="Refer a case to an institution that offers the service.")
    async def refer_case(self, info: Info, input: ReferCaseInput) -> Referral:
        record = await mutate(
            referrals.refer_case(
                info.context.graph,
                actor(info),
                case=str(input.case_id),
                institution=str(input.institution_id),
                service=input.service,
                reason=input.reason,
                on=input.on,
                due=input.due_on,
                urgency=input.urgency,
                note=input.note,
                override_capacity=input.override_capacity,
                override_reason=input.override_reason,
                today=info.context.today,
                key=idempotency_key(info, input.client_mutation_id),
            )
        )
        return Referral.of(info, record)

    @strawberry.mutation(
        description="Answer a referral: accept, decline or complete (the institution's staff), or withdraw "
        "(the case worker). pending → accepted | declined | withdrawn; accepted → completed | withdrawn."
    )
    async def respond_to_referral(
        self,
        info: Info,
        referral_id: strawberry.ID,
        decision: str,
        note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Referral:
        record = await mutate(
            referrals.respond(
                info.context.graph,
                actor(info),
                str(referral_id),
                decision,
                note=note,
                key=idempotency_key(info, client_mutation_id),
            )
        )
        return Referral.of(info, record)


@strawberry.type
class ReferralQueries:
    @strawberry.field(description="A referral by id; null when absent or not the caller's to read.")
    async def referral(self, info: Info, id: strawberry.ID) -> Referral | None:
        record = await referrals.get_referral(info.context.graph, actor(info), str(id))
        return None if record is None else Referral.of(info, record)

    @strawberry.field(
        description="The referrals addressed to an institution, soonest due first. Institution staff read "
        "their own institution's (no argument needed); case workers and coordinators name one."
    )
    async def referral_inbox(
        self, info: Info, institution_id: strawberry.ID | None = None, status: str | None = None
    ) -> list[Referral]:
        found = await referrals.inbox(
            info.context.graph, actor(info), None if institution_id is None else str(institution_id), status=status
        )
        return [Referral.of(info, record) for record in found]

    @strawberry.field(description="Referrals pending or accepted past their due date in a region, most overdue first.")
    async def overdue_referrals(self, info: Info, region: str, as_of: dt.date | None = None) -> list[Referral]:
        found = await referrals.overdue(
            info.context.graph,
            actor(info),
            region,
            as_of=info.context.as_of(as_of),
            zone=info.context.settings.timezone.key,
        )
        return [Referral.of(info, record) for record in found]

    @strawberry.field(
        description="Institutions offering `service` and not at capacity: the child's township first, then "
        "county, then city; lowest load ratio first, then by id."
    )
    async def recommend_institutions(
        self, info: Info, child_id: strawberry.ID, service: str, first: int | None = 10
    ) -> list[InstitutionRecommendation]:
        found = await recommendations.recommend_institutions(
            info.context.graph, actor(info), str(child_id), service, first=10 if first is None else first
        )
        return [InstitutionRecommendation.from_record(record) for record in found]

    @strawberry.field(
        description="Staff and volunteers serving the child's village or township, fewest current pairings first."
    )
    async def recommend_volunteers(
        self, info: Info, child_id: strawberry.ID, first: int | None = 10
    ) -> list[VolunteerRecommendation]:
        found = await recommendations.recommend_volunteers(
            info.context.graph,
            actor(info),
            str(child_id),
            today=info.context.today,
            first=10 if first is None else first,
        )
        return [VolunteerRecommendation.from_record(record) for record in found]
