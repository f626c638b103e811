"""Prometheus metrics of one API process, served at `GET /metrics` (docs/operations.md, Metrics).

Labels are names the server chooses, never values a client sends: a request is labelled by
its operation type and root fields (`query:child`, `mutation:recordVisit`), not by the
client's operation name, so a client can neither grow the series without bound nor write a
child's name into them.

Who may read them is `SHOUHU_METRICS`: `loopback` (the default) answers clients on 127.0.0.1
or ::1 that came through no proxy (no `Forwarded`/`X-Forwarded-For`), `on` answers anyone
who reaches the port, `off` answers 404.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.transport import RequestLog

#: Distinct operation labels kept; more are counted as `other`.
MAX_OPERATIONS: Final = 300
LOOPBACK: Final = frozenset({"127.0.0.1", "::1"})
PROXIED: Final = ("forwarded", "x-forwarded-for", "x-real-ip")
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Histogram(
            "shouhu_request_seconds",
            "Time to answer a GraphQL request, by operation (type and root fields)",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter("shouhu_errors", "Errors answered, by extensions.code", ["code"], registry=r)
        self.cypher = Histogram(
            "shouhu_cypher_seconds",
            "Time of each round trip to the database, by outcome (ok or the error code)",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("shouhu_requests_in_flight", "GraphQL requests being served now", registry=r)
        self.shed = Counter(
            "shouhu_requests_shed",
            "Requests refused to protect the process: caller (429), process (503), deadline (503)",
            ["reason"],
            registry=r,
        )
        self.pool_in_use = Gauge("shouhu_neo4j_pool_in_use", "Driver connections in use now", registry=r)
        self.pool_open = Gauge("shouhu_neo4j_pool_open", "Driver connections open now", registry=r)
        self.database_up = Gauge(
            "shouhu_database_reachable", "1 while the database answers, 0 while the breaker is open", registry=r
        )
        self.sweeps = Counter("shouhu_alert_sweeps", "Alert sweeps finished, by outcome", ["outcome"], registry=r)
        self.sweep_changes = Counter(
            "shouhu_alert_sweep_changes", "Alerts changed by sweeps, by change", ["change"], registry=r
        )
        self._operations: set[str] = set()

    def observe_request(self, entry: RequestLog, seconds: float) -> None:
        """One finished HTTP request on /graphql (the line api/transport.py logs)."""
        for code in entry.codes:
            self.errors.labels(code).inc()
        if entry.kind != "http" or entry.path != "/graphql" or not entry.operations:
            return
        self.requests.labels(self._operation(entry)).observe(seconds)

    def observe_query(self, seconds: float, outcome: str) -> None:
        self.cypher.labels(outcome).observe(seconds)

    def observe_sweep(self, changes: dict[str, int]) -> None:
        self.sweeps.labels("ok").inc()
        for change, count in changes.items():
            self.sweep_changes.labels(change).inc(count)

    def watch_pool(self, count: Callable[[], tuple[int, int]]) -> None:
        """`count` answers (in use, open) when the metrics are read."""

        def in_use() -> float:
            return _or_nan(lambda: count()[0])

        def open_() -> float:
            return _or_nan(lambda: count()[1])

        self.pool_in_use.set_function(in_use)
        self.pool_open.set_function(open_)

    def _operation(self, entry: RequestLog) -> str:
        first = entry.operations[0]
        fields = first.get("fields")
        names = sorted(set(fields)) if isinstance(fields, list) else []
        label = f"{first.get('type') or 'unknown'}:{','.join(str(n) for n in names[:3])}"
        if len(names) > 3:
            label += ",..."
        if label not in self._operations:
            if len(self._operations) >= MAX_OPERATIONS:
                return "other"
            self._operations.add(label)
        return label

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _or_nan(read: Callable[[], int]) -> float:
    try:
        return float(read())
    except Exception:  # the driver's pool is read through private attributes; never fail a scrape
        return math.nan


def may_read(request: Request, mode: str) -> bool:
    if mode == "on":
        return True
    if mode != "loopback" or request.client is None or request.client.host not in LOOPBACK:
        return False
    return not any(name in request.headers for name in PROXIED)


async def endpoint(request: Request) -> Response:
    metrics: Metrics = request.state.metrics
    if not may_read(request, request.state.settings.metrics):
        return PlainTextResponse("Not Found", status_code=404)
    return metrics.render()
