"""Proactive discovery at scale: a generated county (~20k children) and province (~1M).

    python -m bench.discovery_bench                          # the county
    python -m bench.discovery_bench --kinds county,province  # the province too (long)
    python -m bench.discovery_bench --kinds county --profile # plus PROFILE of the two slowest rules

For each kind, on the bench database (`bench.common`, the bundle imported unless present):

- `discover`: the whole subtree, every child with level and findings, into Python (county);
- `page`: the first 50 children at blue or above (`discover_page`, no total);
- `count`: the number of children at blue or above (one full evaluation, bounded memory);
- per rule (county): the full evaluation's time minus its time without that rule, to find
  the costliest rules (noisy when the machine is shared: compare within one run).

Each figure is the median of `--repeat` (3) runs after one warm-up run (query planning and
page cache). Results are printed and merged into `bench/out/discovery_bench.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.common import AS_OF, OUT, SPECS, Kind, bench_graph, bundle_info, ensure_loaded, is_loaded
from graph import discovery_rules
from graph.discovery import RULES, Level, Thresholds, discover, discover_count, discover_page, parameters
from graph.driver import Graph

RESULTS = OUT / "discovery_bench.json"
PROVINCE_PREFIX = "43"


def _prefix(kind: Kind) -> str:
    return SPECS["county"].county_code[:6] if kind == "county" else PROVINCE_PREFIX


async def _median(work: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    await work()  # warm-up: plan cache and page cache
    times = []
    value = None
    for _ in range(repeat):
        started = time.perf_counter()
        value = await work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3), value


async def _count(graph: Graph, prefix: str, rules: list[str] | None) -> int:
    return await discover_count(
        graph,
        region_prefix=prefix,
        scope_prefix="",
        as_of=AS_OF,
        thresholds=Thresholds(),
        rules=rules,
        min_level=Level.GREEN,
    )


def _plan(node: Any, depth: int = 0) -> list[str]:
    """One line per operator: name, rows, db hits, and the details Neo4j gives."""
    args = node.get("args", {}) if isinstance(node, dict) else {}
    line = (
        f"{'  ' * depth}{node.get('operatorType')}  rows={node.get('rows')}  dbHits={node.get('dbHits')}"
        f"  {str(args.get('Details', ''))[:140]}"
    )
    lines = [line]
    for child in node.get("children", []):
        lines += _plan(child, depth + 1)
    return lines


async def _profile(graph: Graph, prefix: str, rules: list[str]) -> Any:
    params = parameters(region_prefix=prefix, scope_prefix="", as_of=AS_OF, thresholds=Thresholds(), rules=rules)
    query = "PROFILE " + discovery_rules.DISCOVER_COUNT
    whole = params | {"minRank": 0, "part": 0, "parts": 1}
    result = await graph.driver.execute_query(query, whole, database_=graph.database, routing_="r")
    return result.summary.profile or {}


def _db_hits(node: Any) -> int:
    return int(node.get("dbHits", 0)) + sum(_db_hits(child) for child in node.get("children", []))


async def bench(kind: Kind, repeat: int, per_rule: bool, profile: bool) -> dict[str, Any]:
    async with bench_graph() as graph:
        if kind == "province":
            # Importing the province takes most of an hour: never start it from here.
            bundle = bundle_info(kind)
            if bundle is None or not await is_loaded(graph, bundle):
                print("province: not loaded in the bench database; run bench.import_bench --kinds province first")
                return {"kind": kind, "skipped": "the province is not loaded"}
        else:
            await ensure_loaded(graph, kind)
        prefix = _prefix(kind)
        figures: dict[str, Any] = {"kind": kind, "region": prefix, "asOf": AS_OF.isoformat(), "repeat": repeat}
        thresholds = Thresholds()

        count_s, total = await _median(lambda: _count(graph, prefix, None), repeat)
        figures |= {"children": total, "count_seconds": count_s}
        print(f"{kind}: {total:,} children; full evaluation (count) {count_s:.2f} s", flush=True)

        page_s, _ = await _median(
            lambda: discover_page(
                graph, region_prefix=prefix, scope_prefix="", as_of=AS_OF, thresholds=thresholds, with_total=False
            ),
            repeat,
        )
        figures["page_seconds"] = page_s
        print(f"{kind}: first page of 50 {page_s:.2f} s", flush=True)

        if kind == "county":
            discover_s, result = await _median(
                lambda: discover(graph, region_prefix=prefix, scope_prefix="", as_of=AS_OF, thresholds=thresholds),
                repeat,
            )
            figures |= {"discover_seconds": discover_s, "levels": {k.value: v for k, v in result.counts().items()}}
            print(f"{kind}: discover (all children into Python) {discover_s:.2f} s  {figures['levels']}", flush=True)

        if per_rule:
            # Database hits do not depend on the load of a shared machine, so they rank the
            # rules: a rule's cost is what the evaluation with all rules reads more than the
            # evaluation without it. Seconds (leave one out, median) are kept for reference.
            everything = _db_hits(await _profile(graph, prefix, list(RULES)))
            hits: dict[str, int] = {}
            costs: dict[str, float] = {}
            for rule in RULES:
                others = [name for name in RULES if name != rule]
                hits[rule] = everything - _db_hits(await _profile(graph, prefix, others))
                seconds, _ = await _median(lambda others=others: _count(graph, prefix, others), repeat)  # type: ignore[misc]
                costs[rule] = round(count_s - seconds, 3)
                print(f"  {rule:<36} {hits[rule]:>10,} db hits  {costs[rule]:+.3f} s", flush=True)
            figures |= {"db_hits": everything, "rule_db_hits": hits, "rule_seconds": costs}
            slowest = sorted(hits, key=lambda name: -hits[name])[:2]
            figures["slowest_rules"] = slowest
            print(f"{kind}: {everything:,} db hits in all; costliest rules {slowest}", flush=True)
            if profile:
                figures["profiles"] = {rule: _plan(await _profile(graph, prefix, [rule])) for rule in slowest}
                for rule, lines in figures["profiles"].items():
                    print(f"PROFILE {rule}:\n" + "\n".join(lines), flush=True)
        figures["measuredAt"] = datetime.now(UTC).isoformat(timespec="seconds")
        return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="county", help="comma-separated: county, province")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-per-rule", action="store_true", help="skip the per-rule figures")
    parser.add_argument("--profile", action="store_true", help="PROFILE the two slowest rules")
    # `python -m bench` passes every benchmark the same arguments; ignore the others' options.
    args, _ = parser.parse_known_args(argv)
    results: dict[str, Any] = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    for kind in args.kinds.split(","):
        if kind not in SPECS:
            parser.error(f"--kinds: unknown kind {kind!r}")
        per_rule = kind == "county" and not args.no_per_rule
        results[kind] = asyncio.run(bench(kind, args.repeat, per_rule, args.profile))
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
