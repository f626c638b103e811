"""What every benchmark shares: the dedicated bench database and the generated bundles.

The bench database is the project's own local Neo4j on port 7710, with its data under
`.shouhu/bench-neo4j` and a bigger page cache and heap than development. Bundles are
generated once into `bench/out/` (git-ignored) with a fixed seed and date, so every run of
every benchmark measures the same data; a `.meta.json` beside each bundle, written only
after the bundle is complete, records how it was made, its line count and its sha256 (the
importer's `ImportRun` id), so an interrupted generation is redone and a loaded bundle is
never imported twice (`ensure_loaded`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import orjson

from api.settings import STATE_DIR
from graph import localdb, migrations
from graph.bundle import generator, runs
from graph.bundle.generator import generate_county, generate_province
from graph.driver import Connection, Graph, connect
from graph.localdb import LocalDatabase

Kind = Literal["county", "province"]

OUT = Path(__file__).resolve().parent / "out"
BENCH_PORT = int(os.environ.get("SHOUHU_BENCH_NEO4J_PORT", "7710"))
BENCH_HOME = STATE_DIR / "bench-neo4j"
BENCH_PASSWORD = "shouhu-bench-password"  # noqa: S105 - a loopback-only benchmark database
# A fixed date keeps the bundles valid (nothing in the future) and the same on every day.
AS_OF = date(2026, 6, 15)
SEED = 20260615
_LOCK_HELD = "SHOUHU_BENCH_LOCK_HELD"


@dataclass(frozen=True, slots=True)
class BundleSpec:
    """How one bench bundle is generated: about 100 children per village."""

    kind: str
    counties: int
    villages_per_county: int
    county_code: str = "431228000000"  # outside the province bundle's counties, so both fit one database

    def lines(self) -> Iterator[str]:
        if self.kind == "county":
            return generate_county(self.villages_per_county, SEED, AS_OF, county_code=self.county_code)
        return generate_province(self.counties, self.villages_per_county, SEED, AS_OF)


SPECS: dict[str, BundleSpec] = {
    "county": BundleSpec("county", 1, 200),  # ~20,000 children
    "province": BundleSpec("province", 50, 200),  # ~1,000,000 children
}


@dataclass(frozen=True, slots=True)
class BundleInfo:
    path: Path
    kind: str
    lines: int
    sha256: str
    seconds: float  #: generation time, when this call generated it; else the recorded one
    spec: dict[str, object]

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def bench_database() -> LocalDatabase:
    """The bench Neo4j: its own port and folder, a 4 GB page cache and a 2 GB heap."""
    return LocalDatabase(
        home=Path(os.environ.get("SHOUHU_BENCH_NEO4J_HOME", str(BENCH_HOME))),
        bolt_port=BENCH_PORT,
        pagecache="4g",
        heap="2g",
        tx_total_max="1500m",
        tx_max="1g",
        tx_timeout="900s",
    )


def start_bench_database() -> LocalDatabase:
    local = bench_database()
    localdb.start(local, BENCH_PASSWORD, timeout=300)
    return local


def stop_bench_database() -> None:
    localdb.stop(bench_database(), timeout=180)


def reset_bench_database() -> LocalDatabase:
    """An empty store: stop the database, delete its folder, start it afresh."""
    local = bench_database()
    localdb.stop(local, timeout=180)
    if local.home.exists():
        shutil.rmtree(local.home)
    localdb.start(local, BENCH_PASSWORD, timeout=300)
    return local


@contextmanager
def bench_lock() -> Iterator[None]:
    """One benchmark at a time on the bench database: a second one waits for the first.

    The import benchmark empties the database between runs; without the lock a discovery or
    API benchmark running at the same time would lose its data mid-measurement (and both
    would measure each other's load). Child processes inherit the holder's right to it.
    """
    if os.environ.get(_LOCK_HELD):
        yield
        return
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / ".bench.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.environ[_LOCK_HELD] = "1"
        try:
            yield
        finally:
            del os.environ[_LOCK_HELD]


@asynccontextmanager
async def bench_graph() -> AsyncIterator[Graph]:
    """A `Graph` on the (started) bench database, with constraints and indexes in place."""
    with bench_lock():
        local = start_bench_database()
        connection = Connection(f"bolt://127.0.0.1:{local.bolt_port}", "neo4j", BENCH_PASSWORD, retry_budget=30.0)
        async with connect(connection) as graph:
            await graph.driver.verify_connectivity()
            await migrations.apply(graph)
            yield graph


def bundle_path(kind: Kind) -> Path:
    return OUT / f"{kind}.ndjson"


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".meta.json")


def _spec(kind: Kind) -> dict[str, object]:
    """What makes a bundle: the spec, seed and date, and the generator's version."""
    return asdict(SPECS[kind]) | {"seed": SEED, "asOf": AS_OF.isoformat(), "generator": generator.VERSION}


def bundle_info(kind: Kind) -> BundleInfo | None:
    """The complete bundle of that kind made by the current spec, if there is one."""
    path = bundle_path(kind)
    try:
        meta = orjson.loads(_meta_path(path).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    spec = _spec(kind)
    if meta.get("spec") != spec or not path.exists() or path.stat().st_size != meta.get("bytes"):
        return None
    return BundleInfo(path, kind, meta["lines"], meta["sha256"], meta["seconds"], spec)


def ensure_bundle(kind: Kind, *, echo: Callable[[str], None] = print) -> BundleInfo:
    """The bench bundle of that kind, generated now unless an identical one is on disk."""
    existing = bundle_info(kind)
    if existing is not None:
        return existing
    OUT.mkdir(parents=True, exist_ok=True)
    path = bundle_path(kind)
    spec = SPECS[kind]
    partial = path.with_suffix(".partial")
    digest = hashlib.sha256()
    lines = 0
    echo(f"generating the {kind} bundle ({spec.counties} x {spec.villages_per_county} villages) into {path} ...")
    started = time.perf_counter()
    with partial.open("wb") as out:
        chunk: list[str] = []
        for line in spec.lines():
            chunk.append(line)
            if len(chunk) == 8192:
                data = ("\n".join(chunk) + "\n").encode()
                digest.update(data)
                out.write(data)
                lines += len(chunk)
                chunk = []
        if chunk:
            data = ("\n".join(chunk) + "\n").encode()
            digest.update(data)
            out.write(data)
            lines += len(chunk)
    seconds = time.perf_counter() - started
    partial.replace(path)
    made, sha256 = _spec(kind), digest.hexdigest()
    meta = {"spec": made, "lines": lines, "bytes": path.stat().st_size, "sha256": sha256, "seconds": round(seconds, 2)}
    _meta_path(path).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    echo(f"  {lines:,} lines in {seconds:.1f} s ({lines / seconds:,.0f} lines/s)")
    return BundleInfo(path, kind, lines, sha256, seconds, made)


async def is_loaded(graph: Graph, bundle: BundleInfo) -> bool:
    """The importer records a complete `ImportRun` keyed by the bundle's sha256."""
    run = await runs.get_run(graph, bundle.sha256)
    return run is not None and run.complete


async def ensure_loaded(graph: Graph, kind: Kind, *, echo: Callable[[str], None] = print) -> BundleInfo:
    """Make sure the bench database holds that bundle; import it only when it does not."""
    from graph.bundle.importer import import_bundle

    bundle = ensure_bundle(kind, echo=echo)
    if await is_loaded(graph, bundle):
        return bundle
    echo(f"importing the {kind} bundle ({bundle.lines:,} lines) into the bench database ...")
    work = OUT / f"work-{kind}"
    work.mkdir(parents=True, exist_ok=True)
    result = await import_bundle(graph, bundle.path, today=AS_OF, workdir=work)
    if not result.ok:
        raise RuntimeError(f"the {kind} bundle was refused: {result.rejected[:3]}")
    return bundle


__all__ = [
    "AS_OF",
    "OUT",
    "SEED",
    "SPECS",
    "BundleInfo",
    "bench_database",
    "bench_graph",
    "bench_lock",
    "bundle_info",
    "ensure_bundle",
    "ensure_loaded",
    "is_loaded",
    "reset_bench_database",
    "start_bench_database",
    "stop_bench_database",
]
