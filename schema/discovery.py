"""Proactive discovery (`discover`, `riskProfile`): children at risk, their level and evidence.

The rules run in `graph.discovery`; this module checks the role, turns the region code into
its prefix, passes the caller's scope, and converts the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Self

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from api.context import Info
from graph import discovery, regions
from graph.errors import NotFound
from schema.access import scope
from schema.loaders import Maybe
from schema.pagination import PageInfo, page_info, page_size
from schema.persons import Person


@strawberry.enum(description="Four-colour management (四色管理): red > yellow > blue > green.")
class RiskLevel(Enum):
    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"
    GREEN = "green"

    @classmethod
    def of(cls, level: discovery.Level) -> RiskLevel:
        return cls(level.value)


@strawberry.type(
    description="A record that made a finding true. `kind` says which fields are set: parent (id), birth/death "
    "(personId, on), away (key, personId, since), condition (key, type, personId, since), registration (key, "
    "category, since), caregiver (id, on = birth date, count), care (caregiverId, since), contact/visit "
    "(personId, on, days since), report (id, at, on, urgency), referral (id, dueOn, status, caseId), enrollment "
    "(id = institution, since, until), household (id, values = low-income statuses)."
)
class Evidence:
    kind: str
    # Defaults, class attributes of the dataclass: what `from_fields` leaves unset reads them.
    id: strawberry.ID | None = None
    key: str | None = None
    person_id: strawberry.ID | None = None
    caregiver_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None
    type: str | None = None
    category: str | None = None
    urgency: str | None = None
    status: str | None = None
    on: dt.date | None = None
    at: dt.datetime | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    due_on: dt.date | None = None
    days: int | None = None
    count: int | None = None
    values: Sequence[str] = ()

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Self:
        """Evidence from the fields set on it, by name (a risk node's, `discovery.StoredFinding`):
        taken as they are, the names being this type's own (`discovery.Evidence`'s), where a
        constructor call per item was a tenth of a page's CPU."""
        evidence = cls.__new__(cls)
        evidence.__dict__.update(fields)
        return evidence

    @classmethod
    def from_record(cls, e: discovery.Evidence) -> Self:
        return cls(
            kind=e.kind,
            id=None if e.id is None else strawberry.ID(e.id),
            key=e.key,
            person_id=None if e.person_id is None else strawberry.ID(e.person_id),
            caregiver_id=None if e.caregiver_id is None else strawberry.ID(e.caregiver_id),
            case_id=None if e.case_id is None else strawberry.ID(e.case_id),
            type=e.type,
            category=e.category,
            urgency=e.urgency,
            status=e.status,
            on=e.on,
            at=e.at,
            since=e.since,
            until=e.until,
            due_on=e.due_on,
            days=e.days,
            count=e.count,
            values=list(e.values),
        )


@strawberry.type(description="One rule that fires for a child, at its level, with the records that made it true.")
class Finding:
    rule: str
    level: RiskLevel
    evidence: list[Evidence]

    @classmethod
    def from_record(cls, finding: discovery.Finding) -> Self:
        return cls(
            rule=finding.rule,
            level=RiskLevel.of(finding.level),
            evidence=[Evidence.from_record(e) for e in finding.evidence],
        )

    @classmethod
    def from_stored(cls, finding: discovery.StoredFinding) -> Self:
        return cls(
            rule=finding["rule"],
            level=RiskLevel(finding["level"]),
            evidence=[Evidence.from_fields(e) for e in finding["evidence"]],
        )


@strawberry.type(description="The thresholds a discovery used (docs/discovery.md); a deployment may configure them.")
class DiscoveryThresholds:
    contact_blue_days: int
    contact_yellow_days: int
    visit_blue_days: int
    visit_yellow_days: int
    caregiver_age: int
    overload_children: int
    report_immediate_days: int
    report_high_days: int
    report_normal_days: int
    timezone: str = strawberry.field(description="The zone in which a report's time is read as a date.")

    @classmethod
    def from_record(cls, t: discovery.Thresholds) -> Self:
        return cls(
            contact_blue_days=t.contact_blue_days,
            contact_yellow_days=t.contact_yellow_days,
            visit_blue_days=t.visit_blue_days,
            visit_yellow_days=t.visit_yellow_days,
            caregiver_age=t.caregiver_age,
            overload_children=t.overload_children,
            report_immediate_days=t.report_immediate_days,
            report_high_days=t.report_high_days,
            report_normal_days=t.report_normal_days,
            timezone=t.timezone,
        )


@strawberry.type(description="A child's level as of a date and every finding behind it.")
class RiskProfile:
    level: RiskLevel
    findings: list[Finding]
    as_of: dt.date
    thresholds: DiscoveryThresholds
    person: strawberry.Private[Person | None]

    @classmethod
    def from_record(
        cls, record: discovery.ChildRisk, as_of: dt.date, thresholds: DiscoveryThresholds, person: Person | None
    ) -> Self:
        return cls(
            level=RiskLevel.of(record.level),
            findings=[Finding.from_record(f) for f in record.findings],
            as_of=as_of,
            thresholds=thresholds,
            person=person,
        )

    @classmethod
    def from_stored(
        cls, stored: discovery.StoredChild, as_of: dt.date, thresholds: DiscoveryThresholds, person: Person | None
    ) -> Self:
        return cls(
            level=RiskLevel.of(stored.level),
            findings=[Finding.from_stored(f) for f in stored.findings],
            as_of=as_of,
            thresholds=thresholds,
            person=person,
        )

    @strawberry.field(description="The child.")
    def child(self) -> Person:
        return listed_child(self.person)


async def listed_children(info: Info, child_ids: Sequence[str]) -> list[Person | None]:
    """The children a list found in the caller's scope a moment ago, read in one batch before
    its items are answered, so each item's `child` is at hand (None: gone from scope since).
    Nothing is noted for the audit here: a child's fields note their own reads when resolved."""
    found = await info.context.loaders.person.load_many(list(child_ids))
    return [None if person is None else Person.from_record(person) for person in found]


def listed_child(person: Person | None) -> Person:
    """An item's child (`listed_children`); NOT_FOUND when it left the caller's scope."""
    if person is None:
        raise NotFound("the child is no longer in scope")
    return person


@strawberry.type
class DiscoveryEdge:
    cursor: str
    node: RiskProfile


@dataclass(frozen=True, slots=True)
class DiscoveryRequest:
    """What one `discover` asked for, so `totalCount` counts exactly the same children."""

    region_prefix: str
    scope_prefix: str
    as_of: dt.date
    thresholds: discovery.Thresholds
    rules: tuple[str, ...] | None
    min_level: discovery.Level

    async def edges(self, info: Info, first: int, after: str | None, with_total: bool) -> Edges:
        """The page's edges, whether there is a next one and, `with_total`, the count of all.

        Today's page comes from the risk nodes with its children's records in one round trip;
        any other (another day, nodes not trusted) is evaluated, its children read after it."""
        as_of, loaders = self.as_of, info.context.loaders
        thresholds = DiscoveryThresholds.from_record(self.thresholds)
        stored = await discovery.stored_page(
            info.context.graph, region_prefix=self.region_prefix, scope_prefix=self.scope_prefix, as_of=as_of,
            thresholds=self.thresholds, rules=self.rules, min_level=self.min_level, first=first, after=after,
            with_total=with_total, person_scope=loaders.scope,
        )  # fmt: skip
        if stored is not None:
            edges = []
            for item in stored.items:
                person = item.person
                if person is not None:
                    # What the page read is the person loader's record of the child (same fields, same scope).
                    loaders.person.prime(person.id, person)
                child = None if person is None else Person.from_record(person)
                edges.append(
                    DiscoveryEdge(cursor=item.cursor, node=RiskProfile.from_stored(item, as_of, thresholds, child))
                )
            return Edges(edges, stored.has_next_page, stored.total_count, thresholds)
        page = await discovery.discover_page(
            info.context.graph, region_prefix=self.region_prefix, scope_prefix=self.scope_prefix, as_of=as_of,
            thresholds=self.thresholds, rules=self.rules, min_level=self.min_level, first=first, after=after,
            with_total=with_total,
        )  # fmt: skip
        children = await listed_children(info, [c.child_id for c in page.items])
        evaluated = [
            DiscoveryEdge(cursor=c.cursor, node=RiskProfile.from_record(c, as_of, thresholds, child))
            for c, child in zip(page.items, children, strict=True)
        ]
        return Edges(evaluated, page.has_next_page, page.total_count, thresholds)

    async def count(self, info: Info) -> int:
        return await discovery.discover_count(
            info.context.graph,
            region_prefix=self.region_prefix,
            scope_prefix=self.scope_prefix,
            as_of=self.as_of,
            thresholds=self.thresholds,
            rules=self.rules,
            min_level=self.min_level,
            materialised=True,
        )


@dataclass(frozen=True, slots=True)
class Edges:
    edges: list[DiscoveryEdge]
    has_next_page: bool
    total: int | None
    thresholds: DiscoveryThresholds


@strawberry.type
class DiscoveryConnection:
    edges: list[DiscoveryEdge]
    page_info: PageInfo
    as_of: dt.date
    thresholds: DiscoveryThresholds
    request: strawberry.Private[DiscoveryRequest]
    #: counted with the page when the selection asked for it
    total: strawberry.Private[int | None]

    @strawberry.field(
        description="Children at `minLevel` or above in the region and scope, on every page.", graphql_type=int
    )
    def total_count(self, info: Info) -> Maybe[int]:
        # Not `async`: counted with the page, it answers at once (`schema.execution`'s walk).
        return self.total if self.total is not None else self.request.count(info)


def _thresholds(info: Info) -> discovery.Thresholds:
    """The default thresholds, with reports read as dates in the deployment's zone."""
    return discovery.Thresholds(timezone=info.context.settings.timezone.key)


def _asks(info: Info, name: str) -> bool:
    """Whether the field's own selection names the field `name`, directly or in a fragment. A
    directive is not read: counted for a field it then skips, a count costs time, never a
    different answer."""
    raw = info._raw_info
    pending = [node.selection_set for node in raw.field_nodes]
    seen: set[str] = set()
    while pending:
        selection_set = pending.pop()
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                if selection.name.value == name:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = raw.fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
    return False


@strawberry.type
class DiscoveryQueries:
    @strawberry.field(
        description="Children in the region's subtree (and the caller's scope) at `minLevel` or above (default "
        "BLUE; GREEN lists every child) as of `asOf` (default today), most severe first, then by child id."
    )
    async def discover(
        self,
        info: Info,
        region: str,
        as_of: dt.date | None = None,
        rules: list[str] | None = None,
        min_level: RiskLevel = RiskLevel.BLUE,
        first: int | None = None,
        after: str | None = None,
    ) -> DiscoveryConnection:
        request = DiscoveryRequest(
            region_prefix=regions.scope_prefix(region),
            scope_prefix=scope(info, "discover"),
            as_of=info.context.as_of(as_of),
            thresholds=_thresholds(info),
            rules=None if rules is None else discovery.validate_rules(rules),
            min_level=discovery.Level(min_level.value),
        )
        page = await request.edges(
            info, page_size(first, info.context.settings.limits), after, with_total=_asks(info, "totalCount")
        )
        return DiscoveryConnection(
            edges=page.edges,
            page_info=page_info([e.cursor for e in page.edges], page.has_next_page),
            as_of=request.as_of,
            thresholds=page.thresholds,
            request=request,
            total=page.total,
        )

    @strawberry.field(
        description="One child's level and findings as of `asOf` (default today); null when absent, not a child "
        "then, or out of scope."
    )
    async def risk_profile(
        self, info: Info, child_id: strawberry.ID, as_of: dt.date | None = None
    ) -> RiskProfile | None:
        day = info.context.as_of(as_of)
        thresholds = _thresholds(info)
        record = await discovery.risk_profile(
            info.context.graph,
            str(child_id),
            scope_prefix=scope(info, "riskProfile"),
            as_of=day,
            thresholds=thresholds,
        )
        if record is None:
            return None
        info.context.loaders.note_read("riskProfile", [record.child_id], record.region_code)
        (child,) = await listed_children(info, [record.child_id])
        return RiskProfile.from_record(record, day, DiscoveryThresholds.from_record(thresholds), child)
