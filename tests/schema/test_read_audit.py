"""The audit of a full-record read is committed before its response leaves, and a failed audit
write fails the request with a code and no data: never a response whose read went unrecorded.
Requests running at once share their audit transactions, and each still waits for its own.

A lone child's file appends its event in the statement that reads it; a selection whose audited
fields a directive might leave out notes the read as it resolves and appends it after. Every
test here asks both (`FILES`), and watches where both write: `Graph.append`, the one way a
read's event reaches the database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings
from graph import audit, child_file
from graph.dates import birth_cutoff
from graph.driver import Graph
from graph.errors import DatabaseUnavailable
from schema.persons import FULL_RECORD_FIELDS
from tests import factories
from tests.conftest import make_token
from tests.schema.conftest import V1

#: The file whose statement appends its event, and the same noted as it resolves, appended after.
IN_THE_READ = '{ child(id: "C1") { idNumber guardians { id } } }'
AFTER = '{ child(id: "C1") { idNumber @include(if: true) guardians @skip(if: false) { id } } }'
FILES = [pytest.param(IN_THE_READ, id="in-the-read"), pytest.param(AFTER, id="after")]


def _sub(base: str, file: str) -> str:
    """A subject of its own per test and file: the world, and its audit trail, last the module."""
    return f"{base}-{'read' if file == IN_THE_READ else 'after'}"


EVENTS = "MATCH (e:AuditEvent {sub: $sub, operation: 'read:child'}) RETURN e.ids AS ids"
EVENT = (
    "MATCH (e:AuditEvent {sub: $sub}) RETURN e.role AS role, e.operation AS operation, e.ids AS ids, "
    "e.outcome AS outcome, e.scope AS scope, e.at IS NOT NULL AND e.id IS NOT NULL AS stamped"
)


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


async def _read_file(http: httpx.AsyncClient, settings: Settings, sub: str, file: str) -> dict[str, Any]:
    token = make_token(settings, "children_director", region=V1, sub=sub)
    response = await http.post("/graphql", json={"query": file}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("file", FILES)
async def test_the_event_is_committed_before_the_response_starts(
    world: Graph,
    app_graph: Graph,
    settings: Settings,
    witnessed: tuple[Witness, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
    file: str,
) -> None:
    witness, http = witnessed
    append = app_graph.append

    async def observed(query: Any, parameters: Any = None) -> Any:
        rows = await append(query, parameters)
        # Visible to another transaction: committed, not merely sent.
        events = await world.read(EVENTS, {"sub": _sub("director-9", file)})
        witness.seen.append(f"committed {[row['ids'] for row in events]}")
        return rows

    monkeypatch.setattr(app_graph, "append", observed)
    body = await _read_file(http, settings, _sub("director-9", file), file)
    assert body["data"]["child"]["idNumber"]
    assert witness.seen == ["committed [['C1']]", "response"]


async def test_the_event_a_read_appends_itself_is_the_event_appended_after(
    world: Graph, app_graph: Graph, settings: Settings, witnessed: tuple[Witness, httpx.AsyncClient]
) -> None:
    events = []
    # The file and its event in one round trip; read, then appended: two.
    for file, trips in ((IN_THE_READ, 1), (AFTER, 2)):
        app_graph.round_trips = 0
        body = await _read_file(witnessed[1], settings, _sub("director-13", file), file)
        assert body["data"]["child"]["idNumber"]
        assert app_graph.round_trips == trips
        events.append([dict(row) for row in await world.read(EVENT, {"sub": _sub("director-13", file)})])
    expected = {"role": "children_director", "operation": "read:child", "ids": ["C1"], "outcome": "ok"}
    assert events[0] == events[1] == [expected | {"scope": V1, "stamped": True}]


#: A selection of each field that notes a full-record read, as a file's statement takes it to.
NOTING = {"idNumber": "", "guardians": "{ id }", "caregivers": "{ since }", "cases": "{ id }"}


@pytest.mark.parametrize("field", sorted(FULL_RECORD_FIELDS))
async def test_every_field_a_read_appends_its_own_event_for_notes_the_read_itself(
    world: Graph, settings: Settings, witnessed: tuple[Witness, httpx.AsyncClient], field: str
) -> None:
    # Appended after, from what the field's resolver noted: the event the statement appends for
    # it in its place would be one the resolvers never asked for.
    sub = f"director-15-{field}"
    query = '{ child(id: "C1") { ' + field + " @include(if: true) " + NOTING[field] + " } }"
    body = await _read_file(witnessed[1], settings, sub, query)
    assert "errors" not in body, body
    assert await world.read(EVENTS, {"sub": sub}) == [{"ids": ["C1"]}]


async def test_a_read_appends_its_own_event_only_of_a_child_under_18_today(
    world: Graph, app_graph: Graph, settings: Settings, witnessed: tuple[Witness, httpx.AsyncClient]
) -> None:
    today = dt.datetime.now(settings.timezone).date()
    born18 = birth_cutoff(today, 18)
    await factories.person(world, "A18", born18, household="H1")
    await factories.person(world, "U18", born18 + dt.timedelta(days=1), household="H1")
    await factories.person(world, "U0", today, household="H1")
    await factories.person(world, "UNBORN", today + dt.timedelta(days=1), household="H1")
    # 18 today, under 18 by a day, born today, not born yet, an adult, nobody.
    cases = [("A18", False), ("U18", True), ("U0", True), ("UNBORN", False), ("G1", False), ("NOBODY", False)]
    for child, is_child in cases:
        sub = f"director-14-{child}"
        app_graph.round_trips = 0
        body = await _read_file(witnessed[1], settings, sub, IN_THE_READ.replace("C1", child))
        assert "errors" not in body, body
        assert (body["data"]["child"] is not None) is is_child, child
        assert app_graph.round_trips == 1, child
        assert await world.read(EVENTS, {"sub": sub}) == ([{"ids": [child]}] if is_child else []), child


#: In place of the event of a file's own read: a part Neo4j itself refuses when it runs.
REFUSED_PART = "OPTIONAL CALL (c) { WITH c WHERE toString(1 / 0) IS NOT NULL RETURN '' AS audited }\n"


@pytest.mark.parametrize("file", FILES)
async def test_a_refused_audit_write_withholds_the_record_and_says_internal(
    world: Graph,
    settings: Settings,
    witnessed: tuple[Witness, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
    file: str,
) -> None:
    # Statements Neo4j itself refuses when they run, in place of the appends.
    monkeypatch.setattr(audit, "APPEND_MANY", "UNWIND $entries AS entry RETURN toString(1 / 0) AS id")
    refused = {p: q.replace(audit.READ_EVENT_PART, REFUSED_PART) for p, q in child_file.AUDITED_STATEMENTS.items()}
    assert all(refused[p] != q for p, q in child_file.AUDITED_STATEMENTS.items())
    monkeypatch.setattr(child_file, "AUDITED_STATEMENTS", refused)
    body = await _read_file(witnessed[1], settings, _sub("director-10", file), file)
    assert body == {"data": None, "errors": [{"message": "Internal error.", "extensions": {"code": "INTERNAL"}}]}
    assert await world.read(EVENTS, {"sub": _sub("director-10", file)}) == []


@pytest.mark.parametrize("file", FILES)
async def test_an_unreachable_database_at_the_audit_is_database_unavailable(
    world: Graph,
    app_graph: Graph,
    settings: Settings,
    witnessed: tuple[Witness, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
    file: str,
) -> None:
    async def unreachable(query: Any, parameters: Any = None) -> Any:
        # What `Graph.append` raises for every driver error that means the database is away.
        raise DatabaseUnavailable("the database is not reachable; try again shortly")

    monkeypatch.setattr(app_graph, "append", unreachable)
    subs = [_sub(f"director-11-{i}", file) for i in range(3)]
    bodies = await asyncio.gather(*(_read_file(witnessed[1], settings, sub, file) for sub in subs))
    for body in bodies:
        assert body["data"] is None
        assert [error["extensions"]["code"] for error in body["errors"]] == ["DATABASE_UNAVAILABLE"]
        assert "C1" not in str(body) and "360732" not in str(body)


@pytest.mark.parametrize("file", FILES)
async def test_requests_at_once_share_audit_commits_and_each_response_has_its_event(
    world: Graph,
    app_graph: Graph,
    settings: Settings,
    witnessed: tuple[Witness, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
    file: str,
) -> None:
    append = app_graph.append
    writes: list[int] = []

    async def slow(query: Any, parameters: Any = None) -> Any:
        # A commit that takes a while, as under load: the requests meanwhile gather behind it.
        await asyncio.sleep(0.3)
        rows = await append(query, parameters)
        writes.append(len(rows))
        return rows

    monkeypatch.setattr(app_graph, "append", slow)
    subs = [_sub(f"director-12-{i}", file) for i in range(12)]
    bodies = await asyncio.gather(*(_read_file(witnessed[1], settings, sub, file) for sub in subs))
    assert all(body["data"]["child"]["idNumber"] for body in bodies)
    assert 0 < len(writes) < 12
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
