"""How every case-work mutation writes: role check, one transaction, audit, idempotency.

A mutation of `graph.reports`, `graph.cases`, `graph.referrals`, `graph.visits` and
`graph.care` runs through `perform`: its work function checks the targets (existence, the
caller's scope) and writes, then its audit event and, when the caller sent an idempotency
key, the key's result are written in the same transaction, so all of it commits or none.
A refused mutation (any `GraphError`) is audited on its own with the error code as outcome.

Which role may write what (docs/access.md, "may write"), including the choices the table leaves
open for the file-keeping mutations:

- reportConcern, recordVisit, recordContact, recordAway, endAway: children_director,
  children_supervisor, case_worker, coordinator, admin;
- openCase, advanceCase, referCase, withdrawing a referral, and care, guardian, condition,
  pairing and enrollment records: case_worker, coordinator, admin;
- registerChild, deregisterChild: coordinator, admin;
- accepting, declining, completing a referral: institution_staff (its own institution's), admin.

An away episode is a fact about a person (a parent gone to work), so the village and township
workers who may write "person details" may record it; conditions (a caregiver's abuse
record, a parent's imprisonment) are guardian records and need a case worker.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Generic, LiteralString, TypeVar

import orjson
from neo4j import AsyncManagedTransaction

from graph import audit, idempotency
from graph.audit import AuditEntry
from graph.bundle.validation import Rejection, parse_line
from graph.driver import Graph
from graph.errors import DatabaseUnavailable, Forbidden, GraphError, InvalidInput

T = TypeVar("T")
log = logging.getLogger("shouhu.writes")

VILLAGE_WORKERS: Final = frozenset({"children_director", "children_supervisor", "case_worker", "coordinator", "admin"})
CASE_WORKERS: Final = frozenset({"case_worker", "coordinator", "admin"})
COORDINATORS: Final = frozenset({"coordinator", "admin"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes: the token's subject and role, and the region-code prefix of their scope."""

    sub: str
    role: str
    scope: str
    institution: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a mutation's work produced: its result, the result's id (kept with an idempotency
    key), the ids touched and the region code of the child concerned (both for the audit)."""

    value: T
    result_id: str
    ids: Sequence[str]
    region: str | None


Work = Callable[[AsyncManagedTransaction], Awaitable[Outcome[T]]]
Replay = Callable[[AsyncManagedTransaction, str], Awaitable[T]]


def require_role(actor: Actor, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} may not {what}")


def fingerprint(inputs: Mapping[str, Any]) -> str:
    """A digest of a mutation's input, so a key reused for a different request is refused."""
    return hashlib.sha256(orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


async def perform(
    graph: Graph,
    actor: Actor,
    operation: str,
    *,
    inputs: Mapping[str, Any],
    work: Work[T],
    replay: Replay[T],
    key: str | None = None,
    ids: Sequence[str] = (),
) -> T:
    """Run `work` in one write transaction with its audit event and idempotency record.

    With `key`, a request already performed under the same caller, operation and key returns
    its first result (read again by `replay`) and writes nothing; the same key with different
    input is a conflict. Two requests with one key at once serialise on the key's unique
    constraint: the second waits, then replays.
    """
    digest = fingerprint(inputs)

    async def transaction(tx: AsyncManagedTransaction) -> T:
        if key is not None:
            claimed = await idempotency.claim_in(tx, actor.sub, operation, key, digest)
            if claimed is not None:
                return await replay(tx, claimed)
        outcome = await work(tx)
        scope = outcome.region if outcome.region is not None else actor.scope
        await audit.append_in(tx, AuditEntry(actor.sub, actor.role, operation, list(outcome.ids), "ok", scope))
        if key is not None:
            await idempotency.remember_in(tx, actor.sub, operation, key, outcome.result_id)
        return outcome.value

    try:
        return await graph.write_transaction(transaction)
    except DatabaseUnavailable:
        raise
    except GraphError as error:
        entry = AuditEntry(actor.sub, actor.role, operation, [i for i in ids if i], error.code, actor.scope)
        try:
            await audit.append(graph, entry)
        except DatabaseUnavailable:
            log.warning("could not audit a refused %s", operation)
        raise


# --- validation with the bundle's rules ---------------------------------------------------------


def validate_as(kind: str, fields: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """Check a mutation's input as the bundle line of `kind` it amounts to (docs/bundle-format.md):
    the same required fields, types, enumerations, dates and intervals. Returns the typed
    values; the first problem is `InvalidInput` naming the field."""
    line = {"kind": kind} | {name: _json(value) for name, value in fields.items()}
    parsed = parse_line(1, orjson.dumps(line).decode(), today=today)
    if isinstance(parsed, Rejection):
        reason = parsed.reason
        if parsed.field is not None:
            reason = reason.removeprefix(f"{parsed.field}: ")
        raise InvalidInput(parsed.field or kind, reason)
    return parsed.data


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --- targets: existence and scope -------------------------------------------------------------

PERSON_TARGET: LiteralString = """
OPTIONAL MATCH (p:Person {id: $id})
RETURN p IS NOT NULL AS found, p.regionCode AS region,
       ($scope = '' OR coalesce(p.regionCode STARTS WITH $scope, false)) AS inScope
"""

# A person outside the scope is still a target when linked to a child in scope (a parent
# away in another province, a grandmother in the next township who cares for the child).
LINKED_PERSON_TARGET: LiteralString = """
OPTIONAL MATCH (p:Person {id: $id})
RETURN p IS NOT NULL AS found,
       coalesce(p.regionCode, head([(p)-[:PARENT_OF|GUARDIAN_OF|CARES_FOR]->(c:Person)
                                    WHERE c.regionCode STARTS WITH $scope | c.regionCode])) AS region,
       $scope = '' OR coalesce(p.regionCode STARTS WITH $scope, false)
       OR EXISTS { (p)-[:PARENT_OF|GUARDIAN_OF|CARES_FOR]->(c:Person) WHERE c.regionCode STARTS WITH $scope }
       AS inScope
"""

INSTITUTION_TARGET: LiteralString = """
OPTIONAL MATCH (i:Institution {id: $id})
RETURN i IS NOT NULL AS found, i.regionCode AS region, i.services AS services, i.type AS type
"""


async def person_in_scope(
    tx: AsyncManagedTransaction, actor: Actor, person_id: str, field: str = "child", *, linked: bool = False
) -> str | None:
    """The region code of the person `person_id` (with `linked`, of a child in scope they are
    linked to when they live elsewhere); refused when absent or outside the scope."""
    query = LINKED_PERSON_TARGET if linked else PERSON_TARGET
    row = await _single(tx, query, {"id": person_id, "scope": actor.scope})
    if not row["found"]:
        raise InvalidInput(field, f"no person {person_id}")
    if not row["inScope"]:
        raise Forbidden(f"{person_id} is outside your scope")
    region: str | None = row["region"]
    return region


async def person_exists(tx: AsyncManagedTransaction, person_id: str, field: str) -> None:
    """A person referred to (a caregiver, a volunteer): they must exist, anywhere."""
    row = await _single(tx, PERSON_TARGET, {"id": person_id, "scope": ""})
    if not row["found"]:
        raise InvalidInput(field, f"no person {person_id}")


async def institution(tx: AsyncManagedTransaction, institution_id: str, field: str = "institution") -> dict[str, Any]:
    row = await _single(tx, INSTITUTION_TARGET, {"id": institution_id})
    if not row["found"]:
        raise InvalidInput(field, f"no institution {institution_id}")
    return row


async def _single(tx: AsyncManagedTransaction, query: LiteralString, parameters: Mapping[str, Any]) -> dict[str, Any]:
    result = await tx.run(query, dict(parameters))
    record = await result.single(strict=True)
    return dict(record)


async def rows(
    tx: AsyncManagedTransaction, query: LiteralString, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    result = await tx.run(query, dict(parameters))
    return [dict(record) async for record in result]
