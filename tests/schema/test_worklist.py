"""The worklist, owned alerts and discovery kept current by writes, through the API with each
role's token against the real database.

A village V1 with its director, the township's supervisor and case worker, the county's
coordinator; in V1 a red child (both parents away, nobody caring), a yellow child (last home
visit 100 days ago) and the caregiver's children for overload; in V2, the next village of the
township, a red child the director must never see."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from graph import scheduler
from graph.discovery import Thresholds
from graph.driver import Graph
from graph.risk import AlertPolicy
from schema.alerts import AlertHub
from tests import factories as f
from tests.conftest import GraphQLClient
from tests.schema.conftest import capture_state
from tests.schema.test_scoping import codes, data

V1 = "360732100201"
V2 = "360732100202"
TOWNSHIP = "360732100000"
COUNTY = "360732000000"


def today() -> dt.date:
    """What re-evaluation after a write judges as of: asked at each use, never at import, so a
    suite that runs across midnight in Shanghai (16:00 UTC) builds and checks the day the
    server judges, not the day the module was collected."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


AGO = dt.timedelta(days=1)

WORKLIST = """query($asOf: Date, $first: Int, $after: String) {
  worklist(asOf: $asOf, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      child { id name } level action actionText dueOn since reasons
      steps { action rule level reason clears dueOn alert { id ownerId: owner { id } } }
    } }
  }
}"""
ALERTS = """query($region: String!, $status: String) {
  alerts(region: $region, status: $status) {
    id childId rule level status dueOn tier overdue owner { id name } escalatedTo { id name }
    history { change to note by }
  }
}"""
SWEEP = """mutation($asOf: Date) { sweep(region: "360732000000", asOf: $asOf) { raised resolved } }"""
VISIT = (
    """mutation($child: ID!) { recordVisit(input: {childId: $child, type: "home_visit", notes: "入户看望"}) { on } }"""
)
PROFILE = """query($id: ID!) { riskProfile(childId: $id) { level findings { rule level } } }"""
REASSIGN = """mutation($id: ID!, $owner: ID!, $note: String!) {
  reassignAlert(alertId: $id, ownerId: $owner, note: $note) { owner { id } history { change to note by } }
}"""
ACK = """mutation($id: ID!) { acknowledgeAlert(alertId: $id, note: "已知悉，今天上门") { status } }"""
CARE = """mutation($caregiver: ID!, $child: ID!, $since: Date!) {
  recordCare(input: {caregiverId: $caregiver, childId: $child, since: $since, agreementSignedOn: $since}) { since }
}"""
AWAY = """mutation($input: AwayInput!) { recordAway(input: $input) { since } }"""
COVERAGE = """query($region: String!, $month: String!) {
  visitCoverage(region: $region, month: $month) {
    village children planned visited cadences { cadence planned visited }
  }
}"""


async def build(g: Graph) -> None:
    for code in (V1, V2):
        await f.region_tree(g, code)
    await f.person(g, "D1", dt.date(1980, 1, 1), name="周主任")
    await f.person(g, "SUP", dt.date(1978, 1, 1), name="吴督导")
    await f.person(g, "CW", dt.date(1990, 1, 1), name="郑社工")
    await f.person(g, "CO", dt.date(1975, 1, 1), name="王协调")
    await f.staff(g, "D1", "children_director", dt.date(2020, 1, 1), region=V1)
    await f.staff(g, "SUP", "children_supervisor", dt.date(2020, 1, 1), region=TOWNSHIP)
    await f.staff(g, "CW", "case_worker", dt.date(2020, 1, 1), region=TOWNSHIP)
    await f.staff(g, "CO", "coordinator", dt.date(2020, 1, 1), region=COUNTY)
    await f.household(g, "H1", V1)
    await f.household(g, "H2", V1)
    await f.household(g, "H3", V2)
    # R1: both parents away, nobody caring for her: NO_CAREGIVER, red.
    await f.person(g, "R1", today().replace(year=today().year - 9), household="H1", name="李红")
    for parent in ("RF", "RM"):
        await f.person(g, parent, dt.date(1988, 1, 1), household="H1")
        await f.parent(g, parent, "R1")
        await f.away(g, parent, dt.date(2024, 3, 1))
    # Y1: three years old, father away, cared for under a signed agreement, paired, registered, in
    # touch yesterday; last home visit 100 days ago: VISIT_OVERDUE, yellow, and nothing else.
    await f.person(g, "Y1", today().replace(year=today().year - 3), household="H2", name="张黄")
    await f.person(g, "YF", dt.date(1990, 1, 1), household="H2")
    await f.person(g, "G1", dt.date(1965, 1, 1), household="H2", name="张奶奶")
    await f.parent(g, "YF", "Y1")
    await f.away(g, "YF", dt.date(2024, 1, 1))
    await f.care(g, "G1", "Y1", dt.date(2024, 1, 1), agreement_signed_on=dt.date(2024, 1, 1))
    await f.registration(g, "Y1", "left_behind", dt.date(2024, 2, 1))
    await f.pairing(g, "D1", "Y1", dt.date(2024, 2, 1))
    await f.contact(g, "YF", "Y1", today() - AGO)
    await f.visit(g, "D1", "Y1", today() - 100 * AGO)
    # G1 also cares for K1 and K2, green infants visited today; caring for K3 too overloads her.
    for kid in ("K1", "K2", "K3"):
        await f.person(g, kid, today().replace(year=today().year - 2), household="H2")
        await f.visit(g, "D1", kid, today())
    for kid in ("K1", "K2"):
        await f.care(g, "G1", kid, dt.date(2024, 1, 1), agreement_signed_on=dt.date(2024, 1, 1))
    # N1: green, her mother at home; recording the mother away leaves her with nobody caring.
    await f.person(g, "N1", today().replace(year=today().year - 5), household="H1", name="陈绿")
    await f.person(g, "NM", dt.date(1992, 1, 1), household="H1")
    await f.parent(g, "NM", "N1")
    # O1, the next village's: red like R1, outside the director's scope.
    await f.person(g, "O1", today().replace(year=today().year - 8), household="H3", name="外村")
    await f.person(g, "OF", dt.date(1988, 1, 1), household="H3")
    await f.parent(g, "OF", "O1")
    await f.away(g, "OF", dt.date(2024, 3, 1))


@pytest.fixture
async def village(clean_graph: Graph) -> Graph:
    await build(clean_graph)
    return clean_graph


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in data(body)["worklist"]["edges"]]


async def _alerts(gql: GraphQLClient, where: str, status: str | None = None, **token: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = data(await gql.execute(ALERTS, {"region": where, "status": status}, **token))[
        "alerts"
    ]
    return found


async def test_a_director_sees_her_red_and_yellow_children_and_her_visit_closes_the_finding_at_once(
    village: Graph, gql: GraphQLClient
) -> None:
    director = {"role": "children_director", "region": V1, "sub": "D1"}
    data(await gql.execute(SWEEP, {"asOf": today().isoformat()}, role="coordinator", region=COUNTY, sub="CO"))

    items = _items(await gql.execute(WORKLIST, {}, **director))
    assert [(i["child"]["id"], i["level"]) for i in items][:2] == [("R1", "RED"), ("Y1", "YELLOW")]
    assert "O1" not in {i["child"]["id"] for i in items}
    red, yellow = items[0], items[1]
    assert red["action"] == "ARRANGE_CARE" and red["dueOn"] == (today() + AGO).isoformat()
    assert any("外出" in reason and "照护人" in reason for reason in red["reasons"])
    assert yellow["action"] == "VISIT" and yellow["dueOn"] == (today() + 7 * AGO).isoformat()
    last = today() - 100 * AGO
    assert yellow["reasons"] == [f"最近一次入户走访在{last.year}年{last.month}月{last.day}日，已100天"]
    assert yellow["steps"][0]["alert"]["ownerId"] == {"id": "D1"}

    mine = await _alerts(gql, V1, "open", **director)
    visit_alert = next(a for a in mine if (a["childId"], a["rule"]) == ("Y1", "VISIT_OVERDUE"))
    assert visit_alert["owner"] == {"id": "D1", "name": "周主任"} and visit_alert["tier"] == 0
    assert {a["childId"] for a in mine} >= {"R1", "Y1"} and "O1" not in {a["childId"] for a in mine}

    data(await gql.execute(VISIT, {"child": "Y1"}, **director))

    profile = data(await gql.execute(PROFILE, {"id": "Y1"}, **director))["riskProfile"]
    assert profile == {"level": "GREEN", "findings": []}
    after = {a["id"]: a for a in await _alerts(gql, V1, None, **director)}
    assert after[visit_alert["id"]]["status"] == "resolved"
    assert after[visit_alert["id"]]["history"][-1]["by"] == "D1"
    assert "Y1" not in {i["child"]["id"] for i in _items(await gql.execute(WORKLIST, {}, **director))}
    stored = await village.read(
        "MATCH (k:ChildRisk {childId: 'Y1'})-[:RISK_OF]->(:Person {id: 'Y1'}) RETURN k.level AS level, k.rules AS rules"
    )
    assert [(r["level"], r["rules"]) for r in stored] == [("green", [])]

    # The director acknowledges her village's alert, never the next village's.
    red_alert = next(a for a in mine if a["childId"] == "R1" and a["rule"] == "NO_CAREGIVER")
    assert data(await gql.execute(ACK, {"id": red_alert["id"]}, **director))["acknowledgeAlert"]["status"] == (
        "acknowledged"
    )
    elsewhere = await _alerts(gql, V2, "open", role="children_supervisor", region=TOWNSHIP, sub="SUP")
    assert elsewhere and codes(await gql.execute(ACK, {"id": elsewhere[0]["id"]}, **director)) == ["FORBIDDEN"]


async def test_an_overdue_red_alert_goes_up_to_the_supervisor_then_the_county_and_is_reassigned_with_a_note(
    village: Graph, gql: GraphQLClient
) -> None:
    coordinator = {"role": "coordinator", "region": COUNTY, "sub": "CO"}
    supervisor = {"role": "children_supervisor", "region": TOWNSHIP, "sub": "SUP"}
    data(await gql.execute(SWEEP, {"asOf": today().isoformat()}, **coordinator))
    (red,) = [a for a in await _alerts(gql, V1, **supervisor) if a["childId"] == "R1" and a["rule"] == "NO_CAREGIVER"]
    assert red["dueOn"] == (today() + AGO).isoformat() and red["escalatedTo"] is None

    data(await gql.execute(SWEEP, {"asOf": (today() + 2 * AGO).isoformat()}, **coordinator))
    (up,) = [a for a in await _alerts(gql, V1, **supervisor) if a["id"] == red["id"]]
    assert up["tier"] == 1 and up["escalatedTo"] == {"id": "SUP", "name": "吴督导"}
    assert up["dueOn"] == (today() + 3 * AGO).isoformat() and up["owner"]["id"] == "D1"
    assert [h["to"] for h in up["history"] if h["change"] == "overdue"] == ["SUP"]

    data(await gql.execute(SWEEP, {"asOf": (today() + 4 * AGO).isoformat()}, **coordinator))
    (county,) = [a for a in await _alerts(gql, V1, **supervisor) if a["id"] == red["id"]]
    assert county["tier"] == 2 and county["escalatedTo"]["id"] == "CO"
    assert [h["to"] for h in county["history"] if h["change"] == "overdue"] == ["SUP", "CO"]

    note = "由社工跟进紧急安置"
    moved = data(await gql.execute(REASSIGN, {"id": red["id"], "owner": "CW", "note": note}, **supervisor))
    assert moved["reassignAlert"]["owner"] == {"id": "CW"}
    assert moved["reassignAlert"]["history"][-1] == {"change": "reassigned", "to": "CW", "note": note, "by": "SUP"}
    director = {"role": "children_director", "region": V1, "sub": "D1"}
    assert codes(await gql.execute(REASSIGN, {"id": red["id"], "owner": "D1", "note": "x"}, **director)) == [
        "FORBIDDEN"
    ]
    assert codes(await gql.execute(REASSIGN, {"id": red["id"], "owner": "Y1", "note": "x"}, **supervisor)) == [
        "BAD_USER_INPUT"
    ]
    assert codes(await gql.execute(REASSIGN, {"id": red["id"], "owner": "CW", "note": " "}, **supervisor)) == [
        "BAD_USER_INPUT"
    ]


async def test_a_fourth_child_in_care_overloads_the_caregiver_for_all_four_without_a_sweep(
    village: Graph, gql: GraphQLClient
) -> None:
    worker = {"role": "case_worker", "region": TOWNSHIP, "sub": "CW"}
    data(await gql.execute(CARE, {"caregiver": "G1", "child": "K3", "since": today().isoformat()}, **worker))
    overload = [a for a in await _alerts(gql, V1, "open", **worker) if a["rule"] == "CAREGIVER_OVERLOAD"]
    assert sorted(a["childId"] for a in overload) == ["K1", "K2", "K3", "Y1"]
    assert all(a["owner"]["id"] == "D1" and a["dueOn"] == (today() + 30 * AGO).isoformat() for a in overload)
    supervisor = _items(await gql.execute(WORKLIST, {}, role="children_supervisor", region=TOWNSHIP, sub="SUP"))
    assert {"K3", "O1", "R1"} <= {i["child"]["id"] for i in supervisor}


async def test_a_write_that_turns_a_child_red_pushes_her_alert_to_live_subscribers(
    village: Graph, app: Any, gql: GraphQLClient
) -> None:
    director = {"role": "children_director", "region": V1, "sub": "D1"}
    hub: AlertHub = (await capture_state(app))["alert_hub"]
    async with hub.listen() as queue:
        away = {"personId": "NM", "since": today().isoformat(), "destination": "浙江义乌"}
        data(await gql.execute(AWAY, {"input": away}, **director))
        pushed = [queue.get_nowait() for _ in range(queue.qsize())]
    # Nothing but the alert: no word of the database coming or going (a bool) either.
    assert [(a.child_id, a.rule, a.owner_id) for a in pushed if not isinstance(a, bool)] == [
        ("N1", "NO_CAREGIVER", "D1")
    ]
    assert len(pushed) == 1
    items = {i["child"]["id"]: i for i in _items(await gql.execute(WORKLIST, {}, **director))}
    assert items["N1"]["level"] == "RED" and items["N1"]["action"] == "ARRANGE_CARE"


async def test_the_worklist_pages_in_order_and_coverage_counts_planned_visits(
    village: Graph, gql: GraphQLClient
) -> None:
    supervisor = {"role": "children_supervisor", "region": TOWNSHIP, "sub": "SUP"}
    whole = _items(await gql.execute(WORKLIST, {"first": 50}, **supervisor))
    keys = [(["RED", "YELLOW", "BLUE", "GREEN"].index(i["level"]), i["dueOn"], i["child"]["id"]) for i in whole]
    assert keys == sorted(keys) and len(whole) >= 3
    first = data(await gql.execute(WORKLIST, {"first": 2}, **supervisor))["worklist"]
    rest = data(await gql.execute(WORKLIST, {"first": 50, "after": first["pageInfo"]["endCursor"]}, **supervisor))[
        "worklist"
    ]
    paged = [e["node"]["child"]["id"] for e in first["edges"] + rest["edges"]]
    assert paged == [i["child"]["id"] for i in whole] and first["totalCount"] == len(whole)

    month = today().strftime("%Y-%m")
    coverage = data(await gql.execute(COVERAGE, {"region": TOWNSHIP, "month": month}, **supervisor))["visitCoverage"]
    by_village = {v["village"]: v for v in coverage}
    v1 = by_village[V1]
    # R1 (red, monthly) and Y1 (yellow, monthly) unvisited this month; K1..K3 green, visited
    # today; N1 green, never visited.
    monthly = next(c for c in v1["cadences"] if c["cadence"] == "monthly")
    assert monthly == {"cadence": "monthly", "planned": 2, "visited": 0}
    assert v1["children"] == 6 and v1["visited"] == 3
    director = {"role": "children_director", "region": V1, "sub": "D1"}
    mine = data(await gql.execute(COVERAGE, {"region": TOWNSHIP, "month": month}, **director))["visitCoverage"]
    assert [v["village"] for v in mine] == [V1]
    assert codes(await gql.execute(COVERAGE, {"region": V1, "month": "2026-13"}, **director)) == ["BAD_USER_INPUT"]
    assert codes(await gql.execute(WORKLIST, {}, role="integrator", region=COUNTY)) == ["FORBIDDEN"]


async def test_two_replicas_claim_the_daily_sweep_once(clean_graph: Graph) -> None:
    await build(clean_graph)
    one = scheduler.DailySweep(clean_graph, Thresholds(), AlertPolicy(), at=dt.time(0, 0), holder="a")
    two = scheduler.DailySweep(clean_graph, Thresholds(), AlertPolicy(), at=dt.time(0, 0), holder="b")
    first, second = await one.run_once(), await two.run_once()
    assert first is not None and second is None and first.raised
    rows = await clean_graph.read("MATCH (s:DailySweep) RETURN s.state AS state, s.holder AS holder")
    assert [(r["state"], r["holder"]) for r in rows] == [("done", "a")]
