"""`timeline` carries every kind of event in a child's file, interval records as their start
and end, through the API against the shared two-township world."""

from __future__ import annotations

import datetime as dt

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.conftest import COUNTY

TIMELINE = "query($child: ID!) { timeline(childId: $child) { kind on subjectId value detail } }"


async def _events(gql: GraphQLClient, child: str) -> list[tuple[str, str, str, str | None]]:
    body = await gql.execute(TIMELINE, {"child": child}, role="coordinator", region=COUNTY)
    assert "errors" not in body, body
    rows: list[dict[str, str]] = body["data"]["timeline"]
    return [(row["kind"], row["on"], row["subjectId"], row["value"]) for row in rows]


async def test_the_timeline_carries_every_kind_of_event(world: Graph, gql: GraphQLClient) -> None:
    await factories.condition(world, "C1", "severe_disability", dt.date(2025, 6, 1))
    events = await _events(gql, "C1")
    expected = [
        ("away_started", "2023-01-01", "M1", "浙江义乌"),  # a parent's away episode, begun and ended
        ("away_ended", "2025-12-31", "M1", "浙江义乌"),
        ("away_started", "2024-02-01", "F1", "广东东莞"),
        ("condition_started", "2026-01-01", "M1", "serious_illness"),  # a parent's condition
        ("condition_started", "2025-06-01", "C1", "severe_disability"),  # the child's own
        ("registered", "2024-03-01", "C1", "left_behind"),
        ("enrolled", "2021-09-01", "I2", "5"),
        ("paired", "2025-01-01", "S1", None),
        ("visit", "2026-05-20", "S1", "home_visit"),
        ("contact", "2026-06-01", "F1", "video"),
        ("care_started", "2024-02-01", "G1", None),
        ("guardian_set", "2015-03-01", "F1", "parent"),
    ]
    for event in expected:
        assert event in events, event
    assert events == sorted(events, key=lambda e: e[1])  # in time order
    # C2's placement in the county centre, as its start.
    assert ("placed", "2026-04-01", "I1", None) in await _events(gql, "C2")


CONDITIONS = """
query($asOf: Date) {
  child(id: "C1") {
    now: conditions(asOf: $asOf) { type since until }
    all: conditions(includeHistory: true) { type }
  }
}"""


async def test_a_childs_own_conditions_read_back(world: Graph, gql: GraphQLClient) -> None:
    """The child's severe disability (recorded in the test above, kept in the module's world)
    reads back on the child; a parent's condition stays the parent's."""
    body = await gql.execute(CONDITIONS, {"asOf": "2025-07-01"}, role="coordinator", region=COUNTY)
    assert "errors" not in body, body
    child: dict[str, list[dict[str, str | None]]] = body["data"]["child"]
    assert child["now"] == [{"type": "severe_disability", "since": "2025-06-01", "until": None}]
    before = await gql.execute(CONDITIONS, {"asOf": "2025-05-31"}, role="coordinator", region=COUNTY)
    assert before["data"]["child"]["now"] == []
    assert child["all"] == [{"type": "severe_disability"}]
