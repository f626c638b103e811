"""Shouhu, the Neo4j GraphQL Library and the raw-Cypher floor, side by side under load.

    python -m bench.api_bench                          # the default run (`make bench BENCH=api`)
    python -m bench.api_bench --duration 10 --rounds 5 # longer cells
    python -m bench.api_bench --operations child_file --concurrency 1,8,32

On the bench database holding the county bundle exactly as imported (re-imported into an
empty store when an earlier run's visits are in it), after a sweep has materialised today's
risk nodes, three servers run in their own processes (`bench.systems`): Shouhu as
`shouhu serve` in production mode, the peer (`bench/peer/`) and the floor (`bench.floor`).

1. Every operation (`bench.queries`) is asked of the three systems and their answers are
   compared as normalised JSON; any difference stops the run (both answers are written to
   `bench/out/api/`), because a faster wrong answer measures nothing. Shouhu's database round
   trips for one request of each are counted in-process.
2. For each operation and concurrency, each system is warmed up, then measured in
   `--rounds` rounds, the systems taking turns within each round (the order rotating
   round to round), so the load other work puts on the machine falls on all three alike.
   Each measurement is the load tool (autocannon, `bench/peer/load.mjs`, its own Node
   process) sending what the warm-up says the system answers in about `--duration` seconds,
   stopped at three times that and drained; the CPU the server's processes and the database
   used meanwhile is read from /proc.
3. Figures are the medians over rounds: p50, p99, requests/s, CPU ms per request;
   ratios Shouhu/floor and Shouhu/peer. Written to `bench/results/latest.{json,md}` and
   `latency.svg`, with the machine (cores, memory, load average before and after) and the
   versions.

`--kinds county,province` (`BENCH_PROVINCE=1`) adds the province's cells (`PROVINCE`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final, LiteralString
from zoneinfo import ZoneInfo

import httpx

from bench import queries, systems
from bench.common import (
    AS_OF,
    BENCH_PASSWORD,
    OUT,
    SPECS,
    bench_database,
    bench_graph,
    bench_lock,
    ensure_bundle,
    reset_bench_database,
)
from bench.queries import OPERATIONS, Sample
from bench.systems import PEER_DIR, SYSTEMS, Server
from graph import alerts, risk_index
from graph.dates import birth_cutoff
from graph.discovery import Thresholds
from graph.driver import Graph

RESULTS: Final = Path(__file__).resolve().parent / "results"
WORK: Final = OUT / "api"
ZONE: Final = "Asia/Shanghai"
COUNTY: Final = SPECS["county"].county_code
#: Child files asked for in turn.
SAMPLE_SIZE: Final = 200
#: A measurement stops after this many times `--duration`, answered or not.
CAP_FACTOR: Final = 3.0

SAMPLE_CHILDREN: LiteralString = """
MATCH (c:Person)
WHERE c.regionCode STARTS WITH $prefix AND c.birthDate > $born18 AND c.birthDate <= $today
  AND EXISTS { (:Person)-[:PARENT_OF]->(c) }
RETURN c.id AS id ORDER BY c.id
"""

#: The county's first township by code that holds at least fifty children at the bundle's date.
TOWNSHIP: LiteralString = """
MATCH (r:Region {level: 'township'})
WHERE r.code STARTS WITH $prefix
  AND COUNT { MATCH (c:Person) WHERE c.regionCode STARTS WITH substring(r.code, 0, 9)
                AND c.birthDate <= $asOf AND c.birthDate > $born18 } >= 50
RETURN r.code AS code ORDER BY code LIMIT 1
"""

#: The visitor of every recorded visit, and the token's subject: an adult of the county.
VISITOR: LiteralString = """
MATCH (p:Person)-[:MEMBER_OF]->(h:Household)
WHERE h.regionCode STARTS WITH $prefix AND p.birthDate <= $adult AND p.deceasedOn IS NULL
RETURN p.id AS id ORDER BY p.id LIMIT 1
"""

#: Visits an earlier run recorded: their notes begin with "bench " (`bench.queries`).
BENCH_VISITS: LiteralString = """
MATCH (:Person)-[v:VISITED]->(:Person) WHERE v.notes STARTS WITH 'bench ' RETURN count(v) AS n
"""

NEO4J_VERSION: LiteralString = "CALL dbms.components() YIELD name, versions RETURN name, versions[0] AS version"


@dataclass(frozen=True, slots=True)
class Case:
    """What one row of the results asks: an operation of `bench.queries` about a sample."""

    name: str  #: its key in the results (the operation's name for the county's cases)
    operation: str
    sample: Sample


@dataclass(frozen=True, slots=True)
class Cell:
    case: Case
    concurrency: int


@dataclass(frozen=True, slots=True)
class Extra:
    """A case the province adds (`--kinds ...,province`): `prepare` gets the bench database
    and the county's sample, makes sure what the case reads is there (loaded, swept) and
    returns its sample (`dataclasses.replace(sample, region=...)`)."""

    name: str
    operation: str
    prepare: Callable[[Graph, Sample], Awaitable[Sample]]


@dataclass(slots=True)
class Measured:
    """One system's rounds in one cell (none: it answered nothing in the warm-up's time)."""

    rounds: list[dict[str, Any]] = field(default_factory=list)

    def median(self, name: str, *, answered: bool = True) -> float | None:
        """The median over the rounds; of a latency, over the rounds that got an answer."""
        values = [float(r[name]) for r in self.rounds if r["requests"] or not answered]
        return round(statistics.median(values), 2) if values else None

    def summary(self, cap: float) -> dict[str, Any]:
        return {
            "p50_ms": self.median("p50"),
            "p99_ms": self.median("p99"),
            "rps": self.median("rps", answered=False),
            "cpu_ms_per_request": self.median("cpu_ms", answered=False),
            "neo4j_cpu_ms_per_request": self.median("neo4j_cpu_ms", answered=False),
            "requests": sum(int(r["requests"]) for r in self.rounds),
            "cut_rounds": sum(1 for r in self.rounds if r["cut"]),
            "failed": sum(int(r["failed"]) for r in self.rounds),
            "cap_seconds": cap,
            "rounds": self.rounds,
        }


#: The cases the province adds (`--kinds ...,province`), measured after the county's like
#: them: filled by the province's benchmark work (its offline import, its discovery pages).
PROVINCE: Final[list[Extra]] = []


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(ZONE)).date()


async def _trusted(graph: Graph, prefix: str, today: dt.date) -> bool:
    """Whether today's materialised risk of the county is what an evaluation would give."""
    key = risk_index.thresholds_key(Thresholds(timezone=ZONE).as_dict())
    return await risk_index.trusted(graph, seek=prefix, as_of=today, thresholds=key)


async def _trusted_county(sample: Sample) -> bool:
    from graph.regions import scope_prefix

    async with bench_graph() as graph:
        return await _trusted(graph, scope_prefix(sample.region), sample.today)


async def _sweep(graph: Graph, prefix: str, today: dt.date) -> None:
    """What the daily sweep does in production: today's findings materialised per child. A
    full sweep (every region: the database holds the county alone), since only a full one
    clears the marker an import leaves, without which the risk is not trusted."""
    await alerts.sweep(
        graph, region_prefix="", scope_prefix="", as_of=today, thresholds=Thresholds(timezone=ZONE), by="api-bench"
    )


#: The operations that read today's materialised risk (a run of the others needs no sweep).
READS_RISK: Final = ("discover", "record_visit")


async def _prepare(
    graph: Graph, echo: Callable[[str], None], operations: Sequence[str] = OPERATIONS
) -> tuple[Sample, dict[str, Any]]:
    """The county as imported, today's risk materialised (when an operation reads it), and what
    the requests ask about."""
    from graph.regions import scope_prefix

    setup: dict[str, Any] = {}
    prefix = scope_prefix(COUNTY)
    today = _today()
    started = time.perf_counter()
    if not any(operation in READS_RISK for operation in operations):
        # The file and the list never read the risk nodes: sweeping (minutes) measures nothing.
        setup["sweep_seconds"] = None
        echo("no operation measured reads today's risk: not swept")
    elif await _trusted(graph, prefix, today):
        setup["sweep_seconds"] = 0.0
        echo("today's risk of the county is materialised and trusted already")
    else:
        await _sweep(graph, prefix, today)
        setup["sweep_seconds"] = round(time.perf_counter() - started, 1)
        echo(f"swept the county for {today}: {setup['sweep_seconds']} s")
    # Whether Shouhu's `discover` reads today's page from the risk nodes (else it evaluates).
    setup["risk_trusted"] = await _trusted(graph, prefix, today)

    ids = [
        row["id"]
        for row in await graph.read(
            SAMPLE_CHILDREN, {"prefix": prefix, "born18": birth_cutoff(today, 18), "today": today}
        )
    ]
    children = tuple(random.Random(20260615).sample(ids, min(SAMPLE_SIZE, len(ids))))
    township = (await graph.read(TOWNSHIP, {"prefix": prefix, "asOf": AS_OF, "born18": birth_cutoff(AS_OF, 18)}))[0][
        "code"
    ]
    visitor = (await graph.read(VISITOR, {"prefix": prefix, "adult": birth_cutoff(today, 18)}))[0]["id"]
    version = await graph.read(NEO4J_VERSION, {})
    setup["neo4j"] = {row["name"]: row["version"] for row in version}
    sample = Sample(
        as_of=AS_OF,
        today=today,
        region=COUNTY,
        township=township,
        children=children,
        visitor=visitor,
        visited=children[1:],
    )
    return sample, setup


async def _fresh_county(echo: Callable[[str], None], *, reuse: bool) -> dict[str, Any]:
    """The county bundle and nothing else: re-imported when an earlier run wrote visits
    (unless `reuse`: then only when it is not loaded)."""
    from bench.common import ensure_loaded, is_loaded

    bundle = ensure_bundle("county", echo=echo)
    async with bench_graph() as graph:
        loaded = await is_loaded(graph, bundle)
        dirty = loaded and not reuse and (await graph.read(BENCH_VISITS, {}))[0]["n"] > 0
    figures: dict[str, Any] = {"bundle_lines": bundle.lines, "bundle_sha256": bundle.sha256}
    if not loaded or dirty:
        echo("emptying the bench database for a fresh county ...")
        reset_bench_database()
        started = time.perf_counter()
        async with bench_graph() as graph:
            await ensure_loaded(graph, "county", echo=echo)
        figures["import_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def _post(server: Server, body: str, headers: dict[str, str]) -> dict[str, Any]:
    response = httpx.post(server.url, content=body, headers=systems.JSON | headers, timeout=300)
    answer: dict[str, Any] = response.json()
    if response.status_code != 200 or answer.get("errors"):
        raise RuntimeError(f"{server.name}: {response.status_code} {response.text[:1000]}")
    data: dict[str, Any] = answer["data"]
    return data


def verify(
    running: dict[str, Server], token: systems.Token, cases: Sequence[Case], echo: Callable[[str], None]
) -> dict[str, int]:
    """Ask every case of each system; stop the run unless the answers are the same."""
    checked: dict[str, int] = {}
    for case in cases:
        tag = f"verify-{time.time_ns()}"  # the same notes from each system, new to the database
        per_system = {name: queries.bodies(case.operation, name, case.sample, tag=tag) for name in SYSTEMS}
        headers = {name: _credentials(name, token, case.sample) for name in SYSTEMS}
        count = min(5, len(per_system["shouhu"])) if case.operation != "record_visit" else 1
        for index in range(count):
            answers = {}
            for name, server in running.items():
                data = _post(server, per_system[name][index], headers[name])
                shaped = queries.to_shouhu(case.operation, data) if name == "peer" else data
                if not queries.answered(case.operation, shaped):
                    raise RuntimeError(f"{case.name}: {name} found nothing for {per_system[name][index][:300]}")
                answers[name] = queries.normalised(case.operation, shaped)
            for name in ("peer", "floor"):
                if answers[name] != answers["shouhu"]:
                    WORK.mkdir(parents=True, exist_ok=True)
                    for who in ("shouhu", name):
                        (WORK / f"differs-{case.name}-{who}.json").write_bytes(answers[who])
                    raise RuntimeError(
                        f"{case.name}: {name}'s answer differs from Shouhu's (request {index}); "
                        f"see {WORK}/differs-{case.name}-*.json"
                    )
        checked[case.name] = count
        echo(f"verified {case.name}: the three answers are the same ({count} requests)")
    return checked


def _credentials(name: str, token: systems.Token, sample: Sample) -> dict[str, str]:
    return systems.credentials(name, token, sample.visitor, sample.region)


def _drain(pids: Sequence[int], timeout: float = 600.0) -> None:
    """Wait until the processes are idle (under a tenth of a core for a second): requests a
    cut-off measurement left in flight must not load the next one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(systems.cpu_seconds(pid) for pid in pids)
        time.sleep(1.0)
        if sum(systems.cpu_seconds(pid) for pid in pids) - before < 0.1:
            return


async def round_trips(cases: Sequence[Case]) -> dict[str, int]:
    """Shouhu's database round trips for one request of each operation, counted in-process
    (the app built with its lifespan, called over ASGI): the figure that must stay bounded
    however long the lists are. Not timed."""
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from api.auth import mint_development_token
    from api.settings import Settings
    from graph.callers import Role

    secret = "shouhu-bench-round-trips-0123456789abcdef"  # noqa: S105 - signs one local token
    local = bench_database()
    environment = {
        "SHOUHU_ENV": "test",
        "NEO4J_URI": f"bolt://127.0.0.1:{local.bolt_port}",
        "NEO4J_USER": "neo4j",
        "NEO4J_PASSWORD": BENCH_PASSWORD,
        "SHOUHU_JWT_SECRET": secret,
    } | systems.SHOUHU_OVERRIDES
    counted: dict[str, int] = {}
    async with LifespanManager(create_app(Settings.from_environment(environment))) as manager:
        graph: Graph = manager._state["graph"]
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=300) as http:
            for case in cases:
                sample = case.sample
                token = mint_development_token(secret, role=Role.COORDINATOR, sub=sample.visitor, region=sample.region)
                body = queries.bodies(case.operation, "shouhu", sample, tag=f"trips-{time.time_ns()}")[-1]
                graph.round_trips = 0
                response = await http.post(
                    "/graphql",
                    content=body,
                    headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
                )
                if response.status_code != 200 or response.json().get("errors"):
                    raise RuntimeError(f"round trips, {case.name}: {response.text[:500]}")
                counted[case.name] = graph.round_trips
    return counted


def load(
    server: Server,
    headers: dict[str, str],
    bodies: list[str],
    connections: int,
    amount: int,
    neo4j: int | None,
    max_seconds: float,
) -> dict[str, Any]:
    """One measurement: `amount` requests from the load tool to one server (fewer if
    `max_seconds` pass first), and the CPU the server and the database spent on them."""
    WORK.mkdir(parents=True, exist_ok=True)
    config = WORK / f"load-{server.name}.json"
    config.write_text(
        json.dumps(
            {
                "url": server.url,
                "headers": headers,
                "bodies": bodies,
                "connections": connections,
                "amount": amount,
                "maxSeconds": max_seconds,
                "timeout": 600,
            }
        )
    )
    watched = [server.pid] + ([neo4j] if neo4j else [])
    cpu_before = systems.cpu_seconds(server.pid)
    db_before = systems.cpu_seconds(neo4j) if neo4j else 0.0
    completed = subprocess.run(  # noqa: S603
        ["node", str(PEER_DIR / "load.mjs"), str(config)],  # noqa: S607
        capture_output=True,
        check=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    if result["cut"]:
        _drain(watched)
    cpu = systems.cpu_seconds(server.pid) - cpu_before
    db = (systems.cpu_seconds(neo4j) - db_before) if neo4j else 0.0
    # A refusal under load (a deadline passed, a queue full) is the system's answer: counted,
    # and the first one kept, rather than ending the run.
    result["failed"] = int(result["failed"]) + int(result["errors"]) + int(result["timeouts"])
    # When cut off, the server also worked on the requests still in flight: all it was sent.
    requests = max(int(result["sent"] if result["cut"] else result["requests"]), 1)
    result["cpu_ms"] = round(cpu * 1000 / requests, 3)
    result["neo4j_cpu_ms"] = round(db * 1000 / requests, 3)
    if not result["failed"]:
        result.pop("firstFailure", None)
    result["load_average"] = _loadavg()[0]
    return result


def least(concurrency: int) -> int:
    """The fewest requests a measurement asks for: two per connection, and at least ten."""
    return max(10, 2 * concurrency)


def measure(
    running: dict[str, Server],
    token: systems.Token,
    cells: Sequence[Cell],
    *,
    duration: float,
    warmup: float,
    rounds: int,
    echo: Callable[[str], None],
    done: Callable[[list[dict[str, Any]]], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Every cell in turn; `done` gets the figures so far after each."""
    neo4j = systems.neo4j_pid()
    cap = CAP_FACTOR * duration
    out = []
    for cell in cells:
        case = cell.case
        bodies = {name: queries.bodies(case.operation, name, case.sample) for name in SYSTEMS}
        headers = {name: _credentials(name, token, case.sample) for name in SYSTEMS}
        # The warm-up also tells each system's rate, so that a measurement lasts about
        # `duration` seconds however fast the system is, and ends with every request answered.
        # A system that answers nothing within the cap is not measured further in this cell.
        amounts: dict[str, int] = {}
        for name in SYSTEMS:
            first = least(cell.concurrency)
            warm = load(running[name], headers[name], bodies[name], cell.concurrency, first, neo4j, cap)
            while not warm["cut"] and warm["seconds"] < warmup:
                first = max(first * 2, int(warm["rps"] * warmup))
                warm = load(running[name], headers[name], bodies[name], cell.concurrency, first, neo4j, cap)
            if warm["requests"]:
                amounts[name] = max(least(cell.concurrency), round(warm["rps"] * duration))
        measured = {name: Measured() for name in SYSTEMS}
        for round_ in range(rounds):
            order = SYSTEMS[round_ % 3 :] + SYSTEMS[: round_ % 3]
            for name in order:
                if name in amounts:
                    result = load(
                        running[name], headers[name], bodies[name], cell.concurrency, amounts[name], neo4j, cap
                    )
                    measured[name].rounds.append(result)
        summary = {name: measured[name].summary(cap) for name in SYSTEMS}
        entry = {"case": case.name, "operation": case.operation, "concurrency": cell.concurrency, "systems": summary}
        entry["ratios"] = ratios(summary)
        out.append(entry)
        done(out)
        echo(
            f"{case.name:>14} c={cell.concurrency:<3} "
            + "  ".join(
                f"{name} p50 {summary[name]['p50_ms']} ms p99 {summary[name]['p99_ms']} ms {summary[name]['rps']} req/s"
                for name in SYSTEMS
            )
        )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    shouhu, peer, floor = summary["shouhu"], summary["peer"], summary["floor"]
    return {
        "p50_shouhu_over_floor": _ratio(shouhu["p50_ms"], floor["p50_ms"]),
        "p50_shouhu_over_peer": _ratio(shouhu["p50_ms"], peer["p50_ms"]),
        "p99_shouhu_over_peer": _ratio(shouhu["p99_ms"], peer["p99_ms"]),
        "rps_shouhu_over_floor": _ratio(shouhu["rps"], floor["rps"]),
        "rps_shouhu_over_peer": _ratio(shouhu["rps"], peer["rps"]),
        "cpu_shouhu_over_peer": _ratio(shouhu["cpu_ms_per_request"], peer["cpu_ms_per_request"]),
    }


# --- the machine and the versions ----------------------------------------------------------------


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def machine() -> dict[str, Any]:
    memory = {
        line.split(":")[0]: int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith(("MemTotal", "MemAvailable"))
    }
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_mb": memory.get("MemTotal"),
        "memory_available_mb": memory.get("MemAvailable"),
        "kernel": platform.release(),
    }


def _command(*args: str, cwd: Path | None = None) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True, cwd=cwd).stdout.strip()  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(neo4j: dict[str, str]) -> dict[str, Any]:
    lock = json.loads((PEER_DIR / "package-lock.json").read_text())["packages"]
    npm = {name: lock[f"node_modules/{name}"]["version"] for name in systems.NPM_PACKAGES}
    python = {
        name: metadata.version(name) for name in ("strawberry-graphql", "starlette", "uvicorn", "neo4j", "orjson")
    }
    status = _command("git", "status", "--porcelain", cwd=systems.ROOT)
    return {
        "neo4j": neo4j,
        "python": platform.python_version(),
        "node": _command("node", "--version"),
        "npm": npm,
        "python_packages": python,
        "git_commit": _command("git", "rev-parse", "HEAD", cwd=systems.ROOT),
        "git_dirty": bool(status and status != "unknown"),
    }


def cells_for(cases: Sequence[Case], concurrency: Sequence[int]) -> list[Cell]:
    return [Cell(case, c) for case in cases for c in concurrency]


def run(
    arguments: argparse.Namespace,
    echo: Callable[[str], None] = print,
    progress: Callable[[dict[str, Any]], None] = lambda _: None,
) -> dict[str, Any]:
    """The whole run; `progress` gets the results so far after each cell (`complete` false)."""
    operations = [name for name in OPERATIONS if name in arguments.operations.split(",")]
    concurrency = [int(c) for c in arguments.concurrency.split(",")]
    started = time.perf_counter()
    load_start = _loadavg()
    systems.npm_ci()
    with bench_lock():
        data = asyncio.run(_fresh_county(echo, reuse=arguments.reuse))

        async def prepare() -> tuple[list[Case], dict[str, Any]]:
            async with bench_graph() as graph:
                sample, setup = await _prepare(graph, echo, operations)
                cases = [Case(operation, operation, sample) for operation in operations]
                for extra in PROVINCE if "province" in arguments.kinds.split(",") else []:
                    cases.append(Case(extra.name, extra.operation, await extra.prepare(graph, sample)))
                # A case of each operation in the order of OPERATIONS: the writes last.
                cases.sort(key=lambda case: OPERATIONS.index(case.operation))
                return cases, setup

        cases, setup = asyncio.run(prepare())
        sample = cases[0].sample
        results: dict[str, Any] = {
            "complete": False,
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine() | {"load_average_start": load_start},
            "versions": versions(setup["neo4j"]),
            "settings": {
                "duration_seconds": arguments.duration,
                "warmup_seconds": arguments.warmup,
                "rounds": arguments.rounds,
                "concurrency": concurrency,
                "load_tool": f"autocannon {systems.npm_version('autocannon')}",
                "shouhu": "shouhu serve, SHOUHU_ENV=production, RS256 coordinator token; "
                + ", ".join(f"{k}={v}" for k, v in (systems.passed_settings() | systems.SHOUHU_OVERRIDES).items()),
                "peer": "node bench/peer/server.mjs: @neo4j/graphql on @apollo/server standalone, no auth",
                "floor": "uvicorn bench.floor:app, one worker, one Cypher statement per operation",
            },
            "data": data
            | {
                "kind": "county",
                "region": sample.region,
                "township": sample.township,
                "as_of": sample.as_of.isoformat(),
                "today": sample.today.isoformat(),
                "children_sampled": len(sample.children),
            }
            | {k: v for k, v in setup.items() if k != "neo4j"},
            "cells": [],
        }

        def cell_done(figures: list[dict[str, Any]]) -> None:
            results["cells"] = figures
            results["wall_seconds"] = round(time.perf_counter() - started, 1)
            results["machine"]["load_average_end"] = _loadavg()
            progress(results)

        token = systems.make_token(WORK)
        running = systems.servers(token, sample.today.isoformat())
        try:
            for server in running.values():
                server.start(WORK)
            for name, server in running.items():
                server.wait_ready(queries.bodies("child_file", name, sample)[0], _credentials(name, token, sample))
            results["verified"] = verify(running, token, cases, echo)
            results["shouhu_round_trips"] = asyncio.run(round_trips(cases))
            echo(f"Shouhu's round trips per request: {results['shouhu_round_trips']}")
            # The verifying visits were judged with their writes: the county's risk is still trusted,
            # so the discover cells read it (a marker left open would make them evaluate).
            results["data"]["risk_trusted_when_measured"] = asyncio.run(_trusted_county(sample))
            echo(f"today's risk of the county trusted when measured: {results['data']['risk_trusted_when_measured']}")
            measure(
                running,
                token,
                cells_for(cases, concurrency),
                duration=arguments.duration,
                warmup=arguments.warmup,
                rounds=arguments.rounds,
                echo=echo,
                done=cell_done,
            )
        finally:
            # A second SIGTERM must not cut the clean-up short and leave servers behind.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for server in running.values():
                server.stop()
    results["complete"] = True
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "5")))
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database as it is, even with an earlier run's visits"
    )
    parser.add_argument("--kinds", default="county", help="comma-separated: county, province (the province's cells)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where latest.{json,md} and latency.svg go")
    # `python -m bench` passes every benchmark the same arguments; ignore the others' options.
    arguments, _ = parser.parse_known_args(argv)
    # Stopped from outside, still stop the servers it started (`run`'s `finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if "province" in arguments.kinds.split(",") and not PROVINCE:
        # The province's offline import and discovery pages add their cases here.
        print("province: no province cells yet (bench.api_bench.PROVINCE is empty)", flush=True)
    from bench import report

    # The results so far are written after every cell, so a run stopped early leaves them.
    results = run(arguments, progress=lambda partial: report.write(partial, arguments.results))
    report.write(results, arguments.results)
    print(f"results in {arguments.results}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
