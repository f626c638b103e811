"""Bundle import: validate every line, then write the valid ones with batched `UNWIND` queries.

The source is read again for each step instead of being held in memory: once for its
sha256, once by the validator, then once per write phase. Phase 1 writes the entities with
their properties and the edges to the entities they name (region parent, household and
institution region, person household, report, case and referral edges); phase 2 writes
relationships, intervals and events between them. So a reference may point forward or
backward in the file. Every write is a `MERGE` on the keys of `graph/MODEL.md`, so importing
twice leaves the graph as importing once.

Atomicity: a bundle of up to `SINGLE_TRANSACTION_LINES` lines is written in one transaction,
with its `ImportRun` record; a larger one commits batches of `BATCH_RECORDS` records, each
with the run's progress, and running the same import again writes only the batches that had
not committed (see `graph.bundle.runs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal, LiteralString

import orjson

from graph import access, risk, risk_index
from graph.audit import AuditEntry
from graph.bundle import auditing, runs
from graph.bundle.idnumber import normalize as normalize_id_number
from graph.bundle.records import ENTITY_ORDER, KINDS, Store
from graph.bundle.validation import OPERATOR, Rejection, ValidationReport, numbered, validate_bundle
from graph.callers import Caller
from graph.driver import AsyncManagedTransaction, Graph
from graph.errors import DatabaseUnavailable, LimitExceeded
from graph.persons import IdLookup

ImportMode = Literal["ALL_OR_NOTHING", "SKIP_INVALID"]
Progress = Callable[[int], None]

#: Bundles up to this many lines are written in one transaction: all of it or nothing.
SINGLE_TRANSACTION_LINES: Final = 20_000
#: Records per `UNWIND` round (and per transaction for larger bundles).
BATCH_RECORDS: Final = 5_000
#: Transactions a larger bundle keeps in flight at once.
PARALLEL_BATCHES: Final = 2
#: Concurrent batches can deadlock on shared nodes (the server picks a victim); a victim is
#: retried this many times, after the driver's own retries, before the import gives up.
BATCH_ATTEMPTS: Final = 5
#: Up to this many lines, the import tells its re-evaluation what it wrote, by kind
#: (`ImportResult.named`); a larger bundle's ids are more than is worth holding, and its
#: re-evaluation widens the ids its caller reads from the bundle (`graph.risk.bundle_ids`).
NAMED_UP_TO: Final = 1_000_000

ENTITIES: Final = 1
LINKS: Final = 2


def _store(kind: str) -> Store:
    store = KINDS[kind].store
    assert store is not None, f"{kind} is never written"
    return store


# Phase 1 writes the entities, with their own properties and the edges to what they name; a
# named entity that has no node yet gets one holding only its key (validation has made sure
# its own line is in the bundle or its node in the database). A changed reference replaces the
# old edge; `updatedAt` moves only when a field changed, so a repeated import is a no-op.
# Phase 2 writes relationships, intervals (keyed by endpoints plus since) and events. Each
# kind's write is its `Store.write` in `graph.bundle.records`; within a batch the kinds are
# written in one fixed order, so concurrent batches take their locks in the same order.
QUERIES: Final[dict[int, dict[str, LiteralString]]] = {
    ENTITIES: {name: _store(name).write for name in ENTITY_ORDER},
    LINKS: {name: kind.store.write for name, kind in KINDS.items() if kind.store and not kind.entity},
}
ENTITY_KINDS: Final = frozenset(QUERIES[ENTITIES])
_DATES: Final = {kind: tuple(f.name for f in spec.fields if f.type == "date") for kind, spec in KINDS.items()}
_DATETIMES: Final = {kind: tuple(f.name for f in spec.fields if f.type == "datetime") for kind, spec in KINDS.items()}
_ID_NUMBERS: Final = {kind: tuple(f.name for f in spec.fields if f.type == "id_number") for kind, spec in KINDS.items()}


@dataclass(frozen=True, slots=True)
class ImportResult:
    #: The import did what the mode asks: everything written, or (skip-invalid) every valid line.
    ok: bool
    #: Valid records written (in this run and, when resumed, in the runs it completes).
    written: int
    rejected: list[Rejection]
    run_id: str
    #: Every valid line is in the database (False when all-or-nothing refused the bundle).
    complete: bool
    #: Record lines in the bundle (blank and comment lines not counted).
    lines: int = 0
    #: Records an earlier, interrupted run of the same import had committed (resumed after).
    resumed: int = 0
    #: What the import wrote, by kind (`graph.risk.NAMED_KINDS`), with the children its reports,
    #: cases and referrals were about before; None for a bundle over `NAMED_UP_TO` lines.
    named: Mapping[str, tuple[str, ...]] | None = None

    @property
    def pending(self) -> risk_index.Pending | None:
        """The marker this import left for its re-evaluation (`graph.risk_index`), if it wrote:
        on every region, and the re-evaluation widens what it wrote to the children."""
        return risk_index.Pending(self.run_id, named=self.named) if self.written else None


#: Kind -> ids an import wrote (`graph.risk.NAMED_KINDS`).
Named = dict[str, set[str]]


@dataclass(slots=True)
class _Batch:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    records: int = 0


class _Bundle:
    """The source, readable as often as needed: a file is streamed, never held."""

    def __init__(self, source: Path | Sequence[str]) -> None:
        self.source = source
        self.name = str(source.resolve()) if isinstance(source, Path) else "inline"

    def lines(self) -> Iterator[str]:
        if isinstance(self.source, Path):
            # Undecodable bytes survive as surrogates, which the JSON parser then refuses
            # as a rejection of that one line.
            with self.source.open(encoding="utf-8", errors="surrogateescape", newline=None) as handle:
                for line in handle:
                    yield line.rstrip("\r\n")
        else:
            yield from self.source

    def sha256(self) -> str:
        digest = hashlib.sha256()
        if isinstance(self.source, Path):
            with self.source.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        else:
            for line in self.source:
                digest.update(line.encode("utf-8", "surrogateescape"))
                digest.update(b"\n")
        return digest.hexdigest()

    def batches(self, phase: int, *, skip: frozenset[int], named: Named | None = None) -> Iterator[_Batch]:
        """The valid records of one phase, in batches of `BATCH_RECORDS` (numbered by their
        order: the same source, skip set and size give the same batches); what each names
        goes into `named` (a batch an interrupted run committed too: its re-evaluation may
        never have come)."""
        batch = _Batch()
        for number, text in numbered(self.lines()):
            if number in skip:
                continue
            data = orjson.loads(text)
            kind = data.pop("kind")
            if (kind in ENTITY_KINDS) != (phase == ENTITIES):
                continue
            if named is not None:
                for target, value in risk.named_ids(kind, data):
                    named[target].add(value)
            batch.rows.setdefault(kind, []).append(row(kind, data))
            batch.records += 1
            if batch.records >= BATCH_RECORDS:
                yield batch
                batch = _Batch()
        if batch.records:
            yield batch


def row(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A validated line's fields as query parameters: dates as dates, absent as missing."""
    for name in _DATES[kind]:
        value = data.get(name)
        if value is not None:
            data[name] = date.fromisoformat(value)
    for name in _DATETIMES[kind]:
        data[name] = datetime.fromisoformat(data[name])
    for name in _ID_NUMBERS[kind]:
        value = data.get(name)
        if value is not None:
            data[name] = normalize_id_number(value)
    key = _store(kind).node_key(data)
    if key is not None:
        data["key"] = key
    return data


async def _write_batch(tx: AsyncManagedTransaction, phase: int, batch: _Batch, at: datetime, keep: bool) -> None:
    # Kinds in one fixed order, so that concurrent batches take their locks in the same order
    # (a deadlock between two of them costs a retry).
    for kind, query in QUERIES[phase].items():
        rows = batch.rows.get(kind)
        if rows:
            await (await tx.run(query, batch={"rows": rows}, at=at, keepMasked=keep)).consume()


async def _prefetched(batches: Iterator[_Batch]) -> AsyncGenerator[_Batch, None]:
    """Parse the next batch in a thread while the database works on the current one."""
    pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            yield batch
    finally:
        # Stopped early: let the thread finish the batch it is reading, and drop it.
        await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()


async def import_bundle(
    graph: Graph,
    source: Path | Sequence[str],
    *,
    mode: ImportMode = "ALL_OR_NOTHING",
    today: date,
    workdir: Path,
    rejects: Path | None = None,
    progress: Progress | None = None,
    validated: Progress | None = None,
    caller: Caller = OPERATOR,
    id_lookups: IdLookup | None = None,
) -> ImportResult:
    """Validate the bundle, then write it (see the module docstring for what is atomic).

    `caller` is who imports: a caller with a region writes only inside it
    (`graph.bundle.scope`); every import, refused or not, is audited where the records it
    touches lie (`graph.bundle.auditing`), a written one in the transaction that writes it.
    `id_lookups` (a caller who may not see ID numbers) is charged for every number of the
    bundle another person holds (`auditing.charge_id_lookups`).
    `progress` is called with the number of records each written batch adds; their sum is
    the number of valid records. `rejects` (skip-invalid) receives every rejected line after
    `# line N: field: reason` comments, so it can be fixed and imported again. `validated`
    is called with the number of valid records once validation is done.
    """
    bundle = _Bundle(source)
    sha256 = bundle.sha256()
    run_id = runs.run_id(sha256, caller.scope)
    report = await validate_bundle(bundle.lines(), graph, today=today, workdir=workdir, caller=caller)
    rejected = list(report.rejections)
    if id_lookups is not None:
        try:
            await auditing.charge_id_lookups(graph, id_lookups, report.id_number_holders)
        except LimitExceeded as error:
            await auditing.append(graph, _audit(caller, report, run_id, written=0, result=error.code))
            raise
    if rejected and mode == "ALL_OR_NOTHING":
        await auditing.append(graph, _audit(caller, report, run_id, written=0))
        return ImportResult(ok=False, written=0, rejected=rejected, run_id=run_id, complete=False, lines=report.lines)
    if validated is not None:
        validated(report.valid - len(report.unchanged))
    if rejects is not None and mode == "SKIP_INVALID":
        write_rejects(rejects, rejected)
    skip = report.rejected_lines() | report.unchanged
    at = datetime.now(UTC)
    run = {
        "source": bundle.name, "mode": mode, "lines": report.lines, "rejected": len(rejected),
        "scope": caller.scope, "sub": caller.sub, "sha256": sha256,
    }  # fmt: skip
    keep = not access.allowed(caller.role, "fullIdNumber")
    resumed = 0
    named: Named | None = {kind: set() for kind in risk.NAMED_KINDS} if report.lines <= NAMED_UP_TO else None
    if report.lines <= SINGLE_TRANSACTION_LINES:
        events = functools.partial(_audit, caller, report, run_id)
        written = await graph.write_transaction(
            _write_whole, bundle, skip, at, progress, run_id, run, keep, events, named
        )
    else:
        # Its batches commit one by one: today's discovery evaluates until its re-evaluation.
        await risk_index.open_pending(graph, run_id)
        written, resumed = await _write_batched(graph, bundle, skip, at, progress, run_id, run, keep, named)
        await auditing.append(graph, _audit(caller, report, run_id, written=written))
        if not written:
            await risk_index.close_pending(graph, [run_id])
    if named is not None:
        named["person"].update(report.children_before)
    return ImportResult(
        ok=True, written=written, rejected=rejected, run_id=run_id, complete=True, lines=report.lines,
        resumed=resumed, named=None if named is None else {kind: tuple(sorted(ids)) for kind, ids in named.items()},
    )  # fmt: skip


def _audit(
    caller: Caller, report: ValidationReport, run_id: str, *, written: int, result: str | None = None
) -> list[AuditEntry]:
    rejected = len(report.rejections)
    summary = [f"lines={report.lines}", f"written={written}", f"rejected={rejected}", f"run={run_id[:12]}"]
    result = result or auditing.outcome(rejection.code for rejection in report.rejections)
    return auditing.entries(caller, auditing.IMPORT, report.touched, summary, result)


async def _write_whole(
    tx: AsyncManagedTransaction,
    bundle: _Bundle,
    skip: frozenset[int],
    at: datetime,
    progress: Progress | None,
    run_id: str,
    run: dict[str, Any],
    keep: bool,
    events: Callable[..., list[AuditEntry]],
    named: Named | None,
) -> int:
    written = 0
    if named is not None:
        for ids in named.values():  # a retried transaction starts again
            ids.clear()
    for phase in (ENTITIES, LINKS):
        async with contextlib.aclosing(_prefetched(bundle.batches(phase, skip=skip, named=named))) as batches:
            async for batch in batches:
                await _write_batch(tx, phase, batch, at, keep)
                written += batch.records
                if progress is not None:
                    progress(batch.records)
    await runs.record_complete_run(tx, run_id, written=written, at=at, **run)
    await auditing.append_in(tx, events(written=written))
    if written:
        await risk_index.open_pending_in(tx, run_id)
    return written


async def _write_batched(
    graph: Graph,
    bundle: _Bundle,
    skip: frozenset[int],
    at: datetime,
    progress: Progress | None,
    run_id: str,
    run: dict[str, Any],
    keep: bool,
    named: Named | None,
) -> tuple[int, int]:
    """Write in committed batches, `PARALLEL_BATCHES` at a time (the database then uses more
    than one core), skipping those an interrupted run committed; return the records written
    in all and by the interrupted runs."""
    previous = await runs.get_run(graph, run_id)
    resume = (
        previous is not None
        and not previous.complete
        and previous.mode == run["mode"]
        and previous.batch_records == BATCH_RECORDS
    )
    done = previous.committed_batches if resume and previous else frozenset()
    written = resumed = previous.written if resume and previous else 0
    await runs.start_run(graph, run_id, at=at, resume=resume, batch_records=BATCH_RECORDS, **run)
    if progress is not None and resumed:
        progress(resumed)

    async def commit(tx: AsyncManagedTransaction, phase: int, name: str, batch: _Batch) -> None:
        await _write_batch(tx, phase, batch, at, keep)
        # Last, so that concurrent batches wait for each other on the run node only to commit.
        await runs.record_progress(tx, run_id, batch=name, records=batch.records)

    async def attempt(phase: int, name: str, batch: _Batch) -> None:
        for number in range(1, BATCH_ATTEMPTS + 1):
            try:
                await graph.write_transaction(commit, phase, name, batch)
                return
            except DatabaseUnavailable:
                if number == BATCH_ATTEMPTS:
                    raise
                await asyncio.sleep(number * 0.5)

    in_flight: dict[asyncio.Future[None], _Batch] = {}

    async def settle(until: int) -> None:
        nonlocal written
        while len(in_flight) > until:
            finished, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                batch = in_flight.pop(task)
                task.result()
                written += batch.records
                if progress is not None:
                    progress(batch.records)

    try:
        for phase in (ENTITIES, LINKS):
            # Relationships need every entity: phase 2 starts when phase 1 has committed.
            async with contextlib.aclosing(_prefetched(bundle.batches(phase, skip=skip, named=named))) as batches:
                index = 0
                async for batch in batches:
                    name = f"{phase}:{index}"
                    index += 1
                    if name in done:
                        continue
                    await settle(PARALLEL_BATCHES - 1)
                    in_flight[asyncio.ensure_future(attempt(phase, name, batch))] = batch
                await settle(0)
    except BaseException:
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        # Best effort: the database may be what failed. A killed process leaves `running`.
        with contextlib.suppress(Exception):
            await runs.finish_run(graph, run_id, status=runs.FAILED, at=datetime.now(UTC))
        raise
    await runs.finish_run(graph, run_id, status=runs.COMPLETE, at=datetime.now(UTC))
    return written, resumed


def write_rejects(path: Path, rejected: Sequence[Rejection]) -> None:
    """Each rejected line once, after one `# line N: field: reason` comment per problem."""
    by_line: dict[int, list[Rejection]] = {}
    for rejection in rejected:
        by_line.setdefault(rejection.line, []).append(rejection)
    with path.open("w", encoding="utf-8", errors="surrogateescape") as out:
        for line in sorted(by_line):
            problems = by_line[line]
            for problem in problems:
                where = f"{problem.field}: " if problem.field else ""
                out.write(f"# line {line}: {where}{problem.reason}\n")
            out.write(problems[0].text.rstrip("\r\n") + "\n")


__all__ = ["ImportMode", "ImportResult", "import_bundle", "write_rejects"]
