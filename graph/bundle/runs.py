"""Import runs: the `ImportRun` node that lets a large, batched import be resumed.

A run is keyed by the sha256 of its source. A bundle small enough for one transaction records
its run inside that transaction, already complete. A larger one records `running` first and
then, in the same transaction as every committed batch, how far it got (`phase`,
`committedLine`, `written`); running the same import again after a kill continues from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from graph.driver import AsyncManagedTransaction, Graph

RUNNING = "running"
COMPLETE = "complete"
FAILED = "failed"

GET_RUN: LiteralString = """
MATCH (r:ImportRun {id: $id})
RETURN r {.*} AS run
"""

LIST_RUNS: LiteralString = """
MATCH (r:ImportRun)
RETURN r {.*} AS run
ORDER BY r.startedAt DESC, r.id
"""

# Starting afresh resets the progress; resuming keeps it (and the original start time).
START_RUN: LiteralString = """
MERGE (r:ImportRun {id: $id})
SET r.sha256 = $id, r.source = $source, r.mode = $mode, r.status = 'running',
    r.lines = $lines, r.rejected = $rejected, r.finishedAt = null
FOREACH (_ IN CASE WHEN $resume THEN [] ELSE [1] END |
    SET r.startedAt = $at, r.phase = 1, r.committedLine = 0, r.written = 0)
"""

RECORD_PROGRESS: LiteralString = """
MATCH (r:ImportRun {id: $id})
SET r.phase = $phase, r.committedLine = $line, r.written = $written
"""

FINISH_RUN: LiteralString = """
MATCH (r:ImportRun {id: $id})
SET r.status = $status, r.finishedAt = $at
"""

# A run that fits one transaction is recorded by that transaction, complete or not at all.
RECORD_COMPLETE_RUN: LiteralString = """
MERGE (r:ImportRun {id: $id})
SET r.sha256 = $id, r.source = $source, r.mode = $mode, r.status = 'complete',
    r.lines = $lines, r.rejected = $rejected, r.written = $written, r.startedAt = $at,
    r.finishedAt = datetime(), r.phase = 2, r.committedLine = $lines
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
    #: Progress of a batched run: 1 while entities are written, 2 for the rest.
    phase: int
    #: The last source line whose phase-`phase` batch has committed.
    committed_line: int

    @property
    def complete(self) -> bool:
        return self.status == COMPLETE


def _native(value: Any) -> datetime | None:
    return None if value is None else value.to_native()


def _record(run: dict[str, Any]) -> ImportRunRecord:
    return ImportRunRecord(
        id=run["id"],
        source=run.get("source") or "",
        sha256=run.get("sha256") or run["id"],
        mode=run.get("mode") or "",
        status=run.get("status") or RUNNING,
        started_at=_native(run.get("startedAt")),
        finished_at=_native(run.get("finishedAt")),
        lines=run.get("lines") or 0,
        written=run.get("written") or 0,
        rejected=run.get("rejected") or 0,
        phase=run.get("phase") or 1,
        committed_line=run.get("committedLine") or 0,
    )


async def import_runs(graph: Graph) -> list[ImportRunRecord]:
    """Every recorded import run, newest first."""
    return [_record(row["run"]) for row in await graph.read(LIST_RUNS)]


async def get_run(graph: Graph, run_id: str) -> ImportRunRecord | None:
    rows = await graph.read(GET_RUN, {"id": run_id})
    return _record(rows[0]["run"]) if rows else None


async def start_run(
    graph: Graph, run_id: str, *, source: str, mode: str, lines: int, rejected: int, at: datetime, resume: bool
) -> None:
    await graph.write(
        START_RUN,
        {
            "id": run_id, "source": source, "mode": mode, "lines": lines, "rejected": rejected,
            "at": at, "resume": resume,
        },
    )  # fmt: skip


async def record_progress(tx: AsyncManagedTransaction, run_id: str, *, phase: int, line: int, written: int) -> None:
    await (await tx.run(RECORD_PROGRESS, id=run_id, phase=phase, line=line, written=written)).consume()


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
) -> None:
    await (
        await tx.run(
            RECORD_COMPLETE_RUN,
            id=run_id, source=source, mode=mode, lines=lines, rejected=rejected, written=written, at=at,
        )
    ).consume()  # fmt: skip
