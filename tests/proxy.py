"""A loopback TCP proxy in front of the test database's Bolt port, for network failures on
purpose: drop every connection (`cut`), drop those that send some bytes (`cut_when`: a query's
text travels in clear in Bolt's RUN message), or hold every byte without answering (`stall`),
and later let traffic through again (`restore`)."""

from __future__ import annotations

import asyncio
import contextlib


class BoltProxy:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server: asyncio.Server | None = None
        self.transports: list[asyncio.WriteTransport] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.forwarded = 0
        self.cut_at: int | None = None
        #: connections dropped because they sent `cut_when`'s bytes
        self.dropped = 0
        self._pattern: bytes | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def cut(self) -> None:
        """Drop every connection and refuse new ones, as a network failure would."""
        self.cut_at = self.forwarded
        self._abort_all()

    def cut_when(self, pattern: bytes) -> None:
        """Drop each connection whose client sends `pattern`, before it reaches the database."""
        self._pattern = pattern

    def stall(self) -> None:
        """Accept and keep every connection but forward nothing: a database that does not answer."""
        self._flowing.clear()

    def restore(self) -> None:
        self.cut_at = None
        self._pattern = None
        self._flowing.set()

    def _abort_all(self) -> None:
        for transport in self.transports:
            transport.abort()
        self.transports.clear()

    async def close(self) -> None:
        self.cut()
        self._flowing.set()
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.cut_at is not None:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_writer.transport.abort()
            return
        self.transports += [client_writer.transport, server_writer.transport]
        pairs = ((client_reader, server_writer, True), (server_reader, client_writer, False))
        for reader, writer, upstream in pairs:
            other = client_writer if upstream else server_writer
            task = asyncio.create_task(self._pipe(reader, writer, other, upstream))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, other: asyncio.StreamWriter, upstream: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                if upstream and self._pattern is not None and self._pattern in data:
                    self.dropped += 1
                    other.transport.abort()
                    break
                self.forwarded += len(data)
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
