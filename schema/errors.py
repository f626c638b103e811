"""Stable error codes (docs/graphql.md, Errors) on every GraphQL error, and nothing internal leaked.

The project's own errors (`graph.errors`) carry their code; GraphQL validation and input
coercion errors are `BAD_USER_INPUT` naming the argument or variable, the abuse limits are
`LIMIT_EXCEEDED`, and anything else is masked as `INTERNAL`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from api.auth import AuthenticationError
from graph.errors import GraphError, InvalidInput

log = logging.getLogger("shouhu.graphql")

LIMIT_MESSAGES = re.compile(
    r"exceeds maximum operation depth|aliases found|more than \d+ tokens|exceeds the maximum cost"
)
NAMED_INPUT = re.compile(r"(?:Variable '\$|Argument '|Field ')(?P<name>[A-Za-z_][A-Za-z0-9_]*)'")


def classify(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, InvalidInput):
        return _with(
            error,
            original.reason if original.field in str(original) else str(original),
            {"code": original.code, "field": original.field},
            message=str(original),
        )
    if isinstance(original, GraphError):
        return _with(error, str(original), {"code": original.code})
    if isinstance(original, AuthenticationError):
        return _with(error, str(original), {"code": "UNAUTHENTICATED"})
    if original is None or isinstance(original, GraphQLError):
        if LIMIT_MESSAGES.search(error.message):
            return _with(error, error.message, {"code": "LIMIT_EXCEEDED"})
        extensions: dict[str, object] = {"code": "BAD_USER_INPUT"}
        if match := NAMED_INPUT.search(error.message):
            extensions["field"] = match.group("name")
        return _with(error, error.message, extensions)
    # A value the schema's own scalars refused is the caller's input, not our failure.
    if isinstance(original, ValueError | TypeError) and error.path is None:
        return _with(error, error.message, {"code": "BAD_USER_INPUT"})
    log.error("internal error at %s: %s", ".".join(map(str, error.path or [])), type(original).__name__)
    return _with(error, "Internal error.", {"code": "INTERNAL"}, message="Internal error.", keep_original=False)


def _with(
    error: GraphQLError,
    _reason: str,
    extensions: dict[str, object],
    *,
    message: str | None = None,
    keep_original: bool = True,
) -> GraphQLError:
    return GraphQLError(
        message=message or error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error if keep_original else None,
        extensions={**(error.extensions or {}), **extensions},
    )


class ErrorCodes(SchemaExtension):
    """Gives every error its stable code after the operation ran."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult) and result.errors:
            result.errors = [classify(error) for error in result.errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [classify(error) for error in pre]
