"""A static cost estimate for each operation, refused above a configured maximum (docs/access.md, Abuse limits).

Every field costs one per time it may be resolved; a list multiplies what is below it by
its `first` argument when that is a literal, or by `DEFAULT_LIST_SIZE` otherwise (a variable
or no argument). A paged field (one with `first`) already counts its items, so the lists
directly inside it (a connection's `edges`) do not multiply again. Fragments are expanded
where they are spread, so they cannot hide cost.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

DEFAULT_LIST_SIZE = 10


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _first(node: FieldNode) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            return int(argument.value.value) if isinstance(argument.value, IntValueNode) else DEFAULT_LIST_SIZE
    return None


class _Estimator:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], ceiling: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.ceiling = ceiling

    def selection_set(
        self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str], paged: bool = False
    ) -> int:
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, seen, paged)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, target, seen, paged)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_set(fragment.selection_set, target, seen | {name}, paged)
            if total > self.ceiling:
                return total
        return total

    def field(self, node: FieldNode, parent: GraphQLObjectType, seen: frozenset[str], paged: bool) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 1
        first = _first(node)
        if first is not None:
            multiplier = first
        elif _is_list(definition.type) and not paged:
            multiplier = DEFAULT_LIST_SIZE
        else:
            multiplier = 1
        below = self.selection_set(node.selection_set, get_named_type(definition.type), seen, first is not None)
        return 1 + multiplier * below


def cost_limit_rule(maximum: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context: ValidationContext = self.context
            schema = context.schema
            root = {
                "query": schema.query_type,
                "mutation": schema.mutation_type,
                "subscription": schema.subscription_type,
            }[node.operation.value]
            fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            cost = _Estimator(schema, fragments, maximum).selection_set(node.selection_set, root, frozenset())
            if cost > maximum:
                context.report_error(
                    GraphQLError(f"The operation's estimated cost {cost} exceeds the maximum cost of {maximum}.", node)
                )

    return CostLimit
