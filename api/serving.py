"""`shouhu serve`: uvicorn, with a drain before the graceful shutdown.

A balancer learns that a replica is going from its readiness: on SIGTERM the app's `Drain` is
set, so `/health/ready` answers 503 and responses close their connections, while requests are
still served for `shutdown_drain_seconds`; only then does uvicorn stop listening and wait up to
`shutdown_timeout_seconds` for the requests under way. A second SIGTERM, or SIGINT, stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType
from typing import Any

import uvicorn

from api.app import Drain, create_app, settle_heap
from api.logs import log_config
from api.settings import Settings

log = logging.getLogger("shouhu.app")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain, seconds: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.seconds = seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self.drain.draining or self.seconds <= 0:
            super().handle_exit(sig, frame)
            return
        self.drain.draining = True
        log.info("SIGTERM: draining for %.1f s (readiness answers 503), then shutting down", self.seconds)
        loop = asyncio.get_event_loop()
        # Signal handlers run between two steps of the loop; the timer is set from the loop itself.
        loop.call_soon_threadsafe(loop.call_later, self.seconds, super().handle_exit, sig, frame)


def serve(settings: Settings, *, reload: bool = False) -> None:
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        # Named rather than "auto", so a missing one fails the start instead of slowing every request.
        "loop": "uvloop",
        "http": "httptools",
        "log_config": log_config(),
        # The app writes one line per request itself; uvicorn's would carry GET query strings.
        "access_log": False,
        # A WebSocket message is held to the same bound as an ordinary request body.
        "ws_max_size": settings.limits.max_body_bytes,
        "timeout_graceful_shutdown": round(settings.shutdown_timeout_seconds),
    }
    if reload or settings.workers > 1:
        # The reloader and the workers import the app in processes of their own: it is named,
        # not passed. Each worker runs the app's lifespan: its own driver, migrations check and
        # daily sweep (the sweep's claim lets one process a day run it). Their supervisor stops
        # them with uvicorn's graceful shutdown, without the drain.
        uvicorn.run(
            "api.app:app_factory",
            factory=True,
            reload=reload,
            workers=settings.workers,
            # A worker answers the supervisor's health check only once its interpreter is up: on
            # a busy machine that takes longer than uvicorn's 5 s, and it would kill it as hung.
            timeout_worker_healthcheck=30,
            **options,
        )
        return
    drain = Drain()
    config = uvicorn.Config(create_app(settings, drain=drain), **options)
    settle_heap()
    DrainingServer(config, drain, settings.shutdown_drain_seconds).run()
