"""importBundle, exportBundle and importRuns for an integrator of one village, through the API:
nothing written across the boundary, exports that carry the next village only as far as a link
needs and import back unchanged, runs and audit events scoped to where the records lie."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, LiteralString

import click
import orjson
import pytest
from click.testing import CliRunner, Result

from graph import audit
from graph.bundle.validation import ID_NUMBER_REFUSED
from graph.driver import Graph
from graph.persons import ID_LOOKUP
from tests.conftest import GraphQLClient, wipe
from tests.graph.bundle.sealed_world import C1_ID, C1_PHONE, F1_ID, F1_PHONE, SECRETS, T1, V1, V2, line, load_world

IMPORT = """mutation($ndjson: String!, $mode: ImportMode) {
  importBundle(ndjson: $ndjson, mode: $mode) { ok written rejected { line field reason code } }
}"""
EXPORT = "query($region: String!) { exportBundle(region: $region) }"
RUNS = "{ importRuns { id written } }"
AS_V1: dict[str, Any] = {"role": "integrator", "region": V1, "sub": "integrator-v1"}
AS_V2: dict[str, Any] = {"role": "integrator", "region": V2, "sub": "integrator-v2"}
#: What V1's export may say of F1, the father who lives in V2: his id and name.
F1_NAME = "王秘父"

FATHER: LiteralString = """
MATCH (p:Person {id: 'F1'})
RETURN p.name AS name, p.regionCode AS region, COUNT { (p)-[:HAS_CONDITION]->() } AS conditions
"""
C1_NUMBERS: LiteralString = "MATCH (p:Person {id: 'C1'}) RETURN p.idNumber AS idNumber, p.phone AS phone"
H2_REGION: LiteralString = "MATCH (h:Household {id: 'H2'}) RETURN h.regionCode AS region"


@pytest.fixture
async def world(clean_graph: Graph, tmp_path: Path) -> AsyncIterator[Graph]:
    await load_world(clean_graph, tmp_path / "world")
    yield clean_graph


def errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = body.get("errors") or []
    return found


async def test_an_integrator_writes_nothing_into_the_next_village(world: Graph, gql: GraphQLClient) -> None:
    condition = line({"kind": "condition", "person": "F1", "type": "imprisoned", "since": "2026-01-01"})
    renamed = line({"kind": "person", "id": "F1", "name": "改", "gender": "M", "birthDate": "1985-01-01",
                    "household": "H1"})  # fmt: skip
    moved = line({"kind": "household", "id": "H2", "region": V1, "lowIncome": []})
    for ndjson in (condition, renamed, moved, f"{condition}\n{moved}"):
        body = await gql.execute(IMPORT, {"ndjson": ndjson}, **AS_V1)
        [error] = errors(body)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "line 1" in error["message"] and not [s for s in SECRETS if s in error["message"]]
    skipped = await gql.execute(IMPORT, {"ndjson": f"{condition}\n{moved}", "mode": "SKIP_INVALID"}, **AS_V1)
    report = skipped["data"]["importBundle"]
    assert report["written"] == 0 and [r["code"] for r in report["rejected"]] == ["FORBIDDEN", "FORBIDDEN"]

    assert await world.read(FATHER) == [{"name": F1_NAME, "region": V2, "conditions": 0}]
    assert await world.read(H2_REGION) == [{"region": V2}]


async def test_the_export_names_the_father_outside_and_imports_back_unchanged(world: Graph, gql: GraphQLClient) -> None:
    exported: str = (await gql.execute(EXPORT, {"region": V1}, **AS_V1))["data"]["exportBundle"]
    records = [orjson.loads(text) for text in exported.splitlines()]
    assert {"kind": "linked_person", "id": "F1", "name": F1_NAME} in records
    assert not [r for r in records if r.get("id") in {"F1", "H2", "C2", "K2", "RP2", "R2", "I2"} and
                r["kind"] != "linked_person"]  # fmt: skip
    assert not [s for s in SECRETS if s != F1_NAME and s in exported]
    assert C1_ID not in exported and C1_PHONE not in exported and F1_PHONE not in exported
    # The links to F1 stay: the relation is the link's line (access.md: id, name, relation, status).
    assert {"kind": "parent", "parent": "F1", "child": "C1", "type": "biological"} in records

    body = await gql.execute(IMPORT, {"ndjson": exported}, **AS_V1)
    report = body["data"]["importBundle"]
    assert report["ok"] and report["rejected"] == [], report
    assert 0 < report["written"] < len(records)
    # Masked numbers the integrator never received are kept, not erased.
    assert await world.read(C1_NUMBERS) == [{"idNumber": C1_ID, "phone": C1_PHONE}]
    again = (await gql.execute(EXPORT, {"region": V1}, **AS_V1))["data"]["exportBundle"]
    assert again == exported


async def test_a_township_export_of_one_village_imports_back_and_an_empty_database_takes_what_it_can(
    world: Graph, gql: GraphQLClient
) -> None:
    township = {"role": "integrator", "region": T1, "sub": "integrator-t1"}
    exported: str = (await gql.execute(EXPORT, {"region": V1}, **township))["data"]["exportBundle"]
    # F1 lies in T1's scope but outside the village exported: the export names him only.
    assert '"kind":"linked_person","id":"F1"' in exported
    report = (await gql.execute(IMPORT, {"ndjson": exported}, **township))["data"]["importBundle"]
    assert report["ok"] and report["rejected"] == [], report

    # Into an empty database the lines naming F1 have nothing to point at; the rest land.
    await wipe(world)
    body = await gql.execute(IMPORT, {"ndjson": exported, "mode": "SKIP_INVALID"}, role="admin")
    rejected = body["data"]["importBundle"]["rejected"]
    assert rejected and all("F1" in r["reason"] and "exists nowhere" in r["reason"] for r in rejected)
    assert await world.read(FATHER) == []


async def test_import_runs_are_the_callers_scope_only(world: Graph, gql: GraphQLClient) -> None:
    ndjson = line({"kind": "household", "id": "HN", "region": V1, "lowIncome": []})
    assert (await gql.execute(IMPORT, {"ndjson": ndjson}, **AS_V1))["data"]["importBundle"]["ok"]
    mine = (await gql.execute(RUNS, **AS_V1))["data"]["importRuns"]
    theirs = (await gql.execute(RUNS, **AS_V2))["data"]["importRuns"]
    every = (await gql.execute(RUNS, role="admin"))["data"]["importRuns"]
    assert [run["written"] for run in mine] == [1] and theirs == []
    assert len(every) == 2  # the world's and the integrator's


async def test_imports_and_exports_are_audited_where_their_records_lie(world: Graph, gql: GraphQLClient) -> None:
    accepted = line({"kind": "visit", "visitor": "D1", "child": "C1", "on": "2026-06-02", "type": "home_visit"})
    refused = line({"kind": "condition", "person": "F1", "type": "imprisoned", "since": "2026-01-01"})
    await gql.execute(IMPORT, {"ndjson": accepted}, **AS_V1)
    await gql.execute(IMPORT, {"ndjson": refused}, **AS_V1)
    await gql.execute(EXPORT, {"region": V1}, **AS_V1)
    await gql.execute(EXPORT, {"region": V1}, role="admin", sub="admin-1")
    await gql.execute(EXPORT, {"region": V2}, **AS_V1)  # out of scope: refused, and filed under V2

    def seen(events: list[audit.AuditEventRecord]) -> set[tuple[str, str, str]]:
        return {(event.sub, event.operation, event.outcome) for event in events}

    village = await audit.list_events(world, scope=V1)
    assert {
        ("integrator-v1", "importBundle", "ok"), ("integrator-v1", "exportBundle", "ok"),
        ("admin-1", "exportBundle", "ok"),
    } <= seen(village)  # fmt: skip
    [visit] = [e for e in village if e.operation == "importBundle" and e.sub == "integrator-v1" and e.outcome == "ok"]
    assert "written=1" in visit.ids and "C1" in visit.ids and "D1" in visit.ids
    numbers = {e.sub: next(i for i in e.ids if i.startswith("idNumbers=")) for e in village
               if e.operation == "exportBundle"}  # fmt: skip
    # The event under the exported region counts every full number the export carried (F1's too).
    assert numbers == {"integrator-v1": "idNumbers=0", "admin-1": "idNumbers=3"}

    next_village = await audit.list_events(world, scope=V2)
    assert {("integrator-v1", "importBundle", "FORBIDDEN"), ("integrator-v1", "exportBundle", "NOT_FOUND"),
            ("admin-1", "exportBundle", "ok")} <= seen(next_village)  # fmt: skip
    [attempt] = [e for e in next_village if e.operation == "importBundle" and e.sub == "integrator-v1"]
    assert "F1" in attempt.ids and "written=0" in attempt.ids


async def test_the_cli_acts_as_admin_and_names_its_operator_in_the_audit(
    world: Graph, tmp_path: Path, test_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.cli_bundle import export_command, import_command

    for name, value in test_environment.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "v1.ndjson"
    runner = CliRunner()

    def invoke(command: click.Command, *arguments: str) -> Result:
        # In a thread: the command runs its own event loop.
        return runner.invoke(command, list(arguments))

    exported = await asyncio.to_thread(
        invoke, export_command, "--region", V1, "--output", str(out), "--operator", "alice"
    )
    assert exported.exit_code == 0, exported.output
    assert C1_ID in out.read_text(encoding="utf-8")  # an operator exports full records
    imported = await asyncio.to_thread(invoke, import_command, str(out), "--operator", "alice")
    assert imported.exit_code == 0, imported.output
    for command in (import_command, export_command):
        assert "as admin" in " ".join((await asyncio.to_thread(invoke, command, "--help")).output.split())

    events = await audit.list_events(world, scope=V1)
    assert {("cli:alice", "admin", "exportBundle"), ("cli:alice", "admin", "importBundle")} <= {
        (event.sub, event.role, event.operation) for event in events
    }


async def test_an_id_number_someone_holds_counts_as_a_look_up_by_id_number(world: Graph, gql: GraphQLClient) -> None:
    def newcomer(key: str, number: str, born: str, gender: str) -> str:
        return line({"kind": "person", "id": key, "name": "新人", "gender": gender, "birthDate": born,
                     "idNumber": number, "household": "H1"})  # fmt: skip

    fathers = newcomer("PN1", F1_ID, "1985-01-01", "M")
    daughters = newcomer("PN2", C1_ID, "2015-03-01", "F")
    one = await gql.execute(IMPORT, {"ndjson": fathers, "mode": "SKIP_INVALID"}, **AS_V1)
    [rejection] = one["data"]["importBundle"]["rejected"]
    assert rejection["reason"] == ID_NUMBER_REFUSED

    two = await gql.execute(IMPORT, {"ndjson": f"{fathers}\n{daughters}", "mode": "SKIP_INVALID"}, **AS_V1)
    [error] = errors(two)
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED" and "line" not in error["message"]
    assert await world.read("MATCH (p:Person) WHERE p.id STARTS WITH 'PN' RETURN p.id") == []

    # Each attempt is filed where the holder lives, for that village's auditor.
    for village, expected in ((V2, [("ok", ["F1"]), ("LIMIT_EXCEEDED", ["F1"])]), (V1, [("LIMIT_EXCEEDED", ["C1"])])):
        events = await audit.list_events(world, scope=village, operation=ID_LOOKUP)
        assert sorted((e.outcome, e.ids) for e in events) == sorted(expected)
