"""The async Neo4j driver, created once per process, and the one way the repositories use it.

Every query names its database; reads are routed as reads and writes as writes through
managed transactions, so the same code runs on one server, a cluster or Aura. Driver
errors become `graph.errors` types here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, LiteralString, ParamSpec, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, Record
from neo4j import exceptions as neo4j_errors

from graph import deadlines
from graph.breaker import Breaker
from graph.errors import Conflict, DatabaseUnavailable, Overloaded, Timeout
from graph.warmup import PlanWarmer

if TYPE_CHECKING:
    from graph.risk_index import Pending

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
    #: connections the driver keeps to the database at most (the API admits fewer requests at once)
    pool_size: int = 100
    #: how long a query waits for a free connection before it is refused as overload
    acquisition_timeout: float = 6.0


#: (graph, ids touched, by whom, the write's pending marker) -> anything; see `Graph.after_write`.
AfterWrite = Callable[["Graph", Sequence[str], str, "Pending | None"], Awaitable[object]]
#: (seconds a query took, how it ended: "ok" or the project's error code) -> None; for metrics.
QueryObserver = Callable[[float, str], None]
#: (alerts changed by a finished sweep, by change) -> None; for metrics.
SweepObserver = Callable[[dict[str, int]], None]


class Graph:
    """A driver bound to one database. Repositories take a `Graph`; nothing else holds a driver."""

    def __init__(self, driver: AsyncDriver, database: str, *, retry_budget: float = 3.0) -> None:
        self.driver = driver
        self.database = database
        #: How long a read is retried after a transient failure (the driver's managed
        #: transactions are given the same, `max_transaction_retry_time`).
        self.retry_budget = retry_budget
        #: Round trips issued through this handle; the no-N+1 tests read it.
        self.round_trips = 0
        #: Called by every committed write with the ids it touched and who wrote (the app sets
        #: it to a `graph.risk.Reevaluator`, so findings and alerts follow each write).
        self.after_write: AfterWrite | None = None
        #: The API's circuit breaker (graph/breaker.py); None in the CLI and most tests.
        self.breaker: Breaker | None = None
        #: Told the duration and outcome of every query (the API's Cypher metrics).
        self.observe: QueryObserver | None = None
        #: Told what each sweep through this handle changed (the API's sweep metrics).
        self.on_sweep: SweepObserver | None = None
        #: Remembers the shapes of the queries run most, to plan them again after a restart.
        self.warmer = PlanWarmer()

    async def read(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        """One read statement in an auto-commit transaction: RUN and PULL go out together and
        come back in one round trip, where `execute_query`'s managed transaction adds a COMMIT
        round trip and its machinery. A single statement that writes nothing needs nothing
        else a transaction gives (it reads one consistent snapshot either way), and its
        transient failures are retried here as the driver retries managed transactions."""
        return await self._single(query, parameters, neo4j.READ_ACCESS)

    async def append(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        """One write statement that only creates (an audit event), in an auto-commit transaction:
        one round trip where `write` takes two (BEGIN and RUN, then COMMIT). The server commits
        before the last answer to the PULL, so when this returns the statement is durable, and a
        failed commit raises here like any other failure. Retried on transient errors like
        `read`: a retry after an answer lost on the way back may create the rows twice, never
        lose them, so only statements whose rows may be doubled (an append-only log) use it."""
        return await self._single(query, parameters, neo4j.WRITE_ACCESS)

    async def _single(self, query: LiteralString, parameters: Mapping[str, Any] | None, access: str) -> list[Record]:
        values = dict(parameters or {})
        self.warmer.saw(query, values)

        async def once(seconds: float | None) -> list[Record]:
            async with self.session(access) as session:
                result = await session.run(neo4j.Query(query, timeout=seconds), values)
                return [record async for record in result]

        async def run(seconds: float | None) -> list[Record]:
            give_up = time.monotonic() + self.retry_budget
            delay = 0.1
            while True:
                try:
                    return await once(seconds)
                except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as error:
                    if not error.is_retryable() or time.monotonic() + delay > give_up:
                        raise
                await asyncio.sleep(delay)
                delay *= 2

        return await self._guarded(run)

    async def write(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        return await self._execute(query, parameters, neo4j.RoutingControl.WRITE)

    async def autocommit(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> list[Record]:
        """Run in an implicit transaction: only for `CALL { ... } IN TRANSACTIONS` batches."""

        async def run(seconds: float | None) -> list[Record]:
            async with self.session() as session:
                result = await session.run(neo4j.Query(query, timeout=seconds), dict(parameters or {}))
                return [record async for record in result]

        return await self._guarded(run)

    async def read_transaction(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `work(tx, *args)` in a managed read transaction (retried on transient errors)."""

        async def run(seconds: float | None) -> T:
            async with self.session(neo4j.READ_ACCESS) as session:
                return await session.execute_read(_timed(work, seconds, self.warmer), *args)

        return await self._guarded(run)

    async def write_transaction(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `work(tx, *args)` in a managed write transaction: all of it commits or none."""

        async def run(seconds: float | None) -> T:
            async with self.session() as session:
                return await session.execute_write(_timed(work, seconds, self.warmer), *args)

        return await self._guarded(run)

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
        values = dict(parameters or {})
        self.warmer.saw(query, values)

        async def run(seconds: float | None) -> list[Record]:
            result = await self.driver.execute_query(
                neo4j.Query(query, timeout=seconds), parameters_=values, database_=self.database, routing_=routing
            )
            return list(result.records)

        return await self._guarded(run)

    async def _guarded(self, run: Callable[[float | None], Awaitable[T]]) -> T:
        """One round trip under the breaker and the request's deadline, its errors translated.

        The time left before the deadline is the transaction's timeout on the server and an
        asyncio timeout here, so a query neither runs on nor waits past its request."""
        self.round_trips += 1
        if self.breaker is not None:
            self.breaker.check()
        left = deadlines.remaining()
        if left is not None and left <= 0:
            raise Timeout("the request ran out of time; try again shortly")
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with asyncio.timeout(left):
                return await run(None if left is None else max(left, 0.001))
        except TimeoutError as error:
            outcome = Timeout.code
            raise Timeout("the database did not answer in time; try again shortly") from error
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError) as error:
            translated = translate(error)
            outcome = getattr(translated, "code", "INTERNAL")
            if self.breaker is not None and unreachable(error):
                self.breaker.trip(type(error).__name__)
            raise translated from error
        finally:
            if self.observe is not None:
                self.observe(time.perf_counter() - started, outcome)

    async def warm(self, budget: float = 1.0) -> int:
        """Plan again the queries this process ran most (graph/warmup.py), within `budget` seconds."""

        async def explain(query: LiteralString, parameters: dict[str, Any]) -> None:
            await self.driver.execute_query(
                "EXPLAIN " + query, parameters_=parameters, database_=self.database, routing_=neo4j.RoutingControl.READ
            )

        return await self.warmer.warm(explain, budget=budget)

    async def probe(self) -> None:
        """Ask the database to answer at all, past the breaker (the breaker's own probe)."""
        # One attempt in an implicit transaction: the driver retries nothing, so the breaker
        # learns as soon as the database answers again.
        try:
            async with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                result = await session.run("RETURN 1 AS ok")
                await result.consume()
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError) as error:
            raise translate(error) from error


def _timed(work: Callable[..., Awaitable[T]], timeout: float | None, warmer: PlanWarmer) -> Callable[..., Awaitable[T]]:
    """`work` as a transaction function the server stops after `timeout` seconds, whose
    queries the warmer counts (graph/warmup.py) like those of `Graph.read` and `Graph.write`."""

    async def counted(tx: AsyncManagedTransaction, *args: Any) -> T:
        return await work(_Counted(tx, warmer), *args)

    if timeout is None:
        return counted
    return neo4j.unit_of_work(timeout=timeout)(counted)


class _Counted:
    """A managed transaction that tells the warmer what it runs; everything else is the transaction's."""

    def __init__(self, tx: AsyncManagedTransaction, warmer: PlanWarmer) -> None:
        self._tx = tx
        self._warmer = warmer

    async def run(self, query: LiteralString, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self._warmer.saw(query, {**(parameters or {}), **kwargs})
        return await self._tx.run(query, parameters, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


#: Errors that mean the database could not be reached at all (not a slow or refused query).
_UNREACHABLE = (
    neo4j_errors.ServiceUnavailable,
    neo4j_errors.SessionExpired,
    neo4j_errors.DatabaseUnavailable,
    OSError,
)


def unreachable(error: BaseException) -> bool:
    return isinstance(error, _UNREACHABLE) and not isinstance(error, neo4j_errors.IncompleteCommit)


def translate(error: Exception) -> Exception:
    """Map a driver error to the project's own; unknown errors stay what they are (INTERNAL).

    A client learns from the code what to do: DATABASE_UNAVAILABLE (and LIMIT_EXCEEDED for a
    full connection pool) may be retried, with the same `clientMutationId` for a write."""
    if isinstance(error, neo4j_errors.ConstraintError):
        return Conflict(_constraint_message(error))
    if isinstance(error, neo4j_errors.ConnectionAcquisitionTimeoutError):
        return Overloaded("the server is busy; try again shortly")
    if isinstance(error, neo4j_errors.IncompleteCommit):
        # The commit was sent and the connection lost before its answer: it may have committed.
        return DatabaseUnavailable(
            "the connection to the database was lost while committing; retry with the same clientMutationId"
        )
    if isinstance(error, neo4j_errors.Neo4jError) and _timed_out(error):
        return Timeout("the database did not answer in time; try again shortly")
    if isinstance(
        error,
        neo4j_errors.ServiceUnavailable
        | neo4j_errors.SessionExpired
        | neo4j_errors.AuthError
        | neo4j_errors.TransientError
        | OSError,
    ):
        return DatabaseUnavailable("the database is not reachable; try again shortly")
    return error


def _timed_out(error: neo4j_errors.Neo4jError) -> bool:
    # Neo.ClientError.Transaction.TransactionTimedOut(ClientConfiguration), and a transaction
    # the server terminated because its timeout passed.
    code = error.code or ""
    return "TransactionTimedOut" in code or code.endswith("Transaction.Terminated")


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
        max_connection_pool_size=connection.pool_size,
        connection_acquisition_timeout=connection.acquisition_timeout,
        # The first retry after 0.1 s rather than 1 s: within a one-second budget a deadlock is
        # retried several times, and a dead database is known dead in about 1.5 s.
        initial_retry_delay=0.1,
        notifications_min_severity="OFF",
    )


@asynccontextmanager
async def connect(connection: Connection) -> AsyncIterator[Graph]:
    driver = open_driver(connection)
    try:
        yield Graph(driver, connection.database, retry_budget=connection.retry_budget)
    finally:
        await driver.close()


__all__ = ["AsyncManagedTransaction", "Connection", "Graph", "TxFunction", "connect", "open_driver", "translate"]
