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
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from api.settings import STATE_DIR
from bench.common import BENCH_PASSWORD, BENCH_PORT, OUT, SPECS, Kind, bench_database, ensure_bundle
from graph import localdb
from graph.bundle import offline
from graph.discovery import Thresholds, discover_page, today
from graph.driver import Connection, connect
from graph.localdb import LocalDatabase
from graph.risk import AlertPolicy

RESULTS = OUT / "offline_bench.json"
THRESHOLDS = Thresholds()


def database() -> LocalDatabase:
    shared = bench_database()
    home = Path(os.environ.get("SHOUHU_BENCH_OFFLINE_HOME", str(STATE_DIR / "bench-neo4j-offline")))
    return LocalDatabase(
        home=home, bolt_port=BENCH_PORT + 1, pagecache=shared.pagecache, heap=shared.heap,
        tx_total_max=shared.tx_total_max, tx_max=shared.tx_max, tx_timeout=shared.tx_timeout,
    )  # fmt: skip


def _connect(local: LocalDatabase) -> Any:
    return connect(Connection(f"bolt://127.0.0.1:{local.bolt_port}", "neo4j", BENCH_PASSWORD, retry_budget=60.0))


async def measure(kind: Kind) -> dict[str, Any]:
    bundle = ensure_bundle(kind)
    local = database()
    localdb.stop(local, timeout=180)
    if local.home.exists():
        shutil.rmtree(local.home)
    localdb.start(local, BENCH_PASSWORD, timeout=300)
    day = today(THRESHOLDS)
    try:
        with tempfile.TemporaryDirectory(prefix=f"offline-{kind}-", dir=OUT) as work:
            started = time.perf_counter()
            result = await offline.load(
                lambda: _connect(local), local, BENCH_PASSWORD, bundle.path, database="neo4j", today=day,
                workdir=Path(work), thresholds=THRESHOLDS, policy=AlertPolicy(),
            )  # fmt: skip
            seconds = time.perf_counter() - started
        if not result.ok:
            raise RuntimeError(f"the {kind} bundle was refused: {result.rejected[:3]}")
        prefix = SPECS["county"].county_code[:6] if kind == "county" else "43"
        async with _connect(local) as graph:

            async def page() -> Any:
                return await discover_page(
                    graph, region_prefix=prefix, scope_prefix="", as_of=day, thresholds=THRESHOLDS, first=50,
                    with_total=False, materialised=True,
                )  # fmt: skip

            await page()
            times = []
            for _ in range(5):
                begun = time.perf_counter()
                await page()
                times.append(time.perf_counter() - begun)
        return {
            "lines": result.lines,
            "written": result.written,
            "children": result.children,
            "seconds": round(seconds, 1),
            "records_per_second": round(result.written / seconds),
            "steps": result.seconds,
            "index_page_seconds": round(statistics.median(times), 4),
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
