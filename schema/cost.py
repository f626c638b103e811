"""Bounds checked on the parsed operation with its variables, before anything runs (docs/access.md, Abuse limits).

Page sizes: every `first` or `last` argument in the schema takes 1 up to its field's maximum
(the `max_page` limit, or less where the field declares it with `page_limit`), whether it is
written in the query, passed in a variable or left at its default. Anything else is refused
as `BAD_USER_INPUT` naming the argument, so no size can make the estimate below negative.

Cost: every field costs one per time it may be resolved. A paged field multiplies what is
below it by its page size, at its value whether literal or variable (a variable must not be
a way around the estimate), or by its default; a list without a page size multiplies by
`DEFAULT_LIST_SIZE`. A paged field already counts its items, so the lists directly inside it
(a connection's `edges`) do not multiply again. Fragments are expanded where they are
spread, so they cannot hide cost.

Tokens: the variables count against the document's token limit, one token per value, key
and list item, so a list of a million region codes in a variable costs what it would cost
written in the query.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.language import Lexer, Source, TokenKind
from starlette.requests import Request
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

from api.settings import Limits
from schema.pagination import DEFAULT_PAGE

DEFAULT_LIST_SIZE: Final = 10
#: Tokens of the documents kept parsed and validated (`Documents`): a parsed document keeps about
#: 400 bytes a token, so this stays under 20 MiB however large the documents sent, and holds a
#: few hundred operations of the usual 50 to 200 tokens, more than all clients together send.
DOCUMENT_CACHE_TOKENS: Final = 50_000
PAGE_ARGUMENTS: Final = ("first", "last")
#: Combinations of page sizes remembered as within the limits, per operation of a document.
KNOWN_WITHIN: Final = 256
#: Where a field's own smaller page maximum is kept, in `strawberry.field(metadata=...)`.
MAX_PAGE: Final = "shouhu.max_page"


def page_limit(maximum: int) -> dict[str, int]:
    """`metadata` for a paged field that never returns more than `maximum` items."""
    return {MAX_PAGE: maximum}


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def page_arguments(definition: GraphQLField) -> Iterator[str]:
    """The page-size arguments a field takes: `first` or `last` of type Int."""
    for name in PAGE_ARGUMENTS:
        argument = definition.args.get(name)
        if argument is not None and get_named_type(argument.type) is GraphQLInt:
            yield name


def field_maximum(definition: GraphQLField, limits: Limits) -> int:
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    declared = getattr(strawberry_field, "metadata", None) or {}
    return min(int(declared.get(MAX_PAGE, limits.max_page)), limits.max_page)


class _Operation:
    """One operation with the values its variables have in this request."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, object],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.variables: dict[str, object] = {}
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name in variables:
                self.variables[name] = variables[name]
            elif isinstance(definition.default_value, IntValueNode):
                self.variables[name] = int(definition.default_value.value)
        self.errors: list[GraphQLError] = []
        #: The variables the estimate read (page sizes): all it depends on besides the document.
        self.read: set[str] = set()

    def argument(self, node: FieldNode, definition: GraphQLField, name: str) -> tuple[object, ArgumentNode | None]:
        """The value an argument has here (None when unknown or null), and its node."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, IntValueNode):
                    return int(value.value), argument
                if isinstance(value, VariableNode):
                    self.read.add(value.name.value)
                    return self.variables.get(value.name.value), argument
                # Another literal kind is a type error that validation reports.
                return None, argument
        default = definition.args[name].default_value
        return (None if default is Undefined else default), None

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The items a paged field may return (refusing a size out of range), or None if not paged."""
        size: int | None = None
        for name in page_arguments(definition):
            value, argument = self.argument(node, definition, name)
            maximum = field_maximum(definition, self.limits)
            if not _is_int(value):
                # Null or absent: the field's default page; a string is coercion's to refuse.
                size = max(size or 0, min(DEFAULT_PAGE, maximum))
                continue
            assert isinstance(value, int)
            if not 1 <= value <= maximum:
                self.errors.append(
                    GraphQLError(
                        f"{name}: must be between 1 and {maximum}, not {value}",
                        argument or node,
                        extensions={"code": "BAD_USER_INPUT", "field": name},
                    )
                )
                value = maximum
            size = max(size or 0, value)
        return size

    def cost(self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str], paged: bool = False) -> int:
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, seen, paged)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, seen, paged)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set, target, seen | {name}, paged)
            if total > self.limits.max_cost:
                # Spreads of spreads could multiply the work of estimating: stop once refused.
                return total
        return total

    def field(self, node: FieldNode, parent: GraphQLObjectType, seen: frozenset[str], paged: bool) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 1
        size = self.page_size(node, definition)
        if size is not None:
            multiplier = size
        elif _is_list(definition.type) and not paged:
            multiplier = DEFAULT_LIST_SIZE
        else:
            multiplier = 1
        below = self.cost(node.selection_set, get_named_type(definition.type), seen, size is not None)
        return 1 + multiplier * below


def variable_tokens(value: object, budget: int) -> int:
    """Tokens a variable's value counts for, stopping once past `budget`."""
    count = 0
    stack = [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, Mapping):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def count_tokens(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


#: (operation name) -> (the variables its estimate reads, their values known within the limits).
Within = dict[str | None, tuple[frozenset[str], set[tuple[tuple[str, object], ...]]]]
_ABSENT: Final = object()


def _sizes(names: frozenset[str], values: Mapping[str, object]) -> tuple[tuple[str, object], ...] | None:
    """The values of the page-size variables, as a key; None when one cannot be a key."""
    key = tuple((name, values.get(name, _ABSENT)) for name in sorted(names))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, object] | None,
    limits: Limits,
    *,
    document_tokens: int | None = None,
    within: Within | None = None,
) -> list[GraphQLError]:
    """Why this operation may not run (page sizes, cost, tokens), or nothing; `document_tokens`
    is the query's own count when it is already known. `within` remembers, for one document
    under these limits, the page sizes it was found within the limits at: the estimate depends
    on nothing else, so a client sending the same operation again is not estimated again (the
    tokens of its variables are counted every time)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []
    values = variables if isinstance(variables, Mapping) else {}
    spent = count_tokens(query) if document_tokens is None else document_tokens
    tokens = spent + variable_tokens(values, limits.max_tokens - spent)
    if tokens > limits.max_tokens:
        return [
            GraphQLError(
                f"The document and its variables hold more than {limits.max_tokens} tokens.",
                extensions={"code": "LIMIT_EXCEEDED"},
            )
        ]
    known = None if within is None else within.get(operation_name)
    if known is not None and _sizes(known[0], values) in known[1]:
        return []
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]
    estimate = _Operation(schema, document, operation, values, limits)
    cost = estimate.cost(operation.selection_set, root, frozenset())
    if estimate.errors:
        return estimate.errors
    if cost > limits.max_cost:
        return [
            GraphQLError(
                f"The operation's estimated cost {cost} exceeds the maximum cost of {limits.max_cost}.",
                operation,
                extensions={"code": "LIMIT_EXCEEDED"},
            )
        ]
    if within is not None:
        names = frozenset(estimate.read)
        sizes = _sizes(names, values)
        remembered = within.setdefault(operation_name, (names, set()))
        if sizes is not None and remembered[0] == names and len(remembered[1]) < KNOWN_WITHIN:
            remembered[1].add(sizes)
    return []


def _transport_errors(document: DocumentNode, operation_name: str | None, context: object) -> list[GraphQLError]:
    operation = get_operation_ast(document, operation_name)
    request = getattr(context, "request", None)
    if operation is not None and operation.operation is OperationType.SUBSCRIPTION and isinstance(request, Request):
        return [
            GraphQLError(
                "Subscriptions are served over a WebSocket at /graphql (graphql-transport-ws), not over HTTP.",
                operation,
                extensions={"code": "BAD_USER_INPUT", "field": "query"},
            )
        ]
    return []


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a document's text alone decides: its syntax tree, its validation errors and its tokens."""

    document: DocumentNode
    errors: tuple[GraphQLError, ...]
    tokens: int
    #: The page sizes its operations were found within the limits at (`check`).
    within: Within = field(default_factory=dict, compare=False, repr=False)


class Documents:
    """The documents last seen, up to `budget` tokens together, by their text and the validation rules they were checked
    against: a client sends the same few operations again and again, and parsing and validating
    one costs more CPU than running it. Nothing here depends on the caller or the variables, so
    one entry serves everyone; what does (page sizes, cost, the variables' tokens, the transport)
    is checked on every request."""

    def __init__(self, limits: Limits, budget: int = DOCUMENT_CACHE_TOKENS) -> None:
        self.budget = budget
        self.tokens = 0
        #: The depth and alias limits, as validation rules built once (strawberry's extensions
        #: would build a new rule class per request, and no two requests would share a result).
        self.rules: tuple[type[ASTValidationRule], ...] = (
            *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
        )
        self._entries: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], Prepared] = OrderedDict()

    def get(self, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Prepared | None:
        key = (query, rules)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def prepare(
        self, schema: GraphQLSchema, query: str, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> Prepared:
        """Validate a freshly parsed document and keep the result, forgetting the least recently
        used ones past the budget (the newest stays, whatever its size)."""
        errors = validate_document(schema, document, (*rules, *self.rules))
        prepared = Prepared(document, tuple(errors), count_tokens(query))
        replaced = self._entries.pop((query, rules), None)
        self.tokens -= 0 if replaced is None else replaced.tokens
        self._entries[(query, rules)] = prepared
        self.tokens += prepared.tokens
        while self.tokens > self.budget and len(self._entries) > 1:
            _, oldest = self._entries.popitem(last=False)
            self.tokens -= oldest.tokens
        return prepared

    def __len__(self) -> int:
        return len(self._entries)


class OperationLimits(SchemaExtension):
    """Parses and validates each document text once (`Documents`), then runs `check` on every
    request once its document is valid, so a refused operation never executes."""

    def __init__(self, limits: Limits, documents: Documents) -> None:
        self.limits = limits
        self.documents = documents
        self.prepared: Prepared | None = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            self.prepared = self.documents.get(context.query, context.validation_rules)
            if self.prepared is not None:
                context.graphql_document = self.prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        # Strawberry decides whether to execute inside the validation step, before this hook's
        # exit runs; so validate here first, then add our refusals, and leave validation done.
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            prepared = self.prepared
            if prepared is None:
                prepared = self.documents.prepare(
                    context.schema._schema, context.query or "", context.graphql_document, context.validation_rules
                )
            errors = list(prepared.errors)
            if not errors:
                errors = _transport_errors(context.graphql_document, context.operation_name, context.context)
            if not errors:
                errors = check(
                    context.schema._schema,
                    context.graphql_document,
                    context.query or "",
                    context.operation_name,
                    context.variables,
                    self.limits,
                    document_tokens=prepared.tokens,
                    within=prepared.within,
                )
            context.pre_execution_errors = errors
        yield
