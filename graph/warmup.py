"""Plans for the queries a process runs most, made again as soon as a database comes back.

A restarted Neo4j has an empty query-plan cache: without a warm-up the first requests after an
outage each wait for their plans (seconds for the discovery and worklist queries on a cold
JVM). `PlanWarmer` counts the queries run through `Graph.read`/`Graph.write` and keeps, for
each, the *shape* of its last parameters (types only: every string empty, every number 0), so
no child's data is kept; `warm` sends `EXPLAIN` for the most used ones, which plans and caches
them without running anything (writes included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, LiteralString

log = logging.getLogger("shouhu.warmup")

#: Distinct query texts remembered; the project's Cypher is a finite set of constants.
MAX_REMEMBERED = 400


def shape(value: Any) -> Any:
    """A value of the same Cypher type that carries none of the original's content."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, str):
        return ""
    if isinstance(value, dt.datetime):
        return dt.datetime(2000, 1, 1, tzinfo=value.tzinfo)
    if isinstance(value, dt.date):
        return dt.date(2000, 1, 1)
    if isinstance(value, Mapping):
        return {str(k): shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shape(value[0])] if value else []
    return value  # a driver type (a neo4j.time value): its own type, kept as is


class PlanWarmer:
    def __init__(self) -> None:
        self._seen: dict[LiteralString, tuple[int, dict[str, Any]]] = {}

    def saw(self, query: LiteralString, parameters: Mapping[str, Any]) -> None:
        count, _ = self._seen.get(query, (0, {}))
        if count == 0 and len(self._seen) >= MAX_REMEMBERED:
            return
        if count % 64 == 0:  # shapes rarely change: look at the parameters now and then only
            self._seen[query] = (count + 1, {k: shape(v) for k, v in parameters.items()})
        else:
            self._seen[query] = (count + 1, self._seen[query][1])

    def hottest(self, limit: int) -> list[tuple[LiteralString, dict[str, Any]]]:
        ranked = sorted(self._seen.items(), key=lambda item: -item[1][0])
        return [(query, parameters) for query, (_, parameters) in ranked[:limit]]

    async def warm(
        self,
        explain: Callable[[LiteralString, dict[str, Any]], Awaitable[object]],
        *,
        limit: int = 40,
        budget: float = 1.0,
        concurrency: int = 4,
    ) -> int:
        """EXPLAIN the `limit` most used queries within `budget` seconds; how many were planned."""
        started = time.monotonic()
        planned = 0
        gate = asyncio.Semaphore(concurrency)

        async def one(query: LiteralString, parameters: dict[str, Any]) -> None:
            nonlocal planned
            async with gate:
                try:
                    await explain(query, parameters)
                    planned += 1
                except Exception as error:  # a plan not warmed is made on first use
                    log.debug("warm-up of a query failed: %s", type(error).__name__)

        tasks = [asyncio.ensure_future(one(q, p)) for q, p in self.hottest(limit)]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=budget)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        log.info(
            "planned hot queries",
            extra={"shouhu": {"planned": planned, "seconds": round(time.monotonic() - started, 3)}},
        )
        return planned
