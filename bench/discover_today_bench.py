"""Today's discovery from the materialised risk nodes, against evaluating the rules.

    python -m bench.discover_today_bench                    # the county
    BENCH_PROVINCE=1 python -m bench.discover_today_bench   # the province too (imported if absent: long)

For each kind, on the bench database (`bench.common`; the bundle imported unless present), as
of today (the only day whose risk is materialised):

- `sweep_seconds`: a complete sweep of the region as of today (every child judged, alerts
  reconciled, risk nodes and stamps written): what makes the index trustworthy;
- `evaluate_count_seconds`: one full evaluation of the region (`discover_count`, no index);
- `evaluate_page_seconds`: the first page of 50 at blue or above, evaluated;
- `index_page_seconds`, `index_next_page_seconds`, `index_total_seconds`,
  `index_green_total_seconds`, `index_rule_page_seconds`: the same read from the risk nodes
  (first page, the page after it, `totalCount` at blue, every child's count, and a page
  filtered by one rule, read by the index of its rule);
- `index_trusted`: whether the index was used (it must be, right after the sweep).

Each read is the median of `--repeat` (5) runs after one warm-up. Results merge into
`bench/out/discover_today_bench.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.common import OUT, SPECS, Kind, bench_graph, ensure_loaded
from graph import alerts, risk_index
from graph.discovery import Level, Thresholds, discover_count, discover_page, today
from graph.driver import Graph

RESULTS = OUT / "discover_today_bench.json"
PROVINCE_PREFIX = "43"
THRESHOLDS = Thresholds()


def _prefix(kind: Kind) -> str:
    return SPECS["county"].county_code[:6] if kind == "county" else PROVINCE_PREFIX


async def _median(work: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


async def measure(graph: Graph, kind: Kind, repeat: int) -> dict[str, Any]:
    prefix = _prefix(kind)
    day = today(THRESHOLDS)
    figures: dict[str, Any] = {"region": prefix, "asOf": day.isoformat()}

    def page(*, materialised: bool, after: str | None = None, rules: list[str] | None = None) -> Any:
        return discover_page(
            graph, region_prefix=prefix, scope_prefix="", as_of=day, thresholds=THRESHOLDS, first=50, after=after,
            rules=rules, with_total=False, materialised=materialised,
        )  # fmt: skip

    def count(min_level: Level, *, materialised: bool) -> Any:
        return discover_count(
            graph, region_prefix=prefix, scope_prefix="", as_of=day, thresholds=THRESHOLDS, min_level=min_level,
            materialised=materialised,
        )  # fmt: skip

    started = time.perf_counter()
    await alerts.sweep(graph, region_prefix="", scope_prefix="", as_of=day, thresholds=THRESHOLDS, by="bench")
    figures["sweep_seconds"] = round(time.perf_counter() - started, 1)
    key = risk_index.thresholds_key(THRESHOLDS.as_dict())
    figures["index_trusted"] = await risk_index.trusted(graph, seek=prefix, as_of=day, thresholds=key)
    first = await page(materialised=True)
    figures["index_page_seconds"] = await _median(lambda: page(materialised=True), repeat)
    figures["index_next_page_seconds"] = await _median(lambda: page(materialised=True, after=first.end_cursor), repeat)
    figures["index_total_seconds"] = await _median(lambda: count(Level.BLUE, materialised=True), repeat)
    figures["index_green_total_seconds"] = await _median(lambda: count(Level.GREEN, materialised=True), repeat)
    figures["index_rule_page_seconds"] = await _median(lambda: page(materialised=True, rules=["NO_CAREGIVER"]), repeat)
    figures["children"] = await count(Level.GREEN, materialised=True)
    figures["at_blue_or_above"] = await count(Level.BLUE, materialised=True)
    # Evaluating a province takes minutes: once each, no repeat.
    evaluations = 1 if kind == "province" else repeat
    figures["evaluate_page_seconds"] = await _median(lambda: page(materialised=False), evaluations)
    figures["evaluate_count_seconds"] = await _median(lambda: count(Level.BLUE, materialised=False), evaluations)
    figures["measuredAt"] = datetime.now(UTC).isoformat(timespec="seconds")
    return figures


async def run(kinds: list[Kind], repeat: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    async with bench_graph() as graph:
        for kind in kinds:
            await ensure_loaded(graph, kind)
            found[kind] = await measure(graph, kind, repeat)
            print(kind, orjson.dumps(found[kind], option=orjson.OPT_INDENT_2).decode(), flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    arguments, _ = parser.parse_known_args()  # `python -m bench` passes every module its arguments
    kinds: list[Kind] = ["county", "province"] if os.environ.get("BENCH_PROVINCE") == "1" else ["county"]
    found = asyncio.run(run(kinds, arguments.repeat))
    previous = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(previous | found, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
