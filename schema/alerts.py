"""Alerts in GraphQL: `sweep` (coordinators), `acknowledgeAlert`, `reassignAlert`, `alerts`,
`alertChanges`, and the `alertRaised(region)` subscription that pushes red alerts as sweeps and
writes raise or escalate them.

Live alerts travel through an in-process hub kept in the application's state (made in the
lifespan, which also hands it to the writes' re-evaluation): every subscriber of this process
hears every sweep and every write of this process at once, and those of every other process
through the database (`graph.alert_feed`, polled by the lifespan). An alert heard both ways is
pushed once: the hub remembers the number each alert took when it became red.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

import strawberry

from api.context import Info
from graph import alerts, regions
from graph.audit import AuditEntry
from graph.discovery import Level, Thresholds
from graph.errors import DatabaseUnavailable
from graph.persons import PersonRecord
from schema.access import scope
from schema.discovery import RiskLevel
from schema.errors import StatusMessage
from schema.persons import Person
from schema.writing import audited, mutate


class AlertHub:
    """Fan-out of newly red alerts to this process's subscribers, each (alert, number) once, and
    of the database's coming and going (a `bool`: whether it answers), so a subscriber can tell
    "no red alert" from "no alert can be raised now"."""

    #: the (alert id, red number) pairs remembered against a second announcement
    REMEMBERED = 10_000

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[alerts.Alert | bool]] = set()
        self._published: OrderedDict[tuple[str, int | None], None] = OrderedDict()

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[alerts.Alert | bool]]:
        queue: asyncio.Queue[alerts.Alert | bool] = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def reachability(self, reachable: bool) -> None:
        """The database was lost (False) or answers again (True): the circuit breaker says so."""
        for queue in self._queues:
            if queue.full():  # make room: the status matters more than the oldest alert
                queue.get_nowait()
            queue.put_nowait(reachable)

    def publish(self, raised: list[alerts.Alert]) -> None:
        fresh = []
        for alert in raised:
            key = (alert.id, alert.red_seq)
            if key in self._published:
                continue  # heard already, from this process's write or from the database
            self._published[key] = None
            fresh.append(alert)
        while len(self._published) > self.REMEMBERED:
            self._published.popitem(last=False)
        for queue in self._queues:
            for alert in fresh:
                if not queue.full():  # a stalled subscriber loses alerts rather than memory
                    queue.put_nowait(alert)


def hub(info: Info) -> AlertHub:
    state = info.context.request.app.state
    found: AlertHub | None = getattr(state, "alert_hub", None)
    if found is None:
        found = AlertHub()
        state.alert_hub = found
    return found


@strawberry.type(description="One step in an alert's life.")
class AlertChange:
    change: str = strawberry.field(
        description="raised, escalated (level rose), lowered, assigned, reassigned, overdue (handed up a tier), "
        "acknowledged or resolved"
    )
    status: str
    level: RiskLevel
    at: dt.datetime
    on: dt.date = strawberry.field(description="The as-of date of the sweep (or the day acknowledged).")
    by: str | None
    note: str | None
    to: strawberry.ID | None = strawberry.field(
        description="Whom an assignment, a reassignment or an overdue escalation handed the alert to."
    )

    @classmethod
    def from_record(cls, c: alerts.AlertChange) -> Self:
        return cls(
            change=c.change,
            status=c.status,
            level=RiskLevel.of(c.level),
            at=c.at,
            on=c.on,
            by=c.by,
            note=c.note,
            to=None if c.to is None else strawberry.ID(c.to),
        )


@strawberry.type(description="A discovery finding that persists between sweeps: open, acknowledged or resolved.")
class Alert:
    id: strawberry.ID
    child_id: strawberry.ID
    rule: str
    level: RiskLevel
    status: str
    raised_on: dt.date
    resolved_on: dt.date | None
    history: list[AlertChange]
    due_on: dt.date | None = strawberry.field(
        description="The day by which it should be resolved: its colour's days after it was raised or rose "
        "(red 1, yellow 7, blue 30 by default), renewed at each overdue escalation."
    )
    tier: int = strawberry.field(
        description="0 with its owner; 1 handed up to the township's supervisor; 2 to the county's coordinator."
    )
    record: strawberry.Private[alerts.Alert]

    @classmethod
    def from_record(cls, a: alerts.Alert) -> Self:
        return cls(
            id=strawberry.ID(a.id),
            child_id=strawberry.ID(a.child_id),
            rule=a.rule,
            level=RiskLevel.of(a.level),
            status=a.status,
            raised_on=a.raised_on,
            resolved_on=a.resolved_on,
            history=[AlertChange.from_record(c) for c in a.history],
            due_on=a.due_on,
            tier=a.tier,
            record=a,
        )

    @strawberry.field(description="Whether it is still live after its due date (as of today).")
    def overdue(self, info: Info) -> bool:
        return self.record.overdue(info.context.today)

    @strawberry.field(
        description="Who must act on it: the village's children's director holding a post on the day it was raised "
        "(the township's supervisor where the village has none), or whom it was reassigned to; id and name only."
    )
    def owner(self) -> Person | None:
        return _colleague(self.record.owner_id, self.record.owner_name)

    @strawberry.field(description="Whom it was handed up to when overdue (tier 1 or 2); id and name only.")
    def escalated_to(self) -> Person | None:
        return _colleague(self.record.escalated_to_id, self.record.escalated_to_name)

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        return await _child(info, self.child_id)


async def _child(info: Info, child_id: strawberry.ID) -> Person | None:
    record = await info.context.loaders.person.load(str(child_id))
    return None if record is None else Person.from_record(record)


def _colleague(person_id: str | None, name: str | None) -> Person | None:
    """A staff member seen through an alert: as far as the link requires, their id and name."""
    if person_id is None:
        return None
    return Person.from_record(PersonRecord(person_id, name or "", None, None, None, None, None, None, None))


@strawberry.type(description="What one sweep changed.")
class SweepReport:
    id: strawberry.ID
    as_of: dt.date
    raised: list[strawberry.ID]
    escalated: list[strawberry.ID]
    lowered: list[strawberry.ID]
    resolved: list[strawberry.ID]


@strawberry.type(description="An alert the latest sweep of a region raised, escalated, lowered or resolved.")
class SweepChange:
    change: str
    alert_id: strawberry.ID
    child_id: strawberry.ID
    rule: str
    level: RiskLevel

    @strawberry.field(description="The child; null outside the caller's reach.")
    async def child(self, info: Info) -> Person | None:
        return await _child(info, self.child_id)


@strawberry.type
class AlertChanges:
    sweep_id: strawberry.ID | None = strawberry.field(description="Null when the region was never swept.")
    changes: list[SweepChange]


def _ids(values: tuple[str, ...]) -> list[strawberry.ID]:
    return [strawberry.ID(v) for v in values]


@strawberry.type
class AlertQueries:
    @strawberry.field(description="Alerts of children in the region (and the caller's scope), most severe first.")
    async def alerts(self, info: Info, region: str, status: str | None = None) -> list[Alert]:
        found = await alerts.list_alerts(
            info.context.graph,
            region_prefix=regions.scope_prefix(region),
            scope_prefix=scope(info, "alerts"),
            status=status,
        )
        return [Alert.from_record(a) for a in found]

    @strawberry.field(description="What the region's latest sweep changed: new, escalated, lowered, resolved.")
    async def alert_changes(self, info: Info, region: str) -> AlertChanges:
        sweep_id, changes = await alerts.changes_since_last_sweep(
            info.context.graph, region_prefix=regions.scope_prefix(region), scope_prefix=scope(info, "alertChanges")
        )
        return AlertChanges(
            sweep_id=None if sweep_id is None else strawberry.ID(sweep_id),
            changes=[
                SweepChange(
                    change=c.change,
                    alert_id=strawberry.ID(c.alert_id),
                    child_id=strawberry.ID(c.child_id),
                    rule=c.rule,
                    level=RiskLevel.of(c.level),
                )
                for c in changes
            ],
        )


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        description="Run discovery for a region as of `asOf` (default today) and persist its findings as alerts."
    )
    async def sweep(self, info: Info, region: str, as_of: dt.date | None = None) -> SweepReport:
        caller = info.context.caller
        prefix = regions.scope_prefix(region)
        within = scope(info, "sweep")
        # Filed under the region swept, so its auditors see who swept it (or tried to).
        entry = AuditEntry(caller.sub, caller.role.value, "sweep", [region], "ok", region)
        result = await audited(
            info,
            entry,
            alerts.sweep(
                info.context.graph,
                region_prefix=prefix,
                scope_prefix=within,
                as_of=info.context.as_of(as_of),
                thresholds=Thresholds(timezone=info.context.settings.timezone.key),
                by=caller.sub,
                audit=entry,
                policy=info.context.settings.alert_policy,
            ),
        )
        fresh = set(result.raised) | set(result.escalated)
        if fresh:
            live = await alerts.list_alerts(
                info.context.graph, region_prefix=prefix, scope_prefix=within, status="open"
            )
            hub(info).publish([a for a in live if a.id in fresh and a.level is Level.RED])
        return SweepReport(
            id=strawberry.ID(result.id),
            as_of=result.as_of,
            raised=_ids(result.raised),
            escalated=_ids(result.escalated),
            lowered=_ids(result.lowered),
            resolved=_ids(result.resolved),
        )

    @strawberry.mutation(description="Acknowledge an open alert; the note is kept in its history.")
    async def acknowledge_alert(self, info: Info, alert_id: strawberry.ID, note: str) -> Alert:
        caller = info.context.caller
        within = scope(info, "acknowledgeAlert")
        entry = AuditEntry(caller.sub, caller.role.value, "acknowledgeAlert", [str(alert_id)], "ok", within)
        record = await audited(
            info,
            entry,
            mutate(
                alerts.acknowledge(
                    info.context.graph, str(alert_id), note=note, by=caller.sub, scope_prefix=within, audit=entry
                )
            ),
        )
        return Alert.from_record(record)

    @strawberry.mutation(
        description="Give a live alert to another person (who holds a post at its village or above, in your scope), "
        "with a note kept in its history."
    )
    async def reassign_alert(self, info: Info, alert_id: strawberry.ID, owner_id: strawberry.ID, note: str) -> Alert:
        caller = info.context.caller
        within = scope(info, "reassignAlert")
        entry = AuditEntry(caller.sub, caller.role.value, "reassignAlert", [str(alert_id), str(owner_id)], "ok", within)
        record = await audited(
            info,
            entry,
            alerts.reassign(
                info.context.graph,
                str(alert_id),
                owner_id=str(owner_id),
                note=note,
                by=caller.sub,
                scope_prefix=within,
                audit=entry,
            ),
        )
        return Alert.from_record(record)


@strawberry.type
class AlertSubscriptions:
    @strawberry.subscription(description="Red alerts raised or escalated in the region (and the caller's scope), live.")
    async def alert_raised(self, info: Info, region: str) -> AsyncGenerator[Alert, None]:
        prefix = regions.scope_prefix(region)
        within = scope(info, "alertRaised")
        breaker = info.context.graph.breaker
        if breaker is not None:
            breaker.check()  # during an outage no alert could reach it: refused, DATABASE_UNAVAILABLE
        async with hub(info).listen() as queue:
            while True:
                alert = await queue.get()
                if alert is False:
                    # Stays open: an error now, and a status message when the database is back.
                    yield DatabaseUnavailable(  # type: ignore[misc]
                        "The database is unreachable: no alert can be raised until it answers again; "
                        "this subscription stays open."
                    )
                    continue
                if alert is True:
                    yield StatusMessage({"database": "reachable"})  # type: ignore[misc]
                    continue
                code = alert.region_code or ""
                if code.startswith(prefix) and code.startswith(within):
                    yield Alert.from_record(alert)
