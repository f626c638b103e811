"""The driver handle: errors become the project's own, and a dead database fails fast."""

from __future__ import annotations

import socket
import time

import pytest

from graph.driver import Connection, Graph, connect
from graph.errors import Conflict, DatabaseUnavailable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_dead_database_is_database_unavailable_within_seconds_not_thirty() -> None:
    connection = Connection(f"bolt://127.0.0.1:{free_port()}", "neo4j", "whatever-password", retry_budget=2.0)
    async with connect(connection) as graph:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable):
            await graph.read("RETURN 1 AS ok")
        with pytest.raises(DatabaseUnavailable):
            await graph.write_transaction(_create_mark)
        # Generous for a loaded CI machine; the driver's own default would retry for 30 s.
        assert time.monotonic() - started < 15


async def _create_mark(tx: object) -> None:
    await tx.run("CREATE (:Mark)")  # type: ignore[attr-defined]


async def test_a_uniqueness_violation_is_a_conflict_that_names_no_values(clean_graph: Graph) -> None:
    await clean_graph.write("CREATE (:Person {id: 'P1', idNumber: '360732198311260035'})")
    with pytest.raises(Conflict) as raised:
        await clean_graph.write("CREATE (:Person {id: 'P2', idNumber: '360732198311260035'})")
    assert "360732198311260035" not in str(raised.value)
    assert "person" in str(raised.value)
