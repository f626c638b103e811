"""The async Neo4j driver, created once per process, and the one way the repositories use it.

Every query names its database; reads are routed as reads and writes as writes through
managed transactions, so the same code runs on one server, a cluster or Aura. Driver
errors become `graph.errors` types here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, LiteralString, ParamSpec, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, Record
from neo4j import exceptions as neo4j_errors

from graph.errors import Conflict, DatabaseUnavailable

P = ParamSpec("P")
T = TypeVar("T")

TxFunction = Callable[..., Awaitable[T]]


@dataclass(frozen=True, slots=True)
class Connection:
    uri: str
    user: str
    password: str = field(repr=False)
    database: str = "neo4j"
    connection_timeout: float = 3.0
    retry_budget: float = 3.0


#: (graph, ids touched, by whom, the write's pending marker) -> anything; see `Graph.after_write`.
AfterWrite = Callable[["Graph", Sequence[str], str, str | None], Awaitable[object]]


class Graph:
    """A driver bound to one database. Repositories take a `Graph`; nothing else holds a driver."""

    def __init__(self, driver: AsyncDriver, database: str) -> None:
        self.driver = driver
        self.database = database
        #: Round trips issued through this handle; the no-N+1 tests read it.
        self.round_trips = 0
        #: Called by every committed write with the ids it touched and who wrote (the app sets
        #: it to a `graph.risk.Reevaluator`, so findings and alerts follow each write).
        self.after_write: AfterWrite | None = None

    async def read(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        return await self._execute(query, parameters, neo4j.RoutingControl.READ)

    async def write(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        return await self._execute(query, parameters, neo4j.RoutingControl.WRITE)

    async def autocommit(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        """Run in an implicit transaction: only for `CALL { ... } IN TRANSACTIONS` batches."""
        self.round_trips += 1
        async with self.session() as session:
            try:
                result = await session.run(query, dict(parameters or {}))
                return [record async for record in result]
            except neo4j_errors.Neo4jError as error:
                raise translate(error) from error
            except neo4j_errors.DriverError as error:
                raise translate(error) from error

    async def read_transaction(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `work(tx, *args)` in a managed read transaction (retried on transient errors)."""
        self.round_trips += 1
        async with self.session(neo4j.READ_ACCESS) as session:
            try:
                return await session.execute_read(work, *args)
            except neo4j_errors.Neo4jError as error:
                raise translate(error) from error
            except neo4j_errors.DriverError as error:
                raise translate(error) from error

    async def write_transaction(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `work(tx, *args)` in a managed write transaction: all of it commits or none."""
        self.round_trips += 1
        async with self.session() as session:
            try:
                return await session.execute_write(work, *args)
            except neo4j_errors.Neo4jError as error:
                raise translate(error) from error
            except neo4j_errors.DriverError as error:
                raise translate(error) from error

    @asynccontextmanager
    async def session(self, access: str = neo4j.WRITE_ACCESS) -> AsyncIterator[neo4j.AsyncSession]:
        """A session that a cluster routes by `access` and that shares `execute_query`'s bookmarks,
        so every query of this process sees every write this process committed before it, on
        whichever member serves it (read-your-writes behind `neo4j://` or `neo4j+s://`)."""
        async with self.driver.session(
            database=self.database,
            default_access_mode=access,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        ) as session:
            yield session

    async def _execute(
        self, query: LiteralString, parameters: Mapping[str, Any] | None, routing: neo4j.RoutingControl
    ) -> list[Record]:
        self.round_trips += 1
        try:
            result = await self.driver.execute_query(
                query, parameters_=dict(parameters or {}), database_=self.database, routing_=routing
            )
        except neo4j_errors.Neo4jError as error:
            raise translate(error) from error
        except neo4j_errors.DriverError as error:
            raise translate(error) from error
        return list(result.records)


def translate(error: Exception) -> Exception:
    """Map a driver error to the project's own; unknown errors stay what they are."""
    if isinstance(error, neo4j_errors.ConstraintError):
        return Conflict(_constraint_message(error))
    if isinstance(
        error,
        neo4j_errors.ServiceUnavailable
        | neo4j_errors.SessionExpired
        | neo4j_errors.AuthError
        | neo4j_errors.TransientError,
    ):
        return DatabaseUnavailable("the database is not reachable; try again shortly")
    return error


def _constraint_message(error: neo4j_errors.ConstraintError) -> str:
    # The server's message quotes the offending values; keep only which constraint it was.
    message = error.message or ""
    for label in ("Person", "Household", "Institution", "Region", "Report", "Case", "Referral"):
        if f"label `{label}`" in message:
            return f"a {label.lower()} with that identity already exists"
    return "a record with that identity already exists"


def open_driver(connection: Connection) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        connection.uri,
        auth=(connection.user, connection.password),
        connection_timeout=connection.connection_timeout,
        # The driver retries managed transactions for 30 s by default; a request against a
        # dead database should fail within a few seconds instead.
        max_transaction_retry_time=connection.retry_budget,
        connection_acquisition_timeout=connection.connection_timeout * 2,
        notifications_min_severity="OFF",
    )


@asynccontextmanager
async def connect(connection: Connection) -> AsyncIterator[Graph]:
    driver = open_driver(connection)
    try:
        yield Graph(driver, connection.database)
    finally:
        await driver.close()


__all__ = ["AsyncManagedTransaction", "Connection", "Graph", "TxFunction", "connect", "open_driver", "translate"]
