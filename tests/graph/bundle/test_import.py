"""Bundle import against the real database: the sample county lands, twice is once, the modes
behave as docs/bundle-format.md says, and a batched import killed midway completes when re-run."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, LiteralString

import orjson
import pytest
from click.testing import CliRunner

from graph.bundle import importer
from graph.bundle.importer import import_bundle
from graph.bundle.runs import import_runs
from graph.bundle.validation import ValidRecord, parse_line
from graph.driver import Graph
from tests.conftest import SAMPLE_BUNDLE, SAMPLE_COUNTY
from tests.data.make_county import VILLAGES, inside_lines

TODAY = date.today()
FUTURE_VISIT = '{"kind": "visit", "visitor": "director", "child": "lb-green", "on": "2099-01-01", "type": "home_visit"}'

NODE_COUNTS: LiteralString = "MATCH (n) WHERE NOT n:AuditEvent RETURN labels(n)[0] AS name, count(*) AS count"
RELATIONSHIP_COUNTS: LiteralString = "MATCH ()-[r]->() RETURN type(r) AS name, count(*) AS count"
NODES: LiteralString = (
    "MATCH (n) WHERE NOT n:ImportRun AND NOT n:AuditEvent AND NOT n:RiskPending"
    " RETURN labels(n) AS labels, properties(n) AS props"
)
RELATIONSHIPS: LiteralString = """
MATCH (a)-[r]->(b) WHERE NOT a:ImportRun
RETURN type(r) AS type, properties(r) AS props, properties(a) AS start, properties(b) AS end
"""
PERSON: LiteralString = """
MATCH (p:Person {id: $id})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household)
RETURN p {.*} AS person, h.id AS household
"""


def sample_lines() -> list[str]:
    return SAMPLE_BUNDLE.read_text(encoding="utf-8").split("\n")


def sample_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in sample_lines() if line.strip() and not line.startswith("#")]


async def census(graph: Graph) -> tuple[dict[str, int], dict[str, int]]:
    nodes = {row["name"]: row["count"] for row in await graph.read(NODE_COUNTS)}
    relationships = {row["name"]: row["count"] for row in await graph.read(RELATIONSHIP_COUNTS)}
    return nodes, relationships


async def snapshot(graph: Graph, *, stamps: bool = True) -> Counter[str]:
    """Every node and relationship with all its properties (runs aside), as a multiset;
    without `stamps`, leaving out when the import wrote them."""

    def items(props: dict[str, Any]) -> list[tuple[str, Any]]:
        # A stage or status change (it has `by`) carries the import's time in `at`.
        stamped = {"updatedAt", "at"} if "by" in props else {"updatedAt"}
        return sorted((k, v) for k, v in props.items() if stamps or k not in stamped)

    seen: Counter[str] = Counter()
    for row in await graph.read(NODES):
        seen[repr((sorted(row["labels"]), items(row["props"])))] += 1
    for row in await graph.read(RELATIONSHIPS):
        seen[repr((row["type"], items(row["props"]), items(row["start"]), items(row["end"])))] += 1
    return seen


async def run_import(graph: Graph, source: Path | list[str], tmp_path: Path, **options: Any) -> importer.ImportResult:
    options.setdefault("mode", "ALL_OR_NOTHING")
    return await import_bundle(graph, source, today=TODAY, workdir=tmp_path, **options)


def test_row_conversion_matches_the_validator() -> None:
    """The writer converts validated lines itself (it is on the hot path); it must give the
    values the validator's own parser gives, for every field of every sample line."""
    for number, text in enumerate(sample_lines(), 1):
        if not text.strip() or text.startswith("#"):
            continue
        record = parse_line(number, text, today=TODAY)
        assert isinstance(record, ValidRecord), record
        data = orjson.loads(text)
        row = importer.row(data.pop("kind"), data)
        row.pop("key", None)
        assert row == {name: value for name, value in record.data.items() if value is not None}, text


async def test_sample_import_lands(clean_graph: Graph, tmp_path: Path) -> None:
    records = sample_records()
    kinds = Counter(record["kind"] for record in records)
    seen: list[int] = []

    result = await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path, progress=seen.append)

    assert result.ok and result.complete and not result.rejected
    assert result.written == sum(seen) == len(records) == result.lines
    nodes, relationships = await census(clean_graph)
    assert nodes == {
        "Region": kinds["region"], "Household": kinds["household"], "Person": kinds["person"],
        "Institution": kinds["institution"], "Report": kinds["report"], "Case": kinds["case"],
        "Referral": kinds["referral"], "AwayEpisode": kinds["away"], "Condition": kinds["condition"],
        "Registration": kinds["registration"], "StageChange": kinds["case"],
        "StatusChange": kinds["referral"], "ImportRun": 1,
        # Nothing re-evaluated this import: today's discovery evaluates until something does.
        "RiskPending": 1,
    }  # fmt: skip
    with_field = Counter((record["kind"], name) for record in records for name, value in record.items() if value)
    assert relationships == {
        "PART_OF": with_field["region", "parent"],
        "LOCATED_IN": kinds["household"] + kinds["institution"],
        "MEMBER_OF": with_field["person", "household"],
        "PARENT_OF": kinds["parent"], "GUARDIAN_OF": kinds["guardian"], "CARES_FOR": kinds["care"],
        "AWAY": kinds["away"], "HAS_CONDITION": kinds["condition"], "REGISTERED": kinds["registration"],
        "ENROLLED_IN": kinds["enrollment"], "PLACED_IN": kinds["placement"], "PAIRED_WITH": kinds["pairing"],
        "SERVES": kinds["staff"], "CONTACTED": kinds["contact"], "VISITED": kinds["visit"],
        "ABOUT": kinds["report"], "CONCERNS": kinds["case"],
        "FROM_REPORT": with_field["case", "report"],
        "ASSIGNED_TO": with_field["case", "worker"], "REFERRED": kinds["referral"], "TO": kinds["referral"],
        "HAD_STAGE": kinds["case"], "HAD_STATUS": kinds["referral"],
    }  # fmt: skip

    # A person's regionCode is their household's village; dates are stored as dates.
    facts = await clean_graph.read(
        """
        MATCH (p:Person {id: 'lb-green.father'})-[:MEMBER_OF]->(h:Household)-[:LOCATED_IN]->(v:Region)
        MATCH (v)-[:PART_OF]->(:Region)-[:PART_OF]->(county:Region)
        RETURN p.regionCode AS code, h.id AS household, v.code AS village, county.code AS county,
               p.birthDate = date('1986-03-15') AS birthDate
        """
    )
    assert facts[0].data() == {
        "code": VILLAGES[1], "household": "lb-green.home", "village": VILLAGES[1],
        "county": SAMPLE_COUNTY, "birthDate": True,
    }  # fmt: skip
    referral = await clean_graph.read(
        """
        MATCH (c:Case {id: 'referral-accepted-late.case1'})-[:REFERRED]->(f:Referral)-[:TO]->(i:Institution)
        WHERE f.id = 'referral-accepted-late.case1.referral1'
        MATCH (f)-[:HAD_STATUS]->(s:StatusChange)
        MATCH (c)-[:HAD_STAGE]->(stage:StageChange)
        RETURN i.id AS institution, f.status AS status, s.status AS history, s.by AS by,
               c.stage AS stage, stage.stage AS first, f.dueOn = date('2026-02-23') AS due
        """
    )
    assert referral[0].data() == {
        "institution": "station", "status": "accepted", "history": "accepted", "by": "import",
        "stage": "intervention", "first": "intervention", "due": True,
    }  # fmt: skip
    report = await clean_graph.read(
        "MATCH (r:Report {id: 'report-high-4.report1'})-[:ABOUT]->(c) RETURN r.at AS at, c.id AS child"
    )
    assert report[0]["at"].to_native().isoformat() == "2026-02-24T09:30:00+08:00"
    assert report[0]["child"] == "report-high-4"
    runs = await import_runs(clean_graph)
    assert [(run.id, run.status, run.written, run.lines) for run in runs] == [
        (result.run_id, "complete", len(records), len(records))
    ]

    # A later bundle may refer to what is already in the database: the state as guardian.
    state = ['{"kind": "guardian", "guardian": "centre", "child": "lb-green", "since": "2026-02-01", "basis": "state"}']
    assert (await run_import(clean_graph, state, tmp_path)).written == 1
    guardians = await clean_graph.read(
        "MATCH (g)-[r:GUARDIAN_OF]->(:Person {id: 'lb-green'}) RETURN g.id AS id, labels(g) AS labels, r.basis AS basis"
    )
    assert sorted((row["id"], row["labels"], row["basis"]) for row in guardians) == [
        ("centre", ["Institution"], "state"),
        ("lb-green.father", ["Person"], "parent"),
        ("lb-green.mother", ["Person"], "parent"),
    ]


@pytest.mark.slow
async def test_importing_twice_is_importing_once(clean_graph: Graph, tmp_path: Path) -> None:
    await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path)
    first = await snapshot(clean_graph)
    again = await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path)
    assert again.ok and again.written == len(sample_records())
    # Same nodes, relationships and properties, `updatedAt` included: nothing changed.
    assert await snapshot(clean_graph) == first
    assert len(await import_runs(clean_graph)) == 1

    # A record whose id exists replaces that entity's fields, and references move.
    before = (await clean_graph.read(PERSON, {"id": "lb-green.father"}))[0]["person"]
    assert (await clean_graph.read(PERSON, {"id": "home-green"}))[0]["person"]["idNumber"] == "522622201605100019"
    changes = [
        f'{{"kind": "household", "id": "lb-green.home", "region": "{VILLAGES[3]}", "lowIncome": ["dibao"]}}',
        '{"kind": "person", "id": "home-green", "name": "改名", "gender": "F", "birthDate": "2016-01-01", '
        '"household": "lb-green.home"}',
        '{"kind": "case", "id": "report-handled.report1.case", "child": "report-handled", "openedOn": "2026-02-18", '
        '"stage": "intervention"}',
    ]
    assert (await run_import(clean_graph, changes, tmp_path)).ok
    moved = (await clean_graph.read(PERSON, {"id": "lb-green.father"}))[0]
    assert moved["person"]["regionCode"] == VILLAGES[3]  # follows its household's move
    assert moved["person"]["updatedAt"] == before["updatedAt"]  # its own fields did not change
    renamed = (await clean_graph.read(PERSON, {"id": "home-green"}))[0]
    assert renamed["household"] == "lb-green.home" and renamed["person"]["name"] == "改名"
    assert renamed["person"]["updatedAt"] > before["updatedAt"]
    assert "idNumber" not in renamed["person"]  # absent optional field: removed, not kept
    household = await clean_graph.read(
        "MATCH (h:Household {id: 'lb-green.home'})-[:LOCATED_IN]->(r) "
        "RETURN collect(r.code) AS codes, h.address AS address"
    )
    assert household[0].data() == {"codes": [VILLAGES[3]], "address": None}
    stages = await clean_graph.read(
        "MATCH (:Case {id: 'report-handled.report1.case'})-[:HAD_STAGE]->(s) "
        "RETURN s.stage AS stage ORDER BY s.at, s.stage"
    )
    assert [row["stage"] for row in stages] == ["assessment", "intervention"]


def with_bad_lines(tmp_path: Path, bad: dict[int, str]) -> tuple[Path, list[str]]:
    """The sample with some lines replaced; returns the file and the original lines."""
    lines = sample_lines()
    for number, text in bad.items():
        lines[number - 1] = text
    path = tmp_path / "bundle.ndjson"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, sample_lines()


async def test_all_or_nothing_with_one_bad_line_writes_nothing(clean_graph: Graph, tmp_path: Path) -> None:
    visit = next(n for n, line in enumerate(sample_lines(), 1) if '"kind": "visit"' in line)
    path, _ = with_bad_lines(
        tmp_path,
        {visit: FUTURE_VISIT},
    )

    result = await run_import(clean_graph, path, tmp_path)

    assert not result.ok and not result.complete and result.written == 0
    assert [(r.line, r.field) for r in result.rejected] == [(visit, "on")]
    assert "future" in result.rejected[0].reason
    assert await clean_graph.read("MATCH (n) WHERE NOT n:AuditEvent RETURN n LIMIT 1") == []


@pytest.mark.slow
async def test_skip_invalid_writes_the_valid_lines_and_the_rejects_reimport(clean_graph: Graph, tmp_path: Path) -> None:
    contacts = [n for n, line in enumerate(sample_lines(), 1) if '"kind": "contact"' in line][:2]
    original = sample_lines()
    path, _ = with_bad_lines(
        tmp_path,
        {contacts[0]: original[contacts[0] - 1].replace('"channel": "', '"channel": "fax'), contacts[1]: "{not json"},
    )
    rejects = tmp_path / "rejects.ndjson"

    result = await run_import(clean_graph, path, tmp_path, mode="SKIP_INVALID", rejects=rejects)

    total = len(sample_records())
    assert result.ok and result.complete and result.written == total - 2
    assert sorted(r.line for r in result.rejected) == sorted(contacts)
    _, relationships = await census(clean_graph)
    assert relationships["CONTACTED"] == Counter(r["kind"] for r in sample_records())["contact"] - 2
    text = rejects.read_text(encoding="utf-8").splitlines()
    first = sorted(contacts)[0]
    assert text[0].startswith(f"# line {first}: ")
    assert len(text) == 4 and all(line.startswith("# line ") for line in text[::2])
    assert "channel: " in "\n".join(text)

    # Fix the reject file (the comments may stay) and import it: the graph is complete.
    rejects.write_text(
        "\n".join(
            line if line.startswith("#") else original[n - 1]
            for line, n in zip(text, sorted(contacts * 2), strict=True)
        ),
        encoding="utf-8",
    )
    fixed = await run_import(clean_graph, rejects, tmp_path)
    assert fixed.ok and fixed.written == 2
    reference = await snapshot(clean_graph)
    await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path)
    assert await snapshot(clean_graph) == reference


class Killed(BaseException):
    """Stands in for the process being killed between two committed batches."""


@pytest.mark.slow
async def test_a_batched_import_killed_midway_completes_when_run_again(
    clean_graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shrink the limits so the sample county takes the batched path in a few batches.
    monkeypatch.setattr(importer, "SINGLE_TRANSACTION_LINES", 500)
    monkeypatch.setattr(importer, "BATCH_RECORDS", 400)
    total = len(sample_records())
    committed: list[int] = []

    def killed_in_phase_two(records: int) -> None:
        committed.append(records)
        if len(committed) == 3:  # the entities took two batches; this is the first of the rest
            raise Killed

    with pytest.raises(Killed):
        await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path, progress=killed_in_phase_two)

    [run] = await import_runs(clean_graph)
    assert not run.complete and run.status == "failed"
    # Two batches are in flight at once: the one beside the "kill" may have committed too.
    assert "1:0" in run.committed_batches and "1:1" in run.committed_batches
    assert any(name.startswith("2:") for name in run.committed_batches)
    assert sum(committed) <= run.written < total
    nodes, relationships = await census(clean_graph)
    assert nodes["Person"] == Counter(r["kind"] for r in sample_records())["person"]
    partial = sum(relationships.values())

    resumed: list[int] = []
    result = await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path, progress=resumed.append)

    assert result.ok and result.complete and result.written == total
    assert resumed[0] == run.written == result.resumed  # the committed batches were not written again
    assert sum(resumed) == total
    [run] = await import_runs(clean_graph)
    assert run.complete and run.written == total and run.id == result.run_id
    assert 0 < partial < sum((await census(clean_graph))[1].values())
    reference = await snapshot(clean_graph, stamps=False)
    monkeypatch.undo()
    await clean_graph.autocommit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
    await run_import(clean_graph, SAMPLE_BUNDLE, tmp_path)
    assert await snapshot(clean_graph, stamps=False) == reference


@pytest.mark.slow
def test_cli_imports_reports_and_lists_runs(
    clean_graph: Graph, tmp_path: Path, test_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.cli_bundle import export_command, import_command

    for name, value in test_environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    bad = tmp_path / "bad.ndjson"
    bad.write_text(
        "\n".join(['{"kind": "region", "code": "36", "name": "x", "level": "province"}'] * 60 + ["# a comment"]),
        encoding="utf-8",
    )

    refused = runner.invoke(import_command, [str(bad)])
    assert refused.exit_code == 1, refused.output
    assert "line 1: code: '36' is not a 12-digit region code" in refused.output
    assert "... and 10 more rejected lines" in refused.output
    assert "lines: 60  written: 0  rejected: 60" in refused.output

    skipped = runner.invoke(import_command, [str(bad), "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert (tmp_path / "bad.ndjson.rejects.ndjson").read_text(encoding="utf-8").count("# line ") == 60

    done = runner.invoke(import_command, [str(SAMPLE_BUNDLE)])
    assert done.exit_code == 0, done.output
    total = len(sample_records())
    assert f"lines: {total}  written: {total}  rejected: 0" in done.output
    assert "records/s" in done.output

    status = runner.invoke(import_command, ["--status"])
    assert status.exit_code == 0, status.output
    assert "complete" in status.output and str(SAMPLE_BUNDLE.resolve()) in status.output
    assert "INCOMPLETE" not in status.output

    exported = tmp_path / "county.ndjson"
    wrote = runner.invoke(export_command, ["--region", SAMPLE_COUNTY, "--output", str(exported)])
    assert wrote.exit_code == 0, wrote.output
    # The county's export: its own records and what they refer to, not the next county's.
    exported_lines = exported.read_text(encoding="utf-8").splitlines()
    assert len(inside_lines()) <= len(exported_lines) < total
    assert not any('"other-county.father"' in line for line in exported_lines)
    unknown = runner.invoke(export_command, ["--region", "990000000000"])
    assert unknown.exit_code == 1 and "990000000000 does not exist" in unknown.output
