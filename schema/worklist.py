"""The worklist (`worklist`) and visit coverage (`visitCoverage`): what the caller's children
need now, and how far the planned visits of 一年两排、季季巡、月月访 got (docs/worklist.md)."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from api.context import Info
from graph import followup, regions
from graph import worklist as work
from graph.discovery import Thresholds
from schema.access import scope
from schema.alerts import Alert
from schema.discovery import Finding, RiskLevel, listed_child, listed_children
from schema.pagination import PageInfo, decode_cursor, encode_cursor, page_info, page_size
from schema.persons import Person

CURSOR = "worklist"
#: At most this many late cases are read for one worklist (oldest first).
LATE_CASES = 500


@strawberry.type(description="One thing to do for a child: for a finding (`rule`) or a planned visit (`cadence`).")
class WorkStep:
    action: str = strawberry.field(
        description="VISIT, CONTACT_PARENTS, SIGN_CARE_AGREEMENT, FOLLOW_UP_REFERRAL, ARRANGE_CARE, REPLACE_CAREGIVER, "
        "REGISTER_CHILD, RESPOND_TO_REPORT, REVIEW_CAREGIVER, ARRANGE_SCHOOLING, REVIEW_CARE_LOAD, PAIR_VOLUNTEER or "
        "CHECK_ASSISTANCE"
    )
    action_text: str = strawberry.field(description="What to do, in Chinese.")
    level: RiskLevel
    rule: str | None = strawberry.field(description="The finding's rule; null for a planned visit.")
    cadence: str | None = strawberry.field(description="A planned visit's cadence: monthly, quarterly, half_yearly.")
    reason: str = strawberry.field(description="Why, from the evidence, in Chinese.")
    clears: str = strawberry.field(description="What would clear it, in Chinese.")
    since: dt.date | None = strawberry.field(description="Since when it has been true (where the evidence says).")
    due_on: dt.date
    overdue: bool
    alert: Alert | None = strawberry.field(description="The live alert behind the finding, with owner and history.")

    @classmethod
    def from_record(cls, step: work.Step, as_of: dt.date) -> Self:
        return cls(
            action=step.action,
            action_text=step.action_text,
            level=RiskLevel.of(step.level),
            rule=step.rule,
            cadence=None if step.cadence is None else step.cadence.value,
            reason=step.reason,
            clears=step.clears,
            since=step.since,
            due_on=step.due_on,
            overdue=step.due_on < as_of,
            alert=None if step.alert is None else Alert.from_record(step.alert),
        )


@strawberry.type(description="A child who needs something from the caller now, with what, why and by when.")
class WorkItem:
    level: RiskLevel
    action: str = strawberry.field(description="The most urgent step's action code.")
    action_text: str = strawberry.field(description="The most urgent step's action, in Chinese.")
    due_on: dt.date | None = strawberry.field(description="The earliest due date among the steps.")
    overdue: bool
    since: dt.date | None = strawberry.field(description="Since when the oldest of its reasons has been true.")
    reasons: list[str] = strawberry.field(description="Every step's reason, in Chinese, most urgent first.")
    steps: list[WorkStep]
    findings: list[Finding]
    last_visit_on: dt.date | None
    record: strawberry.Private[work.WorkItem]
    person: strawberry.Private[Person | None]

    @classmethod
    def from_record(cls, item: work.WorkItem, as_of: dt.date, person: Person | None) -> Self:
        return cls(
            level=RiskLevel.of(item.level),
            action=item.first.action,
            action_text=item.first.action_text,
            due_on=item.due_on,
            overdue=item.due_on < as_of,
            since=item.since,
            reasons=item.reasons,
            steps=[WorkStep.from_record(s, as_of) for s in item.steps],
            findings=[Finding.from_record(f) for f in item.findings],
            last_visit_on=item.last_visit,
            record=item,
            person=person,
        )

    @strawberry.field(description="The child.")
    def child(self) -> Person:
        return listed_child(self.person)


@strawberry.type
class WorklistEdge:
    cursor: str
    node: WorkItem


@strawberry.type
class WorklistConnection:
    edges: list[WorklistEdge]
    page_info: PageInfo
    total_count: int
    as_of: dt.date


@strawberry.type(description="How many children one cadence planned a visit for, and how many had one.")
class CadenceCoverage:
    cadence: str = strawberry.field(description="monthly (月月访), quarterly (季季巡) or half_yearly (一年两排).")
    planned: int
    visited: int


@strawberry.type(description="One village's planned home visits in a month and how many were made.")
class VillageVisitCoverage:
    village: str
    children: int
    planned: int
    visited: int
    rate: float = strawberry.field(description="visited / planned; 1 when nothing was planned.")
    cadences: list[CadenceCoverage]
    unvisited_child_ids: list[strawberry.ID]

    @classmethod
    def from_record(cls, v: work.VillageCoverage) -> Self:
        return cls(
            village=v.village,
            children=v.children,
            planned=v.planned,
            visited=v.visited,
            rate=1.0 if v.planned == 0 else v.visited / v.planned,
            cadences=[
                CadenceCoverage(cadence=c.cadence.value, planned=c.planned, visited=c.visited) for c in v.cadences
            ],
            unvisited_child_ids=[strawberry.ID(i) for i in v.unvisited],
        )


def _thresholds(info: Info) -> Thresholds:
    return Thresholds(timezone=info.context.settings.timezone.key)


@strawberry.type
class WorklistQueries:
    @strawberry.field(
        description="The children in the caller's scope who need something from them as of `asOf` (default today): "
        "most urgent first (level, then due date, then child id), each with what to do, why, since when, what "
        "clears it and by when (docs/worklist.md)."
    )
    async def worklist(
        self, info: Info, as_of: dt.date | None = None, first: int | None = None, after: str | None = None
    ) -> WorklistConnection:
        within = scope(info, "worklist")
        day = info.context.as_of(as_of)
        position = decode_cursor(after, CURSOR)
        settings = info.context.settings
        # Cases late at the end of `day` (today: now), so a past worklist shows what was late then.
        zone = settings.timezone
        now = dt.datetime.now(zone) if as_of is None else dt.datetime.combine(day, dt.time.max, zone)
        late, _ = await followup.list_cases(
            info.context.graph,
            followup.CaseListRequest(info.context.caller.region or "", overdue=True),
            scope=within,
            now=now,
            rules=settings.case_deadlines,
            zone=settings.timezone.key,
            first=LATE_CASES,
        )
        found = await work.worklist(
            info.context.graph,
            scope_prefix=within,
            as_of=day,
            late_cases=[(case, due) for case, due in late if due is not None],
            thresholds=_thresholds(info),
            policy=info.context.settings.alert_policy,
            first=page_size(first, info.context.settings.limits),
            after=None if position is None else (None if position[0] is None else str(position[0]), position[1]),
            materialised=True,
        )
        children = await listed_children(info, [item.child_id for item in found.items])
        edges = [
            WorklistEdge(
                cursor=encode_cursor(CURSOR, work.cursor_value(item), item.child_id),
                node=WorkItem.from_record(item, day, child),
            )
            for item, child in zip(found.items, children, strict=True)
        ]
        return WorklistConnection(
            edges=edges,
            page_info=page_info([e.cursor for e in edges], found.has_next_page),
            total_count=found.total_count,
            as_of=day,
        )

    @strawberry.field(
        description="Per village of the region (and the caller's scope), the home visits planned by 月月访 (red and "
        "yellow children, monthly), 季季巡 (blue, quarterly) and 一年两排 (every child, half-yearly) as of the end of "
        "`month` (YYYY-MM; today for the current month), and how many were made in each cadence's period."
    )
    async def visit_coverage(self, info: Info, region: str, month: str) -> list[VillageVisitCoverage]:
        within = scope(info, "visitCoverage")
        found = await work.visit_coverage(
            info.context.graph,
            region_prefix=regions.scope_prefix(region),
            scope_prefix=within,
            month=month,
            today=info.context.today,
            thresholds=_thresholds(info),
        )
        return [VillageVisitCoverage.from_record(v) for v in found]
