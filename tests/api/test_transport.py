"""The transport: body limits before parsing, the rate per caller, request ids, errors in the
GraphQL shape for what strawberry would answer in plain text, field suggestions off in
production; and over a real server, subscriptions that end with their token and logs that
never carry what a request carried."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import websockets
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from graph.driver import Graph
from schema.schema import build_schema
from tests.conftest import make_token
from tests.live import LiveServer

SEARCH = "query Lookup($name: String, $id: String) { searchPersons(name: $name, idNumber: $id) { id } }"


def _bearer(settings: Settings, role: str = "admin", **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(settings, role, **claims)}"}


async def test_a_body_over_the_import_limit_is_refused_before_it_is_parsed(client: Any, settings: Settings) -> None:
    # Not even JSON: were it parsed, it would be a 400 for that.
    junk = b"x" * (settings.limits.max_import_body_bytes + 1)
    response = await client.post("/graphql", content=junk, headers=_bearer(settings))
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED"}


async def test_only_an_import_may_be_larger_than_an_ordinary_body(client: Any, settings: Settings) -> None:
    big = "省" * (settings.limits.max_body_bytes // 2)
    request = {"query": SEARCH, "variables": {"name": big}}
    ordinary = await client.post("/graphql", json=request, headers=_bearer(settings))
    assert ordinary.status_code == 413
    assert ordinary.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED"}
    # A bundle near its own limit, escaped as JSON (\\uXXXX doubles it), still reaches the importer;
    # its one line is invalid, so all-or-nothing writes nothing.
    name = "省" * (settings.limits.max_bundle_bytes // 4)
    line = json.dumps({"kind": "region", "code": "bad", "name": name}, ensure_ascii=False)
    mutation = "mutation Load($b: String!) { importBundle(ndjson: $b) { ok written rejected { line field } } }"
    body = json.dumps({"query": mutation, "variables": {"b": line}}, ensure_ascii=True).encode()
    assert settings.limits.max_body_bytes < len(body) <= settings.limits.max_import_body_bytes
    response = await client.post(
        "/graphql", content=body, headers={**_bearer(settings), "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    report = response.json()["data"]["importBundle"]
    assert report["ok"] is False and report["written"] == 0 and report["rejected"][0]["line"] == 1
    # Anything else beside the import in the same large body is refused.
    sneaky = mutation.replace("{ ok", "{ ok } searchPersons(name: $b) { id", 1)
    body = json.dumps({"query": sneaky, "variables": {"b": line}}).encode()
    response = await client.post(
        "/graphql", content=body, headers={**_bearer(settings), "Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.fixture
async def strict_client(settings: Settings, graph: Graph) -> AsyncIterator[httpx.AsyncClient]:
    """An app allowing each caller three requests a minute."""
    strict = dataclasses.replace(settings, limits=dataclasses.replace(settings.limits, rate_limit="3/minute"))
    async with LifespanManager(create_app(strict)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shouhu.test") as http:
            yield http


async def test_a_caller_over_its_rate_gets_429_with_retry_after(
    strict_client: httpx.AsyncClient, settings: Settings
) -> None:
    query = {"query": "{ __typename }"}
    director = _bearer(settings, "children_director", region="360732100201", sub="D1")
    statuses = [(await strict_client.post("/graphql", json=query, headers=director)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = await strict_client.post("/graphql", json=query, headers=director)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # The allowance is the subject's in a role: another subject, or the same one in another role, has its own.
    other = _bearer(settings, "children_director", region="360732100201", sub="D2")
    assert (await strict_client.post("/graphql", json=query, headers=other)).status_code == 200
    supervisor = _bearer(settings, "children_supervisor", region="360732100000", sub="D1")
    assert (await strict_client.post("/graphql", json=query, headers=supervisor)).status_code == 200


async def test_a_region_claim_of_fullwidth_digits_is_refused(client: Any, settings: Settings) -> None:
    forged = jwt.encode(
        {"sub": "x", "role": "coordinator", "region": "４３０５２４００００００", "exp": int(time.time()) + 60},
        settings.jwt_secret or "",
    )
    headers = {"Authorization": f"Bearer {forged}"}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_a_subscription_over_http_is_bad_user_input(client: Any, settings: Settings) -> None:
    subscription = {"query": 'subscription { alertRaised(region: "360732000000") { childId } }'}
    response = await client.post("/graphql", json=subscription, headers=_bearer(settings))
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSocket" in error["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json", 400), (b'{"query": "query A { __typename }", "operationName": "B"}', 400), (b"{}", 400)],
)
async def test_an_unreadable_request_gets_a_graphql_shaped_error(
    client: Any, settings: Settings, body: bytes, status: int
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={**_bearer(settings), "Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


async def test_the_request_id_is_the_clients_when_it_is_a_plain_token(client: Any, settings: Settings) -> None:
    query = {"query": "{ __typename }"}
    kept = await client.post("/graphql", json=query, headers={**_bearer(settings), "X-Request-Id": "field-42.a"})
    assert kept.headers["X-Request-Id"] == "field-42.a"
    replaced = await client.post("/graphql", json=query, headers={**_bearer(settings), "X-Request-Id": "a b\nc"})
    assert replaced.headers["X-Request-Id"] not in ("a b\nc", "") and len(replaced.headers["X-Request-Id"]) == 32


async def test_no_operation_runs_from_a_url(client: Any, settings: Settings) -> None:
    # Its variables would be in every proxy's log and the browser's history.
    response = await client.get("/graphql", params={"query": "{ __typename }"}, headers=_bearer(settings))
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


def test_field_suggestions_are_off_in_production() -> None:
    typo = '{ chlid(id: "C1") { id } }'
    development = build_schema(production=False).execute_sync(typo)
    assert development.errors and "Did you mean" in development.errors[0].message
    production = build_schema(production=True).execute_sync(typo)
    assert production.errors and "Did you mean" not in production.errors[0].message
    assert "child" not in production.errors[0].message


async def test_the_ide_page_holds_no_secret_and_no_schema(client: Any, settings: Settings) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert settings.jwt_secret is not None and settings.jwt_secret not in page.text
    # The schema is only what the page fetches with the user's token: none of its types is in it.
    assert "RiskProfile" not in page.text and "idNumber" not in page.text


# --- over a real server ------------------------------------------------------------------


async def _answer(socket: websockets.ClientConnection, id: str) -> list[dict[str, Any]]:
    """The errors of the first result or error message of operation `id`."""
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if message.get("id") == id and message["type"] in ("next", "error"):
            payload = message["payload"]
            errors: list[dict[str, Any]] = payload if message["type"] == "error" else payload["errors"]
            return errors


async def _open(live: LiveServer, token: str) -> websockets.ClientConnection:
    socket = await websockets.connect(live.websocket, subprotocols=[websockets.Subprotocol("graphql-transport-ws")])
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    return socket


async def test_a_subscription_ends_when_its_token_expires(live: LiveServer, settings: Settings) -> None:
    subscription = 'subscription { alertRaised(region: "360732000000") { childId } }'
    short = await _open(live, make_token(settings, "coordinator", region="360732000000", ttl=2))
    steady = await _open(live, make_token(settings, "coordinator", region="360732000000", ttl=600))
    try:
        for socket in (short, steady):
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(short.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        # The other socket, whose token holds, is still open and answers.
        await steady.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(steady.recv(), 5))["type"] == "pong"
    finally:
        await short.close()
        await steady.close()


async def test_websocket_errors_carry_their_code_and_a_bad_token_closes(live: LiveServer, settings: Settings) -> None:
    socket = await _open(live, make_token(settings, "coordinator", region="360732000000"))
    try:
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        bad = 'subscription { alertRaised(region: "36073") { childId } }'
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": bad}}))
        assert [e["extensions"]["code"] for e in await _answer(socket, "1")] == ["BAD_USER_INPUT"]
        # A query over the socket, and a document that fails validation, alike.
        query = 'query { region(code: "３６０７３２００００００") { code } }'
        await socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": query}}))
        assert [e["extensions"]["code"] for e in await _answer(socket, "2")] == ["BAD_USER_INPUT"]
        await socket.send(json.dumps({"id": "3", "type": "subscribe", "payload": {"query": "{ regio { code } }"}}))
        assert [e["extensions"]["code"] for e in await _answer(socket, "3")] == ["BAD_USER_INPUT"]
    finally:
        await socket.close()
    forged = await _open(live, make_token(settings, "admin")[:-4] + "AAAA")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(forged.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


#: What must never reach a log: a child's name, an ID number, a phone number and a note.
NAME = "欧阳晓梅"
ID_NUMBER = "43052420150301002X"
PHONE = "13912345678"
NOTE = "父亲酗酒后殴打"


async def test_the_log_carries_who_what_and_how_long_but_no_value_of_the_request(
    live: LiveServer, settings: Settings
) -> None:
    headers = {**_bearer(settings, "case_worker", region="360732100000", sub="W7"), "X-Request-Id": "hygiene-1"}
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        searched = await http.post(
            "/graphql", json={"query": SEARCH, "variables": {"name": NAME, "id": ID_NUMBER}}, headers=headers
        )
        assert searched.status_code == 200
        # Each of these fails, and its error message may quote what it was given.
        failing: list[dict[str, Any]] = [
            {"query": f'{{ region(code: "{ID_NUMBER}") {{ code }} }}'},
            {"query": f'{{ searchPersons(name: "{NAME}", birthDate: "{PHONE}") {{ id }} }}'},
            {
                "query": "mutation Visit($v: VisitInput!) { recordVisit(input: $v) { id } }",
                "variables": {"v": {"childId": ID_NUMBER, "type": "home_visit", "notes": NOTE, "on": "0001-01-01"}},
            },
            {
                "query": "mutation Report($r: ReportInput!) { reportConcern(input: $r) { id } }",
                "variables": {
                    "r": {
                        "childId": "P-nowhere",
                        "reporterRole": "teacher",
                        "category": "abuse",
                        "urgency": "immediate",
                        "description": f"{NAME} {NOTE} {PHONE}",
                    }
                },
            },
            {"query": f'{{ child(id: "{NAME}") {{ name idNumber phone }} }}', "variables": {"unused": ID_NUMBER}},
        ]
        for request in failing:
            await http.post("/graphql", json=request, headers=headers)
        await http.get("/graphql", params={"query": SEARCH, "variables": json.dumps({"name": NAME})}, headers=headers)
    await asyncio.sleep(0.5)
    text = live.log_text()
    for secret in (NAME, ID_NUMBER, PHONE, NOTE, json.dumps(NAME)[1:-1], json.dumps(NOTE)[1:-1]):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "hygiene-1" and line["logger"] == "shouhu.request"]
    assert len(mine) == 2 + len(failing)
    first = mine[0]
    assert (first["sub"], first["role"], first["status"]) == ("W7", "case_worker", 200)
    assert first["operations"] == [{"name": "Lookup", "type": "query", "fields": ["searchPersons"]}]
    assert isinstance(first["duration_ms"], float)
    assert any("BAD_USER_INPUT" in line["error_codes"] for line in mine)
