"""`shouhu report` against the real test database: the workbook opens with openpyxl, with the
Chinese sheets and headers, and its numbers are the statistics' (and so discovery's)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from api.cli import main
from api.settings import Settings
from graph import statistics
from graph.discovery import Level, Thresholds, discover
from graph.driver import Connection, Graph, connect
from tests import factories
from tests.schema.casework import COUNTY, TOWNSHIP, V1, build, today

SHEETS = ["概况", "按风险等级", "按发现规则", "按儿童类别", "覆盖率", "乡镇机构", "村儿童主任"]


async def _county(graph: Graph) -> None:
    await build(graph)
    await factories.registration(graph, "C1", "left_behind", dt.date(2024, 3, 1))
    await factories.staff(graph, "D1", "children_director", dt.date(2020, 1, 1), region=V1)


def test_the_report_writes_the_countys_tables_in_chinese(
    clean_graph: Graph, settings: Settings, test_environment: dict[str, str], tmp_path: Path
) -> None:
    async def prepare() -> tuple[dict[Level, int], statistics.Statistics]:
        connection = Connection(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password)
        async with connect(connection) as graph:
            await _county(graph)
            thresholds = Thresholds(timezone=settings.timezone.key)
            found = await discover(graph, region_prefix="360732", scope_prefix="", as_of=today(), thresholds=thresholds)
            stats = await statistics.statistics(graph, region=COUNTY, scope="", as_of=today(), thresholds=thresholds)
            return found.counts(), stats

    colours, stats = asyncio.run(prepare())
    runner = CliRunner(env=test_environment)
    workbook = tmp_path / "county.xlsx"
    args = ["report", "--region", COUNTY, "--as-of", today().isoformat()]
    result = runner.invoke(main, [*args, "--format", "xlsx", "--output", str(workbook)])
    assert result.exit_code == 0, result.output

    book = load_workbook(workbook)
    assert book.sheetnames == SHEETS
    levels = [list(row) for row in book["按风险等级"].iter_rows(values_only=True)]
    assert levels[0] == ["风险等级", "儿童数", "键"]
    by_key = {row[2]: row[1] for row in levels[1:]}
    assert by_key == {f"level:{level.value}": colours[level] for level in Level}
    assert sum(colours.values()) == 2  # C1 in V1, C3 in V3
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert overview["儿童总数"] == 2 and overview["统计日期"] == today().isoformat()
    rates = {row[0]: row[1:4] for row in book["覆盖率"].iter_rows(min_row=2, values_only=True)}
    assert rates["监护职责落实率"] == (1, 0, 0.0)  # C1: its grandmother has no written agreement
    assert rates["教育保障率"] == (2, 0, 0.0)  # C1 and C3, 10 and 11, at no school
    townships = {row[0]: row[2:] for row in book["乡镇机构"].iter_rows(min_row=2, values_only=True)}
    assert townships[TOWNSHIP] == (2, 1)
    villages = {row[0]: row for row in book["村儿童主任"].iter_rows(min_row=2, values_only=True)}
    assert villages[V1][2:7] == (1, "D1", 1, 1, 1.0)
    assert stats.villages[0].code == V1 and stats.villages[0].load == 1.0

    table = tmp_path / "county.csv"
    result = runner.invoke(main, [*args, "--format", "csv", "--output", str(table)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(table.read_text(encoding="utf-8-sig").splitlines()))
    assert [rows[i][0] for i in range(len(rows)) if i == 0 or (rows[i - 1] == [] and rows[i])] == SHEETS
