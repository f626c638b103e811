"""The per-request GraphQL context: the graph handle, the caller and the request's loaders."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.settings import Settings
from graph.audit import AuditLog
from graph.callers import Caller
from graph.driver import Graph

if TYPE_CHECKING:
    from schema.loaders import Loaders


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    graph: Graph
    settings: Settings
    caller: Caller
    #: The process's read audit (shared transactions); None appends a request's events on their own.
    audit_log: AuditLog | None = None
    #: DataLoaders live for one request only, so one caller's cache never serves another.
    _loaders: Loaders | None = field(default=None, repr=False)
    #: graphql-transport-ws: connection_init's payload (strawberry sets it; the token is there).
    connection_params: dict[str, Any] | None = field(default=None, repr=False)
    #: When the caller's token expires (seconds since the epoch); a WebSocket is closed then.
    expires_at: float | None = None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            from schema.loaders import Loaders

            self._loaders = Loaders(self.graph, self.caller, self.settings.case_deadlines, self.settings.timezone.key)
        return self._loaders

    #: Today's date and the moment (seconds since the epoch) it ends, in the configured zone.
    _today: tuple[date, float] | None = field(default=None, repr=False)

    @property
    def today(self) -> date:
        """Today in the configured zone: the default `asOf` of every derived fact. Worked out
        once until midnight (a field of a list of 50 asked it for each child and link), and
        again after it, for a socket that stays open across days."""
        known = self._today
        if known is not None and time.time() < known[1]:
            return known[0]
        zone = self.settings.timezone
        day = datetime.now(zone).date()
        ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).timestamp()
        self._today = (day, ends)
        return day

    def as_of(self, value: date | None) -> date:
        return self.today if value is None else value


Info = strawberry.Info[Context, Any]
