"""Bundle export: the sample county comes back as the same records, and export, import into an
empty database, export again gives the same lines."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph.bundle.exporter import export_region
from graph.bundle.importer import import_bundle
from graph.driver import Graph
from tests.conftest import SAMPLE_BUNDLE, SAMPLE_COUNTY, wipe
from tests.data.make_county import TOWNSHIPS, VILLAGES, inside_lines

COUNTY = SAMPLE_COUNTY
VILLAGE = VILLAGES[0]
TODAY = date.today()


def canonical(lines: list[str]) -> Counter[str]:
    """Records as a multiset, field order and absent-versus-null aside."""
    records: Counter[str] = Counter()
    for line in lines:
        if line.strip() and not line.startswith("#"):
            record: dict[str, Any] = {k: v for k, v in json.loads(line).items() if v is not None}
            records[json.dumps(record, sort_keys=True, ensure_ascii=False)] += 1
    return records


def sample_lines() -> list[str]:
    return SAMPLE_BUNDLE.read_text(encoding="utf-8").split("\n")


async def export(graph: Graph, code: str) -> list[str]:
    return [line async for line in export_region(graph, code)]


async def reimport(graph: Graph, lines: list[str], tmp_path: Path) -> None:
    """Import `lines` into an empty database, through a file like the CLI does."""
    await wipe(graph)
    path = tmp_path / "export.ndjson"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = await import_bundle(graph, path, mode="ALL_OR_NOTHING", today=TODAY, workdir=tmp_path)
    assert result.ok, result.rejected[:5]
    assert result.written == len(lines)


@pytest.mark.slow
async def test_the_sample_county_round_trips(clean_graph: Graph, tmp_path: Path) -> None:
    # The sample less its children who live outside the county or nowhere: all of it is the county's.
    inside = inside_lines()
    assert (await import_bundle(clean_graph, inside, today=TODAY, workdir=tmp_path)).ok

    first = await export(clean_graph, COUNTY)

    # Every record, nothing more.
    assert canonical(first) == canonical(inside)
    assert first == await export(clean_graph, COUNTY)  # deterministic order
    assert first[0] == '{"kind":"region","code":"520000000000","name":"贵州省","level":"province"}'
    kinds = [json.loads(line)["kind"] for line in first]
    assert kinds.index("person") < kinds.index("parent")  # entities before what refers to them
    assert not any('":null' in line for line in first)  # absent optional fields are omitted

    await reimport(clean_graph, first, tmp_path)
    second = await export(clean_graph, COUNTY)
    assert second == first


async def test_a_county_export_leaves_out_the_next_county(clean_graph: Graph, tmp_path: Path) -> None:
    assert (await import_bundle(clean_graph, SAMPLE_BUNDLE, today=TODAY, workdir=tmp_path)).ok
    exported = canonical(await export(clean_graph, COUNTY))
    # Beyond the county's own records it holds only what they refer to: the neighbouring
    # county's child goes to the county's school, so that child comes with its household and
    # region chain, but not its parents, whom nothing in the county refers to.
    assert canonical(inside_lines()) <= exported <= canonical(sample_lines())
    records = [json.loads(line) for line in exported]
    people = {r["id"] for r in records if r["kind"] == "person"}
    assert {"other-county", "overload-elsewhere", "no-household"} <= people
    assert not {"other-county.father", "other-county.mother", "no-household.father"} & people
    assert {r["code"] for r in records if r["kind"] == "region" and r["code"].startswith("522623")} == {
        "522623000000", "522623100000", "522623100201"
    }  # fmt: skip


async def test_a_village_export_carries_what_it_refers_to(clean_graph: Graph, tmp_path: Path) -> None:
    assert (await import_bundle(clean_graph, SAMPLE_BUNDLE, today=TODAY, workdir=tmp_path)).ok
    # A parent of a village child lives in another village of the county.
    outside = [
        f'{{"kind": "household", "id": "HX1", "region": "{VILLAGES[3]}", "lowIncome": []}}',
        '{"kind": "person", "id": "PX1", "name": "外村父亲", "gender": "M", "birthDate": "1980-01-01", '
        '"household": "HX1"}',
        '{"kind": "parent", "parent": "PX1", "child": "lb-dead-and-away", "type": "step"}',
        '{"kind": "away", "person": "PX1", "since": "2025-01-01", "destination": "广东深圳"}',
    ]
    assert (await import_bundle(clean_graph, outside, today=TODAY, workdir=tmp_path)).ok

    first = await export(clean_graph, VILLAGE)
    records = [json.loads(line) for line in first]
    regions = {r["code"] for r in records if r["kind"] == "region"}
    # The village, its ancestors (so parents resolve), and the outside household's region chain.
    assert {"520000000000", "522600000000", COUNTY, TOWNSHIPS[0], VILLAGE, VILLAGES[3]} <= regions
    assert {"kind": "person", "id": "PX1", "name": "外村父亲", "gender": "M", "birthDate": "1980-01-01",
            "household": "HX1"} in records  # fmt: skip
    assert {"kind": "away", "person": "PX1", "since": "2025-01-01", "destination": "广东深圳"} in records
    # Every exported person's household is exported too, wherever it lies.
    households = {r["id"] for r in records if r["kind"] == "household"}
    assert "HX1" in households
    assert all(r["household"] in households for r in records if r["kind"] == "person" and "household" in r)

    await reimport(clean_graph, first, tmp_path)
    assert await export(clean_graph, VILLAGE) == first


async def test_an_unknown_region_exports_nothing(clean_graph: Graph) -> None:
    assert await export(clean_graph, "990000000000") == []


SMALL_VILLAGE = [
    '{"kind": "region", "code": "360000000000", "name": "江西省", "level": "province"}',
    '{"kind": "region", "code": "360700000000", "name": "赣州市", "level": "city", "parent": "360000000000"}',
    '{"kind": "region", "code": "360732000000", "name": "兴国县", "level": "county", "parent": "360700000000"}',
    '{"kind": "region", "code": "360732100000", "name": "一镇", "level": "township", "parent": "360732000000"}',
    '{"kind": "region", "code": "360732100201", "name": "一村", "level": "village", "parent": "360732100000"}',
    '{"kind": "household", "id": "H1", "region": "360732100201", "lowIncome": []}',
    '{"kind": "person", "id": "D1", "name": "周主任", "gender": "F", "birthDate": "1980-01-01", "household": "H1"}',
    '{"kind": "person", "id": "C1", "name": "张小一", "gender": "M", "birthDate": "2016-01-01", "household": "H1"}',
]
SMALL_COUNTY = "360732000000"
VISITS_OF_ONE_DAY = [
    '{"kind": "visit", "visitor": "D1", "child": "C1", "on": "2026-05-20", "type": "home_visit"}',
    '{"kind": "visit", "visitor": "D1", "child": "C1", "on": "2026-05-20", "type": "home_visit", "notes": "上午"}',
    '{"kind": "visit", "visitor": "D1", "child": "C1", "on": "2026-05-20", "type": "home_visit", "notes": "晚上"}',
]


async def test_visit_lines_are_identified_by_every_field(clean_graph: Graph, tmp_path: Path) -> None:
    """Three visits of one day that differ only in their notes (one has none) are three visits;
    a line repeated in the bundle, a second import and an export round trip add none."""
    lines = SMALL_VILLAGE + VISITS_OF_ONE_DAY + VISITS_OF_ONE_DAY[1:2]
    visits = "MATCH (:Person {id: 'D1'})-[e:VISITED]->(:Person {id: 'C1'}) RETURN e.notes AS notes"
    for _ in range(2):
        assert (await import_bundle(clean_graph, lines, today=TODAY, workdir=tmp_path)).ok
        assert sorted(str(row["notes"]) for row in await clean_graph.read(visits)) == ["None", "上午", "晚上"]

    first = await export(clean_graph, SMALL_COUNTY)
    assert canonical([line for line in first if '"visit"' in line]) == canonical(VISITS_OF_ONE_DAY)
    await reimport(clean_graph, first, tmp_path)
    assert await export(clean_graph, SMALL_COUNTY) == first
