"""A bundle that fits one transaction is all or nothing even when the connection drops: a
small TCP proxy in front of the test database's Bolt port is cut while the import's single
transaction is in flight."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest

from api.settings import Settings
from graph.bundle.importer import import_bundle
from graph.driver import Connection, Graph, connect
from graph.errors import DatabaseUnavailable
from tests.conftest import SAMPLE_BUNDLE
from tests.proxy import BoltProxy

COUNT: str = "MATCH (n) WHERE NOT n:AuditEvent RETURN count(n) AS n"


async def test_a_dropped_connection_leaves_no_partial_write(
    clean_graph: Graph, settings: Settings, tmp_path: Path
) -> None:
    target = urlparse(settings.neo4j_uri)
    proxy = BoltProxy(target.hostname or "127.0.0.1", target.port or 7687)
    port = await proxy.start()
    through_proxy = Connection(
        f"bolt://127.0.0.1:{port}", settings.neo4j_user, settings.neo4j_password, settings.neo4j_database,
        connection_timeout=1.0, retry_budget=1.0,
    )  # fmt: skip
    batches: list[int] = []

    def cut_after_first_batch(records: int) -> None:
        # The first batch has been sent inside the import's one transaction, not committed.
        batches.append(records)
        if len(batches) == 1:
            proxy.cut()

    try:
        async with connect(through_proxy) as graph:
            with pytest.raises(DatabaseUnavailable):
                await import_bundle(
                    graph, SAMPLE_BUNDLE, mode="ALL_OR_NOTHING", today=date.today(), workdir=tmp_path,
                    progress=cut_after_first_batch,
                )  # fmt: skip
    finally:
        await proxy.close()

    assert batches and batches[0] > 0 and proxy.cut_at is not None and proxy.cut_at > 10_000
    assert (await clean_graph.read(COUNT))[0]["n"] == 0  # not a node, not even the run

    result = await import_bundle(clean_graph, SAMPLE_BUNDLE, today=date.today(), workdir=tmp_path)
    assert result.ok and result.complete
    assert (await clean_graph.read(COUNT))[0]["n"] > 0
