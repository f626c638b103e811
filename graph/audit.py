"""The audit trail: append-only events for every mutation and every read of a child's full record.

Nothing here updates or deletes an `AuditEvent`, and no other module may. A mutation appends
its event inside its own write transaction (`append_in`), so the write and its audit commit
together or not at all; a read appends after it ran (`append`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import LiteralString

from neo4j import AsyncManagedTransaction

from graph.driver import Graph

APPEND: LiteralString = """
CREATE (e:AuditEvent {
  id: randomUUID(), at: datetime(), sub: $sub, role: $role, operation: $operation,
  ids: $ids, outcome: $outcome, scope: $scope
})
RETURN e.id AS id
"""

APPEND_MANY: LiteralString = """
UNWIND $entries AS entry
CREATE (e:AuditEvent {
  id: randomUUID(), at: datetime(), sub: entry.sub, role: entry.role, operation: entry.operation,
  ids: entry.ids, outcome: entry.outcome, scope: entry.scope
})
RETURN e.id AS id
"""

LIST_IN_SCOPE: LiteralString = """
MATCH (e:AuditEvent)
WHERE e.scope STARTS WITH $scope AND ($since IS NULL OR e.at >= $since)
  AND ($operation IS NULL OR e.operation = $operation)
RETURN e.id AS id, e.at AS at, e.sub AS sub, e.role AS role, e.operation AS operation,
       e.ids AS ids, e.outcome AS outcome
ORDER BY e.at DESC, e.id
LIMIT $limit
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What is recorded: who (sub, role), the operation, the ids touched and the outcome.

    `scope` is the region code prefix the caller acted in, so auditors of a region see the
    events of their region.
    """

    sub: str
    role: str
    operation: str
    ids: Sequence[str]
    outcome: str = "ok"
    scope: str = ""


@dataclass(frozen=True, slots=True)
class AuditEventRecord:
    id: str
    at: datetime
    sub: str
    role: str
    operation: str
    ids: list[str]
    outcome: str


def _parameters(entry: AuditEntry) -> dict[str, object]:
    return {
        "sub": entry.sub,
        "role": entry.role,
        "operation": entry.operation,
        "ids": list(entry.ids),
        "outcome": entry.outcome,
        "scope": entry.scope,
    }


async def append_in(tx: AsyncManagedTransaction, entry: AuditEntry) -> str:
    """Append inside the caller's write transaction: it commits with the write, or not at all."""
    result = await tx.run(APPEND, _parameters(entry))
    record = await result.single(strict=True)
    return str(record["id"])


async def append(graph: Graph, entry: AuditEntry) -> str:
    """Append on its own (reads of a child's full record)."""
    return await graph.write_transaction(append_in, entry)


async def append_many(graph: Graph, entries: Sequence[AuditEntry]) -> list[str]:
    """Append several events in one transaction (one read request touching many children)."""
    if not entries:
        return []
    rows = await graph.write(APPEND_MANY, {"entries": [_parameters(entry) for entry in entries]})
    return [str(row["id"]) for row in rows]


async def list_events(
    graph: Graph,
    *,
    scope: str,
    since: datetime | None = None,
    operation: str | None = None,
    limit: int = 100,
) -> list[AuditEventRecord]:
    rows = await graph.read(LIST_IN_SCOPE, {"scope": scope, "since": since, "operation": operation, "limit": limit})
    return [
        AuditEventRecord(
            id=row["id"],
            at=row["at"].to_native(),
            sub=row["sub"],
            role=row["role"],
            operation=row["operation"],
            ids=list(row["ids"]),
            outcome=row["outcome"],
        )
        for row in rows
    ]
