"""The deadline of the request being served, so no query outlives the request that asked for it.

The API sets it once per request (`api/shedding.py`); every query through `graph.driver.Graph`
then gets the time left as its server-side transaction timeout and as an asyncio timeout on the
client side. A command of the CLI sets none: an import or a sweep from cron runs as long as it
needs (the database's own `SHOUHU_NEO4J_TX_TIMEOUT` still bounds each transaction).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar, copy_context

#: `time.monotonic()` by which the current request must be answered; None outside a request.
_DEADLINE: ContextVar[float | None] = ContextVar("shouhu_deadline", default=None)


def remaining() -> float | None:
    """Seconds left before the current request's deadline (0 or less once passed), or None."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Run the block under a deadline `seconds` from now (or the enclosing one, if sooner)."""
    deadline = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def detached() -> Context:
    """The current context without a deadline, for a task that outlives the request that starts
    it (`asyncio.create_task(..., context=detached())`): the audit's shared writer, the breaker's
    probe. Started plainly, such a task would inherit the first request's deadline and fail every
    query once it passed."""
    context = copy_context()
    context.run(_DEADLINE.set, None)
    return context
