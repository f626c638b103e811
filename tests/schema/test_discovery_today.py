"""Today's `discover` over GraphQL: read from the risk nodes in one round trip, it answers
exactly as evaluating the rules does, every field of every page, in any scope and choice of
rules, and an index that cannot be trusted is evaluated instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from graph import alerts, discovery, risk_index
from graph.bundle.importer import import_bundle
from graph.driver import Graph
from graph.regions import scope_prefix
from tests.conftest import SAMPLE_BUNDLE, SAMPLE_COUNTY, GraphQLClient
from tests.data.make_county import TOWNSHIPS, VILLAGES
from tests.schema.conftest import capture_graph
from tests.schema.test_scoping import data

# Every field of a page; pages of 3 keep evidence within the default cost limit.
EVERYTHING = """query($region: String!, $after: String, $min: RiskLevel, $rules: [String!]) {
  discover(region: $region, first: 3, after: $after, minLevel: $min, rules: $rules) {
    totalCount asOf
    thresholds { contactBlueDays contactYellowDays visitBlueDays visitYellowDays caregiverAge overloadChildren
                 reportImmediateDays reportHighDays reportNormalDays timezone }
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      level asOf thresholds { visitYellowDays timezone }
      child { id name regionCode birthDate }
      findings { rule level evidence {
        kind id key personId caregiverId caseId type category urgency status on at since until dueOn days count values
      } }
    } }
  }
}"""

#: (role, region of the caller, region asked for, minLevel, rules)
CASES: tuple[tuple[str, str | None, str, str, list[str] | None], ...] = (
    ("coordinator", SAMPLE_COUNTY, SAMPLE_COUNTY, "GREEN", None),
    ("case_worker", TOWNSHIPS[0], SAMPLE_COUNTY, "BLUE", ["VISIT_OVERDUE", "REFERRAL_OVERDUE", "CONTACT_LAPSE"]),
    ("children_director", VILLAGES[0], SAMPLE_COUNTY, "GREEN", None),
    ("admin", None, TOWNSHIPS[1], "YELLOW", None),
    ("case_worker", TOWNSHIPS[0], TOWNSHIPS[1], "BLUE", None),
)


@pytest.fixture
async def swept(clean_graph: Graph, settings: Settings, tmp_path: Path) -> AsyncIterator[Graph]:
    """The sample county imported and swept as of today: its risk nodes trusted."""
    thresholds = discovery.Thresholds(timezone=settings.timezone.key)
    today = discovery.today(thresholds)
    result = await import_bundle(clean_graph, SAMPLE_BUNDLE, today=today, workdir=tmp_path)
    assert result.ok, result.rejected[:3]
    await alerts.sweep(clean_graph, region_prefix="", scope_prefix="", as_of=today, thresholds=thresholds, by="t")
    key = risk_index.thresholds_key(thresholds.as_dict())
    assert await risk_index.trusted(clean_graph, seek="", as_of=today, thresholds=key)
    yield clean_graph


async def every_page(
    gql: GraphQLClient, app_graph: Graph, case: tuple[str, str | None, str, str, list[str] | None]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Every page of the case, and the round trips each took."""
    role, caller_region, region, min_level, rules = case
    pages: list[dict[str, Any]] = []
    trips: list[int] = []
    after = None
    while True:
        app_graph.round_trips = 0
        variables = {"region": region, "after": after, "min": min_level, "rules": rules}
        found = data(await gql.execute(EVERYTHING, variables, role=role, region=caller_region))["discover"]
        trips.append(app_graph.round_trips)
        pages.append(found)
        if not found["pageInfo"]["hasNextPage"]:
            return pages, trips
        assert len(pages) < 100, "a cursor that does not move on: the pages go round"
        after = found["pageInfo"]["endCursor"]


async def test_todays_pages_from_the_risk_nodes_are_the_evaluated_pages(
    swept: Graph, gql: GraphQLClient, app: Any
) -> None:
    app_graph = await capture_graph(app)
    stored = [await every_page(gql, app_graph, case) for case in CASES]
    # A write awaiting its re-evaluation everywhere: nothing may be read from the nodes.
    token = risk_index.new_token()
    await risk_index.open_pending(swept, token)
    try:
        evaluated = [await every_page(gql, app_graph, case) for case in CASES]
    finally:
        await risk_index.close_pending(swept, [token])
    seen: set[str] = set()
    for case, (pages, trips), (live, live_trips) in zip(CASES, stored, evaluated, strict=True):
        same = pages == live  # not in the assert: pytest's diff of every page would take minutes
        assert same, case
        assert min(live_trips) > 1, (case, live_trips)
        if case is not CASES[-1]:  # there the region and the scope do not meet: nothing to seek
            # The trust, the page, its children's records and the count: one statement a page.
            assert set(trips) == {1}, (case, trips)
        edges = [edge for page in pages for edge in page["edges"]]
        assert pages[0]["totalCount"] == len(edges), case
        seen.update(e["kind"] for edge in edges for f in edge["node"]["findings"] for e in f["evidence"])
        if case[1] is not None:
            assert all(edge["node"]["child"]["regionCode"].startswith(scope_prefix(case[1])) for edge in edges), case
    assert len(stored[0][0]) > 10, "the county's children over many pages, cursors within and across colours"
    assert stored[-1][0][0]["edges"] == [], "a region outside the caller's scope lists no one"
    # Dates, datetimes, lists and counts all went through the comparison.
    assert {"parent", "away", "visit", "report", "referral", "caregiver"} <= seen, seen


async def test_a_count_asked_for_in_a_fragment_rides_with_the_page(swept: Graph, gql: GraphQLClient, app: Any) -> None:
    app_graph = await capture_graph(app)
    queries = (
        "query($r: String!) { discover(region: $r, first: 2) { totalCount edges { cursor } } }",
        "query($r: String!) { discover(region: $r, first: 2) { ...n edges { cursor } } }"
        " fragment n on DiscoveryConnection { totalCount }",
        "query($r: String!) { discover(region: $r, first: 2) {"
        " ... on DiscoveryConnection { totalCount } edges { cursor } } }",
        "query($r: String!) { discover(region: $r, first: 2) { edges { cursor } } }",
    )
    answers = []
    for query in queries:
        app_graph.round_trips = 0
        answers.append(data(await gql.execute(query, {"r": SAMPLE_COUNTY}, role="coordinator", region=SAMPLE_COUNTY)))
        assert app_graph.round_trips == 1, query
    totals = {answer["discover"]["totalCount"] for answer in answers[:3]}
    assert len(totals) == 1 and totals.pop() > 2
    assert len({str(answer["discover"]["edges"]) for answer in answers}) == 1


def test_the_schema_evidence_has_the_record_fields() -> None:
    """`Evidence.from_fields` takes a stored item's fields by name as its own attributes."""
    from schema.discovery import Evidence

    assert {f.name for f in fields(Evidence)} == {f.name for f in fields(discovery.Evidence)}
