"""The audit of a full-record read is committed before its response leaves, and a failed audit
write fails the request with a code and no data: never a response whose read went unrecorded.
Requests running at once share their audit transactions, and each still waits for its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings
from graph import audit
from graph.driver import Graph
from graph.errors import DatabaseUnavailable
from tests.conftest import make_token
from tests.schema.conftest import V1

FILE = '{ child(id: "C1") { idNumber guardians { id } } }'
EVENTS = "MATCH (e:AuditEvent {sub: $sub, operation: 'read:child'}) RETURN e.ids AS ids"


class Witness:
    """The order in which the audit committed and the response started, as the server saw them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append("response")
            await send(message)

        await self.app(scope, receive, watched)


@pytest.fixture
async def witnessed(app: ASGIApp) -> AsyncIterator[tuple[Witness, httpx.AsyncClient]]:
    witness = Witness(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=witness), base_url="http://shouhu.test") as http:
        yield witness, http


async def _read_file(http: httpx.AsyncClient, settings: Settings, sub: str) -> dict[str, Any]:
    token = make_token(settings, "children_director", region=V1, sub=sub)
    response = await http.post("/graphql", json={"query": FILE}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_the_event_is_committed_before_the_response_starts(
    world: Graph,
    settings: Settings,
    witnessed: tuple[Witness, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    witness, http = witnessed
    append_many = audit.append_many

    async def observed(graph: Graph, entries: Sequence[audit.AuditEntry]) -> list[str]:
        ids = await append_many(graph, entries)
        # Visible to another transaction: committed, not merely sent.
        rows = await world.read(EVENTS, {"sub": "director-9"})
        witness.seen.append(f"committed {[row['ids'] for row in rows]}")
        return ids

    monkeypatch.setattr(audit, "append_many", observed)
    body = await _read_file(http, settings, "director-9")
    assert body["data"]["child"]["idNumber"]
    assert witness.seen == ["committed [['C1']]", "response"]


async def test_a_refused_audit_write_withholds_the_record_and_says_internal(
    world: Graph, settings: Settings, witnessed: tuple[Witness, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A statement Neo4j itself refuses when it runs, in place of the append.
    monkeypatch.setattr(audit, "APPEND_MANY", "UNWIND $entries AS entry RETURN toString(1 / 0) AS id")
    body = await _read_file(witnessed[1], settings, "director-10")
    assert body == {"data": None, "errors": [{"message": "Internal error.", "extensions": {"code": "INTERNAL"}}]}
    assert await world.read(EVENTS, {"sub": "director-10"}) == []


async def test_an_unreachable_database_at_the_audit_is_database_unavailable(
    world: Graph, settings: Settings, witnessed: tuple[Witness, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(graph: Graph, entries: Sequence[audit.AuditEntry]) -> list[str]:
        # What `Graph.write` raises for every driver error that means the database is away.
        raise DatabaseUnavailable("the database is not reachable; try again shortly")

    monkeypatch.setattr(audit, "append_many", unreachable)
    bodies = await asyncio.gather(*(_read_file(witnessed[1], settings, f"director-11-{i}") for i in range(3)))
    for body in bodies:
        assert body["data"] is None
        assert [error["extensions"]["code"] for error in body["errors"]] == ["DATABASE_UNAVAILABLE"]
        assert "C1" not in str(body) and "360732" not in str(body)


async def test_requests_at_once_share_audit_commits_and_each_response_has_its_event(
    world: Graph, settings: Settings, witnessed: tuple[Witness, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    append_many = audit.append_many
    commits: list[int] = []

    async def slow(graph: Graph, entries: Sequence[audit.AuditEntry]) -> list[str]:
        # A commit that takes a while, as under load: the requests meanwhile gather behind it.
        await asyncio.sleep(0.3)
        ids = await append_many(graph, entries)
        commits.append(len(entries))
        return ids

    monkeypatch.setattr(audit, "append_many", slow)
    subs = [f"director-12-{i}" for i in range(12)]
    bodies = await asyncio.gather(*(_read_file(witnessed[1], settings, sub) for sub in subs))
    assert all(body["data"]["child"]["idNumber"] for body in bodies)
    assert sum(commits) == 12 and len(commits) < 12
    for sub in subs:
        assert await world.read(EVENTS, {"sub": sub}) != []


async def test_a_shared_commit_holds_a_bounded_number_of_events(clean_graph: Graph) -> None:
    log = audit.AuditLog(clean_graph, batch_events=2)
    entries = [audit.AuditEntry(f"s{i}", "admin", "read:child", [f"C{i}"], scope="360732") for i in range(5)]
    await asyncio.gather(*(log.append([entry]) for entry in entries))
    assert log.commits == 3
    rows = await clean_graph.read("MATCH (e:AuditEvent) RETURN e.sub AS sub ORDER BY sub")
    assert [row["sub"] for row in rows] == [f"s{i}" for i in range(5)]


async def test_events_appended_together_keep_each_its_own_fields(clean_graph: Graph) -> None:
    # What events share is sent once per group: interleaved groups must still come back whole.
    entries = [
        audit.AuditEntry("s1", "admin", "read:child", ["C1"], "ok", "360732"),
        audit.AuditEntry("s2", "coordinator", "read:child", ["C2"], "ok", "360733"),
        audit.AuditEntry("s1", "admin", "read:child", ["C3", "C4"], "ok", "360734"),
        audit.AuditEntry("s1", "admin", "read:case", ["K1"], "refused", "360732"),
    ]
    ids = await audit.append_many(clean_graph, entries)
    rows = await clean_graph.read(
        "UNWIND $ids AS id MATCH (e:AuditEvent {id: id}) "
        "RETURN e.sub AS sub, e.role AS role, e.operation AS operation, e.ids AS ids, e.outcome AS outcome, "
        "e.scope AS scope, e.at IS NOT NULL AS dated",
        {"ids": ids},
    )
    assert [
        audit.AuditEntry(r["sub"], r["role"], r["operation"], r["ids"], r["outcome"], r["scope"]) for r in rows
    ] == entries
    assert all(r["dated"] for r in rows) and len(set(ids)) == 4
