"""Helpers of the fault tests: an app of their own, a clock, and a database to kill.

The fault tests break things on purpose: a TCP proxy between the API and Neo4j that drops or
holds connections (tests/proxy.py), and a Neo4j of their own, on its own port and store,
killed with SIGKILL mid-traffic and started again (`KillableDatabase`). Nothing here mocks
the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp

from api.app import create_app
from api.settings import Settings
from graph import localdb
from graph.localdb import LocalDatabase
from tests.conftest import GraphQLClient, make_token


class AppClient(GraphQLClient):
    """A client of one app of the test's own, which can also open WebSockets on it."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, app: ASGIApp) -> None:
        super().__init__(http, settings)
        self.app = app

    @asynccontextmanager
    async def socket(self, role: str, region: str) -> AsyncIterator[Socket]:
        """A graphql-transport-ws socket, its connection acknowledged, as `role` of `region`."""
        socket = Socket(self.app)
        await socket.open()
        try:
            await socket.send(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token(role, region)}"}}
            )
            assert (await socket.receive())["type"] == "connection_ack"
            yield socket
        finally:
            await socket.close()

    def token(self, role: str, region: str | None = None, sub: str = "tester") -> str:
        return make_token(self.settings, role, region=region, sub=sub)


class Socket:
    """A WebSocket to an ASGI app in this process, spoken to in JSON messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "headers": [(b"host", b"shouhu.test"), (b"sec-websocket-protocol", b"graphql-transport-ws")],
            "subprotocols": ["graphql-transport-ws"],
            "scheme": "ws",
            "server": ("shouhu.test", 80),
            "client": ("127.0.0.1", 1),
            "root_path": "",
        }
        self.task = asyncio.create_task(self.app(scope, self.incoming.get, self.outgoing.put))  # type: ignore[arg-type]
        await self.incoming.put({"type": "websocket.connect"})
        assert (await asyncio.wait_for(self.outgoing.get(), 30))["type"] == "websocket.accept"

    async def send(self, payload: dict[str, Any]) -> None:
        await self.incoming.put({"type": "websocket.receive", "text": json.dumps(payload)})

    async def receive(self, within: float = 30) -> dict[str, Any]:
        while True:
            message = await asyncio.wait_for(self.outgoing.get(), within)
            if message["type"] == "websocket.send":
                payload: dict[str, Any] = json.loads(message["text"])
                return payload
            if message["type"] == "websocket.close":
                return {"type": "closed", "code": message.get("code")}

    async def receive_for(self, operation: str, within: float = 30) -> dict[str, Any]:
        """The next message about the operation `operation` (others are passed over)."""
        while True:
            message = await self.receive(within)
            if message.get("id") == operation or message["type"] == "closed":
                return message

    async def close(self) -> None:
        await self.incoming.put({"type": "websocket.disconnect", "code": 1000})
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


@asynccontextmanager
async def serving(settings: Settings, **changes: Any) -> AsyncIterator[AppClient]:
    """The real app (lifespan run) on `settings` with `changes`, and a client of it."""
    active = dataclasses.replace(settings, **changes)
    async with LifespanManager(create_app(active), startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shouhu.test", timeout=60) as http:
            yield AppClient(http, active, manager.app)


class Clock:
    """Seconds since it was made."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.started


def codes(body: dict[str, Any]) -> list[str]:
    return [str(error.get("extensions", {}).get("code")) for error in body.get("errors") or ()]


@dataclasses.dataclass
class KillableDatabase:
    """The fault tests' own local Neo4j: started, killed (SIGKILL, no shutdown) and started again."""

    local: LocalDatabase
    password: str

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.local.bolt_port}"

    def start(self) -> None:
        localdb.start(self.local, self.password)

    def kill(self) -> None:
        pid = localdb.status(self.local).pid
        assert pid is not None, "the fault database is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while localdb.status(self.local).pid is not None and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        localdb.stop(self.local)
