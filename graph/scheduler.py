"""The daily sweep, run by the API itself, once a day across all replicas.

Every replica with the daily sweep switched on (`SHOUHU_DAILY_SWEEP`, docs/operations.md)
wakes every few minutes; after the configured local time it tries to claim the day. The claim
is a `DailySweep {day}` node under a uniqueness constraint, taken in a write transaction that
first locks the node: of two replicas claiming at once, one creates (or re-takes) it and the
other, once the first commits, sees it taken and goes back to sleep. A claim left `running` by
a replica that died is re-taken after `STALE` so a day is never lost; a finished day is never
swept again by the scheduler (`shouhu sweep` from cron may still sweep whenever it is run).

    (:DailySweep {day, state: running|done|failed, holder, claimedAt, finishedAt, sweepId})
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import uuid
from dataclasses import dataclass, field
from typing import Final, LiteralString
from zoneinfo import ZoneInfo

from graph import alerts
from graph.discovery import Thresholds
from graph.driver import Graph
from graph.errors import GraphError
from graph.risk import AlertPolicy

log = logging.getLogger("shouhu.scheduler")

#: A claim older than this, still running, belongs to a replica presumed dead.
STALE: Final = dt.timedelta(hours=2)
#: How often a replica looks whether the day's sweep is due.
POLL_SECONDS: Final = 300.0
#: Who the daily sweep's alert changes are recorded as being made by.
SWEEPER: Final = "daily-sweep"

CLAIM: LiteralString = """
MERGE (s:DailySweep {day: $day})
ON CREATE SET s.state = 'new'
SET s.lockedAt = $now
WITH s
WHERE s.state IN ['new', 'failed'] OR (s.state = 'running' AND s.claimedAt < $stale)
SET s.state = 'running', s.holder = $holder, s.claimedAt = $now
RETURN s.holder AS holder
"""

FINISH: LiteralString = """
MATCH (s:DailySweep {day: $day, holder: $holder})
SET s.state = $state, s.finishedAt = $now, s.sweepId = $sweepId
"""


async def claim(graph: Graph, day: dt.date, holder: str, *, now: dt.datetime | None = None) -> bool:
    """Whether `holder` now holds the day's sweep (it was unclaimed, failed or stale)."""
    now = now or dt.datetime.now(dt.UTC)
    records = await graph.write(CLAIM, {"day": day, "holder": holder, "now": now, "stale": now - STALE})
    return bool(records) and records[0]["holder"] == holder


async def finish(graph: Graph, day: dt.date, holder: str, *, state: str, sweep_id: str | None) -> None:
    await graph.write(
        FINISH, {"day": day, "holder": holder, "state": state, "now": dt.datetime.now(dt.UTC), "sweepId": sweep_id}
    )


@dataclass(slots=True)
class DailySweep:
    """One replica's share of the daily sweep: `run_once` claims today and sweeps everything."""

    graph: Graph
    thresholds: Thresholds
    policy: AlertPolicy
    at: dt.time = dt.time(2, 0)
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}")

    def due(self, now: dt.datetime) -> dt.date | None:
        local = now.astimezone(ZoneInfo(self.thresholds.timezone))
        return local.date() if local.time() >= self.at else None

    async def run_once(self, now: dt.datetime | None = None) -> alerts.SweepResult | None:
        """Sweep every region as of today if it is due and this replica wins the claim."""
        day = self.due(now or dt.datetime.now(dt.UTC))
        if day is None or not await claim(self.graph, day, self.holder):
            return None
        try:
            result = await alerts.sweep(
                self.graph,
                region_prefix="",
                scope_prefix="",
                as_of=day,
                thresholds=self.thresholds,
                policy=self.policy,
                by=SWEEPER,
            )
        except Exception:
            await finish(self.graph, day, self.holder, state="failed", sweep_id=None)
            raise
        await finish(self.graph, day, self.holder, state="done", sweep_id=result.id)
        log.info("daily sweep %s as of %s: %d raised", result.id, day, len(result.raised))
        return result

    async def forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except GraphError:
                log.exception("the daily sweep failed; it is retried at the next poll")
            await asyncio.sleep(POLL_SECONDS)
