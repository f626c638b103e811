"""The driver is used so that a cluster routes it right: every session shares the bookmarks of
`execute_query`, so a read after a write of this process waits for it on any member."""

from __future__ import annotations

from neo4j import AsyncManagedTransaction

from graph.driver import Graph


async def _mark(tx: AsyncManagedTransaction) -> None:
    await tx.run("CREATE (:RoutingMark)")


async def _count(tx: AsyncManagedTransaction) -> int:
    record = await (await tx.run("MATCH (m:RoutingMark) RETURN count(m) AS n")).single()
    return int(record["n"]) if record else 0


async def test_managed_transactions_and_batches_leave_their_bookmarks_where_every_read_finds_them(
    clean_graph: Graph,
) -> None:
    shared = clean_graph.driver.execute_query_bookmark_manager
    seen = set(await shared.get_bookmarks())
    for write in (clean_graph.write_transaction(_mark), clean_graph.autocommit("CREATE (:RoutingMark)")):
        await write
        now = set(await shared.get_bookmarks())
        # The session's last bookmark replaced the earlier ones in the manager `read` uses.
        assert now and now != seen
        seen = now
    assert await clean_graph.read_transaction(_count) == 2
