"""The Starlette application: health endpoints and the GraphQL endpoint.

The driver, the settings and the token verifier are created once in the lifespan and
reached through typed request state; nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any, TypedDict

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET, UnsetType

from api import console, downloads
from api import metrics as metrics_endpoint
from api.auth import AuthenticationError, TokenVerifier
from api.context import Context
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.settings import Limits, Settings
from api.shedding import Shedder
from api.transport import (
    BodyTooLarge,
    Transport,
    limit_exceeded,
    only_imports,
    oversized,
    read_body,
    replay,
    request_log,
    response_codes,
)
from graph import migrations
from graph.alert_feed import RedAlertFeed
from graph.audit import AuditLog
from graph.breaker import Breaker
from graph.callers import Caller, Role
from graph.discovery import Thresholds
from graph.driver import Connection as DatabaseConnection
from graph.driver import Graph, open_driver
from graph.errors import DatabaseUnavailable, Timeout
from graph.risk import Reevaluator
from graph.scheduler import DailySweep
from schema.alerts import AlertHub
from schema.schema import build_schema

log = logging.getLogger("shouhu.app")
CALLER = "shouhu.caller"
#: A body that names importBundle runs under the import deadline, not the request one.
IMPORT_MARK = b"importBundle"
#: /health/ready answers within a second, whatever the database does.
READY_TIMEOUT = 0.8
#: The caller of a socket before its connection_init: an institution without an institution,
#: whose scope no region code starts with.
NOBODY = Caller(sub="", role=Role.INSTITUTION_STAFF)


class Drain:
    """Set once the process is asked to stop (`shouhu serve` on SIGTERM): readiness answers 503
    and every response closes its connection, so a balancer sends new requests elsewhere while
    the ones under way finish here."""

    def __init__(self) -> None:
        self.draining = False


class State(TypedDict):
    settings: Settings
    graph: Graph
    audit_log: AuditLog
    verifier: TokenVerifier
    limiter: RateLimiter
    alert_hub: AlertHub
    drain: Drain
    shedder: Shedder
    metrics: Metrics


class ClosingWhileDraining:
    """Answer `Connection: close` while draining: a kept-alive client reconnects, through the
    balancer, to a replica that stays."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        drain: Drain | None = scope.get("state", {}).get("drain")
        if scope["type"] != "http" or drain is None:
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and drain.draining:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


def _unauthenticated(message: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


class ExpiringTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws that closes the socket (4403) when the caller's token expires:
    a subscription must not outlive the permission it was opened with."""

    expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        expires_at = self.context.expires_at
        if self.connection_acknowledged and expires_at is not None and self.expiry is None:
            self.expiry = asyncio.create_task(self._close_at(expires_at))

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.websocket.close(code=4403, reason="Token expired")

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry
        await super().shutdown()


def encode(data: object) -> bytes:
    """A response body as JSON: orjson is several times faster than the standard library's
    encoder; a value it cannot write (an integer past 64 bits) falls back to the latter."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go out as text frames, whatever `encode_json` returns."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(encode(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class ShouhuGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app, behind a token check, the caller's rate and the body limit."""

    graphql_transport_ws_handler_class = ExpiringTransportWS
    websocket_adapter_class = TextWebSocketAdapter

    def encode_json(self, data: object) -> bytes:
        return encode(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            wants_ide = request.method == "GET" and "query" not in request.query_params
            if not wants_ide:
                refusal = await _admit(scope, request)
                if refusal is None and request.method == "POST":
                    limits: Limits = scope["state"]["settings"].limits
                    try:
                        body = await read_body(scope, receive, limits)
                    except BodyTooLarge:
                        refusal = oversized(limits)
                    else:
                        if len(body) > limits.max_body_bytes and not only_imports(body, limits):
                            refusal = oversized(limits)
                        receive = replay(body, receive)
                if refusal is not None:
                    if (entry := request_log(scope)) is not None:
                        entry.error_codes(response_codes(refusal))
                    await refusal(scope, receive, send)
                    return
                shedder: Shedder = scope["state"]["shedder"]
                is_import = request.method == "POST" and IMPORT_MARK in body
                await shedder.serve(scope[CALLER], is_import, super().__call__, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def run(  # type: ignore[override]  # one body for both of strawberry's overloads
        self, request: Request | WebSocket, context: Context | UnsetType = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)  # type: ignore[arg-type]
        except HTTPException as error:
            # Strawberry answers a body it cannot read (not JSON, no query, an unknown operation
            # name) in plain text; clients read the same error shape as for everything else.
            if isinstance(request, WebSocket):
                raise
            return JSONResponse(
                {"data": None, "errors": [{"message": error.reason, "extensions": {"code": "BAD_USER_INPUT"}}]},
                status_code=error.status_code,
            )

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's own page loads React and GraphiQL from a public CDN: blank on a network
        # without the internet, and a foreign script beside a token. The console build copies
        # them from npm packages and this page names local paths only.
        return await console.graphiql_page(request.scope["state"]["settings"])

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await _on_ws_connect(context)
        unset: UnsetType = UNSET
        return unset

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        state = request.scope["state"]
        caller: Caller | None = request.scope.get(CALLER)
        if caller is None:
            # Only two requests get here without a verified caller: the in-browser IDE page
            # (GET without a query, which runs no operation), and a graphql-transport-ws socket,
            # whose context is made when it opens; its token comes later, in connection_init's
            # payload, and `on_ws_connect` sets the caller. Until then the caller reaches nothing.
            caller = NOBODY
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            graph=state["graph"],
            settings=state["settings"],
            caller=caller,
            audit_log=state["audit_log"],
        )


async def _admit(scope: Scope, request: Request) -> JSONResponse | None:
    """The caller of an HTTP request, or the response refusing it (401, or 429 over its rate)."""
    verifier: TokenVerifier = scope["state"]["verifier"]
    try:
        caller = verifier.verify(request.headers.get("authorization"))
    except AuthenticationError as error:
        return _unauthenticated(str(error))
    scope[CALLER] = caller
    if (entry := request_log(scope)) is not None:
        entry.caller(caller)
    limiter: RateLimiter = scope["state"]["limiter"]
    if (refused := await limiter.admit(caller)) is not None:
        return limit_exceeded(
            f"More than {refused.rate} requests from this caller; retry in {refused.retry_after} s.",
            429,
            {"Retry-After": str(refused.retry_after)},
        )
    return None


async def _on_ws_connect(context: Context) -> None:
    """Verify the token of connection_init's payload and count the socket against the caller's
    rate; a bad token or a full window closes the socket (4403)."""
    params = context.connection_params or {}
    scope = context.request.scope
    verifier: TokenVerifier = scope["state"]["verifier"]
    token = params.get("Authorization") or params.get("authorization")
    try:
        verified = verifier.verify_token(token if isinstance(token, str) else None)
    except AuthenticationError as error:
        raise ConnectionRejectionError({"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}) from error
    if (entry := request_log(scope)) is not None:
        entry.caller(verified.caller)
    limiter: RateLimiter = scope["state"]["limiter"]
    if await limiter.admit(verified.caller) is not None:
        raise ConnectionRejectionError({"message": "too many requests", "extensions": {"code": "LIMIT_EXCEEDED"}})
    context.caller = verified.caller
    context.expires_at = verified.expires_at


async def statistics_report(request: Request) -> Response:
    refusal = await _admit(request.scope, request)
    if refusal is not None:
        return refusal
    caller: Caller = request.scope[CALLER]
    return await downloads.statistics_report(request, caller)


async def live(_: Request) -> Response:
    return JSONResponse({"status": "live"})


async def ready(request: Request) -> Response:
    if request.state.drain.draining:
        return JSONResponse({"status": "not_ready", "draining": True}, status_code=503)
    graph: Graph = request.state.graph
    breaker = graph.breaker
    if breaker is not None and breaker.is_open:
        # Known down: say so at once; the breaker's probe notices when it answers again.
        return JSONResponse(
            {"status": "not_ready", "database": "unreachable", "reason": breaker.reason}, status_code=503
        )
    state = request.app.state
    # One check at a time, and never cancelled: a check cut short at the answer's time limit
    # would throw away its half-made connection, and on a slow database every later check would
    # start again from nothing and never finish. It goes on, and the next request finds it done.
    check: asyncio.Future[set[str]] | None = getattr(state, "ready_check", None)
    if check is None or check.done():
        applied = state.constraints_seen or (breaker is not None and breaker.migrated)
        check = asyncio.ensure_future(_readiness(graph, applied))
        check.add_done_callback(lambda done: done.cancelled() or done.exception())
        state.ready_check = check
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            missing = await asyncio.shield(check)
    except (Timeout, TimeoutError):
        return JSONResponse(
            {"status": "not_ready", "database": "slow", "reason": f"no answer within {READY_TIMEOUT} s"},
            status_code=503,
        )
    except (DatabaseUnavailable, OSError):
        return JSONResponse({"status": "not_ready", "database": "unreachable"}, status_code=503)
    if missing:
        return JSONResponse(
            {"status": "not_ready", "database": "reachable", "missing": sorted(missing)}, status_code=503
        )
    request.app.state.constraints_seen = True
    return JSONResponse({"status": "ready", "database": "reachable", "migrations": "applied"})


async def _readiness(graph: Graph, applied: bool) -> set[str]:
    """The constraints missing, once the database answered; `applied`: this process knows them
    in place (it applied them, or saw them all), since only an operator drops one."""
    async with asyncio.timeout(30):
        await graph.read("RETURN 1 AS ok")
        return set() if applied else set(await migrations.missing(graph))


async def _start_database(graph: Graph, breaker: Breaker, wait: float) -> None:
    """Apply the constraints now if the database answers within `wait` seconds; else open the
    breaker and let its probe apply them when it answers: the API serves /health/live (and
    DATABASE_UNAVAILABLE) meanwhile instead of not listening at all."""
    try:
        async with asyncio.timeout(wait):
            await graph.probe()
        await migrations.apply(graph)
    except (DatabaseUnavailable, OSError, TimeoutError) as error:
        log.warning("database not reachable at start; serving without it until it answers")
        breaker.trip(f"at start: {type(error).__name__}")
        return
    breaker.migrated = True


def _breaker(graph: Graph) -> Breaker:
    breaker: Breaker

    async def recover() -> None:
        # First the constraints, if the database was not there at start; then the plans of
        # the queries this process runs most, so the first requests after an outage are fast.
        if not breaker.migrated:
            await migrations.apply(graph)
            breaker.migrated = True
        await graph.warm(budget=1.0)

    breaker = Breaker(graph.probe, recover=recover)
    return breaker


def pool_use(driver: Any) -> tuple[int, int]:
    """(in use, open) connections of the driver's pool; read through the driver's private
    attributes, so a driver that changes them shows NaN in the metrics rather than failing."""
    connections = [c for queue in driver._pool.connections.values() for c in queue]
    return sum(1 for c in connections if c.in_use), len(connections)


def create_app(settings: Settings | None = None, *, drain: Drain | None = None) -> Starlette:
    stopping = drain or Drain()

    @asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[State]:
        active = configured
        driver = open_driver(
            DatabaseConnection(
                active.neo4j_uri,
                active.neo4j_user,
                active.neo4j_password,
                active.neo4j_database,
                connection_timeout=active.connection_timeout,
                retry_budget=active.retry_budget,
                pool_size=active.pool_size,
                acquisition_timeout=active.acquisition_timeout,
            )
        )
        graph = Graph(driver, active.neo4j_database, retry_budget=active.retry_budget)
        metrics = Metrics()
        graph.observe = metrics.observe_query
        metrics.watch_pool(lambda: pool_use(driver))
        breaker = _breaker(graph)
        graph.breaker = breaker
        breaker.listen(lambda up: metrics.database_up.set(1 if up else 0))
        thresholds = Thresholds(timezone=active.timezone.key)
        # Red alerts a write raises reach the `alertRaised` subscribers of this process too.
        alert_hub = AlertHub()
        application.state.alert_hub = alert_hub
        application.state.constraints_seen = False
        breaker.listen(alert_hub.reachability)
        graph.after_write = Reevaluator(thresholds, active.alert_policy, announce=alert_hub.publish)
        graph.on_sweep = metrics.observe_sweep
        daily: asyncio.Task[None] | None = None
        feed: asyncio.Task[None] | None = None
        try:
            await _start_database(graph, breaker, wait=active.connection_timeout + 1.0)
            metrics.database_up.set(0 if breaker.is_open else 1)
            if active.daily_sweep:
                sweeper = DailySweep(graph, thresholds, active.alert_policy, at=active.daily_sweep_at)
                daily = asyncio.create_task(sweeper.forever())
            if active.alert_poll_seconds:
                # Red alerts raised through the other replicas reach this one's subscribers.
                # A handle of its own on the same driver: requests' round trips are counted on `graph`.
                own = Graph(driver, active.neo4j_database, retry_budget=active.retry_budget)
                poller = RedAlertFeed(own, alert_hub.publish, active.alert_poll_seconds)
                feed = asyncio.create_task(poller.forever())
            yield {
                "settings": active,
                "graph": graph,
                "audit_log": AuditLog(graph),
                "verifier": TokenVerifier(active),
                "limiter": RateLimiter(active.limits),
                "alert_hub": alert_hub,
                "drain": stopping,
                "shedder": Shedder(active.capacity, metrics),
                "metrics": metrics,
            }
        finally:
            for task in (daily, feed):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await breaker.close()
            await driver.close()

    # Read once: the middleware (CORS) and the console need the settings before the lifespan runs.
    configured = settings or Settings.from_environment()
    production = configured.production
    graphql = ShouhuGraphQL(
        build_schema(configured.limits, production=production),
        graphql_ide="graphiql",
        # A query in the URL puts its variables (names, ID numbers) in every proxy's access log
        # and the browser's history: operations come in a POST body only.
        allow_queries_via_get=False,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    api: list[BaseRoute] = [
        Route("/health/live", live),
        Route("/health/ready", ready),
        Route("/metrics", metrics_endpoint.endpoint),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/reports/statistics", statistics_report, methods=["GET"]),
    ]
    served = console.ConsoleFiles(configured, console.first_segments(r.path for r in api if isinstance(r, Route)))
    middleware = [Middleware(Transport), Middleware(ClosingWhileDraining)]
    if configured.cors_origins:
        # Outermost, so that a refusal (401, 413, 429) reaches the other origin's page readable too.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(configured.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
                expose_headers=["X-Request-Id", "Retry-After", "Content-Disposition"],
                max_age=600,
            ),
        )
    return Starlette(
        routes=[*api, Mount("/", app=served)],
        middleware=middleware,
        lifespan=lifespan,
    )


#: Allocations between two collections of the youngest generation (Python's default: 700).
#: A request's own objects are freed by reference counting; what is left to the collector is
#: the driver's (its sessions and results hold each other: about 200 objects a request). So a
#: collection of the young finds little to free and walks every object of the requests in
#: flight: with 32 lists of 50 children at once, 10,000 meant about 70 collections per 320
#: lists, 2.5-3.2 ms of CPU a list; 50,000 meant 6-10, 0.9-1.5 ms, and its longest pause
#: (47-49 ms of CPU) no longer than the older generation's at 10,000 (45-54 ms). 100,000 saved
#: a little more but paused up to 96 ms. Measured in process, alternated, at load 11-16.
GC_YOUNG_THRESHOLD = 50_000


def settle_heap() -> None:
    """For a serving process, once its app is built: collect, then freeze what is left (the
    modules, the schema, the app) out of the collector's reach, and collect the young less often.
    A list of 50 children makes about 60,000 objects that live until its response is written;
    at Python's defaults the collector ran about five times a request, walking them and the
    whole schema each time: 5.6 ms of a 27 ms request, 2.1 ms after this (measured in process)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def app_factory() -> Starlette:
    """Entry point for `uvicorn --factory api.app:app_factory`."""
    app = create_app(Settings.from_environment())
    settle_heap()
    return app


__all__: list[Any] = ["Drain", "app_factory", "create_app", "settle_heap"]
