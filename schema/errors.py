"""Stable error codes (docs/graphql.md, Errors) on every GraphQL error, and nothing internal leaked.

The project's own errors (`graph.errors`) carry their code; GraphQL validation and input
coercion errors are `BAD_USER_INPUT` naming the argument or variable, the abuse limits are
`LIMIT_EXCEEDED`, and anything else is masked as `INTERNAL`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping

from graphql import ArgumentNode, DocumentNode, FieldNode, Node, ObjectFieldNode, Visitor, get_operation_ast, visit
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from api.auth import AuthenticationError
from api.transport import request_log
from graph.errors import GraphError, InvalidInput, OutOfReach

log = logging.getLogger("shouhu.graphql")

LIMIT_MESSAGES = re.compile(
    r"exceeds maximum operation depth|aliases found|more than \d+ tokens|exceeds the maximum cost"
)
NAMED_INPUT = re.compile(r"(?:Variable '\$|Argument '|Field ')(?P<name>[A-Za-z_][A-Za-z0-9_]*)'")
#: graphql-core names the place inside a variable's value: "... has invalid value at .input.on: ...".
VARIABLE_PATH = re.compile(r"invalid value at (?P<path>[.A-Za-z0-9_\[\]]+):")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _ArgumentNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: dict[int, str] = {}

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        self.names[id(node.value)] = node.name.value

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        self.names[id(node.value)] = node.name.value


def argument_names(document: DocumentNode | None) -> Mapping[int, str]:
    """The argument or input field each literal value of the document is given for."""
    if document is None:
        return {}
    visitor = _ArgumentNames()
    visit(document, visitor)
    return visitor.names


def _input_name(error: GraphQLError, names: Mapping[int, str]) -> str | None:
    for node in error.nodes or ():
        if isinstance(node, Node) and id(node) in names:
            return names[id(node)]
    if match := VARIABLE_PATH.search(error.message):
        parts: list[str] = _NAME.findall(match.group("path"))
        if parts:
            return parts[-1]
    if match := NAMED_INPUT.search(error.message):
        return str(match.group("name"))
    return None


def classify(error: GraphQLError, names: Mapping[int, str] | None = None) -> GraphQLError:
    """The error as the client sees it; `names` (from `argument_names`) lets a bad literal name its argument."""
    original = error.original_error
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and original is None:
        # Our own checks (schema/cost.py) already chose the code and the field.
        return error
    if isinstance(original, InvalidInput):
        return _with(
            error,
            original.reason if original.field in str(original) else str(original),
            {"code": original.code, "field": original.field},
            message=str(original),
        )
    if isinstance(original, OutOfReach):
        return _with(error, str(original), {"code": original.code, "field": original.field})
    if isinstance(original, GraphError):
        return _with(error, str(original), {"code": original.code})
    if isinstance(original, AuthenticationError):
        return _with(error, str(original), {"code": "UNAUTHENTICATED"})
    if original is None or isinstance(original, GraphQLError):
        if LIMIT_MESSAGES.search(error.message):
            return _with(error, error.message, {"code": "LIMIT_EXCEEDED"})
        return _bad_input(error, names or {})
    # A value the schema's own scalars refused is the caller's input, not our failure.
    if isinstance(original, ValueError | TypeError) and error.path is None:
        name = _input_name(error, names or {})
        if name is None:
            return _with(error, error.message, {"code": "BAD_USER_INPUT"})
        return _with(error, "", {"code": "BAD_USER_INPUT", "field": name}, message=f"{name}: {original}")
    log.error("internal error at %s: %s", ".".join(map(str, error.path or [])), type(original).__name__)
    return _with(error, "Internal error.", {"code": "INTERNAL"}, message="Internal error.", keep_original=False)


def _bad_input(error: GraphQLError, names: Mapping[int, str]) -> GraphQLError:
    extensions: dict[str, object] = {"code": "BAD_USER_INPUT"}
    if (name := _input_name(error, names)) is not None:
        extensions["field"] = name
    return _with(error, error.message, extensions)


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


class StatusMessage(Exception):
    """Yielded by a subscription to tell its client something that is not an event: sent as
    `{"data": null, "extensions": {...}}` with no error (see `ErrorCodes.on_stream_result`)."""

    def __init__(self, extensions: dict[str, object]) -> None:
        super().__init__("status")
        self.extensions = extensions


class ErrorCodes(SchemaExtension):
    """Gives every error its stable code after the operation ran."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult) and result.errors:
            result.errors = self._classified(result.errors)
        pre = self.execution_context.pre_execution_errors
        if pre:
            pre = self.execution_context.pre_execution_errors = self._classified(pre)
        self._record(pre or [])

    def on_stream_result(self, result: StreamExecutionResult) -> None:  # type: ignore[override]
        # Each result of a subscription leaves before `on_operation` ends: give it its codes here,
        # so a WebSocket client reads the same `extensions.code` as an HTTP one.
        if isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult) and result.errors:
            status = [e.original_error for e in result.errors if isinstance(e.original_error, StatusMessage)]
            if status and len(status) == len(result.errors):
                result.errors = None
                result.extensions = {**(result.extensions or {}), **status[0].extensions}
                return
            result.errors = self._classified(result.errors)
            self._record(result.errors, operation=False)

    def _record(self, errors: list[GraphQLError], *, operation: bool = True) -> None:
        """Tell the request's log line what ran and how it failed: names and codes, no values."""
        request = getattr(self.execution_context.context, "request", None)
        entry = request_log(request.scope) if request is not None else None
        if entry is None:
            return
        if operation:
            document = self.execution_context.graphql_document
            found = get_operation_ast(document, self.execution_context.operation_name) if document else None
            entry.operation(
                self.execution_context.operation_name,
                found.operation.value if found else None,
                [s.name.value for s in found.selection_set.selections if isinstance(s, FieldNode)] if found else [],
            )
        entry.error_codes([str((error.extensions or {}).get("code", "UNKNOWN")) for error in errors])

    def _classified(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        names = argument_names(self.execution_context.graphql_document) if errors else {}
        return [classify(error, names) for error in errors]
