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
import hashlib
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal, LiteralString

import orjson

from graph.bundle import runs
from graph.bundle.idnumber import normalize as normalize_id_number
from graph.bundle.records import KINDS
from graph.bundle.validation import Rejection, numbered, validate_bundle
from graph.driver import AsyncManagedTransaction, Graph
from graph.errors import DatabaseUnavailable

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

ENTITIES: Final = 1
LINKS: Final = 2

# --- phase 1: entities, with their own properties and the edges to what they name ------------
# A named entity that has no node yet gets one holding only its key: validation has made sure
# its own line is in the bundle (earlier or later in this phase) or its node in the database.
# A changed reference replaces the old edge. `updatedAt` moves only when a field changed, so
# a repeated import is a no-op.

REGION_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (r:Region {code: row.code})
SET r.name = row.name, r.level = row.level
WITH r, row
CALL (r, row) {
    MATCH (r)-[old:PART_OF]->(p) WHERE row.parent IS NULL OR p.code <> row.parent
    DELETE old
}
FOREACH (code IN CASE WHEN row.parent IS NULL THEN [] ELSE [row.parent] END |
    MERGE (p:Region {code: code})
    MERGE (r)-[:PART_OF]->(p)
)
"""

# A household that is new or has moved passes its village on to its members.
HOUSEHOLD_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (h:Household {id: row.id})
WITH h, row, coalesce(h.regionCode <> row.region, true) AS moved,
     h.updatedAt IS NULL OR h.regionCode <> row.region OR h.lowIncome <> row.lowIncome
     OR NOT coalesce(h.address = row.address, h.address IS NULL AND row.address IS NULL) AS changed
SET h.address = row.address, h.lowIncome = row.lowIncome, h.regionCode = row.region,
    h.updatedAt = CASE WHEN changed THEN $at ELSE h.updatedAt END
WITH h, row, moved
CALL (h, row) {
    MATCH (h)-[old:LOCATED_IN]->(r) WHERE r.code <> row.region
    DELETE old
}
MERGE (r:Region {code: row.region})
MERGE (h)-[:LOCATED_IN]->(r)
WITH h, moved WHERE moved
MATCH (p:Person)-[:MEMBER_OF]->(h)
SET p.regionCode = h.regionCode
"""

INSTITUTION_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (i:Institution {id: row.id})
WITH i, row,
     i.updatedAt IS NULL OR i.name <> row.name OR i.type <> row.type OR i.regionCode <> row.region
     OR i.services <> row.services
     OR NOT coalesce(i.capacity = row.capacity, i.capacity IS NULL AND row.capacity IS NULL) AS changed
SET i.name = row.name, i.type = row.type, i.services = row.services, i.capacity = row.capacity,
    i.regionCode = row.region, i.updatedAt = CASE WHEN changed THEN $at ELSE i.updatedAt END
WITH i, row
CALL (i, row) {
    MATCH (i)-[old:LOCATED_IN]->(r) WHERE r.code <> row.region
    DELETE old
}
MERGE (r:Region {code: row.region})
MERGE (i)-[:LOCATED_IN]->(r)
"""

# A person's regionCode is their household's village (set here when the household's line came
# first, by the household's line otherwise); no household, no region.
PERSON_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (p:Person {id: row.id})
WITH p, row,
     p.updatedAt IS NULL OR p.name <> row.name OR p.gender <> row.gender OR p.birthDate <> row.birthDate
     OR NOT coalesce(p.idNumber = row.idNumber, p.idNumber IS NULL AND row.idNumber IS NULL)
     OR NOT coalesce(p.phone = row.phone, p.phone IS NULL AND row.phone IS NULL)
     OR NOT coalesce(p.deceasedOn = row.deceasedOn, p.deceasedOn IS NULL AND row.deceasedOn IS NULL)
     OR NOT CASE WHEN row.household IS NULL THEN NOT EXISTS { (p)-[:MEMBER_OF]->() }
                 ELSE EXISTS { (p)-[:MEMBER_OF]->(:Household {id: row.household}) } END AS changed
SET p.name = row.name, p.gender = row.gender, p.birthDate = row.birthDate, p.idNumber = row.idNumber,
    p.phone = row.phone, p.deceasedOn = row.deceasedOn,
    p.updatedAt = CASE WHEN changed THEN $at ELSE p.updatedAt END
WITH p, row
CALL (p, row) {
    MATCH (p)-[old:MEMBER_OF]->(h) WHERE row.household IS NULL OR h.id <> row.household
    DELETE old
}
FOREACH (id IN CASE WHEN row.household IS NULL THEN [] ELSE [row.household] END |
    MERGE (h:Household {id: id})
    MERGE (p)-[:MEMBER_OF]->(h)
)
WITH p, row
OPTIONAL MATCH (h:Household {id: row.household})
SET p.regionCode = h.regionCode
"""

REPORT_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (r:Report {id: row.id})
SET r.at = row.at, r.reporterRole = row.reporterRole, r.category = row.category,
    r.urgency = row.urgency, r.description = row.description
WITH r, row
CALL (r, row) {
    MATCH (r)-[old:ABOUT]->(c) WHERE c.id <> row.child
    DELETE old
}
CALL (r, row) {
    MATCH (p)-[old:REPORTED]->(r) WHERE row.reporter IS NULL OR p.id <> row.reporter
    DELETE old
}
MERGE (c:Person {id: row.child})
MERGE (r)-[:ABOUT]->(c)
FOREACH (id IN CASE WHEN row.reporter IS NULL THEN [] ELSE [row.reporter] END |
    MERGE (p:Person {id: id})
    MERGE (p)-[:REPORTED]->(r)
)
"""

# A case's history starts with the stage it was imported at; a later import that changes the
# stage records that change too.
CASE_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (c:Case {id: row.id})
WITH c, row, c.stage AS previous,
     c.updatedAt IS NULL OR c.openedOn <> row.openedOn OR c.stage <> row.stage AS changed
SET c.openedOn = row.openedOn, c.stage = row.stage,
    c.updatedAt = CASE WHEN changed THEN $at ELSE c.updatedAt END
WITH c, row, previous
CALL (c, row) {
    MATCH (c)-[old:CONCERNS]->(p) WHERE p.id <> row.child
    DELETE old
}
CALL (c, row) {
    MATCH (c)-[old:ASSIGNED_TO]->(p) WHERE row.worker IS NULL OR p.id <> row.worker
    DELETE old
}
CALL (c, row) {
    MATCH (c)-[old:FROM_REPORT]->(r) WHERE row.report IS NULL OR r.id <> row.report
    DELETE old
}
MERGE (child:Person {id: row.child})
MERGE (c)-[:CONCERNS]->(child)
FOREACH (id IN CASE WHEN row.worker IS NULL THEN [] ELSE [row.worker] END |
    MERGE (worker:Person {id: id})
    MERGE (c)-[:ASSIGNED_TO]->(worker)
)
FOREACH (id IN CASE WHEN row.report IS NULL THEN [] ELSE [row.report] END |
    MERGE (report:Report {id: id})
    MERGE (c)-[:FROM_REPORT]->(report)
)
FOREACH (_ IN CASE WHEN previous IS NULL OR previous <> row.stage THEN [1] ELSE [] END |
    CREATE (c)-[:HAD_STAGE]->(:StageChange {stage: row.stage, at: $at, by: 'import'})
)
"""

REFERRAL_NODES: LiteralString = """
UNWIND $rows AS row
MERGE (f:Referral {id: row.id})
WITH f, row, f.status AS previous,
     f.updatedAt IS NULL OR f.service <> row.service OR f.on <> row.on OR f.dueOn <> row.dueOn
     OR f.status <> row.status
     OR NOT coalesce(f.reason = row.reason, f.reason IS NULL AND row.reason IS NULL) AS changed
SET f.service = row.service, f.on = row.on, f.dueOn = row.dueOn, f.status = row.status,
    f.reason = row.reason, f.updatedAt = CASE WHEN changed THEN $at ELSE f.updatedAt END
WITH f, row, previous
CALL (f, row) {
    MATCH (c)-[old:REFERRED]->(f) WHERE c.id <> row.case
    DELETE old
}
CALL (f, row) {
    MATCH (f)-[old:TO]->(i) WHERE i.id <> row.institution
    DELETE old
}
MERGE (c:Case {id: row.case})
MERGE (c)-[:REFERRED]->(f)
MERGE (i:Institution {id: row.institution})
MERGE (f)-[:TO]->(i)
FOREACH (_ IN CASE WHEN previous IS NULL OR previous <> row.status THEN [1] ELSE [] END |
    CREATE (f)-[:HAD_STATUS]->(:StatusChange {status: row.status, at: $at, by: 'import'})
)
"""

# --- phase 2: relationships, intervals (keyed by endpoints plus since) and events ------------

PARENT_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (p:Person {id: row.parent}), (c:Person {id: row.child})
MERGE (p)-[r:PARENT_OF]->(c)
SET r.type = row.type
"""

GUARDIAN_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (c:Person {id: row.child})
OPTIONAL MATCH (person:Person {id: row.guardian})
OPTIONAL MATCH (institution:Institution {id: row.guardian})
WITH c, row, coalesce(person, institution) AS g
WHERE g IS NOT NULL
MERGE (g)-[r:GUARDIAN_OF {since: row.since}]->(c)
SET r.until = row.until, r.basis = row.basis
"""

CARE_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (g:Person {id: row.caregiver}), (c:Person {id: row.child})
MERGE (g)-[r:CARES_FOR {since: row.since}]->(c)
SET r.until = row.until, r.agreementSignedOn = row.agreementSignedOn, r.entrustedBy = row.entrustedBy
"""

AWAY_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (p:Person {id: row.person})
MERGE (a:AwayEpisode {key: row.key})
SET a.since = row.since, a.until = row.until, a.destination = row.destination,
    a.destinationRegion = row.destinationRegion
MERGE (p)-[:AWAY]->(a)
"""

CONDITION_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (p:Person {id: row.person})
MERGE (c:Condition {key: row.key})
SET c.type = row.type, c.since = row.since, c.until = row.until
MERGE (p)-[:HAS_CONDITION]->(c)
"""

REGISTRATION_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (p:Person {id: row.child})
MERGE (r:Registration {key: row.key})
SET r.category = row.category, r.since = row.since, r.until = row.until
MERGE (p)-[:REGISTERED]->(r)
"""

ENROLLMENT_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (c:Person {id: row.child}), (i:Institution {id: row.institution})
MERGE (c)-[r:ENROLLED_IN {since: row.since}]->(i)
SET r.until = row.until, r.grade = row.grade, r.boarding = row.boarding
"""

PLACEMENT_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (c:Person {id: row.child}), (i:Institution {id: row.institution})
MERGE (c)-[r:PLACED_IN {since: row.since}]->(i)
SET r.until = row.until
"""

PAIRING_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (v:Person {id: row.volunteer}), (c:Person {id: row.child})
MERGE (v)-[r:PAIRED_WITH {since: row.since}]->(c)
SET r.until = row.until
"""

# Staff serve an institution when one is named, else a region.
STAFF_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (p:Person {id: row.person})
OPTIONAL MATCH (i:Institution {id: row.institution})
OPTIONAL MATCH (r:Region {code: row.region})
WITH p, row, coalesce(i, r) AS target
WHERE target IS NOT NULL
MERGE (p)-[s:SERVES {since: row.since}]->(target)
SET s.role = row.role, s.until = row.until, s.regionCode = row.region, s.institutionId = row.institution
"""

CONTACT_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (f:Person {id: row.from}), (c:Person {id: row.child})
MERGE (f)-[:CONTACTED {on: row.on, channel: row.channel}]->(c)
"""

VISIT_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (v:Person {id: row.visitor}), (c:Person {id: row.child})
MERGE (v)-[e:VISITED {on: row.on, type: row.type}]->(c)
SET e.notes = row.notes
"""

QUERIES: Final[dict[int, dict[str, LiteralString]]] = {
    ENTITIES: {
        "region": REGION_NODES,
        "household": HOUSEHOLD_NODES,
        "institution": INSTITUTION_NODES,
        "person": PERSON_NODES,
        "report": REPORT_NODES,
        "case": CASE_NODES,
        "referral": REFERRAL_NODES,
    },
    LINKS: {
        "parent": PARENT_LINKS,
        "guardian": GUARDIAN_LINKS,
        "care": CARE_LINKS,
        "away": AWAY_LINKS,
        "condition": CONDITION_LINKS,
        "registration": REGISTRATION_LINKS,
        "enrollment": ENROLLMENT_LINKS,
        "placement": PLACEMENT_LINKS,
        "pairing": PAIRING_LINKS,
        "staff": STAFF_LINKS,
        "contact": CONTACT_LINKS,
        "visit": VISIT_LINKS,
    },
}
ENTITY_KINDS: Final = frozenset(QUERIES[ENTITIES])
assert ENTITY_KINDS | set(QUERIES[LINKS]) == set(KINDS), "every bundle kind needs a write query"

#: Node-keyed intervals: the fields their `key` is made of (MODEL.md).
NODE_KEYS: Final = {
    "away": ("person", "since"),
    "condition": ("person", "type", "since"),
    "registration": ("child", "category", "since"),
}
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

    def batches(self, phase: int, *, skip: frozenset[int]) -> Iterator[_Batch]:
        """The valid records of one phase, in batches of `BATCH_RECORDS` (numbered by their
        order: the same source, skip set and size give the same batches)."""
        batch = _Batch()
        for number, text in numbered(self.lines()):
            if number in skip:
                continue
            data = orjson.loads(text)
            kind = data.pop("kind")
            if (kind in ENTITY_KINDS) != (phase == ENTITIES):
                continue
            batch.rows.setdefault(kind, []).append(_row(kind, data))
            batch.records += 1
            if batch.records >= BATCH_RECORDS:
                yield batch
                batch = _Batch()
        if batch.records:
            yield batch


def _row(kind: str, data: dict[str, Any]) -> dict[str, Any]:
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
    key_fields = NODE_KEYS.get(kind)
    if key_fields is not None:
        data["key"] = "|".join(str(data[name]) for name in key_fields)
    return data


async def _write_batch(tx: AsyncManagedTransaction, phase: int, batch: _Batch, at: datetime) -> None:
    # Kinds in one fixed order, so that concurrent batches take their locks in the same order
    # (a deadlock between two of them costs a retry).
    for kind, query in QUERIES[phase].items():
        rows = batch.rows.get(kind)
        if rows:
            await (await tx.run(query, rows=rows, at=at)).consume()


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
) -> ImportResult:
    """Validate the bundle, then write it (see the module docstring for what is atomic).

    `progress` is called with the number of records each written batch adds; their sum is
    the number of valid records. `rejects` (skip-invalid) receives every rejected line after
    `# line N: field: reason` comments, so it can be fixed and imported again. `validated`
    is called with the number of valid records once validation is done.
    """
    bundle = _Bundle(source)
    run_id = bundle.sha256()
    report = await validate_bundle(bundle.lines(), graph, today=today, workdir=workdir)
    rejected = list(report.rejections)
    if rejected and mode == "ALL_OR_NOTHING":
        return ImportResult(ok=False, written=0, rejected=rejected, run_id=run_id, complete=False, lines=report.lines)
    if validated is not None:
        validated(report.valid)
    if rejects is not None and mode == "SKIP_INVALID":
        write_rejects(rejects, rejected)
    skip = report.rejected_lines()
    at = datetime.now(UTC)
    run = {"source": bundle.name, "mode": mode, "lines": report.lines, "rejected": len(rejected)}
    resumed = 0
    if report.lines <= SINGLE_TRANSACTION_LINES:
        written = await graph.write_transaction(_write_whole, bundle, skip, at, progress, run_id, run)
    else:
        written, resumed = await _write_batched(graph, bundle, skip, at, progress, run_id, run)
    return ImportResult(
        ok=True, written=written, rejected=rejected, run_id=run_id, complete=True, lines=report.lines, resumed=resumed
    )


async def _write_whole(
    tx: AsyncManagedTransaction,
    bundle: _Bundle,
    skip: frozenset[int],
    at: datetime,
    progress: Progress | None,
    run_id: str,
    run: dict[str, Any],
) -> int:
    written = 0
    for phase in (ENTITIES, LINKS):
        async with contextlib.aclosing(_prefetched(bundle.batches(phase, skip=skip))) as batches:
            async for batch in batches:
                await _write_batch(tx, phase, batch, at)
                written += batch.records
                if progress is not None:
                    progress(batch.records)
    await runs.record_complete_run(tx, run_id, written=written, at=at, **run)
    return written


async def _write_batched(
    graph: Graph,
    bundle: _Bundle,
    skip: frozenset[int],
    at: datetime,
    progress: Progress | None,
    run_id: str,
    run: dict[str, Any],
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
        await _write_batch(tx, phase, batch, at)
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
            async with contextlib.aclosing(_prefetched(bundle.batches(phase, skip=skip))) as batches:
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
