"""A tiny round-robin TCP balancer on loopback, a test tool for the replica tests.

Like the proxy of the compose file's `replicas` profile (haproxy), it sends each new
connection to the next backend whose `/health/ready` answered 200 at the last check, and tries
the next one when a backend refuses the connection. It knows nothing of HTTP beyond its
health check: a connection, once made, is piped both ways until either side closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Balancer:
    backends: Sequence[int]
    interval: float = 0.2
    ready: set[int] = field(default_factory=set)
    #: connections sent to each backend
    sent: dict[int, int] = field(default_factory=dict)
    port: int = 0
    _server: asyncio.Server | None = None
    _checks: asyncio.Task[None] | None = None
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def __aenter__(self) -> Balancer:
        await self._check_all()
        self._checks = asyncio.create_task(self._check_forever())
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._checks is not None:
            self._checks.cancel()
            await asyncio.gather(self._checks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._check_all()

    async def _check_all(self) -> None:
        answers = await asyncio.gather(*(self._is_ready(port) for port in self.backends))
        self.ready = {port for port, ok in zip(self.backends, answers, strict=True) if ok}

    @staticmethod
    async def _is_ready(port: int) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"GET /health/ready HTTP/1.1\r\nHost: balancer\r\nConnection: close\r\n\r\n")
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 2)
            return status.split(b" ")[1:2] == [b"200"]
        except (OSError, TimeoutError, IndexError):
            return False
        finally:
            writer.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        candidates = [p for p in self.backends if p in self.ready] or list(self.backends)
        start = next(self._turn)
        for offset in range(len(candidates)):
            port = candidates[(start + offset) % len(candidates)]
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # refused: the next one (nothing was sent yet)
            self.sent[port] = self.sent.get(port, 0) + 1
            await asyncio.gather(_pipe(client_reader, writer), _pipe(reader, client_writer))
            return
        client_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()
