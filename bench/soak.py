"""`make soak`: many clients on loopback against `shouhu serve` for minutes, reads and writes mixed.

    SOAK_SECONDS=600 SOAK_CLIENTS=50 make soak

On a database of its own (`SHOUHU_SOAK_NEO4J_PORT`, default 7720, data under
`.shouhu/soak-neo4j-<port>`, emptied and loaded with a generated county of `SOAK_VILLAGES`
villages at every run) it starts `shouhu serve` (`SHOUHU_SOAK_PORT`, default 8720) and runs
`SOAK_CLIENTS` clients for `SOAK_SECONDS`. Each client is the children's director of one
village, as in the field, and loops over a mix of its work: a child's file, the worklist,
discovery of its village (reads), and visits and contacts recorded with a `clientMutationId`,
retried with it after a failure (writes).

Measured: every response's outcome (ok, or its error code, HTTP status or transport error),
p50 and p99 latency per operation in windows of `SOAK_WINDOW_SECONDS`, and the resident memory
of the API and of Neo4j sampled every `SOAK_SAMPLE_SECONDS` (after the first fifth of the run,
memory should be flat: the report gives its growth). Written to
`bench/results/soak-<time>.json` and `.md`, with the machine's load average.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from api.auth import mint_development_token
from api.settings import PROJECT_ROOT, STATE_DIR
from bench.common import AS_OF, OUT, SEED
from bench.queries import SHOUHU_CHILD_FILE as CHILD_FILE
from graph import localdb, migrations
from graph.bundle.generator import generate_county
from graph.bundle.importer import import_bundle
from graph.callers import Role
from graph.driver import Connection, Graph, connect
from graph.localdb import LocalDatabase

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "shouhu-soak-password"  # noqa: S105 - a loopback-only soak database
SECRET = "shouhu-soak-secret-0123456789abcdef0123456789"  # noqa: S105
COUNTY = "431229000000"

WORKLIST = "query { worklist(first: 20) { totalCount edges { node { __typename } } } }"
DISCOVER = "query($region: String!) { discover(region: $region, first: 20) { totalCount edges { node { level } } } }"
VISIT = "mutation($input: VisitInput!) { recordVisit(input: $input) { id } }"
CONTACT = "mutation($input: ContactInput!) { recordContact(input: $input) { id } }"
#: (operation, weight): what a director's day looks like, reads first.
MIX = (("childFile", 40), ("worklist", 20), ("discover", 10), ("recordVisit", 18), ("recordContact", 12))

DIRECTORS = """
MATCH (d:Person)-[s:SERVES {role: 'children_director'}]->(r:Region)
WHERE s.until IS NULL RETURN d.id AS director, r.code AS village ORDER BY village
"""
CHILDREN = """
MATCH (p:Person)-[:PARENT_OF]->(c:Person {regionCode: $village})
WHERE c.birthDate > $born
RETURN c.id AS child, collect(p.id) AS parents ORDER BY child
"""


STORED = """
MATCH (:Person)-[v:VISITED]->(:Person) WHERE v.notes STARTS WITH '巡访 soak-'
RETURN v.notes AS notes, count(*) AS copies
"""


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass(frozen=True)
class Config:
    seconds: int = _int("SOAK_SECONDS", 600)
    clients: int = _int("SOAK_CLIENTS", 50)
    villages: int = _int("SOAK_VILLAGES", 6)
    sample: int = _int("SOAK_SAMPLE_SECONDS", 10)
    window: int = _int("SOAK_WINDOW_SECONDS", 60)
    db_port: int = _int("SHOUHU_SOAK_NEO4J_PORT", 7720)
    api_port: int = _int("SHOUHU_SOAK_PORT", 8720)


@dataclass(frozen=True)
class Village:
    code: str
    director: str
    children: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class Record:
    at: float
    operation: str
    seconds: float
    outcome: str


@dataclass
class Run:
    started: float = field(default_factory=time.monotonic)
    records: list[Record] = field(default_factory=list)
    memory: list[dict[str, float]] = field(default_factory=list)
    retried_writes: int = 0
    abandoned_writes: int = 0
    #: the notes of every acknowledged visit (each names its clientMutationId)
    visits: set[str] = field(default_factory=set)
    #: notes -> copies stored, read back at the end
    stored: dict[str, int] = field(default_factory=dict)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _load(config: Config, local: LocalDatabase) -> list[Village]:
    connection = Connection(f"bolt://127.0.0.1:{local.bolt_port}", "neo4j", PASSWORD, retry_budget=30.0)
    async with connect(connection) as graph:
        await graph.driver.verify_connectivity()
        await graph.autocommit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
        await migrations.apply(graph)
        lines = list(generate_county(config.villages, SEED, AS_OF, county_code=COUNTY))
        with tempfile.TemporaryDirectory(prefix="shouhu-soak-") as workdir:
            result = await import_bundle(graph, lines, today=dt.date.today(), workdir=Path(workdir))
        if not result.ok:
            raise SystemExit(f"the soak county does not import: {result.rejected[:3]}")
        print(f"soak: imported {result.written} records ({config.villages} villages)", flush=True)
        return await _villages(graph)


async def _villages(graph: Graph) -> list[Village]:
    born = dt.date.today().replace(year=dt.date.today().year - 17)
    villages = []
    for row in await graph.read(DIRECTORS):
        children = await graph.read(CHILDREN, {"village": row["village"], "born": born})
        if children:
            pairs = tuple((c["child"], tuple(c["parents"])) for c in children)
            villages.append(Village(row["village"], row["director"], pairs))
    return villages


async def _client(number: int, village: Village, http: httpx.AsyncClient, run: Run, deadline: float) -> None:
    chooser = random.Random(number)
    token = mint_development_token(
        SECRET, role=Role.CHILDREN_DIRECTOR, sub=village.director, region=village.code, ttl=24 * 3600
    )
    headers = {"Authorization": f"Bearer {token}"}
    operations = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    sequence = 0
    while time.monotonic() < deadline:
        operation = chooser.choices(operations, weights)[0]
        child, parents = chooser.choice(village.children)
        sequence += 1
        key = f"soak-{number}-{sequence}"
        query, variables = _operation(operation, village, child, chooser.choice(parents), key, sequence)
        writes = operation.startswith("record")
        for attempt in range(5 if writes else 1):
            outcome = await _request(http, headers, query, variables, operation, run)
            if outcome == "ok":
                if operation == "recordVisit":
                    run.visits.add(f"巡访 {key}")
                break
            if writes and attempt < 4:
                run.retried_writes += 1  # the same clientMutationId: a replay if it was written
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            if writes:
                run.abandoned_writes += 1


def _operation(
    name: str, village: Village, child: str, parent: str, key: str, sequence: int
) -> tuple[str, dict[str, Any]]:
    """The query and variables of one operation of the mix."""
    if name == "childFile":
        return CHILD_FILE, {"id": child, "asOf": dt.date.today().isoformat()}
    if name == "worklist":
        return WORKLIST, {}
    if name == "discover":
        return DISCOVER, {"region": village.code}
    if name == "recordVisit":
        visit = {"childId": child, "type": "home_visit", "notes": f"巡访 {key}", "clientMutationId": key}
        return VISIT, {"input": visit}
    # A contact is identified by its two persons, its day and its channel: one a day each.
    on = (dt.date.today() - dt.timedelta(days=sequence % 3000)).isoformat()
    contact = {"childId": child, "fromId": parent, "channel": "video", "on": on, "clientMutationId": key}
    return CONTACT, {"input": contact}


async def _warm_up(village: Village, http: httpx.AsyncClient) -> None:
    """Every operation once, before the clock starts: a cold server's plans are not what is measured."""
    token = mint_development_token(SECRET, role=Role.CHILDREN_DIRECTOR, sub=village.director, region=village.code)
    child, parents = village.children[0]
    for sequence, (name, _) in enumerate(MIX):
        query, variables = _operation(name, village, child, parents[0], f"warm-{sequence}", 4000 + sequence)
        await _request(http, {"Authorization": f"Bearer {token}"}, query, variables, name, Run())


async def _request(
    http: httpx.AsyncClient, headers: dict[str, str], query: str, variables: dict[str, Any], operation: str, run: Run
) -> str:
    started = time.monotonic()
    try:
        response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        body = response.json()
        if response.status_code == 200 and not body.get("errors"):
            outcome = "ok"
        elif body.get("errors"):
            outcome = str(body["errors"][0].get("extensions", {}).get("code", "NO_CODE"))
        else:
            outcome = f"HTTP {response.status_code}"
    except (httpx.HTTPError, ValueError) as error:
        outcome = type(error).__name__
    ended = time.monotonic()
    run.records.append(Record(started - run.started, operation, ended - started, outcome))
    return outcome


async def _sample(api_pid: int, db_pid: int, run: Run, every: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        run.memory.append(
            {
                "at": round(time.monotonic() - run.started, 1),
                "api_mib": round(_rss_mib(api_pid), 1),
                "neo4j_mib": round(_rss_mib(db_pid), 1),
                "load1": os.getloadavg()[0],
            }
        )
        await asyncio.sleep(every)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def _growth(samples: list[dict[str, float]], key: str) -> dict[str, float]:
    """Memory after warm-up (the first fifth): first, last, max, and the slope of a line fit."""
    steady = samples[len(samples) // 5 :] or samples
    xs = [s["at"] for s in steady]
    ys = [s[key] for s in steady]
    slope = statistics.linear_regression(xs, ys).slope * 60 if len(steady) > 2 else 0.0
    return {"first": ys[0], "last": ys[-1], "max": max(ys), "mib_per_minute": round(slope, 2)}


def report(config: Config, run: Run, villages: int) -> dict[str, Any]:
    windows: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in run.records:
        windows[int(record.at // config.window)][record.operation].append(record.seconds)
    by_operation: dict[str, list[float]] = defaultdict(list)
    for record in run.records:
        by_operation[record.operation].append(record.seconds)
    outcomes = Counter(record.outcome for record in run.records)
    errors = Counter(f"{r.operation}: {r.outcome}" for r in run.records if r.outcome != "ok")
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": config.__dict__,
        "villages": villages,
        "requests": len(run.records),
        "per_second": round(len(run.records) / config.seconds, 1),
        "outcomes": dict(outcomes),
        "errors": dict(errors),
        "writes": {
            "acknowledged_visits": len(run.visits),
            "acknowledged_visits_stored_once": sum(1 for notes in run.visits if run.stored.get(notes) == 1),
            "visits_stored_twice": sum(1 for n in run.stored.values() if n > 1),
            "retried": run.retried_writes,
            "abandoned": run.abandoned_writes,
        },
        "operations": {
            name: {"count": len(values), "p50_ms": _percentile(values, 0.5), "p99_ms": _percentile(values, 0.99)}
            for name, values in sorted(by_operation.items())
        },
        "windows": [
            {
                "from_s": index * config.window,
                **{
                    name: {"count": len(v), "p50_ms": round(_percentile(v, 0.5)), "p99_ms": round(_percentile(v, 0.99))}
                    for name, v in sorted(found.items())
                },
            }
            for index, found in sorted(windows.items())
        ],
        "memory": {"api": _growth(run.memory, "api_mib"), "neo4j": _growth(run.memory, "neo4j_mib")},
        "load_average": {
            "min": min(s["load1"] for s in run.memory),
            "max": max(s["load1"] for s in run.memory),
            "mean": round(statistics.fmean(s["load1"] for s in run.memory), 1),
        },
        "samples": run.memory,
    }


def markdown(result: dict[str, Any]) -> str:
    config = result["config"]
    lines = [
        f"# Soak {result['when']}",
        "",
        f"{config['clients']} clients for {config['seconds']} s against `shouhu serve` on loopback, a generated county "
        f"of {result['villages']} villages; load average {result['load_average']['min']:.1f} to "
        f"{result['load_average']['max']:.1f} (mean {result['load_average']['mean']}) on "
        f"{os.cpu_count()} cores.",
        "",
        f"**{result['requests']} requests** ({result['per_second']}/s); outcomes: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items())),
        "",
        f"Writes: {result['writes']['acknowledged_visits']} visits acknowledged, "
        f"{result['writes']['acknowledged_visits_stored_once']} of them stored exactly once (read back), "
        f"{result['writes']['visits_stored_twice']} stored twice; {result['writes']['retried']} retries, "
        f"{result['writes']['abandoned']} writes abandoned after 5 tries.",
        "",
        "| operation | count | p50 ms | p99 ms |",
        "| --- | --- | --- | --- |",
        *(f"| {n} | {o['count']} | {o['p50_ms']:.0f} | {o['p99_ms']:.0f} |" for n, o in result["operations"].items()),
        "",
        "p50 / p99 ms per window:",
        "",
        "| from s | " + " | ".join(result["operations"]) + " |",
        "| --- | " + " | ".join("---" for _ in result["operations"]) + " |",
    ]
    for window in result["windows"]:
        cells = [f"{window[n]['p50_ms']} / {window[n]['p99_ms']}" if n in window else "-" for n in result["operations"]]
        lines.append(f"| {window['from_s']} | " + " | ".join(cells) + " |")
    memory = result["memory"]
    lines += [
        "",
        "Resident memory after the first fifth (MiB): "
        + "; ".join(
            f"{who} {m['first']:.0f} -> {m['last']:.0f} (max {m['max']:.0f}, {m['mib_per_minute']:+.2f} MiB/min)"
            for who, m in memory.items()
        ),
    ]
    if result["errors"]:
        lines += ["", "Errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(result["errors"].items()))]
    return "\n".join(lines) + "\n"


async def soak(config: Config, local: LocalDatabase, neo4j_pid: int) -> dict[str, Any]:
    villages = await _load(config, local)
    environment = {
        **os.environ,
        "SHOUHU_ENV": "development",
        "SHOUHU_NEO4J_PORT": str(config.db_port),
        "SHOUHU_NEO4J_HOME": str(local.home),
        "NEO4J_PASSWORD": PASSWORD,
        "SHOUHU_JWT_SECRET": SECRET,
        "SHOUHU_PORT": str(config.api_port),
        "SHOUHU_HOST": "127.0.0.1",
        "SHOUHU_DAILY_SWEEP": "off",
        # Every client is its own director; the per-caller limit is not what is measured here.
        "SHOUHU_RATE_LIMIT": "100000/second",
    }
    OUT.mkdir(exist_ok=True)
    with (OUT / "soak-server.log").open("wb") as output:
        server = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("shouhu")), "serve",
            cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{config.api_port}"
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=None)) as http:
            for _ in range(600):
                try:
                    if (await http.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
            await _warm_up(villages[0], http)
            print(f"soak: {config.clients} clients for {config.seconds} s on {url}", flush=True)
            run = Run()
            deadline = time.monotonic() + config.seconds
            await asyncio.gather(
                _sample(server.pid, neo4j_pid, run, config.sample, deadline),
                *(_client(n, villages[n % len(villages)], http, run, deadline) for n in range(config.clients)),
            )
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 60)
    connection = Connection(f"bolt://127.0.0.1:{local.bolt_port}", "neo4j", PASSWORD, retry_budget=30.0)
    async with connect(connection) as graph:
        run.stored = {str(r["notes"]): int(r["copies"]) for r in await graph.read(STORED)}
    return report(config, run, len(villages))


def main() -> int:
    config = Config()
    local = LocalDatabase(
        home=STATE_DIR / f"soak-neo4j-{config.db_port}",
        bolt_port=config.db_port,
        pagecache="512m",
        heap="1g",
        # The county is imported in one transaction; on a busy machine it outlasts the default 120 s.
        tx_timeout="900s",
    )
    status = localdb.start(local, PASSWORD, timeout=300)
    assert status.pid is not None
    try:
        result = asyncio.run(soak(config, local, status.pid))
    finally:
        localdb.stop(local)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"soak-{stamp}.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    text = markdown(result)
    (RESULTS / f"soak-{stamp}.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written: bench/results/soak-{stamp}.md and .json")
    errors = sum(n for k, n in result["outcomes"].items() if k != "ok")
    writes = result["writes"]
    lost = writes["acknowledged_visits"] - writes["acknowledged_visits_stored_once"]
    return 1 if errors or lost or writes["visits_stored_twice"] or writes["abandoned"] else 0


if __name__ == "__main__":
    sys.exit(main())
