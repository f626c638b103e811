"""The access table (`graph.access`) applied to every root field before its resolver runs.

A role the table does not grant an operation gets FORBIDDEN, whatever the resolver would have
done; a refused mutation is audited under the region of the records it named. Resolvers ask
the table for their scope (`scope`), so what lies outside reads as absent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

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


class AccessTable(SchemaExtension):
    """Refuses a root field the caller's role may not use, before it resolves."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
    ) -> Any:
        kind = ROOTS.get(info.parent_type.name)
        context = info.context
        if kind is None or info.field_name.startswith("__") or not isinstance(context, Context):
            return _next(root, info, *args, **kwargs)
        role = context.caller.role
        if access.allowed(role, info.field_name) and access.RULES[info.field_name].kind is kind:
            return _next(root, info, *args, **kwargs)
        error = Forbidden(f"the role {role.value} may not use {info.field_name}")
        if kind is access.Kind.MUTATION:
            return self._refuse(context, info.field_name, named_ids(kwargs), error)
        raise error

    @staticmethod
    async def _refuse(context: Context, operation: str, ids: list[str], error: Forbidden) -> None:
        caller = context.caller
        entry = audit.AuditEntry(caller.sub, caller.role.value, operation, ids, error.code, caller.scope)
        with contextlib.suppress(DatabaseUnavailable):
            await audit.append_refusal(context.graph, entry)
        raise error
