"""The per-request GraphQL context: the graph handle, the caller and the request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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

    @property
    def today(self) -> date:
        """Today in the configured zone: the default `asOf` of every derived fact."""
        return datetime.now(self.settings.timezone).date()

    def as_of(self, value: date | None) -> date:
        return self.today if value is None else value


Info = strawberry.Info[Context, Any]
