"""What happens to a request before GraphQL sees it, and the one log line it leaves.

Every request gets an id (the client's `X-Request-Id` when it is a plain token, else a new
one), returned in the response's `X-Request-Id` and written in its log line. The line carries
who asked (token subject and role), what (operation name, operation type and root fields),
how it ended (status, error codes) and how long it took; never a body, a variable or an error
message, since those carry children's names, ID numbers, phones and case notes.

A body is read up to `max_import_body_bytes` and refused with 413 beyond it, before anything
parses it; a body over `max_body_bytes` is admitted only for an operation that is nothing but
`importBundle`, whose bundle may be larger than any other request (`max_bundle_bytes`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast, parse
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import FIELDS, REQUEST_ID
from api.settings import Limits
from graph.callers import Caller

log = logging.getLogger("shouhu.request")

#: Where the request's `RequestLog` is kept in the ASGI scope.
REQUEST_LOG: Final = "shouhu.request"
REQUEST_ID_HEADER: Final = "x-request-id"
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
#: The only mutation a body over `max_body_bytes` may carry.
IMPORT_FIELD: Final = "importBundle"
QUIET_PATHS: Final = frozenset({"/health/live", "/health/ready"})


@dataclass
class RequestLog:
    """What the log line of one request (or one WebSocket) says; filled in as it goes."""

    id: str
    kind: str
    path: str
    sub: str | None = None
    role: str | None = None
    operations: list[dict[str, object]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    status: int | None = None

    def caller(self, caller: Caller) -> None:
        self.sub, self.role = caller.sub, caller.role.value

    def operation(self, name: str | None, type_: str | None, fields: list[str]) -> None:
        self.operations.append({"name": name, "type": type_, "fields": fields})

    def error_codes(self, codes: list[str]) -> None:
        self.codes.extend(codes)

    def fields(self, started: float) -> dict[str, object]:
        return {
            "request_id": self.id,
            "kind": self.kind,
            "path": self.path,
            "status": self.status,
            "sub": self.sub,
            "role": self.role,
            "operations": self.operations,
            "error_codes": sorted(set(self.codes)),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }


def request_log(scope: Scope) -> RequestLog | None:
    entry = scope.get(REQUEST_LOG)
    return entry if isinstance(entry, RequestLog) else None


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = bytes(value).decode("latin-1")
            # Anything else could be a way to write into our logs: replace it.
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


class Transport:
    """ASGI middleware around the whole app: the request id and the log line of every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        entry = RequestLog(_request_id(scope), scope["type"], scope.get("path", ""))
        scope[REQUEST_LOG] = entry
        request_id = REQUEST_ID.set(entry.id)
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = entry.id
                if message["type"] == "http.response.start":
                    entry.status = message["status"]
            elif message["type"] == "websocket.close":
                entry.status = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            level = logging.DEBUG if entry.path in QUIET_PATHS else logging.INFO
            log.log(level, "request", extra={FIELDS: entry.fields(started)})
            # The app's metrics (api/metrics.py), once its lifespan made them.
            metrics: Any = (scope.get("state") or {}).get("metrics")
            if metrics is not None:
                metrics.observe_request(entry, time.perf_counter() - started)
            REQUEST_ID.reset(request_id)


def limit_exceeded(message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "LIMIT_EXCEEDED"}}]},
        status_code=status,
        headers=headers,
    )


class BodyTooLarge(Exception):
    pass


async def read_body(scope: Scope, receive: Receive, limits: Limits) -> bytes:
    """The whole body, refused (`BodyTooLarge`) as soon as it is known to pass the import limit."""
    cap = limits.max_import_body_bytes
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > cap:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body on, then waits as the original would."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def only_imports(body: bytes, limits: Limits) -> bool:
    """Whether a (large) body's operation is a mutation of nothing but importBundle."""
    try:
        request: Any = orjson.loads(body)
        document = parse(request["query"], max_tokens=limits.max_tokens)
        operation = get_operation_ast(document, request.get("operationName"))
    except (orjson.JSONDecodeError, GraphQLError, KeyError, TypeError, AttributeError):
        return False
    if operation is None or operation.operation is not OperationType.MUTATION:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value == IMPORT_FIELD
        for selection in operation.selection_set.selections
    )


def response_codes(response: JSONResponse) -> list[str]:
    """The error codes of a response this module or the app made (for the log line)."""
    body = orjson.loads(bytes(response.body))
    return [str(error.get("extensions", {}).get("code")) for error in body.get("errors") or ()]


def oversized(limits: Limits) -> JSONResponse:
    return limit_exceeded(
        f"The request body is over {limits.max_body_bytes} bytes ({limits.max_import_body_bytes} for an "
        "importBundle mutation alone).",
        413,
    )
