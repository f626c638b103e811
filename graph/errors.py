"""The project's own errors, raised at the repository boundary.

Driver exceptions never cross into `schema/` or `api/`: repositories translate them here, and
the GraphQL layer maps each type to a stable `extensions.code` (docs/graphql.md, Errors).
"""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error the graph layer raises on purpose."""

    code = "INTERNAL"


class NotFound(GraphError):
    code = "NOT_FOUND"


class Conflict(GraphError):
    """A state transition that is not allowed, or a duplicate."""

    code = "CONFLICT"


class Forbidden(GraphError):
    code = "FORBIDDEN"


class OutOfReach(Forbidden):
    """A write named a record that is absent or outside the caller's scope.

    Both read the same, code and text, and quote no value (docs/access.md: "exists elsewhere" and
    "exists nowhere" read the same), so a refused write is no oracle over ids.
    """

    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: no such record within your scope")
        self.field = field


class InvalidInput(GraphError):
    """Bad input, naming the field and the reason."""

    code = "BAD_USER_INPUT"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DatabaseUnavailable(GraphError):
    code = "DATABASE_UNAVAILABLE"


class LimitExceeded(GraphError):
    """A request over a configured bound (size, depth, cost, rate)."""

    code = "LIMIT_EXCEEDED"


class Timeout(DatabaseUnavailable):
    """The request's deadline passed before the database answered (`SHOUHU_REQUEST_TIMEOUT`)."""


class Overloaded(LimitExceeded):
    """Every connection to the database is in use: the server sheds the request rather than queue it."""
