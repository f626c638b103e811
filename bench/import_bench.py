"""Import throughput and memory: a generated county (~20k children) and province (~1M).

    python -m bench.import_bench                          # the county, three times
    python -m bench.import_bench --kinds county,province  # then the province once (long)
    python -m bench.import_bench --kinds province --stage validate   # only the validation pass

Each import runs in a fresh Python process against an empty bench database (stopped, its
folder deleted, started again), so the peak RSS that process reports (`getrusage`) belongs
to that one import. Results are printed as a table and merged into
`bench/out/import_bench.json` (a kind not run this time keeps its previous figures).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson

from bench.common import (
    AS_OF,
    OUT,
    SPECS,
    BundleInfo,
    Kind,
    bench_database,
    bench_graph,
    bench_lock,
    ensure_bundle,
    reset_bench_database,
    stop_bench_database,
)
from graph.bundle.validation import validate_bundle
from graph.driver import Graph

RESULTS = OUT / "import_bench.json"
# The importer's process is "flat" when the province's peak is within this factor of the county's.
FLAT_FACTOR = 1.25


def _rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\n")


@asynccontextmanager
async def _measured(kind: Kind) -> AsyncIterator[tuple[BundleInfo, Path, Graph, float]]:
    """The bundle, an empty work folder, the bench graph and the RSS before the measured part."""
    bundle = ensure_bundle(kind, echo=lambda _: None)
    work = OUT / f"work-{kind}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        async with bench_graph() as graph:
            yield bundle, work, graph, _rss_mb()
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _validate_once(kind: Kind) -> dict[str, Any]:
    """Run in the child process: only validate the bundle (what an import does first)."""
    async with _measured(kind) as (bundle, work, graph, baseline):
        started = time.perf_counter()
        report = await validate_bundle(_lines(bundle.path), graph, today=AS_OF, workdir=work)
        seconds = time.perf_counter() - started
    return {
        "kind": kind,
        "stage": "validate",
        "lines": bundle.lines,
        "rejected": len(report.rejections),
        "seconds": round(seconds, 2),
        "lines_per_second": round(bundle.lines / seconds),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }


async def _import_once(kind: Kind) -> dict[str, Any]:
    """Run in the child process: import the bundle into the (empty) bench database."""
    from graph.bundle.importer import import_bundle

    first_write: list[float] = []

    def progress(records: int) -> None:
        if not first_write:
            first_write.append(time.perf_counter())

    async with _measured(kind) as (bundle, work, graph, baseline):
        started = time.perf_counter()
        result = await import_bundle(graph, bundle.path, today=AS_OF, workdir=work, progress=progress)
        finished = time.perf_counter()
    writing_from = first_write[0] if first_write else finished
    return {
        "kind": kind,
        "lines": bundle.lines,
        "ok": result.ok,
        "rejected": len(result.rejected),
        "records": result.written,
        "seconds": round(finished - started, 2),
        "validate_seconds": round(writing_from - started, 2),
        "write_seconds": round(finished - writing_from, 2),
        "records_per_second": round(result.written / (finished - started)),
        "write_records_per_second": round(result.written / max(finished - writing_from, 1e-9)),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }


def _child(kind: Kind, stage: str = "import") -> dict[str, Any]:
    """Reset the database, then import (or validate) in a fresh process; return what it measured."""
    reset_bench_database()
    completed = subprocess.run(  # noqa: S603 - our own module, no shell
        [sys.executable, "-m", "bench.import_bench", "--child", kind, "--stage", stage],
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the {kind} import failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}")
    return cast(dict[str, Any], orjson.loads(completed.stdout.strip().splitlines()[-1]))


def _summary(kind: Kind, runs: list[dict[str, Any]], generation: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "runs": runs,
        "generation": generation,
        "lines": runs[0]["lines"],
        "records": runs[0]["records"],
        "median_seconds": statistics.median(run["seconds"] for run in runs),
        "median_records_per_second": round(statistics.median(run["records_per_second"] for run in runs)),
        "median_write_records_per_second": round(statistics.median(run["write_records_per_second"] for run in runs)),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _table(results: dict[str, Any]) -> str:
    header = (
        f"{'bundle':<9} {'lines':>11} {'gen lines/s':>12} {'runs':>4} {'median s':>9} "
        f"{'records/s':>10} {'write rec/s':>11} {'peak RSS MB':>11}"
    )
    rows = [header, "-" * len(header)]
    for kind in ("county", "province"):
        item = results.get(kind)
        if item is None:
            rows.append(f"{kind:<9} (not run)")
            continue
        rows.append(
            f"{kind:<9} {item['lines']:>11,} {item['generation']['lines_per_second']:>12,.0f} {len(item['runs']):>4} "
            f"{item['median_seconds']:>9.1f} {item['median_records_per_second']:>10,} "
            f"{item['median_write_records_per_second']:>11,} {item['peak_rss_mb']:>11.0f}"
        )
    for kind, run in sorted(results.get("validation", {}).items()):
        rows.append(
            f"validation only, {kind}: {run['lines']:,} lines at {run['lines_per_second']:,} lines/s, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB"
        )
    flat = results.get("memory_flat")
    if flat is not None:
        rows.append(
            f"memory: province peak / county peak = {flat['ratio']:.2f} "
            f"({'flat' if flat['flat'] else 'NOT flat'}, limit {FLAT_FACTOR})"
        )
    return "\n".join(rows)


def _validate_only(args: argparse.Namespace) -> None:
    results: dict[str, Any] = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    validation = results.setdefault("validation", {})
    try:
        for kind in [cast(Kind, kind.strip()) for kind in args.kinds.split(",") if kind.strip()]:
            ensure_bundle(kind)
            print(f"validating the {kind} bundle ...", flush=True)
            run = _child(kind, "validate")
            run["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            validation[kind] = run
            print(
                f"  {run['lines']:,} lines in {run['seconds']:.1f} s: {run['lines_per_second']:,} lines/s, "
                f"{run['rejected']} rejected, peak RSS {run['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    finally:
        if not args.keep_running:
            stop_bench_database()
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(_table(results))
    print(f"results: {RESULTS}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="county", help="county, province or both (comma-separated)")
    parser.add_argument("--repeat", type=int, default=3, help="imports of the county (the province runs once)")
    parser.add_argument("--province-repeat", type=int, default=1)
    parser.add_argument("--keep-running", action="store_true", help="leave the bench database running")
    parser.add_argument(
        "--stage",
        choices=("import", "validate"),
        default="import",
        help="validate: measure only the validation pass an import starts with (its speed and memory)",
    )
    parser.add_argument("--child", choices=sorted(SPECS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        work = _validate_once if args.stage == "validate" else _import_once
        print(orjson.dumps(asyncio.run(work(args.child))).decode())
        return
    if args.stage == "validate":
        with bench_lock():
            _validate_only(args)
        return

    kinds = [cast(Kind, kind.strip()) for kind in args.kinds.split(",") if kind.strip()]
    for kind in kinds:
        if kind not in SPECS:
            parser.error(f"unknown bundle kind {kind!r}")
    with bench_lock():
        _run(args, kinds)


def _run(args: argparse.Namespace, kinds: list[Kind]) -> None:
    results: dict[str, Any] = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    try:
        for kind in kinds:
            bundle = ensure_bundle(kind)
            generation = {
                "lines": bundle.lines,
                "seconds": bundle.seconds,
                "lines_per_second": round(bundle.lines_per_second),
            }
            repeat = args.repeat if kind == "county" else args.province_repeat
            runs = []
            for number in range(repeat):
                print(f"importing the {kind} bundle, run {number + 1} of {repeat} ...", flush=True)
                run = _child(kind)
                print(
                    f"  {run['records']:,} records in {run['seconds']:.1f} s: {run['records_per_second']:,}/s, "
                    f"peak RSS {run['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
                runs.append(run)
            results[kind] = _summary(kind, runs, generation)
    finally:
        if not args.keep_running:
            stop_bench_database()
    if "county" in results and "province" in results:
        ratio = results["province"]["peak_rss_mb"] / results["county"]["peak_rss_mb"]
        results["memory_flat"] = {"ratio": round(ratio, 3), "flat": ratio <= FLAT_FACTOR}
    results["database"] = {
        "port": bench_database().bolt_port,
        "pagecache": bench_database().pagecache,
        "heap": bench_database().heap,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(_table(results))
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    main()
