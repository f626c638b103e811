"""The offline bulk load (`shouhu import FILE --offline`) of a county and, opt-in, a province.

    python -m bench.offline_bench                    # the county
    BENCH_PROVINCE=1 python -m bench.offline_bench   # the province too (its bundle is ~1.7 GB)

Each load goes into a database of its own, emptied first (`SHOUHU_BENCH_NEO4J_PORT` + 1, under
`.shouhu/bench-neo4j-offline`), so the shared bench database keeps what it holds. Measured:
the seconds of each step (validate, csv, import, migrate, sweep), the whole load's records/s,
and then, from the index the sweep made, the first page of today's `discover` for the region
(median of 5 after one warm-up). Results merge into `bench/out/offline_bench.json`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from api.settings import STATE_DIR
from bench.common import BENCH_PASSWORD, BENCH_PORT, OUT, SPECS, Kind, bench_database, ensure_bundle
from graph import localdb, risk_index
from graph.bundle import offline
from graph.discovery import Level, Thresholds, discover_count, discover_page, today
from graph.driver import Connection, Graph, connect
from graph.localdb import LocalDatabase
from graph.risk import AlertPolicy

RESULTS = OUT / "offline_bench.json"
THRESHOLDS = Thresholds()


def database(kind: Kind = "county") -> LocalDatabase:
    """The load's own database. The province's gets a bounded heap and page cache of 4 GB
    each (the machine's memory is shared); the county's those of the bench database."""
    shared = bench_database()
    home = Path(os.environ.get("SHOUHU_BENCH_OFFLINE_HOME", str(STATE_DIR / "bench-neo4j-offline")))
    heap, pagecache = ("4g", "4g") if kind == "province" else (shared.heap, shared.pagecache)
    return LocalDatabase(
        home=home, bolt_port=BENCH_PORT + 1, pagecache=pagecache, heap=heap,
        tx_total_max="3g" if kind == "province" else shared.tx_total_max, tx_max=shared.tx_max,
        tx_timeout="3600s" if kind == "province" else shared.tx_timeout,
    )  # fmt: skip


def _connect(local: LocalDatabase) -> Any:
    return connect(Connection(f"bolt://127.0.0.1:{local.bolt_port}", "neo4j", BENCH_PASSWORD, retry_budget=60.0))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _timed(call: Callable[[], Awaitable[Any]], repeat: int = 5) -> tuple[float, Any]:
    """The median seconds of `repeat` calls after one warm-up, and the last answer."""
    answer = await call()
    times = []
    for _ in range(repeat):
        begun = time.perf_counter()
        answer = await call()
        times.append(time.perf_counter() - begun)
    return round(statistics.median(times), 4), answer


async def index_reads(graph: Graph, prefix: str, day: date) -> dict[str, Any]:
    """Today's `discover` for the region from the risk index: the first page of 50 red, its
    `totalCount`, and the count of each colour (each must find the index trusted)."""
    page = functools.partial(
        discover_page, graph, region_prefix=prefix, scope_prefix="", as_of=day, thresholds=THRESHOLDS,
        materialised=True, min_level=Level.RED, first=50, with_total=False,
    )  # fmt: skip
    key = risk_index.thresholds_key(THRESHOLDS.as_dict())
    trusted = await risk_index.trusted(graph, seek=prefix, as_of=day, thresholds=key)

    def counted(level: Level) -> Callable[[], Awaitable[int]]:
        return functools.partial(
            discover_count, graph, region_prefix=prefix, scope_prefix="", as_of=day, thresholds=THRESHOLDS,
            materialised=True, min_level=level,
        )  # fmt: skip

    page_s, first = await _timed(page)
    total_s, total = await _timed(counted(Level.RED))
    counts: dict[str, int] = {}
    colours_s = 0.0
    for level in Level:
        seconds, counts[level.value] = await _timed(counted(level))
        colours_s += seconds
    by_colour = {
        level.value: counts[level.value] - (counts[Level.from_rank(level.rank + 1).value] if level.rank < 3 else 0)
        for level in Level
    }
    return {
        "trusted": trusted,
        "first_page_seconds": page_s,
        "first_page_items": len(first.items),
        "total_count_seconds": total_s,
        "red_total": total,
        "counts_by_colour_seconds": round(colours_s, 4),
        "by_colour": by_colour,
    }


async def measure(kind: Kind) -> dict[str, Any]:
    bundle = ensure_bundle(kind)
    local = database(kind)
    localdb.stop(local, timeout=180)
    if local.home.exists():
        shutil.rmtree(local.home)
    localdb.start(local, BENCH_PASSWORD, timeout=600)
    day = today(THRESHOLDS)
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(prefix=f"offline-{kind}-", dir=OUT) as work:
            started = time.perf_counter()
            cpu = time.process_time()
            result = await offline.load(
                lambda: _connect(local), local, BENCH_PASSWORD, bundle.path, database="neo4j", today=day,
                workdir=Path(work), thresholds=THRESHOLDS, policy=AlertPolicy(),
            )  # fmt: skip
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            log = (Path(work) / "neo4j-admin-import.log").read_text(encoding="utf-8", errors="replace")
        if not result.ok:
            raise RuntimeError(f"the {kind} bundle was refused: {result.rejected[:3]}")
        prefix = SPECS["county"].county_code[:6] if kind == "county" else "43"
        async with _connect(local) as graph:
            reads = await index_reads(graph, prefix, day)
        without_sweep = seconds - result.seconds.get("sweep", 0.0)
        return {
            "lines": result.lines,
            "written": result.written,
            "children": result.children,
            "seconds": round(seconds, 1),
            "seconds_without_sweep": round(without_sweep, 1),
            "records_per_second": round(result.written / seconds),
            "records_per_second_without_sweep": round(result.written / without_sweep),
            "steps": result.seconds,
            "python_cpu_seconds": round(cpu, 1),
            "python_peak_rss_mb": round(_rss_mb()),
            "neo4j": {"heap": local.heap, "pagecache": local.pagecache},
            "importer": [line for line in log.splitlines() if line.startswith(("IMPORT DONE", "Peak memory"))],
            "load_average_before": [round(x, 1) for x in load_before],
            "load_average_after": [round(x, 1) for x in os.getloadavg()],
            "index": reads,
            "measuredAt": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        localdb.stop(local, timeout=300)


def main() -> None:
    kinds: list[Kind] = ["county", "province"] if os.environ.get("BENCH_PROVINCE") == "1" else ["county"]
    found: dict[str, Any] = {}
    for kind in kinds:
        found[kind] = asyncio.run(measure(kind))
        print(kind, orjson.dumps(found[kind], option=orjson.OPT_INDENT_2).decode(), flush=True)
    previous = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(previous | found, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
