"""What the case-work mutations share: the writer, the idempotency key and input field names."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import Final, NoReturn, TypeVar

from api.context import Info
from graph import audit
from graph.access import read_scope
from graph.audit import AuditEntry
from graph.bundle.records import KINDS
from graph.errors import DatabaseUnavailable, GraphError, InvalidInput, OutOfReach
from graph.writes import Actor

T = TypeVar("T")

#: Bundle field names (what the bundle validator names) -> the GraphQL input fields they come from:
#: a reference is `<field>Id`, as the generated interval inputs (`schema.care`) name it too.
INPUT_NAMES: Final = {
    spec.name: f"{spec.name}Id"
    for kind in KINDS.values()
    if kind.mutations is not None or kind.name in ("report", "case", "referral", "contact", "visit")
    for spec in kind.fields
    if spec.refs
}


def actor(info: Info) -> Actor:
    caller = info.context.caller
    return Actor(caller.sub, caller.role.value, read_scope(caller), caller.institution)


def idempotency_key(info: Info, client_mutation_id: str | None) -> str | None:
    """The input's `clientMutationId`, else the request's `Idempotency-Key` header."""
    if client_mutation_id is not None:
        return client_mutation_id
    return info.context.request.headers.get("idempotency-key")


async def mutate(call: Awaitable[T]) -> T:
    """Await a repository mutation, naming a bad field as the GraphQL input names it."""
    try:
        return await call
    except InvalidInput as error:
        name = INPUT_NAMES.get(error.field)
        if name is None:
            raise
        raise InvalidInput(name, error.reason) from error
    except OutOfReach as error:
        name = INPUT_NAMES.get(error.field, f"{error.field}Id")
        raise OutOfReach(name) from error


async def audited(info: Info, entry: AuditEntry, call: Awaitable[T]) -> T:
    """Await a mutation that audits its success itself; a refusal is audited here, filed under
    the region of the records `entry` names."""
    try:
        return await call
    except DatabaseUnavailable:
        raise
    except GraphError as error:
        await refuse(info, entry, error)


async def refuse(info: Info, entry: AuditEntry, error: GraphError) -> NoReturn:
    """Audit `entry` as refused with `error`'s code, then raise it."""
    refused = AuditEntry(entry.sub, entry.role, entry.operation, entry.ids, error.code, entry.scope)
    with contextlib.suppress(DatabaseUnavailable):
        await audit.append_refusal(info.context.graph, refused)
    raise error
