"""What the case-work mutations share: the writer, the idempotency key and input field names."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Final, TypeVar

from api.context import Info
from graph import audit
from graph.audit import AuditEntry
from graph.callers import Role
from graph.errors import InvalidInput
from graph.writes import Actor
from schema.access import read_scope

T = TypeVar("T")

#: Bundle field names (what the bundle validator names) -> the GraphQL input fields they come from.
INPUT_NAMES: Final = {
    "child": "childId",
    "caregiver": "caregiverId",
    "guardian": "guardianId",
    "volunteer": "volunteerId",
    "institution": "institutionId",
    "person": "personId",
    "reporter": "reporterId",
    "worker": "workerId",
    "report": "reportId",
    "case": "caseId",
    "from": "fromId",
    "visitor": "visitorId",
    "entrustedBy": "entrustedById",
}


def actor(info: Info) -> Actor:
    caller = info.context.caller
    return Actor(caller.sub, caller.role.value, read_scope(caller), caller.institution)


def idempotency_key(info: Info, client_mutation_id: str | None) -> str | None:
    """The input's `clientMutationId`, else the request's `Idempotency-Key` header."""
    if client_mutation_id is not None:
        return client_mutation_id
    return info.context.request.headers.get("idempotency-key")


def is_institution_staff(info: Info) -> bool:
    return info.context.caller.role is Role.INSTITUTION_STAFF


async def mutate(call: Awaitable[T]) -> T:
    """Await a repository mutation, naming a bad field as the GraphQL input names it."""
    try:
        return await call
    except InvalidInput as error:
        name = INPUT_NAMES.get(error.field)
        if name is None:
            raise
        raise InvalidInput(name, error.reason) from error


async def audit_read(info: Info, operation: str, ids: list[str]) -> None:
    """Append the audit event of a read of children's case history (docs/access.md, Audit)."""
    if ids:
        caller = info.context.caller
        entry = AuditEntry(caller.sub, caller.role.value, operation, ids, "ok", read_scope(caller))
        await audit.append(info.context.graph, entry)
