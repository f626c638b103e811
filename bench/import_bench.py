"""Import throughput and memory: a generated county (~20k children) and province (~1M).

    python -m bench.import_bench                          # the county, three times
    python -m bench.import_bench --kinds county,province  # then the province once (long)
    python -m bench.import_bench --kinds province --stage validate   # only the validation pass
    python -m bench.import_bench --kinds incremental      # the county loaded, then a bundle of changes

Each import runs in a fresh Python process against an empty bench database (stopped, its
folder deleted, started again), so the peak RSS that process reports (`getrusage`) belongs
to that one import. The incremental case loads the county first (not measured), then imports
`bench.incremental`'s bundle of changes and new records in a fresh process, re-evaluates the
children it reaches as the CLI does, and imports it once more (a no-op by idempotency). Results
are printed as a table and merged into `bench/out/import_bench.json` (a kind not run this time
keeps its previous figures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
    start_bench_database,
    stop_bench_database,
)
from bench.incremental import WARM_UP, ensure_incremental_bundle
from bench.systems import cpu_seconds, neo4j_pid
from graph.bundle.importer import ImportResult
from graph.bundle.validation import validate_bundle
from graph.discovery import Thresholds
from graph.driver import Graph
from graph.risk import AlertPolicy, Evaluation, affected_named, reevaluate

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


async def _reevaluated(graph: Graph, result: ImportResult) -> tuple[list[str], Evaluation]:
    """What `shouhu import` does after an import: the children what it wrote reaches, judged."""
    pending = result.pending
    if pending is None or pending.named is None:
        raise RuntimeError("the import named nothing to re-evaluate")
    children = await affected_named(graph, pending.named)
    evaluation = await reevaluate(
        graph, children, as_of=AS_OF, thresholds=Thresholds(), policy=AlertPolicy(), by="import",
        pending=[pending.token],
    )  # fmt: skip
    return children, evaluation


async def _incremental_once() -> dict[str, Any]:
    """Run in the child process, the county loaded: import the incremental bundle, re-evaluate
    the children it reaches (what `shouhu import` does next), then import it again. The warm-up
    bundle before it is imported and re-evaluated the same way, unmeasured."""
    from graph.bundle.importer import import_bundle

    info = ensure_incremental_bundle(echo=lambda _: None)
    warm_up = ensure_incremental_bundle(WARM_UP, echo=lambda _: None)
    work = OUT / "work-incremental"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    marks: dict[str, float] = {}

    database = neo4j_pid()

    def db_cpu() -> float:
        return cpu_seconds(database) if database else 0.0

    def validated(_: int) -> None:
        marks.update(validated=time.perf_counter(), own=time.process_time(), db=db_cpu())

    try:
        async with bench_graph() as graph:
            warmed = await import_bundle(graph, warm_up.path, today=AS_OF, workdir=work)
            if not warmed.ok:
                raise RuntimeError(f"the warm-up bundle was refused: {warmed.rejected[:3]}")
            await _reevaluated(graph, warmed)
            baseline = _rss_mb()
            load_before = os.getloadavg()[0]
            own_before, db_before = time.process_time(), db_cpu()
            started = time.perf_counter()
            result = await import_bundle(graph, info.path, today=AS_OF, workdir=work, validated=validated)
            finished = time.perf_counter()
            own, db = time.process_time(), db_cpu()
            peak = _rss_mb()
            children, evaluation = await _reevaluated(graph, result)
            reevaluated = time.perf_counter()
            own_judged, db_judged = time.process_time(), db_cpu()
            again = await import_bundle(graph, info.path, today=AS_OF, workdir=work)
            repeated = time.perf_counter()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not result.ok or not again.ok:
        raise RuntimeError(f"the incremental bundle was refused: {result.rejected[:3]}")
    validating = marks.get("validated", started) - started
    writing = finished - marks.get("validated", started)
    return {
        "kind": "incremental",
        "lines": info.lines,
        "mix": info.mix,
        "ok": result.ok,
        "records": result.written,
        "seconds": round(finished - started, 2),
        "validate_seconds": round(validating, 2),
        "write_seconds": round(writing, 2),
        "records_per_second": round(result.written / (finished - started)),
        "validate_lines_per_second": round(info.lines / max(validating, 1e-9)),
        "write_records_per_second": round(result.written / max(writing, 1e-9)),
        # CPU seconds of this process and of the database, validating and writing: on a shared
        # machine they say more than the wall time does.
        "validate_cpu_seconds": round(marks.get("own", own) - own_before, 2),
        "validate_neo4j_cpu_seconds": round(marks.get("db", db) - db_before, 2),
        "write_cpu_seconds": round(own - marks.get("own", own), 2),
        "write_neo4j_cpu_seconds": round(db - marks.get("db", db), 2),
        "reevaluated_children": len(children),
        "reevaluate_seconds": round(reevaluated - finished, 2),
        "reevaluate_cpu_seconds": round(own_judged - own, 2),
        "reevaluate_neo4j_cpu_seconds": round(db_judged - db, 2),
        "alerts_raised": len(evaluation.changes.raised),
        "again_seconds": round(repeated - reevaluated, 2),
        "again_records_per_second": round(again.written / max(repeated - reevaluated, 1e-9)),
        "load_average": round((load_before + os.getloadavg()[0]) / 2, 2),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak, 1),
    }


def _load_county() -> None:
    """The bench database holding exactly the county: loaded once into an empty database (in a
    process of its own), its stopped store copied aside, and that copy put back for each run."""
    local = bench_database()
    snapshot = OUT / "county-store"
    made_from = ensure_bundle("county", echo=lambda _: None).sha256
    complete = snapshot / ".complete"
    if not complete.exists() or complete.read_text() != made_from:
        _load_county_afresh()
        stop_bench_database()
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(local.home, snapshot)
        complete.write_text(made_from)
    stop_bench_database()
    shutil.rmtree(local.home, ignore_errors=True)
    shutil.copytree(snapshot, local.home, ignore=shutil.ignore_patterns(".complete"))
    start_bench_database()


def _load_county_afresh() -> None:
    reset_bench_database()
    completed = subprocess.run(
        [sys.executable, "-c", "import asyncio, bench.import_bench as b; asyncio.run(b._load_county_in())"],
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"loading the county failed:\n{completed.stderr[-4000:]}")


async def _load_county_in() -> None:
    from bench.common import ensure_loaded

    async with bench_graph() as graph:
        await ensure_loaded(graph, "county", echo=lambda _: None)


def _incremental(args: argparse.Namespace, results: dict[str, Any]) -> None:
    ensure_incremental_bundle()
    ensure_incremental_bundle(WARM_UP)
    runs = []
    for number in range(args.incremental_repeat):
        print(f"loading the county, then the incremental bundle, run {number + 1} of {args.incremental_repeat} ...")
        _load_county()
        completed = subprocess.run(
            [sys.executable, "-m", "bench.import_bench", "--child", "incremental"],
            check=False,
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the incremental import failed:\n{completed.stderr[-4000:]}")
        run = cast(dict[str, Any], orjson.loads(completed.stdout.strip().splitlines()[-1]))
        print(
            f"  {run['records']:,} records in {run['seconds']:.1f} s: {run['records_per_second']:,}/s "
            f"(validation {run['validate_seconds']:.1f} s, {run['validate_lines_per_second']:,} lines/s; "
            f"write {run['write_seconds']:.1f} s, {run['write_records_per_second']:,} records/s); "
            f"re-evaluation of {run['reevaluated_children']:,} children {run['reevaluate_seconds']:.1f} s; "
            f"CPU import/Neo4j: validation {run['validate_cpu_seconds']}/{run['validate_neo4j_cpu_seconds']} s, "
            f"write {run['write_cpu_seconds']}/{run['write_neo4j_cpu_seconds']} s; "
            f"again {run['again_seconds']:.1f} s; peak RSS {run['peak_rss_mb']:.0f} MB; load {run['load_average']}",
            flush=True,
        )
        runs.append(run)
    results["incremental"] = _summary("incremental", runs, None) | {
        "median_validate_lines_per_second": round(statistics.median(run["validate_lines_per_second"] for run in runs)),
        "median_reevaluate_seconds": statistics.median(run["reevaluate_seconds"] for run in runs),
    }
    _write_incremental_results(results["incremental"])


RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _write_incremental_results(summary: dict[str, Any]) -> None:
    """The incremental figures as committed results: JSON, and a markdown table of the runs,
    with the figures committed before them (`before`, what this run is compared with)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "import-incremental.json"
    if path.exists():
        previous = orjson.loads(path.read_bytes())
        summary["before"] = {key: value for key, value in previous.items() if key != "before"}
    summary["commit"] = _commit()
    path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    rows = [
        f"# Incremental import: {summary['lines']:,} lines onto the loaded bench county",
        "",
        f"Measured {summary['measured_at']} at {summary['commit'] or 'an unknown commit'} by"
        f" `python -m bench.import_bench --kinds incremental`; median {summary['median_records_per_second']:,}"
        f" records/s over {len(summary['runs'])} run(s). CPU seconds are the importing process's and Neo4j's;"
        " load is the 1-minute load average.",
        "",
        *_incremental_table(summary["runs"]),
    ]
    before = summary.get("before")
    if before:
        rows += [
            "",
            f"Before: the figures committed earlier, measured {before.get('measured_at')} at"
            f" {before.get('commit') or 'an earlier commit'};"
            f" median {before['median_records_per_second']:,} records/s.",
            "",
            *_incremental_table(before["runs"]),
        ]
    (RESULTS_DIR / "import-incremental.md").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _incremental_table(runs: list[dict[str, Any]]) -> list[str]:
    head = (
        "| run | records | total s | records/s | validation s (lines/s) | write s (records/s) "
        "| CPU import / Neo4j, validation | CPU import / Neo4j, write | re-evaluation s (CPU import / Neo4j) "
        "| again s | peak RSS MB | load |"
    )
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    for number, run in enumerate(runs, 1):
        judged = f"{run['reevaluated_children']:,} persons, {run['reevaluate_seconds']}"
        if "reevaluate_cpu_seconds" in run:
            judged += f" ({run['reevaluate_cpu_seconds']} / {run['reevaluate_neo4j_cpu_seconds']})"
        rows.append(
            f"| {number} | {run['records']:,} | {run['seconds']} | {run['records_per_second']:,} "
            f"| {run['validate_seconds']} ({run['validate_lines_per_second']:,}) "
            f"| {run['write_seconds']} ({run['write_records_per_second']:,}) "
            f"| {run['validate_cpu_seconds']} / {run['validate_neo4j_cpu_seconds']} "
            f"| {run['write_cpu_seconds']} / {run['write_neo4j_cpu_seconds']} "
            f"| {judged} | {run['again_seconds']} | {run['peak_rss_mb']:.0f} | {run['load_average']} |"
        )
    return rows


def _commit() -> str | None:
    """The commit measured (the bench runs from a clone; None outside one)."""
    git = shutil.which("git")
    if git is None:
        return None
    completed = subprocess.run(  # noqa: S603 - git itself, no shell
        [git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True, cwd=RESULTS_DIR
    )
    return (completed.stdout.strip() or None) if completed.returncode == 0 else None


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


def _summary(kind: str, runs: list[dict[str, Any]], generation: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "runs": runs,
        **({"generation": generation} if generation is not None else {}),
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
    incremental = results.get("incremental")
    if incremental is not None:
        rows.append(
            f"incremental (county loaded): {incremental['lines']:,} lines, {incremental['records']:,} records, "
            f"median {incremental['median_seconds']:.1f} s: {incremental['median_records_per_second']:,} records/s "
            f"(validation {incremental['median_validate_lines_per_second']:,} lines/s, write "
            f"{incremental['median_write_records_per_second']:,} records/s), re-evaluation "
            f"{incremental['median_reevaluate_seconds']:.1f} s, peak RSS {incremental['peak_rss_mb']:.0f} MB"
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
    parser.add_argument("--incremental-repeat", type=int, default=3)
    parser.add_argument("--keep-running", action="store_true", help="leave the bench database running")
    parser.add_argument(
        "--stage",
        choices=("import", "validate"),
        default="import",
        help="validate: measure only the validation pass an import starts with (its speed and memory)",
    )
    parser.add_argument("--child", choices=[*sorted(SPECS), "incremental"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "incremental":
        print(orjson.dumps(asyncio.run(_incremental_once())).decode())
        return
    if args.child:
        work = _validate_once if args.stage == "validate" else _import_once
        print(orjson.dumps(asyncio.run(work(args.child))).decode())
        return
    if args.stage == "validate":
        with bench_lock():
            _validate_only(args)
        return

    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    for kind in kinds:
        if kind not in SPECS and kind != "incremental":
            parser.error(f"unknown bundle kind {kind!r}")
    with bench_lock():
        _run(args, kinds)


def _run(args: argparse.Namespace, kinds: list[str]) -> None:
    results: dict[str, Any] = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    try:
        for name in kinds:
            if name == "incremental":
                _incremental(args, results)
                continue
            kind = cast(Kind, name)
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
