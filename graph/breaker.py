"""A circuit breaker in front of the database: while it is known to be down, fail at once.

Without it every request against a dead database waits out a connection timeout and the
driver's retries before it fails, and a restarting database is hammered by every client at
once. The breaker opens on the first error that says the database cannot be reached; while it
is open every query fails at once with `DatabaseUnavailable`, and one background probe asks the
database (`RETURN 1`) every `interval` seconds. When the probe is answered, `recover` runs (the
constraints at start, the warm-up of the plans this process uses most), then the breaker closes
and the listeners (the subscriptions) hear that the database is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar

from graph.deadlines import detached
from graph.errors import DatabaseUnavailable

log = logging.getLogger("shouhu.breaker")

#: Called with True when the database answers again, False when it is lost.
Listener = Callable[[bool], None]
#: Set in the probe's own task while `recover` runs: its queries must pass the open breaker.
_RECOVERING: ContextVar[bool] = ContextVar("shouhu_recovering", default=False)


class Breaker:
    def __init__(
        self,
        probe: Callable[[], Awaitable[object]],
        *,
        recover: Callable[[], Awaitable[object]] | None = None,
        interval: float = 0.25,
        probe_timeout: float = 5.0,
        recover_timeout: float = 30.0,
    ) -> None:
        self._probe = probe
        self._recover = recover
        self.interval = interval
        self.probe_timeout = probe_timeout
        self.recover_timeout = recover_timeout
        #: `time.monotonic()` when the database was lost; None while it answers.
        self.open_since: float | None = None
        self.reason = ""
        self._listeners: set[Listener] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        #: Whether the constraints have been applied (the API's recovery step applies them once).
        self.migrated = False

    @property
    def is_open(self) -> bool:
        return self.open_since is not None

    def check(self) -> None:
        """Refuse at once while the database is known to be down."""
        if self.open_since is not None and not _RECOVERING.get():
            raise DatabaseUnavailable("the database is not reachable; try again shortly")

    def trip(self, reason: str) -> None:
        """The database could not be reached: open, tell the listeners, start probing."""
        if self.open_since is not None or self._closed:
            return
        self.open_since = time.monotonic()
        self.reason = reason
        log.warning("database unreachable; failing fast until it answers", extra={"shouhu": {"reason": reason}})
        self._notify(False)
        # Tripped inside a request, the probe must not inherit its deadline (graph/deadlines.py).
        self._task = asyncio.get_running_loop().create_task(self._probe_until_answered(), context=detached())

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Hear each change of reachability; returns the function that stops listening."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    async def close(self) -> None:
        """Stop probing (the application is shutting down)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _probe_until_answered(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                async with asyncio.timeout(self.probe_timeout):
                    await self._probe()
            except Exception:  # noqa: S112 - any failure means: not yet
                continue
            if self._recover is not None:
                _RECOVERING.set(True)  # this task only: requests still fail fast meanwhile
                try:
                    async with asyncio.timeout(self.recover_timeout):
                        await self._recover()
                except Exception as error:  # a warm-up is worth trying, never required
                    log.warning("recovery step failed: %s", type(error).__name__)
            lost_for = time.monotonic() - (self.open_since or time.monotonic())
            self.open_since = None
            self.reason = ""
            self._task = None
            log.warning("database answers again", extra={"shouhu": {"unreachable_s": round(lost_for, 2)}})
            self._notify(True)
            return

    def _notify(self, reachable: bool) -> None:
        for listener in list(self._listeners):
            try:
                listener(reachable)
            except Exception as error:  # one listener must not stop the others
                log.warning("breaker listener failed: %s", type(error).__name__)
