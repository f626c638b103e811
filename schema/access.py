"""The access table (`graph.access`) applied to every root field before its resolver runs (`guard_root_fields`).

A role the table does not grant an operation gets FORBIDDEN, whatever the resolver would have
done; a refused mutation is audited under the region of the records it named. Resolvers ask
the table for their scope (`scope`), so what lies outside reads as absent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, default_field_resolver

from api.context import Context, Info
from graph import access, audit
from graph.errors import DatabaseUnavailable, Forbidden

ROOTS: Final = {"Query": access.Kind.QUERY, "Mutation": access.Kind.MUTATION, "Subscription": access.Kind.SUBSCRIPTION}


def scope(info: Info, operation: str) -> str:
    """The caller's region-code prefix for `operation`; FORBIDDEN when the table refuses it."""
    return access.scope(info.context.caller, operation)


def may(info: Info, facet: str) -> bool:
    return access.allowed(info.context.caller.role, facet)


def named_ids(arguments: Mapping[str, Any]) -> list[str]:
    """The ids a mutation's arguments name (`childId`, `input.workerId`...), for its audit."""
    found: list[str] = []

    def walk(values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            if isinstance(value, Mapping):  # an input object, as GraphQL coerced it
                walk(value)
            elif isinstance(value, str) and name != "clientMutationId" and (name == "id" or name.endswith("Id")):
                found.append(value)

    walk(arguments)
    return found


def guard_root_fields(schema: GraphQLSchema) -> None:
    """Refuse a root field the caller's role may not use, before it resolves.

    The check wraps the resolvers of the root types' fields once, when the schema is built: as
    a schema extension's `resolve` hook it ran for every field of every response (a child's
    file resolves a few hundred), only to pass all but the root ones through.
    """
    for type_name, kind in ROOTS.items():
        root = schema.get_type(type_name)
        if isinstance(root, GraphQLObjectType):
            for field in root.fields.values():
                field.resolve = _guarded(field.resolve or default_field_resolver, kind)


def _guarded(resolve: Callable[..., Any], kind: access.Kind) -> Callable[..., Any]:
    def guarded(root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any) -> Any:
        context = info.context
        if not isinstance(context, Context):
            return resolve(root, info, *args, **kwargs)
        role = context.caller.role
        if access.allowed(role, info.field_name) and access.RULES[info.field_name].kind is kind:
            return resolve(root, info, *args, **kwargs)
        error = Forbidden(f"the role {role.value} may not use {info.field_name}")
        if kind is access.Kind.MUTATION:
            return _refuse(context, info.field_name, named_ids(kwargs), error)
        raise error

    return guarded


async def _refuse(context: Context, operation: str, ids: list[str], error: Forbidden) -> None:
    """A refused mutation is audited under the region of the records it named, then refused."""
    caller = context.caller
    entry = audit.AuditEntry(caller.sub, caller.role.value, operation, ids, error.code, caller.scope)
    with contextlib.suppress(DatabaseUnavailable):
        await audit.append_refusal(context.graph, entry)
    raise error
