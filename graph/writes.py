"""How every case-work mutation writes: role check, one transaction, audit, idempotency.

A mutation of `graph.reports`, `graph.cases`, `graph.referrals`, `graph.visits` and
`graph.care` runs through `perform`: the access table (`graph.access`) must grant the caller's
role the operation, then its work function checks the targets and writes, then its audit
event and, when the caller sent an idempotency key, the key's result are written in the same
transaction, so all of it commits or none. A refused mutation (any `GraphError`) is audited on
its own with the error code as outcome, filed under the region of the records it named.

What a write names (docs/access.md, "Out of scope means absent"):

- its target (the child, the person whose record it is) must be in the caller's scope through
  their household: a link (care, guardianship, parenthood) never brings a person into reach;
- every person it refers to (a visitor, worker, reporter, caregiver, guardian, volunteer, the
  one who entrusted care) must be the caller, or in the caller's scope through their household
  or a current staff post there;
- an institution it refers to must lie in the caller's scope or in the child's city (a
  county centre takes referrals from every township);
- a record named that is absent or out of scope is refused as `OutOfReach` (FORBIDDEN), the
  same text for both, quoting no value.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, LiteralString, TypeVar

import orjson
from neo4j import AsyncManagedTransaction

from graph import access, audit, idempotency, risk, risk_index
from graph.audit import AuditEntry
from graph.bundle.validation import Rejection, parse_line
from graph.callers import Role
from graph.driver import Graph
from graph.errors import DatabaseUnavailable, GraphError, InvalidInput, OutOfReach

T = TypeVar("T")
log = logging.getLogger("shouhu.writes")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes: the token's subject and role, and the region-code prefix of their scope."""

    sub: str
    role: str
    scope: str
    institution: str | None = None

    @property
    def namespace(self) -> str:
        """Whose idempotency keys these are: the same subject acting in another role or region
        (a new post, a new token) never replays what it did before."""
        return f"{self.sub}|{self.role}|{self.scope}"


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


def require(actor: Actor, operation: str) -> None:
    """The access table's verdict on `operation` (a mutation's name, or a facet) for the actor."""
    access.require(Role(actor.role), operation)


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

    named = [i for i in ids if i]

    touched: list[str] = []
    # Today's discovery of a village reads the materialised risk only while no write there
    # awaits its re-evaluation: the write leaves its marker (graph.risk_index).
    marked: list[risk_index.Pending] = []

    async def transaction(tx: AsyncManagedTransaction) -> T:
        touched.clear()  # a retried transaction starts again
        marked.clear()
        require(actor, operation)
        if key is not None:
            claimed = await idempotency.claim_in(tx, actor.namespace, operation, key, digest)
            if claimed is not None:
                region = await audit.region_of_in(tx, named)
                entry = AuditEntry(actor.sub, actor.role, operation, named, "replayed", region or actor.scope)
                await audit.append_in(tx, entry)
                return await replay(tx, claimed)
        outcome = await work(tx)
        touched.extend(outcome.ids)
        scope = outcome.region if outcome.region is not None else actor.scope
        entry = AuditEntry(actor.sub, actor.role, operation, list(outcome.ids), "ok", scope)
        if not outcome.ids:
            await audit.append_in(tx, entry)
        elif (pending := await risk.mark_in(tx, entry)) is not None:
            marked.append(pending)
        if key is not None:
            await idempotency.remember_in(tx, actor.namespace, operation, key, outcome.result_id)
        return outcome.value

    try:
        value = await graph.write_transaction(transaction)
    except DatabaseUnavailable:
        raise
    except GraphError as error:
        try:
            await audit.append_refusal(
                graph, AuditEntry(actor.sub, actor.role, operation, named, error.code, actor.scope)
            )
        except DatabaseUnavailable:
            log.warning("could not audit a refused %s", operation)
        raise
    if marked and graph.after_write is not None:
        # After the commit, in the same request: the children this write reached are judged
        # again and their alerts follow (graph.risk); a replay touched nothing new.
        await graph.after_write(graph, touched, actor.sub, marked[0])
    return value


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

# Whether the person `p` (null when absent) may be a write's target or be named by it, as
# expressions, so a statement that checks several persons at once says it the same way.

#: A target is in scope through its household's village (`regionCode`), nothing else.
TARGET_IN_SCOPE: LiteralString = "p IS NOT NULL AND ($scope = '' OR coalesce(p.regionCode STARTS WITH $scope, false))"

#: Institution staff name a child of their own institution: enrolled or placed there now, or
#: referred to it.
STAFF_TARGET_IN_SCOPE: LiteralString = """p IS NOT NULL AND $institution IS NOT NULL AND (
         EXISTS { (p)-[r:ENROLLED_IN|PLACED_IN]->(:Institution {id: $institution})
                  WHERE r.until IS NULL OR r.until >= date() }
         OR EXISTS { (p)<-[:CONCERNS]-(:Case)-[:REFERRED]->(:Referral)-[:TO]->(:Institution {id: $institution}) }
       )"""

#: A person a write refers to: the caller, or in scope through their household or a current
#: staff post (a case worker of the township has no household there).
REFERENCE_IN_SCOPE: LiteralString = """p IS NOT NULL AND (
         p.id = $sub OR $scope = '' OR coalesce(p.regionCode STARTS WITH $scope, false)
         OR EXISTS { (p)-[s:SERVES]->() WHERE s.regionCode STARTS WITH $scope
                     AND (s.until IS NULL OR s.until >= date()) }
       )"""

PERSON_TARGET: LiteralString = (
    "OPTIONAL MATCH (p:Person {id: $id})\nRETURN p.regionCode AS region, " + TARGET_IN_SCOPE + " AS inScope\n"
)

STAFF_CHILD_TARGET: LiteralString = (
    "OPTIONAL MATCH (p:Person {id: $id})\nRETURN p.regionCode AS region, " + STAFF_TARGET_IN_SCOPE + " AS inScope\n"
)

PERSON_REFERENCE: LiteralString = "OPTIONAL MATCH (p:Person {id: $id})\nRETURN " + REFERENCE_IN_SCOPE + " AS inScope\n"

# An institution a write refers to: in scope, or in the child's city.
INSTITUTION_REFERENCE: LiteralString = """
OPTIONAL MATCH (i:Institution {id: $id})
RETURN i IS NOT NULL AND ($scope = '' OR coalesce(i.regionCode STARTS WITH $scope, false)
                          OR coalesce(left(i.regionCode, 4) = left($childRegion, 4), false)) AS inScope,
       i.services AS services, i.type AS type
"""


async def person_in_scope(
    tx: AsyncManagedTransaction, actor: Actor, person_id: str, field: str = "child"
) -> str | None:
    """The village of the person `person_id`, the write's target; `OutOfReach` when absent or
    outside the caller's scope (institution staff: a child of their own institution)."""
    if actor.role == Role.INSTITUTION_STAFF:
        row = await _single(tx, STAFF_CHILD_TARGET, {"id": person_id, "institution": actor.institution})
    else:
        row = await _single(tx, PERSON_TARGET, {"id": person_id, "scope": actor.scope})
    if not row["inScope"]:
        raise OutOfReach(field)
    region: str | None = row["region"]
    return region


async def person_reference(tx: AsyncManagedTransaction, actor: Actor, person_id: str, field: str) -> None:
    """A person the write refers to (see `PERSON_REFERENCE`); `OutOfReach` otherwise."""
    row = await _single(tx, PERSON_REFERENCE, {"id": person_id, "scope": actor.scope, "sub": actor.sub})
    if not row["inScope"]:
        raise OutOfReach(field)


async def institution(
    tx: AsyncManagedTransaction, actor: Actor, institution_id: str, child_region: str | None, field: str = "institution"
) -> dict[str, Any]:
    """An institution the write refers to (see `INSTITUTION_REFERENCE`); `OutOfReach` otherwise."""
    params = {"id": institution_id, "scope": actor.scope, "childRegion": child_region}
    row = await _single(tx, INSTITUTION_REFERENCE, params)
    if not row["inScope"]:
        raise OutOfReach(field)
    return row


BIRTH_DATE: LiteralString = "MATCH (p:Person {id: $id}) RETURN p.birthDate AS birthDate"


async def not_before_birth(tx: AsyncManagedTransaction, child: str, day: date, field: str) -> None:
    """Refuse an event about `child` (already in scope) dated before the child was born."""
    found = await rows(tx, BIRTH_DATE, {"id": child})
    born = found[0]["birthDate"] if found else None
    if born is not None and day < born.to_native():
        raise InvalidInput(field, f"{day.isoformat()} is before the child's birth")


async def _single(tx: AsyncManagedTransaction, query: LiteralString, parameters: Mapping[str, Any]) -> dict[str, Any]:
    result = await tx.run(query, dict(parameters))
    record = await result.single(strict=True)
    return dict(record)


async def rows(
    tx: AsyncManagedTransaction, query: LiteralString, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    result = await tx.run(query, dict(parameters))
    return [dict(record) async for record in result]
