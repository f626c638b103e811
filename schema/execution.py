"""Completing a query's root field without graphql-core's machinery per field, when it can.

graphql-core completes every field of a response the same general way: a resolve info, the
arguments coerced again, the result checked for an awaitable, a path, a chain of type tests,
and a map of the results to gather. A list of 50 children with their parents, guardians and
caregivers is about 2,300 fields, and that general way was most of its CPU. Below a root field
of a query whose value is already resolved (the child's file and the lists read everything in
their one statement and prime the loaders), almost every field answers at once.

`Executor` completes such a root field in one synchronous walk over the same selection
graphql-core collects (`collect_subfields`: fragments, aliases, merging, `@skip`/`@include`
as graphql-core reads them). Each field is resolved by the very resolver function strawberry
would call, with the same resolve info and arguments, and each value is completed as
graphql-core would: leaves by their type's own coercion, `is_type_of` checked, `__typename`
named. What graphql-core and strawberry work out again for every item is worked out once per
request and field of the selection: the arguments, coerced and converted to Python values; the
chain of type tests a value of the field's type goes through (a closure per field); whether
the resolver is a plain attribute read (strawberry's default resolver, which takes no info,
read with `getattr` and no info built) or a function strawberry would call with nothing of
its own around it (no field extension, permission, middleware or exception handler, and only
scalar or enum arguments): that one is called directly, with strawberry's `Info` over the
same resolve info. Any other resolver is called through strawberry as before. In the list of
50 children, this halved the calls per request (about 108,000 to 63,000) and took 15–20% off
the served list's CPU.

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
import datetime as dt
import operator
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    OperationType,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class _Fallback(Exception):
    """The walk cannot answer this root field exactly as graphql-core would."""


#: How a field's value is found: strawberry's attribute read (`getattr`, no info) of a leaf
#: (which needs no path either) or of an object, the resolver called directly, or the field's
#: resolver as graphql-core would call it.
_LEAF_ATTRIBUTE, _ATTRIBUTE, _DIRECT, _RESOLVER, _TYPENAME = range(5)

#: Completes one value of a field's type: (value, the field's resolve info or None, its path).
_Completer = Callable[[Any, "GraphQLResolveInfo[Any] | None", Path], Any]

#: One field of an object's selection, worked out once per request: (response key, the
#: field's details, its definition or None for __typename, how its value is found, what finds
#: it, whether it needs a resolve info, the coerced arguments, how its value completes, and
#: the field's nodes, as every resolve info of it holds them).
_Entry = tuple[
    str, FieldDetailsList, GraphQLField | None, int, Callable[..., Any], bool, dict[str, Any], _Completer, list[Any]
]

#: Values that are data, never an awaitable or an error: most leaves the walk completes.
_DATA: frozenset[type] = frozenset({str, int, float, bool, dt.date, dt.datetime, list, tuple, dict})


#: Output coercions that return a value of this exact type as it is (graphql-core's String, ID
#: and Boolean), so the walk skips the call for it.
_AS_IS: dict[Any, type] = {serialize_string: str, serialize_id: str, serialize_boolean: bool}


def _named(type_: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


class Executor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with a synchronous walk for a query's resolved root fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers(weakref.ref(self))
        #: (object type, id of its field details) -> (the details, kept alive so the id stays
        #: theirs; the entries, or None when the walk cannot answer that selection)
        self._entries: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, list[_Entry] | None]] = {}
        strawberry_schema = self.schema.extensions.get(_DEFINITION)
        converter = getattr(strawberry_schema, "schema_converter", None)
        #: Resolvers may be called directly (`_direct`) only where strawberry's own call adds
        #: nothing: no middleware, no exception handlers (which wrap every resolver call).
        self._converter = (
            converter
            if converter is not None
            and not (self.middleware_manager is not None and self.middleware_manager.middlewares)
            and not getattr(converter, "_exception_handler_specs", ())
            else None
        )

    def build_response(self, data: dict[str, Any] | None) -> Any:
        # The plans' completers hold this executor (its bound methods), and the executor holds
        # the request's context, its loaders and every record they read: a cycle (see `_helpers`).
        self._entries.clear()
        return super().build_response(data)

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

    def _complete(
        self,
        type_: GraphQLOutputType,
        details: FieldDetailsList,
        info: GraphQLResolveInfo[Any] | None,
        path: Path,
        value: Any,
    ) -> Any:
        """A root field's value completed by the walk; `_Fallback` (or any error) where it cannot."""
        return self._completer(type_, details)(value, info, path)

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
            entry[2] is None or self._walkable(entry[2].type, entry[1]) for entry in entries
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
                entries.append((key, sub, None, _TYPENAME, _typename, False, {}, _typename, []))
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
            arguments = (
                get_argument_values(
                    field, first.node, self.variable_values, first.fragment_variable_values, self.hide_suggestions
                )
                if field.args or first.node.arguments
                else {}
            )
            named = _named(field.type)
            # An object's `is_type_of` is the only use of a plain field's resolve info.
            wants_info = isinstance(named, GraphQLObjectType) and named.is_type_of is not None
            if getattr(resolve, "_is_default", False) is True and definition.is_basic_field:
                how, call = (_LEAF_ATTRIBUTE if is_leaf_type(named) else _ATTRIBUTE), _attribute(definition)
            else:
                direct = self._direct(field, definition, arguments)
                how, call, wants_info = (_RESOLVER, resolve, True) if direct is None else (_DIRECT, direct, True)
            nodes = [d.node for d in sub]
            entries.append((key, sub, field, how, call, wants_info, arguments, self._completer(field.type, sub), nodes))
        return entries

    def _direct(self, field: GraphQLField, definition: Any, arguments: dict[str, Any]) -> Callable[..., Any] | None:
        """The field's resolver called as strawberry calls it, without the work strawberry does
        again for every item (its info type built through two wrappers, the arguments converted
        again, the chain of field extensions folded): None where that work could differ from
        one call to the next, or add anything (field extensions, permissions, input types,
        which may build their value from the info)."""
        converter = self._converter
        resolver = definition.base_resolver
        if converter is None or resolver is None or definition.extensions:
            return None
        if not all(
            isinstance(_unwrapped(arg.type), GraphQLScalarType | GraphQLEnumType) for arg in field.args.values()
        ):
            return None
        converted = convert_arguments(
            arguments,
            definition.arguments,
            scalar_registry=converter.scalar_registry,
            config=converter.config,
            info=None,
        )
        function = resolver.wrapped_func
        if not callable(function):
            return None
        takes_self = resolver.self_parameter is not None
        sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None]
        info_name = None if resolver.info_parameter is None else resolver.info_parameter.name
        info_class = converter.config.info_class

        def call(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
            kwargs = dict(converted)
            for name in sources:
                kwargs[name] = source
            if info_name is not None:
                kwargs[info_name] = info_class(_raw_info=info, _field=definition)
            return function(source, **kwargs) if takes_self else function(**kwargs)

        return call

    # --- the walk ------------------------------------------------------------------------------

    def _completer(self, type_: GraphQLOutputType, details: FieldDetailsList) -> _Completer:
        """How a value of `type_` completes below `details`: the type's tests made once, here,
        rather than for every value."""
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            inner = self._completer(type_.of_type, details)

            def non_null(value: Any, info: GraphQLResolveInfo[Any] | None, path: Path) -> Any:
                completed = inner(value, info, path)
                if completed is None:
                    raise _Fallback
                return completed

            return non_null
        check = self._check
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            item = self._completer(type_.of_type, details)

            def listed(value: Any, info: GraphQLResolveInfo[Any] | None, path: Path) -> Any:
                if type(value) not in _DATA:
                    check(value)
                    if value is None or value is Undefined:
                        return None
                if not isinstance(value, list | tuple):
                    raise _Fallback
                return [item(x, info, path.add_key(i, None)) for i, x in enumerate(value)]

            return listed
        if is_leaf_type(type_):
            leaf_type = type_
            complete_leaf = self.complete_leaf_value

            def leaf(value: Any, info: GraphQLResolveInfo[Any] | None, path: Path) -> Any:
                if type(value) not in _DATA:
                    check(value)
                    if value is None or value is Undefined:
                        return None
                return complete_leaf(leaf_type, value)

            unchanged = _AS_IS.get(getattr(leaf_type, "coerce_output_value", None))
            if unchanged is None:
                return leaf

            def as_is(value: Any, info: GraphQLResolveInfo[Any] | None, path: Path) -> Any:
                # Most leaves of a list (ids, names): what the type's coercion returns unchanged.
                return value if type(value) is unchanged else leaf(value, info, path)

            return as_is
        assert isinstance(type_, GraphQLObjectType)
        object_type = type_
        is_type_of = object_type.is_type_of
        walk, plan = self._object, self._plan
        #: The class strawberry made the type from: a value of exactly that class is neither an
        #: error nor an awaitable, so the check is skipped for most values of a list.
        plain = _plain_class(object_type)
        #: The selection's entries, looked up on first use rather than for every value.
        planned: list[list[_Entry]] = []

        def complete_object(value: Any, info: GraphQLResolveInfo[Any] | None, path: Path) -> Any:
            if type(value) is not plain:
                check(value)
                if value is None or value is Undefined:
                    return None
            if is_type_of is not None:
                if info is None:
                    raise _Fallback
                if not is_type_of(value, info):
                    raise _Fallback
            if not planned:
                entries = plan(object_type, details)
                if entries is None:
                    raise _Fallback
                planned.append(entries)
            return walk(object_type, planned[0], path, value)

        return complete_object

    def _check(self, value: Any) -> None:
        if isinstance(value, Exception) or self.is_awaitable(value):
            _discard(value)
            raise _Fallback

    def _object(self, type_: GraphQLObjectType, entries: list[_Entry], path: Path, source: Any) -> dict[str, Any]:
        type_name = type_.name
        build_info = self.build_resolve_info
        data: dict[str, Any] = {}
        for key, _, field, how, call, wants_info, arguments, complete, nodes in entries:
            if how == _LEAF_ATTRIBUTE:
                # Most fields of a list: nothing below them asks for an info or a path.
                data[key] = complete(call(source), None, path)
                continue
            if field is None:
                data[key] = type_name
                continue
            field_path = Path(path, key, type_name)
            info: GraphQLResolveInfo[Any] | None = None
            if how == _ATTRIBUTE:
                value = call(source)
                if wants_info:
                    info = build_info(field, nodes, type_, field_path)
            else:
                info = build_info(field, nodes, type_, field_path)
                value = call(source, info) if how == _DIRECT else call(source, info, **arguments)
            data[key] = complete(value, info, field_path)
        return data


def _helpers(executor: weakref.ref[Executor]) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers for resolvers, holding the executor weakly: its own hold it through
    bound methods, and it holds them, a cycle through the request's context, its loaders and
    every record they read that only the garbage collector could free. A list of 50 children
    left some 1,800 container objects a request to it; its passes then took milliseconds each
    (tens for the older generation), now and then in the middle of a request."""

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        alive = executor()
        return gather_with_cancel(*values) if alive is None else alive.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        alive = executor()
        if alive is not None:  # tracked work outliving its execution has no one to report to
            alive.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


def _plain_class(type_: GraphQLObjectType) -> type | None:
    """The Python class strawberry made `type_` from, when none of its instances can be an
    error or an awaitable; else None (every value is then checked)."""
    definition = type_.extensions.get(_DEFINITION)
    origin = getattr(definition, "origin", None)
    if not isinstance(origin, type) or issubclass(origin, BaseException) or hasattr(origin, "__await__"):
        return None
    return origin


def _unwrapped(type_: Any) -> Any:
    """An argument's type without its non-null: a list is left as it is (the walk would share
    one converted list between the calls)."""
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _attribute(definition: Any) -> Callable[[Any], Any]:
    """Strawberry's read of a field with no resolver: its default resolver on the field's name."""
    resolver, name = definition.default_resolver, definition.python_name
    if resolver is getattr:
        return operator.attrgetter(name)
    return lambda source: resolver(source, name)


def _typename(*_: Any) -> None:
    """A stand-in: `__typename` is the object type's name, never resolved."""


def _discard(value: Any) -> None:
    """Close a coroutine the walk will not await (graphql-core resolves the field again); a
    loader's future stays in the loader's cache for that second resolution."""
    close = getattr(value, "close", None)
    if callable(close) and hasattr(value, "cr_frame"):
        close()
