"""Alerts: discovery findings that persist between sweeps, with a status and a history.

A sweep runs discovery for a region as of a date and reconciles, one evaluation and one write
transaction per batch of villages (`graph.risk.reconcile_in`, which a write's re-evaluation of
its children runs too):

- a finding with no live alert (open or acknowledged) for its child and rule raises a new
  `open` alert;
- a finding whose level is above its live alert's escalates it (an acknowledged alert is
  reopened: the worker must look again); a lower level is recorded without a status change;
- a live alert in the region whose finding no longer holds is resolved automatically, with
  the sweep's date.

Each new alert gets an owner and a due date, and a live alert past its due date is handed up a
tier (`graph.risk`). Every change appends an `AlertChange {status, level, at, on, by, note, to}`
to the alert, and the sweep itself is a `Sweep` node listing what it changed, so "what changed
since the last sweep" is one read.

    (:Alert {id, childId, rule, level, status, raisedOn, resolvedOn, regionCode, updatedAt,
             ownerId, dueOn, tier, escalatedToId})
      -[:RAISED_FOR]->(:Person)
    (:Alert)-[:HAD_CHANGE]->(:AlertChange {status, level, at, on, by, note, to, sweepId})
    (:Sweep {id, regionPrefix, asOf, at, by, thresholds, raised, escalated, resolved, overdue})

Red alerts reach the `alertRaised` subscribers of every API process through the database:
the transaction that raises or escalates alerts to red numbers them from one counter,
`(:AlertSequence {name: 'red', value})`, as its last statement, and each process polls for
the alerts numbered after the last number it saw (`red_alerts_after`). The counter is locked
until the transaction commits, so numbers are taken in commit order: once a number is visible,
every smaller one is too, and a cursor never skips an alert.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import audit as audit_trail
from graph import risk, risk_index
from graph.audit import AuditEntry
from graph.dates import native_date
from graph.discovery import Level, Thresholds, discover_villages
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, OutOfReach
from graph.risk import AlertPolicy

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"

#: Raise or escalate from this sweep's findings; rows are {id, childId, rule, level, rank, regionCode}.
RAISE: LiteralString = """
UNWIND $findings AS f
MATCH (c:Person {id: f.childId})
OPTIONAL MATCH (live:Alert {childId: f.childId, rule: f.rule})
WHERE live.status IN ['open', 'acknowledged']
WITH c, f, live
CALL (c, f, live) {
  WITH c, f, live WHERE live IS NULL
  CREATE (a:Alert {id: f.id, childId: f.childId, rule: f.rule, level: f.level, rank: f.rank,
                   status: 'open', raisedOn: $asOf, regionCode: c.regionCode, updatedAt: $at})
  CREATE (a)-[:RAISED_FOR]->(c)
  CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: 'open', level: f.level, at: $at, on: $asOf,
                                           by: $by, sweepId: $sweepId, change: 'raised'})
  RETURN 'raised' AS change, a.id AS alertId
  UNION
  WITH f, live WHERE live IS NOT NULL AND f.rank > live.rank
  SET live.level = f.level, live.rank = f.rank, live.status = 'open', live.updatedAt = $at
  CREATE (live)-[:HAD_CHANGE]->(:AlertChange {status: 'open', level: f.level, at: $at, on: $asOf,
                                              by: $by, sweepId: $sweepId, change: 'escalated'})
  RETURN 'escalated' AS change, live.id AS alertId
  UNION
  WITH f, live WHERE live IS NOT NULL AND f.rank < live.rank
  SET live.level = f.level, live.rank = f.rank, live.updatedAt = $at
  CREATE (live)-[:HAD_CHANGE]->(:AlertChange {status: live.status, level: f.level, at: $at,
                                              on: $asOf, by: $by, sweepId: $sweepId,
                                              change: 'lowered'})
  RETURN 'lowered' AS change, live.id AS alertId
}
RETURN change, collect(alertId) AS alertIds
"""

#: Resolve live alerts of the villages `$villages` and the scope whose (child, rule) is not
#: among `$keys`.
RESOLVE: LiteralString = """
UNWIND $villages AS village
MATCH (a:Alert)
WHERE a.status IN ['open', 'acknowledged'] AND a.regionCode STARTS WITH village
  AND a.regionCode STARTS WITH $scope AND NOT (a.childId + '|' + a.rule) IN $keys
SET a.status = 'resolved', a.resolvedOn = $asOf, a.updatedAt = $at
CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: 'resolved', level: a.level, at: $at, on: $asOf,
                                         by: $by, sweepId: $sweepId, change: 'resolved'})
RETURN collect(a.id) AS alertIds
"""

RECORD_SWEEP: LiteralString = """
CREATE (:Sweep {id: $sweepId, regionPrefix: $region, scopePrefix: $scope, asOf: $asOf, at: $at,
                by: $by, thresholds: $thresholds, raised: $raised, escalated: $escalated,
                lowered: $lowered, resolved: $resolved, overdue: $overdue})
"""

ACKNOWLEDGE: LiteralString = """
MATCH (a:Alert {id: $id})
WHERE a.regionCode STARTS WITH $scope
WITH a, a.status AS before
FOREACH (_ IN CASE WHEN before = 'open' THEN [1] ELSE [] END |
  SET a.status = 'acknowledged', a.updatedAt = $at
  CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: 'acknowledged', level: a.level, at: $at,
                                           on: date($at), by: $by, note: $note,
                                           change: 'acknowledged'}))
RETURN before, a.regionCode AS region
"""

ALERT_FIELDS: LiteralString = """
RETURN a {.id, .childId, .rule, .level, .status, .raisedOn, .resolvedOn, .regionCode, .ownerId,
          .dueOn, .tier, .escalatedToId, .redSeq,
          ownerName: head(COLLECT { MATCH (o:Person {id: a.ownerId}) RETURN o.name }),
          escalatedToName: head(COLLECT { MATCH (o:Person {id: a.escalatedToId}) RETURN o.name })} AS alert,
       COLLECT { MATCH (a)-[:HAD_CHANGE]->(x:AlertChange)
                 RETURN x {.status, .level, .at, .on, .by, .note, .change, .to} AS change
                 ORDER BY x.at, x.change } AS history
"""

GET_ALERT: LiteralString = (
    """
MATCH (a:Alert {id: $id})
WHERE a.regionCode STARTS WITH $scope
"""
    + ALERT_FIELDS
)

ALERTS_BY_ID: LiteralString = (
    """
UNWIND $ids AS id
MATCH (a:Alert {id: id})
"""
    + ALERT_FIELDS
)

LIST_ALERTS: LiteralString = (
    """
MATCH (a:Alert)
WHERE a.regionCode STARTS WITH $region AND a.regionCode STARTS WITH $scope
  AND ($status IS NULL OR a.status = $status)
WITH a ORDER BY a.rank DESC, a.childId, a.rule
"""
    + ALERT_FIELDS
)

#: The latest sweep of exactly this region prefix, and the alerts it changed (visible in scope).
LAST_SWEEP: LiteralString = """
MATCH (s:Sweep {regionPrefix: $region})
WITH s ORDER BY s.at DESC LIMIT 1
OPTIONAL MATCH (a:Alert)-[:HAD_CHANGE]->(x:AlertChange {sweepId: s.id})
WHERE a.regionCode STARTS WITH $scope
WITH s, x, a ORDER BY a.childId, a.rule
RETURN s {.id, .asOf, .at, .by} AS sweep,
       collect(CASE WHEN x IS NULL THEN null ELSE {change: x.change, alertId: a.id, childId: a.childId,
                    rule: a.rule, level: x.level} END) AS changes
"""


#: Number the open red alerts among `fresh` (the alerts just raised or escalated: a variable of
#: the reconciliation it runs in, `graph.risk.reconciliation`) from the shared counter; the
#: first SET locks the counter, so the increment reads the latest committed value.
NUMBER_RED: LiteralString = """
MATCH (a:Alert) WHERE a.id IN fresh AND a.level = 'red' AND a.status = 'open'
WITH collect(a) AS reds WHERE size(reds) > 0
MERGE (s:AlertSequence {name: 'red'})
ON CREATE SET s.value = 0
SET s.lockedAt = $at
WITH s, reds
SET s.value = s.value + 1
WITH s.value AS seq, reds
UNWIND reds AS a
SET a.redSeq = seq
"""

#: The red alerts numbered after `$after`, and the counter's value they go up to.
RED_AFTER: LiteralString = """
OPTIONAL MATCH (s:AlertSequence {name: 'red'})
WITH coalesce(s.value, 0) AS upTo
OPTIONAL MATCH (a:Alert) WHERE a.redSeq > $after AND a.redSeq <= upTo
WITH upTo, a ORDER BY a.redSeq
RETURN upTo, collect(a.id) AS ids
"""


async def red_alerts_after(graph: Graph, after: int) -> tuple[int, list[str]]:
    """The counter's value and the ids of the alerts numbered in (after, value]."""
    records = await graph.read(RED_AFTER, {"after": after})
    return int(records[0]["upTo"]), [str(i) for i in records[0]["ids"]]


@dataclass(frozen=True, slots=True)
class AlertChange:
    change: str
    status: str
    level: Level
    at: dt.datetime
    on: dt.date
    by: str | None
    note: str | None
    #: the person an assignment, a reassignment or an overdue escalation handed the alert to
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    child_id: str
    rule: str
    level: Level
    status: str
    raised_on: dt.date
    resolved_on: dt.date | None
    region_code: str | None
    history: tuple[AlertChange, ...]
    owner_id: str | None = None
    due_on: dt.date | None = None
    #: 0 with its owner, 1 handed up to the township's supervisor, 2 to the county
    tier: int = 0
    escalated_to_id: str | None = None
    #: the names of the owner and of whom it was handed up to: colleagues seen through the alert
    owner_name: str | None = None
    escalated_to_name: str | None = None
    #: the number it took when it last became red (NUMBER_RED); one announcement per number
    red_seq: int | None = None

    def overdue(self, on: dt.date) -> bool:
        return self.status != RESOLVED and self.due_on is not None and self.due_on < on


@dataclass(frozen=True, slots=True)
class SweepChange:
    change: str  #: raised, escalated, lowered or resolved
    alert_id: str
    child_id: str
    rule: str
    level: Level


#: What a sweep counts, as its record names them.
SWEEP_CHANGES = ("raised", "escalated", "lowered", "resolved", "overdue")


@dataclass(frozen=True, slots=True)
class SweepResult:
    id: str
    as_of: dt.date
    at: dt.datetime
    raised: tuple[str, ...]
    escalated: tuple[str, ...]
    lowered: tuple[str, ...]
    resolved: tuple[str, ...]
    thresholds: Thresholds
    #: alerts handed up a tier because they were still live after their due date
    overdue: tuple[str, ...] = ()


async def sweep(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    by: str,
    at: dt.datetime | None = None,
    rules: Sequence[str] | None = None,
    audit: AuditEntry | None = None,
    policy: AlertPolicy | None = None,
) -> SweepResult:
    """Run discovery for the region and reconcile its alerts and risk nodes, one evaluation and
    one write transaction per batch of villages (`graph.risk.village_batches`: a province's
    sweep never holds more than a batch's findings with their evidence, and a county's takes
    a few round trips instead of a dozen per village), then record the sweep.

    Each batch is reconciled exactly as a write re-evaluates its children (`graph.risk`):
    alerts raised, escalated, lowered, resolved, owned, due, and handed up when overdue.
    `audit`, when given, is appended with the sweep's record (a mutation's audit event).
    """
    if not region_prefix.startswith(scope_prefix):
        # A sweep changes the region's alerts and becomes its latest: only within the scope.
        raise OutOfReach("region")
    policy = policy or AlertPolicy()
    policy.validate()
    at = at or dt.datetime.now(dt.UTC)
    sweep_id = str(uuid.uuid4())
    total = risk.Changes()
    complete = rules is None
    # Writes whose markers exist now have committed: every village read below sees them, so a
    # complete sweep may remove the markers of those whose villages all lie in its region
    # (graph.risk_index); only a sweep of everything removes an import's.
    pending = (
        await risk_index.pending(graph, region_prefix=region_prefix, scope_prefix=scope_prefix) if complete else []
    )
    for villages in await risk.village_batches(graph, region_prefix=region_prefix, scope_prefix=scope_prefix):
        read_at = dt.datetime.now(dt.UTC)
        children = await discover_villages(
            graph, villages, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
        )
        params = risk.reconcile_parameters(
            children, as_of=as_of, at=at, by=by, thresholds=thresholds, policy=policy, sweep_id=sweep_id,
            read_at=read_at,
        ) | {"villages": villages, "scope": scope_prefix, "evaluated": [c.child_id for c in children]}  # fmt: skip
        if rules is not None:  # a partial sweep judges only some rules: it is no risk of the day
            params |= {"risks": [], "evaluated": None}
        total.add(await graph.write_transaction(_reconcile_village, params))
    record: dict[str, Any] = {
        "sweepId": sweep_id,
        "region": region_prefix,
        "scope": scope_prefix,
        "asOf": as_of,
        "at": at,
        "by": by,
        "thresholds": json.dumps(thresholds.as_dict()),
        "stampKey": risk_index.thresholds_key(thresholds.as_dict()),
        "raised": total.raised,
        "escalated": total.escalated,
        "lowered": total.lowered,
        "resolved": total.resolved,
        "overdue": total.overdue,
        "complete": complete,
        "pending": pending,
    }
    await graph.write_transaction(_record_sweep, record, audit)
    if graph.on_sweep is not None:
        graph.on_sweep({change: len(record[change]) for change in SWEEP_CHANGES})
    return SweepResult(
        id=sweep_id,
        as_of=as_of,
        at=at,
        raised=tuple(total.raised),
        escalated=tuple(total.escalated),
        lowered=tuple(total.lowered),
        resolved=tuple(total.resolved),
        thresholds=thresholds,
        overdue=tuple(total.overdue),
    )


async def _reconcile_village(tx: AsyncManagedTransaction, params: dict[str, Any]) -> risk.Changes:
    statement = VILLAGES_RECONCILIATION if params["evaluated"] is not None else PARTIAL_RECONCILIATION
    return await risk.reconcile_in(tx, params | {"gone": []}, statement)


#: A batch of villages reconciled exactly as a write's re-evaluation reconciles its children
#: (`graph.risk.reconciliation`); a partial sweep (some rules) forgets no one's risk.
VILLAGES_RECONCILIATION: Final = risk.reconciliation(
    raise_=RAISE, resolve=RESOLVE, escalate=risk.ESCALATE_VILLAGES, forget=risk.FORGET_VILLAGES, number=NUMBER_RED
)
PARTIAL_RECONCILIATION: Final = risk.reconciliation(
    raise_=RAISE, resolve=RESOLVE, escalate=risk.ESCALATE_VILLAGES, forget=risk.FORGET, number=NUMBER_RED
)


async def _record_sweep(tx: AsyncManagedTransaction, params: dict[str, Any], audit: AuditEntry | None) -> None:
    await tx.run(RECORD_SWEEP, params)
    if params["complete"]:
        # Every child of the region is judged as of the day: today's discovery may read them.
        await tx.run(risk_index.STAMP, params | {"thresholds": params["stampKey"]})
        await tx.run(risk_index.CLOSE_PENDING, {"tokens": params["pending"]})
    if audit is not None:
        await audit_trail.append_in(tx, audit)


async def acknowledge(
    graph: Graph,
    alert_id: str,
    *,
    note: str,
    by: str,
    scope_prefix: str,
    at: dt.datetime | None = None,
    audit: AuditEntry | None = None,
) -> Alert:
    """Acknowledge an open alert with a note; only open alerts can be acknowledged.

    `audit`, when given, commits with the acknowledgement.
    """
    if not note.strip():
        raise InvalidInput("note", "acknowledging an alert takes a note")
    params = {"id": alert_id, "scope": scope_prefix, "by": by, "note": note, "at": at or dt.datetime.now(dt.UTC)}
    before = await graph.write_transaction(_acknowledge, params, audit)
    if before is None:
        raise OutOfReach("alert")
    if before != OPEN:
        raise Conflict(f"the alert is {before}; only an open alert can be acknowledged")
    alert = await get_alert(graph, alert_id, scope_prefix=scope_prefix)
    assert alert is not None
    return alert


async def _acknowledge(tx: AsyncManagedTransaction, params: dict[str, Any], audit: AuditEntry | None) -> str | None:
    record = await (await tx.run(ACKNOWLEDGE, params)).single()
    if record is None:
        return None
    if record["before"] == OPEN and audit is not None:
        await audit_trail.append_in(tx, replace(audit, scope=record["region"] or audit.scope))
    return str(record["before"])


#: Hand a live alert in scope to `$owner`, who must hold a current post (any role) at the
#: alert's village or a region above it, and be in the caller's scope: a resident there, or
#: posted there. Returns nothing for an alert out of scope.
REASSIGN: LiteralString = """
MATCH (a:Alert {id: $id})
WHERE a.regionCode STARTS WITH $scope
OPTIONAL MATCH (o:Person {id: $owner})
WITH a, o, o IS NOT NULL AND (o.id = $by OR coalesce(o.regionCode STARTS WITH $scope, false)
       OR EXISTS { (o)-[s:SERVES]->(r:Region) WHERE r.code STARTS WITH $scope
                   AND s.since <= date($at) AND (s.until IS NULL OR s.until >= date($at)) })
     AS reachable
WITH a, o, reachable, reachable AND EXISTS {
       MATCH (o)-[s:SERVES]->(r:Region)<-[:PART_OF*0..4]-(:Region {code: a.regionCode})
       WHERE s.since <= date($at) AND (s.until IS NULL OR s.until >= date($at)) } AS posted
CALL (a, o, posted) {
  WITH a, o, posted WHERE posted AND a.status IN ['open', 'acknowledged']
  SET a.ownerId = o.id, a.updatedAt = $at
  CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: a.status, level: a.level, at: $at,
                                           on: date($at), by: $by, note: $note, to: o.id,
                                           change: 'reassigned'})
  RETURN true AS done
  UNION
  WITH a, o, posted WHERE NOT (posted AND a.status IN ['open', 'acknowledged'])
  RETURN false AS done
}
RETURN a.status AS status, a.regionCode AS region, reachable, posted, done
"""


async def reassign(
    graph: Graph,
    alert_id: str,
    *,
    owner_id: str,
    note: str,
    by: str,
    scope_prefix: str,
    at: dt.datetime | None = None,
    audit: AuditEntry | None = None,
) -> Alert:
    """Give a live alert a new owner, with a note kept in its history.

    The new owner must be reachable from the caller's scope and hold a current staff post at
    the alert's village or above it (its director, the township's supervisor, a county case
    worker...): an alert is never handed to someone who could not act on it.
    """
    if not note.strip():
        raise InvalidInput("note", "reassigning an alert takes a note")
    if not owner_id.strip():
        raise InvalidInput("ownerId", "must name a person")
    params = {
        "id": alert_id,
        "owner": owner_id,
        "scope": scope_prefix,
        "by": by,
        "note": note,
        "at": at or dt.datetime.now(dt.UTC),
    }
    row = await graph.write_transaction(_reassign, params, audit)
    if row is None:
        raise OutOfReach("alert")
    if not row["reachable"]:
        raise OutOfReach("ownerId")
    if not row["posted"]:
        raise InvalidInput("ownerId", "holds no current staff post at the alert's village or above it")
    if not row["done"]:
        raise Conflict(f"the alert is {row['status']}; only a live alert can be reassigned")
    alert = await get_alert(graph, alert_id, scope_prefix=scope_prefix)
    assert alert is not None
    return alert


async def _reassign(
    tx: AsyncManagedTransaction, params: dict[str, Any], audit: AuditEntry | None
) -> dict[str, Any] | None:
    record = await (await tx.run(REASSIGN, params)).single()
    if record is None:
        return None
    if record["done"] and audit is not None:
        await audit_trail.append_in(tx, replace(audit, scope=record["region"] or audit.scope))
    return dict(record)


async def get_alert(graph: Graph, alert_id: str, *, scope_prefix: str) -> Alert | None:
    records = await graph.read(GET_ALERT, {"id": alert_id, "scope": scope_prefix})
    return _alert(records[0]) if records else None


async def alerts_by_id(graph: Graph, ids: Sequence[str]) -> list[Alert]:
    """The alerts `ids`, whatever their region: for the system's own use (announcing new ones)."""
    return [_alert(record) for record in await graph.read(ALERTS_BY_ID, {"ids": list(ids)})]


async def list_alerts(graph: Graph, *, region_prefix: str, scope_prefix: str, status: str | None = None) -> list[Alert]:
    if status not in (None, OPEN, ACKNOWLEDGED, RESOLVED):
        raise InvalidInput("status", "must be open, acknowledged or resolved")
    records = await graph.read(LIST_ALERTS, {"region": region_prefix, "scope": scope_prefix, "status": status})
    return [_alert(record) for record in records]


async def changes_since_last_sweep(
    graph: Graph, *, region_prefix: str, scope_prefix: str
) -> tuple[str | None, list[SweepChange]]:
    """The id of the region's latest sweep and what it changed: raised, escalated, lowered, resolved."""
    if not (region_prefix.startswith(scope_prefix) or scope_prefix.startswith(region_prefix)):
        return None, []  # a region outside the scope: as if it was never swept
    records = await graph.read(LAST_SWEEP, {"region": region_prefix, "scope": scope_prefix})
    if not records:
        return None, []
    changes = [
        SweepChange(c["change"], c["alertId"], c["childId"], c["rule"], Level(c["level"]))
        for c in records[0]["changes"]
        if c is not None
    ]
    return records[0]["sweep"]["id"], changes


def _alert(record: Any) -> Alert:
    a = record["alert"]
    return Alert(
        id=a["id"],
        child_id=a["childId"],
        rule=a["rule"],
        level=Level(a["level"]),
        status=a["status"],
        raised_on=a["raisedOn"].to_native(),
        resolved_on=a["resolvedOn"].to_native() if a["resolvedOn"] is not None else None,
        region_code=a["regionCode"],
        owner_id=a["ownerId"],
        due_on=native_date(a["dueOn"]),
        tier=int(a["tier"] or 0),
        escalated_to_id=a["escalatedToId"],
        owner_name=a["ownerName"],
        escalated_to_name=a["escalatedToName"],
        red_seq=a["redSeq"],
        history=tuple(
            AlertChange(
                change=h["change"],
                status=h["status"],
                level=Level(h["level"]),
                at=h["at"].to_native(),
                on=h["on"].to_native(),
                by=h["by"],
                note=h["note"],
                to=h["to"],
            )
            for h in record["history"]
        ),
    )
