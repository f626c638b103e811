"""Load shedding: how many GraphQL requests run at once, and for how long.

A process serves at most `max_in_flight` requests at once and one caller (token subject and
role) at most `max_in_flight_per_caller` of them; both stay below the driver's connection pool,
so an overload is refused at the door with a meaning instead of failing deep inside as a pool
timeout. One caller over its share is answered 429, `LIMIT_EXCEEDED`, at once; a full process
lets a request wait `queue_timeout` seconds for a place, then answers 503, `LIMIT_EXCEEDED`;
both with `Retry-After`. A request admitted runs under a deadline (`request_timeout`, or
`import_timeout` for a bundle import): every query it makes gets the time left
(graph/deadlines.py), and one that is still running then is answered 503,
`DATABASE_UNAVAILABLE`, never left hanging.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from api.metrics import Metrics
from api.settings import Capacity
from api.transport import limit_exceeded, request_log, response_codes
from graph import deadlines
from graph.callers import Caller

log = logging.getLogger("shouhu.shedding")

#: Seconds past the deadline the whole request may still take: the queries themselves stop at
#: the deadline and answer with their errors; this catches what waits on anything else.
GRACE: Final = 0.5
RETRY_AFTER: Final = "1"

App = Callable[[Scope, Receive, Send], Awaitable[None]]


def unavailable(message: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "DATABASE_UNAVAILABLE"}}]},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER},
    )


class Shedder:
    def __init__(self, capacity: Capacity, metrics: Metrics | None = None) -> None:
        self.capacity = capacity
        self.metrics = metrics
        self._places = asyncio.Semaphore(capacity.max_in_flight)
        self._by_caller: Counter[tuple[str, str]] = Counter()

    @property
    def in_flight(self) -> int:
        return self.capacity.max_in_flight - self._places._value

    async def serve(
        self, caller: Caller, is_import: bool, app: App, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run `app` for this request if there is room, under its deadline; else refuse it."""
        key = (caller.sub, caller.role.value)
        if self._by_caller[key] >= self.capacity.max_in_flight_per_caller:
            await self._refuse(
                "caller",
                limit_exceeded(
                    f"More than {self.capacity.max_in_flight_per_caller} requests of this caller at once; "
                    "retry when one has been answered.",
                    429,
                    {"Retry-After": RETRY_AFTER},
                ),
                scope,
                receive,
                send,
            )
            return
        self._by_caller[key] += 1
        try:
            try:
                async with asyncio.timeout(self.capacity.queue_timeout):
                    await self._places.acquire()
            except TimeoutError:
                await self._refuse(
                    "process",
                    limit_exceeded("The server is at capacity; retry shortly.", 503, {"Retry-After": RETRY_AFTER}),
                    scope,
                    receive,
                    send,
                )
                return
            try:
                await self._run(is_import, app, scope, receive, send)
            finally:
                self._places.release()
        finally:
            self._by_caller[key] -= 1
            if self._by_caller[key] <= 0:
                del self._by_caller[key]

    async def _run(self, is_import: bool, app: App, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = self.capacity.import_timeout if is_import else self.capacity.request_timeout
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        if self.metrics is not None:
            self.metrics.in_flight.inc()
        try:
            with deadlines.within(seconds):
                async with asyncio.timeout(seconds + GRACE):
                    await app(scope, receive, watched)
        except TimeoutError:
            if started:  # the answer was on its way: nothing better can be sent now
                log.warning("a request passed its deadline while answering")
                return
            await self._refuse(
                "deadline",
                unavailable(f"The request did not finish within {seconds:g} s; try again shortly."),
                scope,
                receive,
                send,
            )
        finally:
            if self.metrics is not None:
                self.metrics.in_flight.dec()

    async def _refuse(self, reason: str, response: JSONResponse, scope: Scope, receive: Receive, send: Send) -> None:
        if self.metrics is not None:
            self.metrics.shed.labels(reason).inc()
        if (entry := request_log(scope)) is not None:
            entry.error_codes(response_codes(response))
        await response(scope, receive, send)
