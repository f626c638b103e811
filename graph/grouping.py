"""Group commit: the work of requests that arrive while one group is written gathers into the
next group, so a lone request waits for its own write only and, under load, one write carries
the work of many requests. The read audit's events (`graph.audit.AuditLog`) and the
re-evaluations after writes (`graph.risk.Reevaluator`) are written this way.

Each request gets its group's future: the group's result once written, or why it was not. A
request that gives up (cancelled, past its deadline) leaves its group to be written for the
others. The writer runs without any request's deadline, one group at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from graph import deadlines

G = TypeVar("G")
R = TypeVar("R")


class GroupCommit(Generic[G, R]):
    """Groups of work written one after the other by `write`, joined while they wait."""

    def __init__(self, write: Callable[[G], Awaitable[R]]) -> None:
        self._write_group = write
        self._waiting: deque[tuple[G, asyncio.Future[R]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        #: Groups written so far (the tests read it).
        self.commits = 0

    @property
    def idle(self) -> bool:
        """Nothing is being written or waits to be: a group joined now would be written at once."""
        return self._writer is None

    def join(self, fits: Callable[[G], bool], new: Callable[[], G]) -> tuple[G, asyncio.Future[R]]:
        """The first waiting group `fits` accepts, else a `new` one; the caller adds its work to
        the group before it next awaits, then awaits the future (shielded: see the module)."""
        for group, done in self._waiting:
            if fits(group):
                return group, done
        group, done = new(), asyncio.get_running_loop().create_future()
        # Retrieved here so a failure whose requests all gave up is not reported as lost.
        done.add_done_callback(lambda future: future.cancelled() or future.exception())
        self._waiting.append((group, done))
        if self._writer is None:
            # Not bound by this request's deadline: the writer goes on for the requests after it.
            self._writer = asyncio.create_task(self._write(), context=deadlines.detached())
        return group, done

    async def _write(self) -> None:
        current: asyncio.Future[R] | None = None
        try:
            while self._waiting:
                group, current = self._waiting.popleft()
                try:
                    result = await self._write_group(group)
                except Exception as error:
                    current.set_exception(error)
                else:
                    self.commits += 1
                    current.set_result(result)
        except BaseException:
            # Cancelled (the process is stopping): no request may wait for a write that never comes.
            for left in (current, *(done for _, done in self._waiting)):
                if left is not None and not left.done():
                    left.cancel()
            self._waiting.clear()
            raise
        finally:
            self._writer = None
