"""Alerts over GraphQL on the sample county: a coordinator's sweep, acknowledging, the changes
since the last sweep, and red alerts pushed live over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from api.settings import Settings
from graph.driver import Graph
from tests.conftest import SAMPLE_AS_OF, SAMPLE_COUNTY, SAMPLE_EXPECTED, GraphQLClient, make_token
from tests.data.make_county import TOWNSHIPS
from tests.faults import Socket
from tests.schema.test_scoping import codes, data

COUNTY = SAMPLE_COUNTY
SWEEP = f"""mutation {{ sweep(region: "{COUNTY}", asOf: "{SAMPLE_AS_OF}") {{ id raised escalated resolved }} }}"""
ALERTS = (
    f"""query($status: String) {{ alerts(region: "{COUNTY}", status: $status) {{ id childId rule level status }} }}"""
)
CHANGES = f"""{{ alertChanges(region: "{COUNTY}") {{ sweepId changes {{ change childId rule level }} }} }}"""
#: The alerts, changes and sweeps the tests here make; the sample county itself has none.
CLEAR_ALERTS = "MATCH (n) WHERE n:Alert OR n:AlertChange OR n:Sweep DETACH DELETE n"
ACK = """mutation($id: ID!, $note: String!) {
  acknowledgeAlert(alertId: $id, note: $note) { status history { change note by } }
}"""


@pytest.mark.slow
async def test_a_coordinators_sweep_raises_every_finding_once_and_workers_acknowledge(
    sample_county: Graph, gql: GraphQLClient
) -> None:
    await sample_county.write(CLEAR_ALERTS)
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    findings = sorted((cid, rule) for cid, v in expected.items() for rule in v["findings"])

    assert codes(await gql.execute(SWEEP, role="case_worker", region=COUNTY)) == ["FORBIDDEN"]
    swept = data(await gql.execute(SWEEP, role="coordinator", region=COUNTY))["sweep"]
    assert len(swept["raised"]) == len(findings) and swept["escalated"] == swept["resolved"] == []
    listed = data(await gql.execute(ALERTS, {"status": "open"}, role="case_worker", region=COUNTY))["alerts"]
    assert sorted((a["childId"], a["rule"]) for a in listed) == findings
    assert all(a["level"].lower() == expected[a["childId"]]["findings"][a["rule"]] for a in listed)
    changes = data(await gql.execute(CHANGES, role="case_worker", region=COUNTY))["alertChanges"]
    assert changes["sweepId"] == swept["id"] and len(changes["changes"]) == len(findings)

    again = data(await gql.execute(SWEEP, role="coordinator", region=COUNTY))["sweep"]
    assert again["raised"] == again["escalated"] == again["resolved"] == []
    assert data(await gql.execute(CHANGES, role="admin"))["alertChanges"]["changes"] == []

    first = listed[0]["id"]
    acknowledged = data(
        await gql.execute(ACK, {"id": first, "note": "visited today"}, role="case_worker", region=COUNTY, sub="w1")
    )["acknowledgeAlert"]
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["history"][-1] == {"change": "acknowledged", "note": "visited today", "by": "w1"}
    assert codes(await gql.execute(ACK, {"id": first, "note": "again"}, role="case_worker", region=COUNTY)) == [
        "CONFLICT"
    ]
    assert codes(await gql.execute(ACK, {"id": listed[1]["id"], "note": ""}, role="coordinator", region=COUNTY)) == [
        "BAD_USER_INPUT"
    ]
    elsewhere = await gql.execute(ALERTS, {"status": None}, role="case_worker", region=TOWNSHIPS[1])
    assert {a["childId"] for a in data(elsewhere)["alerts"]} < {a["childId"] for a in listed}


async def test_alert_raised_pushes_red_alerts_in_scope_live(
    sample_county: Graph, app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    await sample_county.write(CLEAR_ALERTS)
    socket = Socket(app)
    try:
        await socket.open()
        token = make_token(settings, "case_worker", region=COUNTY)
        await socket.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await socket.receive())["type"] == "connection_ack"
        query = f'subscription {{ alertRaised(region: "{COUNTY}") {{ childId rule level status }} }}'
        await socket.send({"id": "1", "type": "subscribe", "payload": {"query": query}})
        await asyncio.sleep(0.5)  # the subscription registers with the hub

        await gql.execute(SWEEP, role="coordinator", region=COUNTY)
        pushed = await socket.receive()
        assert pushed["type"] == "next" and pushed["id"] == "1", pushed
        alert = pushed["payload"]["data"]["alertRaised"]
        assert alert["level"] == "RED" and alert["status"] == "open"
        await socket.send({"id": "1", "type": "complete"})
    finally:
        await socket.close()
        await sample_county.write(CLEAR_ALERTS)
