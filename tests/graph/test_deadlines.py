"""The request's deadline bounds the request's own queries, and nothing that outlives it: the
breaker's probe and the audit's shared writer, started inside a request, run on after its
deadline has passed. Against the test database; only the time is short."""

from __future__ import annotations

import asyncio

import pytest

from graph import deadlines
from graph.audit import AuditEntry, AuditLog
from graph.breaker import Breaker
from graph.driver import Graph
from graph.errors import DatabaseUnavailable, Timeout


async def _past_deadline() -> None:
    await asyncio.sleep(0.02)
    assert (deadlines.remaining() or 0) < 0


async def test_a_query_past_its_requests_deadline_is_refused_before_it_is_sent(clean_graph: Graph) -> None:
    with deadlines.within(0.01):
        await _past_deadline()
        sent = clean_graph.round_trips
        with pytest.raises(Timeout):
            await clean_graph.read("RETURN 1 AS ok")
    assert isinstance(Timeout("x"), DatabaseUnavailable) and clean_graph.round_trips == sent + 1
    assert (await clean_graph.read("RETURN 1 AS ok"))[0]["ok"] == 1  # outside the request, no deadline


async def test_the_breaker_refuses_at_once_and_its_probe_outlives_the_request_that_tripped_it(
    clean_graph: Graph,
) -> None:
    heard: list[bool] = []
    recovered: list[int] = []

    async def recover() -> None:
        # A query through the graph: refused if this ran under the tripping request's deadline.
        recovered.append((await clean_graph.read("RETURN 1 AS ok"))[0]["ok"])

    breaker = Breaker(clean_graph.probe, recover=recover, interval=0.05)
    breaker.listen(heard.append)
    with deadlines.within(0.01):
        await _past_deadline()
        breaker.trip("a test")
        with pytest.raises(DatabaseUnavailable):
            breaker.check()
    for _ in range(200):
        if not breaker.is_open:
            break
        await asyncio.sleep(0.05)
    await breaker.close()
    assert (heard, recovered, breaker.is_open) == ([False, True], [1], False)


async def test_the_shared_audit_writer_is_not_bound_by_the_deadline_of_the_request_that_started_it(
    clean_graph: Graph,
) -> None:
    log = AuditLog(clean_graph)
    with deadlines.within(0.01):
        await _past_deadline()
        # The request itself has no time left, but the writer it starts commits for everyone.
        await log.append([AuditEntry("S1", "admin", "child", ["C1"], "ok", "360732100201")])
    assert log.commits == 1
    found = await clean_graph.read("MATCH (e:AuditEvent {sub: 'S1'}) RETURN count(e) AS n")
    assert found[0]["n"] == 1
