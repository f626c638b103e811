"""The audit trail: append-only events for every mutation and every read of a child's full record.

Nothing here updates or deletes an `AuditEvent`, and no other module may. A mutation appends
its event inside its own write transaction (`append_in`), so the write and its audit commit
together or not at all; a read appends after it ran (`append`, `append_many`: one auto-commit
statement each, durable when they return), or a statement that reads a child's file appends
the event of that read itself (`READ_EVENT_PART`, `ReadAudit`): one auto-commit write, read and
event committed together, durable when its rows arrive. An event is filed under the region of
the records it touches (`scope`: the child's village), so the auditors of that region see every
access to its children, whoever made it; a refusal is filed under the region of the first
record it named that exists (`append_refusal`), else the caller's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph.dates import birth_cutoff
from graph.driver import Graph
from graph.grouping import GroupCommit

APPEND: LiteralString = """
CREATE (e:AuditEvent {
  id: randomUUID(), at: datetime(), sub: $sub, role: $role, operation: $operation,
  ids: $ids, outcome: $outcome, scope: $scope
})
RETURN e.id AS id
"""

#: Each of `$entries` is {group, ids, scope}: who, the operation and the outcome are in
#: `$groups[group]` (`many_parameters`), the same events as `APPEND` writes one by one.
APPEND_MANY: LiteralString = """
UNWIND $entries AS entry
WITH entry, $groups[entry.group] AS by
CREATE (e:AuditEvent {
  id: randomUUID(), at: datetime(), sub: by.sub, role: by.role, operation: by.operation,
  ids: entry.ids, outcome: by.outcome, scope: entry.scope
})
RETURN collect(e.id) AS ids
"""

#: The event of a read of child `c`'s full record, appended by the statement that reads it
#: (`graph.child_file`) when `c` is a child (under 18) on `$audit.today`, as
#: `Loaders.note_full_record_read` notes one; `audited` is the scope it was filed under (the
#: child's village, else the caller's), null when none was appended. Run with `Graph.append`:
#: the read and its event commit together.
READ_EVENT_PART: LiteralString = """
OPTIONAL CALL (c) {
  WITH c WHERE c.birthDate > $audit.born18 AND c.birthDate <= $audit.today
  CREATE (e:AuditEvent {
    id: randomUUID(), at: datetime(), sub: $audit.sub, role: $audit.role, operation: $audit.operation,
    ids: [c.id], outcome: 'ok', scope: CASE WHEN coalesce(c.regionCode, '') = '' THEN $audit.scope ELSE c.regionCode END
  })
  RETURN e.scope AS audited
}
"""

#: The village of each id that names a person, household, institution, case, referral, report
#: or alert (the child's village for the last four), in the order of `$ids`.
REGION_OF: LiteralString = """
UNWIND range(0, size($ids) - 1) AS i
CALL (i) {
  WITH $ids[i] AS id
  OPTIONAL MATCH (p:Person {id: id}) RETURN p.regionCode AS region
  UNION ALL
  WITH $ids[i] AS id
  OPTIONAL MATCH (h:Household {id: id}) RETURN h.regionCode AS region
  UNION ALL
  WITH $ids[i] AS id
  OPTIONAL MATCH (n:Institution {id: id}) RETURN n.regionCode AS region
  UNION ALL
  WITH $ids[i] AS id
  OPTIONAL MATCH (:Case {id: id})-[:CONCERNS]->(c:Person) RETURN c.regionCode AS region
  UNION ALL
  WITH $ids[i] AS id
  OPTIONAL MATCH (:Referral {id: id})<-[:REFERRED]-(:Case)-[:CONCERNS]->(c:Person) RETURN c.regionCode AS region
  UNION ALL
  WITH $ids[i] AS id
  OPTIONAL MATCH (:Report {id: id})-[:ABOUT]->(c:Person) RETURN c.regionCode AS region
  UNION ALL
  WITH $ids[i] AS id
  OPTIONAL MATCH (a:Alert {id: id}) RETURN a.regionCode AS region
}
WITH i, region WHERE region IS NOT NULL
RETURN region ORDER BY i LIMIT 1
"""

#: How many `$operation` events the subject appended since each of `$since` (a rate limit's
#: counts, durable and the same on every replica). The subject's quota node is locked first, so
#: two requests at once are counted one after the other.
COUNT_SINCE: LiteralString = """
MERGE (q:LookupQuota {sub: $sub})
SET q._lock = true REMOVE q._lock
WITH q
UNWIND $since AS since
RETURN COUNT { MATCH (e:AuditEvent) WHERE e.sub = $sub AND e.operation = $operation AND e.outcome = 'ok'
               AND e.at >= since } AS count
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

    `scope` is the region code of the records touched (a child's village), so the auditors of
    that region see the event; the caller's prefix only when nothing touched has a region.
    """

    sub: str
    role: str
    operation: str
    ids: Sequence[str]
    outcome: str = "ok"
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ReadAudit:
    """Who reads children's full records, for the statement that appends the event of its own
    read (`READ_EVENT_PART`): what `AuditEntry` says but the ids and the village, which are the
    child's it reads. `scope` is the caller's, for a child with no village."""

    sub: str
    role: str
    operation: str
    scope: str
    #: the day a child is under 18 on (the request's today)
    today: date

    def parameters(self) -> dict[str, object]:
        return {
            "sub": self.sub,
            "role": self.role,
            "operation": self.operation,
            "scope": self.scope,
            "today": self.today,
            "born18": birth_cutoff(self.today, 18),
        }


@dataclass(frozen=True, slots=True)
class AuditEventRecord:
    id: str
    at: datetime
    sub: str
    role: str
    operation: str
    ids: list[str]
    outcome: str


def parameters(entry: AuditEntry) -> dict[str, object]:
    """What `APPEND` takes (and a statement that appends the event with other work)."""
    return {
        "sub": entry.sub,
        "role": entry.role,
        "operation": entry.operation,
        "ids": list(entry.ids),
        "outcome": entry.outcome,
        "scope": entry.scope,
    }


def many_parameters(entries: Sequence[AuditEntry]) -> dict[str, object]:
    """What `APPEND_MANY` takes: what the events share (who, the operation, the outcome: one
    request's fifty reads of children share all of it) once per group, not once per event. Sent
    and unpacked once, they cost Neo4j about 1.4 ms less CPU per fifty events (measured, the
    same events written)."""
    groups: dict[tuple[str, str, str, str], int] = {}
    rows = []
    for entry in entries:
        group = groups.setdefault((entry.sub, entry.role, entry.operation, entry.outcome), len(groups))
        rows.append({"group": group, "ids": list(entry.ids), "scope": entry.scope})
    return {
        "groups": [
            {"sub": sub, "role": role, "operation": operation, "outcome": outcome}
            for sub, role, operation, outcome in groups
        ],
        "entries": rows,
    }


async def append_in(tx: AsyncManagedTransaction, entry: AuditEntry) -> str:
    """Append inside the caller's write transaction: it commits with the write, or not at all."""
    result = await tx.run(APPEND, parameters(entry))
    record = await result.single(strict=True)
    return str(record["id"])


async def append_many_in(tx: AsyncManagedTransaction, entries: Sequence[AuditEntry]) -> list[str]:
    """Append several events inside the caller's write transaction, in one statement."""
    if not entries:
        return []
    result = await tx.run(APPEND_MANY, many_parameters(entries))
    record = await result.single(strict=True)
    return [str(i) for i in record["ids"]]


async def region_of_in(tx: AsyncManagedTransaction, ids: Sequence[str]) -> str | None:
    """The village of the first of `ids` that names a record (see `REGION_OF`)."""
    if not ids:
        return None
    result = await tx.run(REGION_OF, {"ids": list(ids)})
    record = await result.single()
    return None if record is None else str(record["region"])


async def append_refusal(graph: Graph, entry: AuditEntry) -> str:
    """Append a refused operation's event, filed under the region of the records it named."""

    async def transaction(tx: AsyncManagedTransaction) -> str:
        region = await region_of_in(tx, entry.ids)
        filed = entry if region is None else replace(entry, scope=region)
        return await append_in(tx, filed)

    return await graph.write_transaction(transaction)


async def count_since(tx: AsyncManagedTransaction, sub: str, operation: str, since: Sequence[datetime]) -> list[int]:
    """How many successful `operation` events `sub` appended since each instant of `since`,
    inside the caller's write transaction: it holds the subject's lock until it commits its own
    event, so a limit counted here cannot be overrun by requests racing each other."""
    result = await tx.run(COUNT_SINCE, {"sub": sub, "operation": operation, "since": list(since)})
    return [int(record["count"]) async for record in result]


async def append(graph: Graph, entry: AuditEntry) -> str:
    """Append on its own (reads of a child's full record), committed when this returns."""
    rows = await graph.append(APPEND, parameters(entry))
    return str(rows[0]["id"])


async def append_many(graph: Graph, entries: Sequence[AuditEntry]) -> list[str]:
    """Append several events in one statement (one read request touching many children, or the
    requests of one `AuditLog` commit), committed when this returns. One auto-commit round trip
    (`Graph.append`): a retry after a lost answer may file an event twice, never drop one."""
    if not entries:
        return []
    # One row holding every id: a row per event came back as a message per event, each read from
    # the socket on its own (about a hundred reads for a list of 50 children).
    rows = await graph.append(APPEND_MANY, many_parameters(entries))
    return [str(i) for i in rows[0]["ids"]]


#: Events one shared transaction of `AuditLog` appends at most; more wait for the next one.
BATCH_EVENTS: Final = 1000


class AuditLog:
    """Appends the read events of requests running at once in shared transactions (group commit,
    `graph.grouping`).

    `append` returns once its events are committed, or raises why they were not: a request
    never goes on as if audited when it was not. While one transaction commits, the events of
    the requests that arrive meanwhile gather for the next one, so a lone request waits for its
    own write only, and under load each commit carries the events of many requests (one round
    trip, one commit, instead of one each). One per process, made with the driver.
    """

    def __init__(self, graph: Graph, batch_events: int = BATCH_EVENTS) -> None:
        self.graph = graph
        self.batch_events = batch_events
        self._groups: GroupCommit[list[AuditEntry], None] = GroupCommit(self._commit)
        self._reading_alone = False

    @property
    def commits(self) -> int:
        """Transactions committed so far (the tests read it)."""
        return self._groups.commits

    @contextmanager
    def alone(self) -> Iterator[bool]:
        """Whether a read may append its own event in the statement that reads (for as long as
        this is held): only while no shared transaction is being written or gathered and no
        other read does so. A lone request saves a round trip that way; under load the shared
        transactions carry the events of many requests in one commit, where a write each
        would commit one by one, and the reads stay reads."""
        if self._reading_alone or not self._groups.idle:
            yield False
            return
        self._reading_alone = True
        try:
            yield True
        finally:
            self._reading_alone = False

    async def append(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        batch, committed = self._groups.join(lambda b: len(b) + len(entries) <= self.batch_events, list)
        batch.extend(entries)
        # A cancelled request leaves its batch to commit for the others.
        await asyncio.shield(committed)

    async def _commit(self, batch: list[AuditEntry]) -> None:
        await append_many(self.graph, batch)


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
