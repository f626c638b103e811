"""GET /metrics: what a request leaves there (latency by operation, errors by code, Cypher time,
pool use), who may read it, and the request id on every log line written while serving."""

from __future__ import annotations

import logging

import httpx
from starlette.types import ASGIApp

from api.logs import REQUEST_ID, JsonFormatter
from api.settings import Settings
from graph.driver import Graph
from tests import faults
from tests.conftest import GraphQLClient, make_token
from tests.schema import casework


def _client(app: ASGIApp, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 5000)), base_url="http://shouhu.test")


async def test_a_request_is_counted_by_operation_and_error_code(app: ASGIApp, gql: GraphQLClient) -> None:
    assert "errors" not in await gql.execute("query Mine { me { sub } }")
    refused = await gql.execute('{ region(code: "not-a-code") { code } }')
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    async with _client(app, "127.0.0.1") as http:
        text = (await http.get("/metrics")).text
    # Labelled by type and root fields, not by the client's operation name.
    assert 'shouhu_request_seconds_count{operation="query:me"}' in text
    assert "Mine" not in text
    assert 'shouhu_errors_total{code="BAD_USER_INPUT"}' in text
    assert 'shouhu_cypher_seconds_count{outcome="ok"}' in text
    assert "shouhu_neo4j_pool_in_use" in text and "shouhu_requests_in_flight 0.0" in text
    assert "shouhu_database_reachable 1.0" in text


async def test_only_loopback_reads_the_metrics_unless_told_otherwise(app: ASGIApp, settings: Settings) -> None:
    async with _client(app, "127.0.0.1") as local, _client(app, "10.1.2.3") as remote:
        assert (await local.get("/metrics")).status_code == 200
        assert (await remote.get("/metrics")).status_code == 404
        # A proxy on this machine forwards everyone's requests from loopback: not published through it.
        assert (await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status_code == 404
    for mode, status in (("on", 200), ("off", 404)):
        async with faults.serving(settings, metrics=mode) as gql, _client(gql.app, "10.1.2.3") as remote:
            assert (await remote.get("/metrics")).status_code == status


async def test_the_sweep_results_are_counted(clean_graph: Graph, settings: Settings) -> None:
    await casework.build(clean_graph)
    async with faults.serving(settings) as gql:
        token = make_token(settings, "coordinator", region=casework.COUNTY)
        body = await gql.execute(f'mutation {{ sweep(region: "{casework.COUNTY}") {{ id raised }} }}', token=token)
        assert "errors" not in body, body
        raised = len(body["data"]["sweep"]["raised"])
        text = (await gql.http.get("/metrics")).text
    assert 'shouhu_alert_sweeps_total{outcome="ok"} 1.0' in text
    assert raised > 0
    assert f'shouhu_alert_sweep_changes_total{{change="raised"}} {float(raised)}' in text


def test_every_line_written_while_serving_carries_the_request_id() -> None:
    record = logging.LogRecord("shouhu.risk", logging.WARNING, __file__, 1, "re-evaluation failed", None, None)
    token = REQUEST_ID.set("field-7")
    try:
        assert '"request_id":"field-7"' in JsonFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    assert "request_id" not in JsonFormatter().format(record)
