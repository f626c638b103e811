"""`shouhu discover` against the real test database."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from api.cli import main
from api.settings import Settings
from graph.driver import Connection, Graph, connect
from tests import factories as f
from tests.graph.discovery_helpers import D, world

ARGS = ["discover", "--region", "360732000000", "--as-of", D.isoformat()]


async def _county(graph: Graph) -> None:
    await world(graph)
    await f.person(graph, "C-out", D.replace(year=D.year - 10), household="H1")  # out of school
    await f.person(graph, "C-ok", D.replace(year=D.year - 3), household="H1")


@pytest.mark.slow
def test_discover_prints_the_expected_file_shape_and_a_table_and_sweep_persists_it(
    clean_graph: Graph, settings: Settings, test_environment: dict[str, str]
) -> None:
    # The command runs its own event loop, so this test is synchronous and builds the data
    # through a driver of its own.
    async def build() -> None:
        connection = Connection(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password)
        async with connect(connection) as graph:
            await _county(graph)

    asyncio.run(build())
    runner = CliRunner(env=test_environment)

    result = runner.invoke(main, [*ARGS, "--format", "json", "--threshold", "contact_blue_days=9"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["children"] == {
        "C-out": {"level": "yellow", "findings": {"OUT_OF_SCHOOL": "yellow"}},
        "C-ok": {"level": "green", "findings": {}},
    }
    assert data["thresholds"]["contact_blue_days"] == 9 and data["asOf"] == "2026-06-15"

    table = runner.invoke(main, ARGS)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[1].split()[:3] == ["C-out", "人C-out", "yellow"] and "OUT_OF_SCHOOL:yellow" in lines[1]
    assert "2 children as of 2026-06-15: 0 red, 1 yellow, 0 blue, 1 green" in table.output

    swept = runner.invoke(main, ["sweep", "--region", "360732000000", "--as-of", D.isoformat()])
    assert swept.exit_code == 0, swept.output
    assert "1 raised, 0 escalated, 0 lowered, 0 resolved" in swept.output
    again = runner.invoke(main, ["sweep", "--region", "360732000000", "--as-of", D.isoformat()])
    assert "0 raised, 0 escalated, 0 lowered, 0 resolved" in again.output

    bad = runner.invoke(main, ["discover", "--region", "3607"])
    assert bad.exit_code != 0 and "region" in bad.output
    bad = runner.invoke(main, [*ARGS, "--threshold", "contact_blue_days=-3"])
    assert bad.exit_code != 0 and "contact_blue_days" in bad.output
