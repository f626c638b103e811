"""The red alerts of every API process, for the `alertRaised` subscribers of this one.

Each process polls the database for the red alerts numbered after its cursor (see
`graph.alerts`, NUMBER_RED) every `interval` seconds and hands them to `announce`, so a red
alert raised through one replica reaches the subscribers of all of them within about one
interval; the database is the only thing the replicas share. The cursor starts at the counter's
value when the process first reaches the database: a process announces what is raised while it
runs, not the past.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from graph import alerts
from graph.alerts import Alert
from graph.discovery import Level
from graph.driver import Graph
from graph.errors import GraphError

log = logging.getLogger("shouhu.alerts")


@dataclass(slots=True)
class RedAlertFeed:
    graph: Graph
    announce: Callable[[list[Alert]], None]
    interval: float = 1.0
    cursor: int | None = None

    async def poll_once(self) -> list[Alert]:
        """Announce the red alerts numbered since the last poll; return them."""
        if self.cursor is None:
            self.cursor, _ = await alerts.red_alerts_after(self.graph, 1 << 62)
            return []
        up_to, ids = await alerts.red_alerts_after(self.graph, self.cursor)
        if up_to < self.cursor:
            # The counter went back: the store was emptied or restored from a backup. What it
            # numbers from here on is new; what it holds was announced, or is history.
            self.cursor = up_to
            return []
        fresh: list[Alert] = []
        if ids:
            # Still red and open when read: one lowered or resolved since is news no longer.
            found = await alerts.alerts_by_id(self.graph, ids)
            fresh = [a for a in found if a.level is Level.RED and a.status == alerts.OPEN]
            if fresh:
                self.announce(fresh)
        self.cursor = up_to
        return fresh

    async def forever(self) -> None:
        while True:
            try:
                await self.poll_once()
            except GraphError as error:  # the database is away; the next poll catches up
                log.warning("polling red alerts failed: %s", type(error).__name__)
            await asyncio.sleep(self.interval)
