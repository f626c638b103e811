"""Plans for the queries a process runs most, made again as soon as a database comes back.

A restarted Neo4j has an empty query-plan cache: without a warm-up the first requests after an
outage each wait for their plans (seconds for the discovery and worklist queries on a cold
JVM). `PlanWarmer` counts the queries run through `Graph.read`/`Graph.write` and keeps, for
each, the *shape* of its parameters (types and sizes only: strings of filler, numbers 0), so no
child's data is kept; `warm` sends `EXPLAIN` for the most used ones, which plans and caches them
without running anything (writes included).

Neo4j keys a plan by the size of each string and list parameter too, in buckets (0, 1, up to 10,
up to 100, ...: `internal.cypher.use_parameter_size`, on by default), so a shape keeps each
top-level string's and list's bucket: a plan warmed for an empty scope or a list of one would
sit in a slot no request with a real scope or two ids ever reads. A query seen with parameters
of different buckets (one id, then three) keeps a shape for each of its few commonest slots.
Sizes nested in a map or a list are not part of the key: those are cut down as before.
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
#: Plan-cache slots (combinations of size buckets) remembered per query.
SLOTS_PER_QUERY = 4
#: A query's parameters are looked at on its first use and every this many uses after.
SAMPLE_EVERY = 64


def bucket(size: int) -> int:
    """Neo4j's size bucket of a string or list parameter: 0, 1, then the next power of ten
    (2 to 10 share one, 11 to 100 the next)."""
    return size if size <= 1 else 10 ** len(str(size - 1))


def sized(value: Any) -> Any:
    """A top-level parameter's shape: a string or a list keeps its size bucket (the fewest items
    or characters in it), its content none of the original's."""
    if isinstance(value, str):
        return "0" * _least(len(value))
    if isinstance(value, list | tuple):
        return [shape(item) for item in value[: _least(len(value))]]
    return shape(value)


def _least(size: int) -> int:
    """The smallest size in `size`'s bucket."""
    return size if size <= 1 else bucket(size) // 10 + 1


def shape(value: Any) -> Any:
    """A value of the same Cypher type that carries none of the original's content (the sizes
    of strings and lists nested in a parameter do not key a plan)."""
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


#: (parameter, size bucket) of each top-level string and list parameter, by name.
Slot = tuple[tuple[str, int], ...]


def slot(parameters: Mapping[str, Any]) -> Slot:
    """The size buckets that, with the query text and the types, key a plan."""
    return tuple(
        (name, bucket(len(value)))
        for name, value in sorted(parameters.items())
        if isinstance(value, str | list | tuple)
    )


class PlanWarmer:
    def __init__(self) -> None:
        #: query -> (uses, {slot: (samples, shaped parameters)})
        self._seen: dict[LiteralString, tuple[int, dict[Slot, tuple[int, dict[str, Any]]]]] = {}

    def saw(self, query: LiteralString, parameters: Mapping[str, Any]) -> None:
        seen = self._seen.get(query)
        if seen is None:
            if len(self._seen) >= MAX_REMEMBERED:
                return
            seen = (0, {})
        count, slots = seen
        if count % SAMPLE_EVERY == 0:  # shapes rarely change: look at the parameters now and then only
            key = slot(parameters)
            samples, _ = slots.get(key, (0, {}))
            if samples or len(slots) < SLOTS_PER_QUERY:
                slots[key] = (samples + 1, {k: sized(v) for k, v in parameters.items()})
        self._seen[query] = (count + 1, slots)

    def hottest(self, limit: int) -> list[tuple[LiteralString, dict[str, Any]]]:
        """The `limit` (query, parameters) most used, each slot of a query ranked by its share
        of the query's uses."""
        ranked: list[tuple[float, LiteralString, dict[str, Any]]] = []
        for query, (count, slots) in self._seen.items():
            sampled = sum(samples for samples, _ in slots.values())
            for samples, parameters in slots.values():
                ranked.append((count * samples / sampled, query, parameters))
        ranked.sort(key=lambda item: -item[0])
        return [(query, parameters) for _, query, parameters in ranked[:limit]]

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
