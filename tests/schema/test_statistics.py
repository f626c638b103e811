"""`statistics` through the API: its counts by colour equal `discover`'s for the same region and
date, every figure lists the children it counts, and its rates follow docs/statistics.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import COORDINATOR, COUNTY, DIRECTOR, TOWNSHIP, V1, V3, WORKER, build, data, error, today

STATISTICS = """
query($region: String!, $asOf: Date) {
  statistics(region: $region, asOf: $asOf) {
    children
    byLevel { level count key children { id } }
    byRule { rule count key }
    byCategory { category count key children { id } }
    visitCoverage { population covered rate uncovered { id } }
    contactCoverage { population covered rate }
    agreements { current signed }
    educationRate { population covered rate uncovered { id } }
    guardianshipDutyRate { key population covered rate uncovered { id } }
    townships { code institutions workstations }
    villages { code directorIds children registered load key }
  }
}"""
DISCOVER = """
query($region: String!, $asOf: Date) {
  discover(region: $region, asOf: $asOf, minLevel: GREEN, first: 500) {
    totalCount edges { node { level child { id } findings { rule } } }
  }
}"""
FIGURE = """
query($region: String!, $key: String!, $asOf: Date) {
  statisticsChildren(region: $region, key: $key, asOf: $asOf) { id }
}"""


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    """casework's county (C1 left behind in V1 with grandmother G1, no agreement; C3 in V3), and
    in V1 a registered orphan at school and a toddler; a director serving V1."""
    await build(clean_graph)
    day = today()
    await factories.registration(clean_graph, "C1", "left_behind", dt.date(2024, 3, 1))
    await factories.person(clean_graph, "C5", day.replace(year=day.year - 9), household="H1", name="小五")
    await factories.registration(clean_graph, "C5", "orphan", dt.date(2024, 3, 1))
    await factories.enrollment(clean_graph, "C5", "SCH", dt.date(2024, 9, 1))
    await factories.visit(clean_graph, "D1", "C5", day - dt.timedelta(days=3), notes="上学正常")
    await factories.person(clean_graph, "C6", day.replace(year=day.year - 2), household="H1", name="小六")
    await factories.staff(clean_graph, "D1", "children_director", dt.date(2020, 1, 1), region=V1)
    return clean_graph


def _by(rows: list[dict[str, Any]], name: str) -> dict[str, dict[str, Any]]:
    return {row[name]: row for row in rows}


async def test_statistics_agree_with_discover_and_list_their_children(county: Graph, gql: GraphQLClient) -> None:
    for region in (COUNTY, TOWNSHIP, V1, V3):
        variables: dict[str, object] = {"region": region, "asOf": today().isoformat()}
        stats = data(await gql.execute(STATISTICS, variables, **COORDINATOR))["statistics"]
        found = data(await gql.execute(DISCOVER, variables, **COORDINATOR))["discover"]
        colours: dict[str, set[str]] = {}
        rules: dict[str, int] = {}
        for edge in found["edges"]:
            colours.setdefault(edge["node"]["level"], set()).add(edge["node"]["child"]["id"])
            for finding in edge["node"]["findings"]:
                rules[finding["rule"]] = rules.get(finding["rule"], 0) + 1
        levels = _by(stats["byLevel"], "level")
        assert [row["level"] for row in stats["byLevel"]] == ["RED", "YELLOW", "BLUE", "GREEN"]
        assert stats["children"] == found["totalCount"] == sum(row["count"] for row in stats["byLevel"])
        for level, row in levels.items():
            assert {child["id"] for child in row["children"]} == colours.get(level, set()), (region, level)
            assert row["count"] == len(colours.get(level, set()))
        assert {row["rule"]: row["count"] for row in stats["byRule"] if row["count"]} == rules

    county_stats = data(await gql.execute(STATISTICS, {"region": COUNTY}, **COORDINATOR))["statistics"]
    assert county_stats["children"] == 4  # C1, C5, C6 in V1; C3 in V3
    categories = _by(county_stats["byCategory"], "category")
    assert [child["id"] for child in categories["orphan"]["children"]] == ["C5"]
    assert categories["left_behind"]["count"] == 1 and categories["disability"]["count"] == 0
    # Registered: C1 and C5; only C5 had a home visit in the last 31 days.
    assert county_stats["visitCoverage"] | {"uncovered": None} == {
        "population": 2, "covered": 1, "rate": 0.5, "uncovered": None}  # fmt: skip
    assert county_stats["visitCoverage"]["uncovered"] == [{"id": "C1"}]
    # C1, the one registered left behind, has had no contact from a parent.
    assert county_stats["contactCoverage"] == {"population": 1, "covered": 0, "rate": 0.0}
    assert county_stats["agreements"] == {"current": 1, "signed": 0}
    # Of compulsory-school age: C1 (10, not enrolled), C5 (9, at school) and C3 (not enrolled).
    education = county_stats["educationRate"]
    assert (education["population"], education["covered"]) == (3, 1)
    assert {child["id"] for child in education["uncovered"]} == {"C1", "C3"}
    # C1's grandmother has no written agreement: the duty is not carried out; C5's is not in question.
    duty = county_stats["guardianshipDutyRate"]
    assert (duty["population"], duty["covered"], duty["uncovered"]) == (2, 1, [{"id": "C1"}])
    townships = _by(county_stats["townships"], "code")
    assert townships[TOWNSHIP] == {"code": TOWNSHIP, "institutions": 2, "workstations": 1}
    villages = _by(county_stats["villages"], "code")
    assert villages[V1] | {"key": None} == {"code": V1, "directorIds": ["D1"], "children": 3, "registered": 2,
                                            "load": 2.0, "key": None}  # fmt: skip
    assert villages[V3]["directorIds"] == [] and villages[V3]["load"] is None

    # Every figure's key lists its children through statisticsChildren as well.
    for key, expected in ((duty["key"] + ":uncovered", ["C1"]), (villages[V1]["key"], ["C1", "C5", "C6"])):
        listed = data(await gql.execute(FIGURE, {"region": COUNTY, "key": key}, **COORDINATOR))["statisticsChildren"]
        assert [child["id"] for child in listed] == expected
    unknown = await gql.execute(FIGURE, {"region": COUNTY, "key": "nothing"}, **COORDINATOR)
    assert error(unknown) == {"code": "BAD_USER_INPUT", "field": "key"}


async def test_statistics_are_for_coordinators_and_supervisors_within_their_scope(
    county: Graph, gql: GraphQLClient
) -> None:
    supervisor = {"role": "children_supervisor", "region": TOWNSHIP, "sub": "D1"}
    # A supervisor asking for the county sees its township's children only, as discover does.
    township = data(await gql.execute(STATISTICS, {"region": COUNTY}, **supervisor))["statistics"]
    assert township["children"] == 3 and [v["code"] for v in township["villages"]] == [V1, "360732100202"]
    for caller in (DIRECTOR, WORKER):
        assert error(await gql.execute(STATISTICS, {"region": COUNTY}, **caller))["code"] == "FORBIDDEN"
    # Another county reads as empty, not as an error.
    elsewhere = data(await gql.execute(STATISTICS, {"region": "360733000000"}, **COORDINATOR))["statistics"]
    assert elsewhere["children"] == 0 and elsewhere["townships"] == [] and elsewhere["villages"] == []
    assert error(await gql.execute(STATISTICS, {"region": "36"}, **COORDINATOR)) == {
        "code": "BAD_USER_INPUT", "field": "region"}  # fmt: skip
