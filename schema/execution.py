"""Completing a query's root field without graphql-core's machinery per field, when it can.

graphql-core completes every field of a response the same general way: a resolve info, the
arguments coerced again, the result checked for an awaitable, a path, a chain of type tests,
and a map of the results to gather. A list of 50 children with their parents, guardians and
caregivers is about 2,300 fields, and that general way was most of its CPU. Below a root field
of a query whose value is already resolved (the child's file and the lists read everything in
their one statement and prime the loaders), almost every field answers at once.

`Executor` completes such a root field in one synchronous walk over the same selection
graphql-core collects (`collect_subfields`: fragments, aliases, merging, `@skip`/`@include`
as graphql-core reads them). Each field is resolved by the very resolver graphql-core would
call, through the same middleware, with the same resolve info and arguments, and each value
is completed as graphql-core would: leaves by their type's own coercion, `is_type_of` checked,
`__typename` named. The arguments of a field are coerced once per request instead of once per
item, and a plain attribute field (strawberry's default resolver, which takes no info) is read
without building an info for it.

Whatever the walk cannot answer exactly at once, it gives up and leaves the root field to
graphql-core from the start: an awaitable anywhere (a loader not primed), an error of any kind,
a null in a non-null position, an abstract type, an `async` resolver, a directive on a field,
anything but a list where a list is due. Resolvers here are free of effects but for the read
audit's notes, which are idempotent, and loads, which the request's loaders cache, so a
second resolution of the same fields gives the same answer and the same errors; mutations and
subscriptions are never walked. The same JSON either way is what `tests/schema/test_execution.py`
holds for many selections.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class _Fallback(Exception):
    """The walk cannot answer this root field exactly as graphql-core would."""


#: One field of an object's selection, worked out once per request: (response key, the field's
#: details, its definition or None for __typename, the resolver to call, whether that resolver
#: is strawberry's plain attribute read, the coerced arguments).
_Entry = tuple[str, FieldDetailsList, GraphQLField | None, Callable[..., Any], bool, dict[str, Any]]


def _named(type_: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


class Executor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with a synchronous walk for a query's resolved root fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (object type, id of its field details) -> (the details, kept alive so the id stays
        #: theirs; the entries, or None when the walk cannot answer that selection)
        self._entries: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, list[_Entry] | None]] = {}

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if (
            path.prev is None
            and position_context is None
            and self.operation.operation is OperationType.QUERY
            and self._walkable(return_type, field_details_list)
        ):
            # Anything the walk cannot answer (an error included) graphql-core answers below,
            # from the start of this root field, with the error in its place.
            with contextlib.suppress(Exception):
                return self._complete(return_type, field_details_list, info, path, result)
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    # --- what the walk can answer: decided on the selection, before any resolver runs ---------

    def _walkable(self, type_: GraphQLOutputType, details: FieldDetailsList) -> bool:
        named = _named(type_)
        if is_leaf_type(named):
            return True
        if not is_object_type(named):
            return False
        assert isinstance(named, GraphQLObjectType)
        entries = self._plan(named, details)
        return entries is not None and all(
            field is None or self._walkable(field.type, sub) for _, sub, field, _, _, _ in entries
        )

    def _plan(self, type_: GraphQLObjectType, details: FieldDetailsList) -> list[_Entry] | None:
        key = (type_, id(details))
        known = self._entries.get(key)
        if known is not None:
            return known[1]
        entries: list[_Entry] | None = None
        # An argument graphql-core must report on (a bad variable) leaves the field to it.
        with contextlib.suppress(Exception):
            entries = self._entries_of(type_, details)
        self._entries[key] = (details, entries)
        return entries

    def _entries_of(self, type_: GraphQLObjectType, details: FieldDetailsList) -> list[_Entry] | None:
        collected = self.collect_subfields(type_, details)
        if collected.new_defer_usages:
            return None
        entries: list[_Entry] = []
        for key, sub in collected.grouped_field_set.items():
            first = sub[0]
            if any(d.node.directives for d in sub) or first.fragment_variable_values is not None:
                return None
            name = first.node.name.value
            if name == "__typename":
                entries.append((key, sub, None, _typename, False, {}))
                continue
            field = self.schema.get_field(type_, name)
            if field is None:
                return None
            definition = field.extensions.get(_DEFINITION)
            if definition is None or definition.is_async:
                return None
            resolve = field.resolve or self.field_resolver
            if self.middleware_manager:
                resolve = self.middleware_manager.get_field_resolver(resolve)
            plain = getattr(resolve, "_is_default", False) is True
            arguments = (
                get_argument_values(
                    field, first.node, self.variable_values, first.fragment_variable_values, self.hide_suggestions
                )
                if field.args or first.node.arguments
                else {}
            )
            entries.append((key, sub, field, resolve, plain, arguments))
        return entries

    # --- the walk ------------------------------------------------------------------------------

    def _complete(
        self,
        type_: GraphQLOutputType,
        details: FieldDetailsList,
        info: GraphQLResolveInfo[Any] | None,
        path: Path,
        value: Any,
    ) -> Any:
        if isinstance(value, Exception) or self.is_awaitable(value):
            _discard(value)
            raise _Fallback
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            completed = self._complete(type_.of_type, details, info, path, value)
            if completed is None:
                raise _Fallback
            return completed
        if value is None or value is Undefined:
            return None
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            if not isinstance(value, list | tuple):
                raise _Fallback
            item_type = type_.of_type
            return [self._complete(item_type, details, info, path.add_key(i, None), x) for i, x in enumerate(value)]
        if is_leaf_type(type_):
            return self.complete_leaf_value(type_, value)
        assert isinstance(type_, GraphQLObjectType)
        if type_.is_type_of is not None:
            if info is None:
                raise _Fallback
            if not type_.is_type_of(value, info):
                raise _Fallback
        return self._object(type_, details, path, value)

    def _object(self, type_: GraphQLObjectType, details: FieldDetailsList, path: Path, source: Any) -> dict[str, Any]:
        entries = self._plan(type_, details)
        if entries is None:
            raise _Fallback
        data: dict[str, Any] = {}
        for key, sub, field, resolve, plain, arguments in entries:
            if field is None:
                data[key] = type_.name
                continue
            field_path = Path(path, key, type_.name)
            info: GraphQLResolveInfo[Any] | None = None
            if plain:
                value = resolve(source, None)
                if not is_leaf_type(_named(field.type)):
                    info = self.build_resolve_info(field, [d.node for d in sub], type_, field_path)
            else:
                info = self.build_resolve_info(field, [d.node for d in sub], type_, field_path)
                value = resolve(source, info, **arguments)
            data[key] = self._complete(field.type, sub, info, field_path, value)
        return data


def _typename() -> None:
    """A stand-in: `__typename` is the object type's name, never resolved."""


def _discard(value: Any) -> None:
    """Close a coroutine the walk will not await (graphql-core resolves the field again); a
    loader's future stays in the loader's cache for that second resolution."""
    close = getattr(value, "close", None)
    if callable(close) and hasattr(value, "cr_frame"):
        close()
