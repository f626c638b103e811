"""Overload and slowness answered with a meaning: a caller over its share is 429, a full process
503, both `LIMIT_EXCEEDED` with `Retry-After`; a request past its deadline is
`DATABASE_UNAVAILABLE` and leaves nothing half-written; a read whose audit cannot be written
discloses nothing. Slowness is real: a transaction of the test's own holds the lock a visit
needs, so the visit's request waits in the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from api.settings import Capacity, Settings
from graph.driver import Graph
from tests import faults
from tests.proxy import BoltProxy
from tests.schema import casework
from tests.schema.casework import DIRECTOR, VISIT, WORKER

LOCK_CHILD = "MATCH (p:Person {id: 'C1'}) SET p.lockedByTest = true"
VISITS = "MATCH (:Person)-[v:VISITED]->(:Person {id: 'C1'}) RETURN count(v) AS n"


@asynccontextmanager
async def child_locked(graph: Graph) -> AsyncIterator[None]:
    """Hold a write lock on child C1 in an open transaction until the block ends (rolled back)."""
    async with graph.session() as session:
        tx = await session.begin_transaction()
        try:
            await tx.run(LOCK_CHILD)
            yield
        finally:
            await tx.rollback()


@asynccontextmanager
async def through_proxy(settings: Settings) -> AsyncIterator[tuple[BoltProxy, faults.AppClient]]:
    """An app of its own whose connections to the test database pass through a `BoltProxy`."""
    target = urlparse(settings.neo4j_uri)
    proxy = BoltProxy(target.hostname or "127.0.0.1", target.port or 7687)
    port = await proxy.start()
    try:
        async with faults.serving(settings, neo4j_uri=f"bolt://127.0.0.1:{port}") as gql:
            yield proxy, gql
    finally:
        await proxy.close()


def visit(key: str) -> dict[str, Any]:
    return {"input": {"childId": "C1", "type": "home_visit", "notes": f"visit {key}", "clientMutationId": key}}


async def test_a_caller_over_its_share_is_429_and_a_full_process_is_503_both_limit_exceeded(
    clean_graph: Graph, settings: Settings
) -> None:
    await casework.build(clean_graph)
    capacity = Capacity(max_in_flight=2, max_in_flight_per_caller=1, queue_timeout=0.2, request_timeout=30)
    async with faults.serving(settings, capacity=capacity) as gql:
        async with child_locked(clean_graph):
            waiting = asyncio.create_task(gql.execute(VISIT, visit("held"), **DIRECTOR))
            await asyncio.sleep(0.5)  # it is in the database now, waiting for the lock
            assert not waiting.done()

            # The same caller again: over its share, refused at once.
            clock = faults.Clock()
            again = await gql.http.post(
                "/graphql",
                json={"query": VISIT, "variables": visit("second")},
                headers={"Authorization": f"Bearer {gql.token(**DIRECTOR)}"},
            )
            assert again.status_code == 429 and clock() < 1.0
            assert again.headers["Retry-After"] == "1"
            assert faults.codes(again.json()) == ["LIMIT_EXCEEDED"]

            # Another caller takes the second place; a third finds the process full.
            other = asyncio.create_task(gql.execute(VISIT, visit("other"), **WORKER))
            await asyncio.sleep(0.3)
            clock = faults.Clock()
            full = await gql.http.post(
                "/graphql",
                json={"query": "{ me { sub } }"},
                headers={"Authorization": f"Bearer {gql.token('coordinator', casework.COUNTY)}"},
            )
            assert full.status_code == 503 and 0.2 <= clock() < 1.5
            assert full.headers["Retry-After"] == "1"
            assert faults.codes(full.json()) == ["LIMIT_EXCEEDED"]
        # The lock gone, both waiting writes finish; one of them as a conflict (the same visit).
        done = [await waiting, await other]
        assert [faults.codes(body) for body in done] in (
            [[], ["CONFLICT"]],
            [["CONFLICT"], []],
            [[], []],
        )
        metrics = await gql.http.get("/metrics")
        assert metrics.status_code == 200
        assert 'shouhu_requests_shed_total{reason="caller"} 1.0' in metrics.text
        assert 'shouhu_requests_shed_total{reason="process"} 1.0' in metrics.text


async def test_a_request_past_its_deadline_is_database_unavailable_and_writes_nothing(
    clean_graph: Graph, settings: Settings
) -> None:
    await casework.build(clean_graph)
    async with faults.serving(settings, capacity=Capacity(request_timeout=1.0)) as gql:
        async with child_locked(clean_graph):
            clock = faults.Clock()
            body = await gql.execute(VISIT, visit("late"), **DIRECTOR)
            took = clock()
        assert faults.codes(body) == ["DATABASE_UNAVAILABLE"], body
        assert 0.9 <= took < 3.0, took
        assert (await clean_graph.read(VISITS))[0]["n"] == 0
        # Retried with the same key until it goes through (a loaded machine may need more than
        # one second again), it is written once, and every later retry replays it.
        answers = [await gql.execute(VISIT, visit("late"), **DIRECTOR) for _ in range(4)]
        done = [a for a in answers if not faults.codes(a)]
        assert done and all(faults.codes(a) == ["DATABASE_UNAVAILABLE"] for a in answers if a not in done)
        assert all(a == done[0] for a in done) and done[0]["data"]["recordVisit"]["notes"] == "visit late"
        assert (await clean_graph.read(VISITS))[0]["n"] == 1


async def test_a_read_whose_audit_cannot_be_written_discloses_nothing(clean_graph: Graph, settings: Settings) -> None:
    await casework.build(clean_graph)
    async with through_proxy(settings) as (proxy, gql):
        profile = 'query { riskProfile(childId: "C1") { level findings { rule } } }'
        assert faults.codes(await gql.execute(profile, **WORKER)) == []
        # Every connection that carries an audit event is dropped on its way to the database.
        proxy.cut_when(b"AuditEvent")
        body = await gql.execute(profile, **WORKER)
        assert body["data"] is None
        assert faults.codes(body) == ["DATABASE_UNAVAILABLE"]
        assert "Neo4j" not in str(body) and "connection" not in body["errors"][0]["message"].lower()
        assert proxy.dropped >= 1
    audited = "MATCH (e:AuditEvent {operation: 'riskProfile'}) RETURN count(e) AS n"
    assert (await clean_graph.read(audited))[0]["n"] == 1


async def test_a_lost_network_fails_fast_readiness_says_so_at_once_and_service_returns_when_it_heals(
    clean_graph: Graph, settings: Settings
) -> None:
    """The network to the database cut mid-traffic (the proxy drops every connection and refuses
    new ones), then healed: the figures docs/operations.md gives, on a warm database."""
    await casework.build(clean_graph)
    async with through_proxy(settings) as (proxy, gql):
        household = 'query { household(id: "H1") { id } }'
        clock = faults.Clock()
        assert faults.codes(await gql.execute(household, **WORKER)) == []
        slack = clock()  # how long one request takes on this machine now

        proxy.cut()
        clock = faults.Clock()
        first = await gql.execute(household, **WORKER)
        failed_in = clock()
        assert faults.codes(first) == ["DATABASE_UNAVAILABLE"]
        clock = faults.Clock()
        again = await gql.execute(VISIT, visit("cut"), **DIRECTOR)
        known_down_in = clock()
        assert faults.codes(again) == ["DATABASE_UNAVAILABLE"]
        clock = faults.Clock()
        ready = await gql.http.get("/health/ready")
        ready_in = clock()
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

        proxy.restore()
        clock = faults.Clock()
        while faults.codes(await gql.execute(household, **WORKER)) and clock() < 30:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        recovered_in = clock()
        assert (await gql.http.get("/health/ready")).status_code == 200
        written = await gql.execute(VISIT, visit("healed"), **DIRECTOR)
        assert faults.codes(written) == []
    print(  # the figures, for the record
        f"fail-fast {failed_in:.2f} s, known down {known_down_in:.3f} s, readiness {ready_in:.3f} s, "
        f"recovery {recovered_in:.2f} s (a request took {slack:.2f} s before)"
    )
    assert failed_in < 2.0 + 4 * slack
    assert known_down_in < 0.25 + 2 * slack
    assert ready_in < 1.0 + 2 * slack
    assert recovered_in < 2.0 + 4 * slack
    assert (await clean_graph.read(VISITS))[0]["n"] == 1
