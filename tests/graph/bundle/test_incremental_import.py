"""An incremental bundle onto a database that holds data: the graph it leaves is the one a fresh
import of the merged data leaves (plus the history of what changed), whether it is written in
one transaction or in many batches of every size; and one bad line in it writes nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, LiteralString

import pytest

from graph.bundle import importer
from graph.driver import Graph
from tests.conftest import wipe
from tests.data.make_county import VILLAGES
from tests.graph.bundle.test_import import run_import, sample_lines, snapshot

STAGES: LiteralString = """
MATCH (:Case {id: $id})-[:HAD_STAGE]->(s) RETURN s.stage AS state ORDER BY s.at, s.stage
"""
STATUSES: LiteralString = """
MATCH (:Referral {id: $id})-[:HAD_STATUS]->(s) RETURN s.status AS state ORDER BY s.at, s.status
"""
RUNS: LiteralString = "MATCH (r:ImportRun) RETURN count(r) AS runs"
CASE = "referral-due-d.case1"  # at intervention in the sample
REFERRAL = "referral-accepted-late.case1.referral1"  # accepted in the sample
NEW: list[dict[str, Any]] = [
    {"kind": "household", "id": "incr.home", "region": VILLAGES[0], "address": "新1组", "lowIncome": ["dibao"]},
    {"kind": "person", "id": "incr.mother", "name": "新母亲", "gender": "F", "birthDate": "1990-03-01",
     "household": "incr.home", "phone": "13911112222"},
    {"kind": "person", "id": "incr.child", "name": "新孩子", "gender": "M", "birthDate": "2018-05-06",
     "household": "incr.home"},
    {"kind": "parent", "parent": "incr.mother", "child": "incr.child", "type": "biological"},
    {"kind": "guardian", "guardian": "incr.mother", "child": "incr.child", "since": "2018-05-06", "basis": "parent"},
    {"kind": "away", "person": "incr.mother", "since": "2025-02-01", "destination": "广东东莞"},
    {"kind": "registration", "child": "incr.child", "category": "left_behind", "since": "2025-03-01"},
    {"kind": "visit", "visitor": "director", "child": "incr.child", "on": "2026-01-10", "type": "home_visit"},
]  # fmt: skip


def _changed(record: dict[str, Any], number: int) -> dict[str, Any] | None:
    """The record as the integrator now has it, or None when it has not changed."""
    kind = record["kind"]
    if kind == "household" and number % 7 == 0:
        return record | {"lowIncome": [] if record["lowIncome"] else ["dibao_edge"]}
    if kind == "person" and "phone" in record and number % 5 == 0:
        return record | {"phone": f"137{number:08d}"}
    if kind == "away" and record.get("until") is None and number % 4 == 0:
        return record | {"until": max(record["since"], "2025-12-01")}
    if kind == "case" and record["id"] == CASE:
        return record | {"stage": "closed"}
    if kind == "referral" and record["id"] == REFERRAL:
        return record | {"status": "completed"}
    return None


def incremental() -> tuple[list[str], list[str]]:
    """The incremental bundle (changes, a few lines sent again as they are, new records and
    links to existing ones) and the merged data: the sample with the changes, plus the new."""
    increment: list[str] = []
    merged: list[str] = []
    for number, line in enumerate(sample_lines()):
        if not line.strip() or line.startswith("#"):
            continue
        record = json.loads(line)
        changed = _changed(record, number)
        if changed is not None:
            increment.append(json.dumps(changed, ensure_ascii=False))
            merged.append(increment[-1])
            continue
        merged.append(line)
        if number % 50 == 0:
            increment.append(line)
    new = [json.dumps(record, ensure_ascii=False) for record in NEW]
    # New lines between the changes, so each batch of a batched write holds several kinds.
    middle = len(increment) // 2
    return increment[:middle] + new + increment[middle:], merged + new


HISTORY = ("StageChange", "StatusChange", "'HAD_STAGE'", "'HAD_STATUS'")


def _without_history(seen: Counter[str]) -> Counter[str]:
    return Counter({item: n for item, n in seen.items() if not any(mark in item for mark in HISTORY)})


@pytest.fixture(params=["one transaction", "batches of every size"])
def write_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "batches of every size":
        # Small uneven batches: each kind's statement meets many row counts, as in a large bundle.
        monkeypatch.setattr(importer, "SINGLE_TRANSACTION_LINES", 10)
        monkeypatch.setattr(importer, "BATCH_RECORDS", 7)
    return str(request.param)


async def test_an_incremental_bundle_leaves_the_graph_of_the_merged_data_and_its_history(
    clean_graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_path: str
) -> None:
    increment, merged = incremental()
    kinds = Counter(json.loads(line)["kind"] for line in increment)
    assert len(kinds) >= 8 and kinds["case"] >= 1 and kinds["referral"] >= 1, kinds
    assert (await run_import(clean_graph, sample_lines(), tmp_path)).ok

    applied = await run_import(clean_graph, increment, tmp_path)

    assert applied.ok and applied.complete and applied.written == len(increment)
    after_increment = await snapshot(clean_graph, stamps=False)
    stages = [row["state"] for row in await clean_graph.read(STAGES, {"id": CASE})]
    statuses = [row["state"] for row in await clean_graph.read(STATUSES, {"id": REFERRAL})]
    # Every state change keeps its history: the imported state, then the incremental one.
    assert stages == ["intervention", "closed"]
    assert statuses == ["accepted", "completed"]

    await wipe(clean_graph)
    monkeypatch.undo()  # the merged data the default way
    assert (await run_import(clean_graph, merged, tmp_path)).ok
    fresh = await snapshot(clean_graph, stamps=False)
    assert [row["state"] for row in await clean_graph.read(STAGES, {"id": CASE})] == ["closed"]
    assert _without_history(after_increment) == _without_history(fresh)
    assert after_increment != fresh  # the history is what differs (asserted above)

    # Applying the incremental bundle again changes nothing, history included.
    await wipe(clean_graph)
    assert (await run_import(clean_graph, sample_lines(), tmp_path)).ok
    assert (await run_import(clean_graph, increment, tmp_path)).ok
    assert (await run_import(clean_graph, increment, tmp_path)).ok
    assert await snapshot(clean_graph, stamps=False) == after_increment


async def test_one_bad_line_in_an_incremental_bundle_writes_nothing(
    clean_graph: Graph, tmp_path: Path, write_path: str
) -> None:
    assert (await run_import(clean_graph, sample_lines(), tmp_path)).ok
    before = await snapshot(clean_graph)
    increment, _ = incremental()
    bad = len(increment) // 3
    increment[bad] = '{"kind": "person", "id": "incr.bad", "name": "坏", "gender": "X", "birthDate": "2010-01-01"}'

    result = await run_import(clean_graph, increment, tmp_path)

    assert not result.ok and result.written == 0
    assert [(r.line, r.field) for r in result.rejected] == [(bad + 1, "gender")]
    # Nothing of the valid lines around it, before or after, was written: not even the run.
    assert await snapshot(clean_graph) == before
    assert (await clean_graph.read(RUNS))[0]["runs"] == 1
