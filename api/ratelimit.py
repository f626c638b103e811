"""Requests per caller, counted in sliding windows by the `limits` package.

A caller is the token's subject and role together: one person holding two roles gets two
allowances, and every token of the same subject and role shares one. The windows live in
this process by default (`memory://`), so N replicas admit up to N times the rate; pointing
`SHOUHU_RATE_LIMIT_STORAGE` at shared storage makes them count together.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from api.settings import Limits
from graph.callers import Caller


@dataclass(frozen=True, slots=True)
class Refusal:
    """Over a window: the seconds until one more request would be admitted."""

    retry_after: int
    rate: str


class RateLimiter:
    def __init__(self, limits: Limits) -> None:
        self.windows: list[RateLimitItem] = parse_many(limits.rate_limit)
        # The same storage URL as a synchronous client would take; this server counts asynchronously.
        url = limits.rate_limit_storage
        storage = storage_from_string(url if url.startswith("async+") else f"async+{url}")
        assert isinstance(storage, Storage)
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    async def admit(self, caller: Caller) -> Refusal | None:
        """Count one request of the caller; a refusal when a window is full (nothing counted then)."""
        key = (caller.sub, caller.role.value)
        for window in self.windows:
            if not await self.strategy.test(window, *key):
                stats = await self.strategy.get_window_stats(window, *key)
                return Refusal(max(1, math.ceil(stats.reset_time - time.time())), str(window))
        for window in self.windows:
            await self.strategy.hit(window, *key)
        return None
