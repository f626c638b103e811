"""The child-file query through the whole API, on a generated county and province.

    python -m bench.api_bench                           # the county (~20k children)
    python -m bench.api_bench --kinds county,province   # the province too (~1M children; long import)

For each kind, on the bench database (`bench.common`, the bundle imported unless present):
the application is built with its lifespan (driver, migrations, token verifier) and called
in-process over ASGI, as a coordinator of the bundle's region, with one GraphQL request per
child for `--children` children drawn with a fixed seed:

    child -> parents (with status), guardians and caregivers -> their households (with members)

Measured: p50, p90 and p99 latency of a request (token check, parsing, validation,
execution, the audit write, JSON), the Cypher round trips per request (constant: one per
level plus the audit), and the same for the first 50 children of the region in one list
query. Each kind is warmed up first (plan cache, page cache). Results are printed and merged
into `bench/out/api_bench.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.auth import mint_development_token
from api.settings import Settings
from bench.common import (
    AS_OF,
    BENCH_PASSWORD,
    OUT,
    SPECS,
    Kind,
    bench_database,
    bench_graph,
    bench_lock,
    ensure_loaded,
)
from graph.callers import Role
from graph.dates import birth_cutoff
from graph.driver import Graph

RESULTS = OUT / "api_bench.json"
SECRET = "shouhu-bench-secret-0123456789abcdef0123"  # noqa: S105 - signs local bench tokens only
REGION = {"county": SPECS["county"].county_code, "province": "430000000000"}

CHILD_FILE = """query($id: ID!, $asOf: Date!) {
  child(id: $id) {
    id name age(asOf: $asOf) idNumber
    household { id lowIncome members { id } }
    parents { relation parent { id name person { id household { id lowIncome } } }
              status(asOf: $asOf) { dead lacksCapacity away { destination since } } }
    guardians(asOf: $asOf) { id kind basis since person { id household { id } } }
    caregivers(asOf: $asOf) { since agreementSignedOn caregiver { id person { id age(asOf: $asOf)
                                                              household { id members { id } } } } }
  }
}"""

CHILD_LIST = """query($region: String!, $asOf: Date!) {
  children(region: $region, asOf: $asOf, first: 50) {
    edges { node { id parents { parent { id person { household { id } } } }
                   guardians(asOf: $asOf) { id person { household { id } } }
                   caregivers(asOf: $asOf) { caregiver { person { household { id } } } } } }
  }
}"""

SAMPLE_CHILDREN = """
MATCH (c:Person)
WHERE c.regionCode STARTS WITH $prefix AND c.birthDate > $born18 AND EXISTS { (:Person)-[:PARENT_OF]->(c) }
RETURN c.id AS id ORDER BY c.id
"""


def _settings() -> Settings:
    """The bench database, and a cost ceiling that lets the list of 50 children three levels
    deep through (the default counts each nested list as 20 items and refuses it)."""
    local = bench_database()
    settings = Settings.from_environment(
        {
            "SHOUHU_ENV": "test",
            "NEO4J_URI": f"bolt://127.0.0.1:{local.bolt_port}",
            "NEO4J_USER": "neo4j",
            "NEO4J_PASSWORD": BENCH_PASSWORD,
            "SHOUHU_JWT_SECRET": SECRET,
        }
    )
    return dataclasses.replace(settings, limits=dataclasses.replace(settings.limits, max_cost=10**7))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


async def _sample(graph: Graph, kind: Kind, count: int) -> list[str]:
    prefix = REGION[kind][:6] if kind == "county" else REGION[kind][:2]
    # `child(id)` asks "under 18 today", so sample children who still are.
    born18 = birth_cutoff(datetime.now(ZoneInfo("Asia/Shanghai")).date(), 18)
    ids = [row["id"] for row in await graph.read(SAMPLE_CHILDREN, {"prefix": prefix, "born18": born18})]
    return random.Random(20260615).sample(ids, min(count, len(ids)))


async def _measure(kind: Kind, children: int) -> dict[str, Any]:
    # Hold the bench database for the whole measurement, not just the loading.
    with bench_lock():
        return await _measure_locked(kind, children)


async def _measure_locked(kind: Kind, children: int) -> dict[str, Any]:
    async with bench_graph() as graph:
        await ensure_loaded(graph, kind)
        ids = await _sample(graph, kind, children)
    settings = _settings()
    token = mint_development_token(SECRET, role=Role.COORDINATOR, sub="api-bench", region=REGION[kind], ttl=7200)
    headers = {"Authorization": f"Bearer {token}"}
    async with LifespanManager(create_app(settings)) as manager:
        app: Any = manager.app
        # The lifespan state holds the Graph the app made; its round-trip counter is the one to read.
        app_graph: Graph = manager._state["graph"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as http:

            async def request(query: str, variables: dict[str, Any]) -> tuple[float, int]:
                app_graph.round_trips = 0
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
                elapsed = time.perf_counter() - started
                body = response.json()
                if body.get("errors"):
                    raise RuntimeError(body["errors"])
                return elapsed, app_graph.round_trips

            as_of = AS_OF.isoformat()
            for child in ids[:20]:  # warm-up: plan cache and page cache
                await request(CHILD_FILE, {"id": child, "asOf": as_of})
            files = [await request(CHILD_FILE, {"id": child, "asOf": as_of}) for child in ids]
            lists = [await request(CHILD_LIST, {"region": REGION[kind], "asOf": as_of}) for _ in range(12)][2:]
    file_times = [t for t, _ in files]
    list_times = [t for t, _ in lists]
    return {
        "kind": kind,
        "children_queried": len(ids),
        "child_file_ms": {
            "p50": _percentile(file_times, 0.5),
            "p90": _percentile(file_times, 0.9),
            "p99": _percentile(file_times, 0.99),
            "mean": round(statistics.fmean(file_times) * 1000, 2),
        },
        "child_file_round_trips": sorted({r for _, r in files}),
        "list_of_50_ms": {"p50": _percentile(list_times, 0.5), "p90": _percentile(list_times, 0.9)},
        "list_of_50_round_trips": sorted({r for _, r in lists}),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="county", help="comma-separated: county, province")
    parser.add_argument("--children", type=int, default=300, help="child files to request per kind")
    arguments = parser.parse_args()
    results: dict[str, Any] = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    for kind in arguments.kinds.split(","):
        if kind not in SPECS:
            parser.error(f"unknown kind {kind!r}")
        result = asyncio.run(_measure(kind, arguments.children))
        results[kind] = result
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
