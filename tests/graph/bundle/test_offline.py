"""The offline bulk load gives the graph the online import gives, refuses what it must before
touching the store, and leaves today's discovery readable from the index.

It stops and restarts its database, so it runs on the suite's second database (`fault_database`
in tests/conftest.py), shared with the other modules that take one down."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, LiteralString

import orjson
import pytest

from graph import alerts, discovery, localdb, migrations, risk_index
from graph.bundle import importer, offline
from graph.bundle.importer import import_bundle
from graph.bundle.validation import ValidRecord, numbered, parse_line
from graph.discovery import Thresholds
from graph.driver import Connection, Graph, connect
from graph.localdb import LocalDatabase
from graph.risk import AlertPolicy
from tests.conftest import SAMPLE_BUNDLE, TEST_PASSWORD

THRESHOLDS = Thresholds()
TODAY = discovery.today(THRESHOLDS)

#: What the bundle's records are stored as; the rest is bookkeeping of when and by whom.
BOOKKEEPING: LiteralString = "['ImportRun', 'AuditEvent', 'RiskPending', 'ChildRisk', 'Alert', 'AlertChange', 'Sweep']"
NODES: LiteralString = (
    "MATCH (n) WHERE none(l IN labels(n) WHERE l IN " + BOOKKEEPING + ") RETURN labels(n) AS labels, properties(n) AS p"
)
RELATIONSHIPS: LiteralString = (
    "MATCH (a)-[r]->(b) WHERE none(l IN labels(a) + labels(b) WHERE l IN "
    + BOOKKEEPING
    + ") RETURN type(r) AS type, properties(r) AS p, properties(a) AS a, properties(b) AS b"
)
#: Stamps of the moment each import wrote (and of the sweep, and of the lock its red-alert
#: numbering took), which differ between two loads.
STAMPED = frozenset({"updatedAt", "at", "lockedAt", "riskAsOf", "riskThresholds"})


def _items(props: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted((k, v) for k, v in props.items() if k not in STAMPED)


async def snapshot(graph: Graph) -> Counter[str]:
    seen: Counter[str] = Counter()
    for row in await graph.read(NODES):
        seen[repr((sorted(row["labels"]), _items(row["p"])))] += 1
    for row in await graph.read(RELATIONSHIPS):
        seen[repr((row["type"], _items(row["p"]), _items(row["a"]), _items(row["b"])))] += 1
    return seen


def _unordered(children: tuple[discovery.ChildRisk, ...]) -> list[tuple[Any, ...]]:
    return [
        (
            c.child_id,
            c.level,
            [(f.rule, f.level, sorted(orjson.dumps(e.as_dict()) for e in f.evidence)) for f in c.findings],
        )
        for c in children
    ]


@pytest.fixture
def local(fault_database: LocalDatabase) -> LocalDatabase:
    localdb.start(fault_database, TEST_PASSWORD, timeout=300)  # a module before may have stopped it
    return fault_database


def opener(database: LocalDatabase) -> AbstractAsyncContextManager[Graph]:
    return connect(Connection(f"bolt://127.0.0.1:{database.bolt_port}", "neo4j", TEST_PASSWORD, retry_budget=30.0))


async def load(database: LocalDatabase, source: Path, workdir: Path) -> offline.OfflineResult:
    return await offline.load(
        lambda: opener(database), database, TEST_PASSWORD, source, database="neo4j", today=TODAY,
        workdir=workdir, thresholds=THRESHOLDS, policy=AlertPolicy(),
    )  # fmt: skip


@pytest.fixture
async def empty(local: LocalDatabase) -> AsyncIterator[LocalDatabase]:
    async with opener(local) as graph:
        await graph.autocommit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
    yield local


@pytest.mark.slow
async def test_the_offline_load_is_the_online_import(empty: LocalDatabase, clean_graph: Graph, tmp_path: Path) -> None:
    result = await load(empty, SAMPLE_BUNDLE, tmp_path / "offline")
    assert result.ok and not result.rejected
    assert set(result.seconds) == {"validate", "csv", "import", "migrate", "sweep"}

    online = await import_bundle(clean_graph, SAMPLE_BUNDLE, today=TODAY, workdir=tmp_path / "online")
    assert online.ok and online.written == result.written
    await alerts.sweep(clean_graph, region_prefix="", scope_prefix="", as_of=TODAY, thresholds=THRESHOLDS, by="t")
    async with opener(empty) as graph:
        assert await snapshot(graph) == await snapshot(clean_graph)
        assert await migrations.missing(graph) == frozenset()
        # The sweep judged every child: today's discovery is read from the index, as online.
        key = risk_index.thresholds_key(THRESHOLDS.as_dict())
        assert await risk_index.trusted(graph, seek="", as_of=TODAY, thresholds=key)
        assert result.children > 0
        page = await discovery.discover_page(
            graph, region_prefix="", scope_prefix="", as_of=TODAY, thresholds=THRESHOLDS, first=1000,
            materialised=True,
        )  # fmt: skip
        evaluated = await discovery.discover_page(
            clean_graph, region_prefix="", scope_prefix="", as_of=TODAY, thresholds=THRESHOLDS, first=1000
        )
        # Two stores list a node's relationships in their own order, and evidence in that order.
        assert _unordered(page.items) == _unordered(evaluated.items)
        assert page.total_count == evaluated.total_count
        every = await discovery.discover_count(
            clean_graph, region_prefix="", scope_prefix="", as_of=TODAY, thresholds=THRESHOLDS,
            min_level=discovery.Level.GREEN,
        )  # fmt: skip
        assert result.children == every
        runs = await graph.read("MATCH (r:ImportRun {status: 'complete'}) RETURN r.written AS written")
        assert [r["written"] for r in runs] == [result.written]

        # A database that holds anything is never loaded offline.
        with pytest.raises(offline.OfflineImportError, match="not empty"):
            await load(empty, SAMPLE_BUNDLE, tmp_path / "again")


async def test_a_bad_or_repeated_line_loads_nothing(empty: LocalDatabase, tmp_path: Path) -> None:
    lines = SAMPLE_BUNDLE.read_text(encoding="utf-8").splitlines()
    person = next(line for line in lines if '"kind": "person"' in line)
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join([*lines, person.replace('"gender": "', '"gender": "X')]) + "\n", encoding="utf-8")
    result = await load(empty, bad, tmp_path / "bad")
    assert not result.ok and [r.line for r in result.rejected] == [len(lines) + 1]
    assert result.rejected[0].field == "gender"

    # A repeated id the validator refuses already; a repeated interval only the offline load.
    care = next(line for line in lines if '"kind": "care"' in line)
    repeated = tmp_path / "repeated.ndjson"
    repeated.write_text("\n".join([*lines, care]) + "\n", encoding="utf-8")
    result = await load(empty, repeated, tmp_path / "repeated")
    assert not result.ok and [r.line for r in result.rejected] == [len(lines) + 1]
    assert "repeats" in result.rejected[0].reason
    async with opener(empty) as graph:
        # Only the refusals' audit events: no record of the bundle was written.
        left = await graph.read("MATCH (n) WHERE NOT n:AuditEvent RETURN count(n) AS n")
        assert left[0]["n"] == 0
        refusals = await graph.read("MATCH (e:AuditEvent) RETURN count(e) AS n")
    # The database holds only the trail of the refusals: it is still loaded, the trail kept.
    result = await load(empty, SAMPLE_BUNDLE, tmp_path / "good")
    assert result.ok
    async with opener(empty) as graph:
        kept = await graph.read("MATCH (e:AuditEvent) WHERE e.outcome <> 'ok' RETURN count(e) AS n")
        assert kept[0]["n"] == refusals[0]["n"] > 0


def _rows(files: offline.CsvFiles) -> dict[str, Counter[str]]:
    """Each file's header and rows (in any order)."""
    found: dict[str, Counter[str]] = {}
    for path in [*files.nodes.values(), *files.relationships.values()]:
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        found[path.name] = Counter([f"header {header}", *rows])
    return found


def test_the_files_written_while_validating_are_those_of_a_second_pass(tmp_path: Path) -> None:
    """`CsvSink` writes as the validation reads; a bundle that defines its households and
    institutions last (persons before their village is known, guardians before it is known
    that they are institutions) still gives the files of a pass over the validated bundle."""
    lines = SAMPLE_BUNDLE.read_text(encoding="utf-8").splitlines()
    last = [line for line in lines if '"kind": "household"' in line or '"kind": "institution"' in line]
    assert last and any('"basis": "state"' in line for line in lines), "an institution is a guardian"
    reordered = tmp_path / "reordered.ndjson"
    reordered.write_text("\n".join([line for line in lines if line not in last] + last) + "\n", encoding="utf-8")
    at = datetime(2026, 6, 1, tzinfo=UTC)
    sink = offline.CsvSink(tmp_path / "sink", at)
    with reordered.open(encoding="utf-8") as handle:
        for number, text in numbered(line.rstrip("\n") for line in handle):
            record = parse_line(number, text, today=TODAY)
            assert isinstance(record, ValidRecord), record
            sink(number, record.kind, record.data)
    assert not sink.repeats()
    written = _rows(sink.finish())
    expected = _rows(offline.write_csv(reordered, tmp_path / "pass", skip=frozenset(), at=at, row=importer.row))
    assert written == expected
    assert written["GUARDIAN_OF-Institution-Person.csv"].total() > 1
