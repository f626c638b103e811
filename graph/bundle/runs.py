"""Import runs: the `ImportRun` node that lets a large, batched import be resumed.

A run is keyed by the sha256 of its source. A bundle small enough for one transaction records
its run inside that transaction, already complete. A larger one records `running` first and
then, in the same transaction as every committed batch, that batch (`committedBatches`, as
`phase:index`; batches commit two at a time, not always in order) and the records it wrote;
running the same import again after a kill writes only the batches not yet committed.

A run belongs to the scope of whoever ran it (`scope`, the region-code prefix; '' for an
admin or an operator) and names them (`sub`); `importRuns` lists only the runs in the
caller's scope. The same bundle imported in two scopes is two runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from graph.dates import native_datetime
from graph.driver import AsyncManagedTransaction, Graph

RUNNING = "running"
COMPLETE = "complete"
FAILED = "failed"

GET_RUN: LiteralString = """
MATCH (r:ImportRun {id: $id})
RETURN r {.*} AS run
"""

# A run recorded before runs had a scope is an operator's.
LIST_RUNS: LiteralString = """
MATCH (r:ImportRun)
WHERE coalesce(r.scope, '') STARTS WITH $scope
RETURN r {.*} AS run
ORDER BY r.startedAt DESC, r.id
"""

# Starting afresh resets the progress; resuming keeps it (and the original start time).
START_RUN: LiteralString = """
MERGE (r:ImportRun {id: $id})
SET r.sha256 = $sha256, r.source = $source, r.mode = $mode, r.status = 'running',
    r.lines = $lines, r.rejected = $rejected, r.finishedAt = null, r.scope = $scope, r.sub = $sub
FOREACH (_ IN CASE WHEN $resume THEN [] ELSE [1] END |
    SET r.startedAt = $at, r.batchRecords = $batchRecords, r.committedBatches = [], r.written = 0)
"""

RECORD_PROGRESS: LiteralString = """
MATCH (r:ImportRun {id: $id})
SET r.committedBatches = r.committedBatches + $batch, r.written = r.written + $records
"""

FINISH_RUN: LiteralString = """
MATCH (r:ImportRun {id: $id})
SET r.status = $status, r.finishedAt = $at
"""

# A run that fits one transaction is recorded by that transaction, complete or not at all.
RECORD_COMPLETE_RUN: LiteralString = """
MERGE (r:ImportRun {id: $id})
SET r.sha256 = $sha256, r.source = $source, r.mode = $mode, r.status = 'complete',
    r.scope = $scope, r.sub = $sub,
    r.lines = $lines, r.rejected = $rejected, r.written = $written, r.startedAt = $at,
    r.finishedAt = datetime(), r.batchRecords = null, r.committedBatches = []
"""


@dataclass(frozen=True, slots=True)
class ImportRunRecord:
    id: str
    source: str
    sha256: str
    mode: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    lines: int
    written: int
    rejected: int
    #: Records per batch of a batched run (batches are numbered for this size only).
    batch_records: int | None
    #: The batches of a batched run that have committed, as `phase:index`.
    committed_batches: frozenset[str]

    @property
    def complete(self) -> bool:
        return self.status == COMPLETE


def _record(run: dict[str, Any]) -> ImportRunRecord:
    return ImportRunRecord(
        id=run["id"],
        source=run.get("source") or "",
        sha256=run.get("sha256") or run["id"],
        mode=run.get("mode") or "",
        status=run.get("status") or RUNNING,
        started_at=native_datetime(run.get("startedAt")),
        finished_at=native_datetime(run.get("finishedAt")),
        lines=run.get("lines") or 0,
        written=run.get("written") or 0,
        rejected=run.get("rejected") or 0,
        batch_records=run.get("batchRecords"),
        committed_batches=frozenset(run.get("committedBatches") or ()),
    )


def run_id(sha256: str, scope: str) -> str:
    """A run's key: the source's sha256 for an operator, and per scope for everyone else."""
    return sha256 if scope == "" else hashlib.sha256(f"{scope}\n{sha256}".encode()).hexdigest()


async def import_runs(graph: Graph, scope: str = "") -> list[ImportRunRecord]:
    """The import runs recorded in `scope` (every run for ''), newest first."""
    return [_record(row["run"]) for row in await graph.read(LIST_RUNS, {"scope": scope})]


async def get_run(graph: Graph, run_id: str) -> ImportRunRecord | None:
    rows = await graph.read(GET_RUN, {"id": run_id})
    return _record(rows[0]["run"]) if rows else None


async def start_run(
    graph: Graph,
    run_id: str,
    *,
    source: str,
    mode: str,
    lines: int,
    rejected: int,
    at: datetime,
    resume: bool,
    batch_records: int,
    scope: str = "",
    sub: str = "",
    sha256: str | None = None,
) -> None:
    await graph.write(
        START_RUN,
        {
            "id": run_id, "source": source, "mode": mode, "lines": lines, "rejected": rejected,
            "at": at, "resume": resume, "batchRecords": batch_records, "scope": scope, "sub": sub,
            "sha256": sha256 or run_id,
        },
    )  # fmt: skip


async def record_progress(tx: AsyncManagedTransaction, run_id: str, *, batch: str, records: int) -> None:
    await (await tx.run(RECORD_PROGRESS, id=run_id, batch=batch, records=records)).consume()


async def finish_run(graph: Graph, run_id: str, *, status: str, at: datetime) -> None:
    await graph.write(FINISH_RUN, {"id": run_id, "status": status, "at": at})


async def record_complete_run(
    tx: AsyncManagedTransaction,
    run_id: str,
    *,
    source: str,
    mode: str,
    lines: int,
    rejected: int,
    written: int,
    at: datetime,
    scope: str = "",
    sub: str = "",
    sha256: str | None = None,
) -> None:
    await (
        await tx.run(
            RECORD_COMPLETE_RUN,
            id=run_id, source=source, mode=mode, lines=lines, rejected=rejected, written=written, at=at,
            scope=scope, sub=sub, sha256=sha256 or run_id,
        )
    ).consume()  # fmt: skip
