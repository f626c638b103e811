"""Bulk load of a bundle into an empty local database with Neo4j's offline importer.

`shouhu import FILE --offline` (docs/cli.md): for a first load of a county or a province the
online import's `MERGE`s are the cost, so the bundle is written as the CSV files of
`neo4j-admin database import full` instead, and the database builds its store from them at
its own speed. The steps:

1. the database must be empty (but for audit events, carried over into the new store); the
   bundle is validated exactly as online (`validate_bundle`,
   all-or-nothing: one bad line and nothing is written, every rejection listed);
2. each valid line becomes rows of one node file per label and one relationship file per
   type and end labels, with the properties the online import's queries
   (`graph.bundle.records`) would set: the same graph, `updatedAt` and the stage and status
   histories stamped with the import's time. The rows are written as the validation reads
   each line (`CsvSink`), since parsing the lines is most of the cost of both; they are
   scratch until the validation has found every line good;
3. the database is stopped, the importer run (from the jars the launcher already resolves),
   and the database started again; then the constraints and indexes (`graph.migrations`, in
   one transaction, so that one scan of the loaded store fills them all), the import's
   `ImportRun` and audit events, and a complete sweep as of today (alerts and the
   materialised risk of every child, `graph.risk_index`), in batches of villages.

The offline importer cannot merge: a bundle that gives one record twice (an id, or an
interval's endpoints and `since`) is refused before anything is written, naming the line;
the online import takes such bundles.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import itertools
import os
import shutil
import subprocess
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, LiteralString, TextIO

import orjson

from graph import localdb
from graph.bundle.records import ENTITY_KINDS, KINDS
from graph.bundle.validation import OPERATOR, Rejection, numbered
from graph.callers import Caller
from graph.discovery import Thresholds
from graph.driver import AsyncManagedTransaction, Graph
from graph.risk import AlertPolicy

#: Lists (`lowIncome`, `services`) inside one CSV field; no enumerated value contains it.
ARRAY_DELIMITER: Final = ";"

#: The node files: label (and ID space) -> header. `name:ID(Space)` stores the id as `name`.
NODES: Final[dict[str, tuple[str, ...]]] = {
    "Region": ("code:ID(Region)", "name", "level"),
    "Household": ("id:ID(Household)", "address", "lowIncome:string[]", "regionCode", "updatedAt:datetime"),
    "Person": (
        "id:ID(Person)", "name", "gender", "birthDate:date", "idNumber", "phone", "deceasedOn:date", "regionCode",
        "updatedAt:datetime",
    ),
    "Institution": (
        "id:ID(Institution)", "name", "type", "services:string[]", "capacity:long", "regionCode",
        "updatedAt:datetime",
    ),
    "Report": ("id:ID(Report)", "at:datetime", "reporterRole", "category", "urgency", "description"),
    "Case": ("id:ID(Case)", "openedOn:date", "stage", "updatedAt:datetime"),
    "Referral": (
        "id:ID(Referral)", "service", "on:date", "dueOn:date", "status", "reason", "updatedAt:datetime",
    ),
    "AwayEpisode": ("key:ID(AwayEpisode)", "since:date", "until:date", "destination", "destinationRegion"),
    "Condition": ("key:ID(Condition)", "type", "since:date", "until:date"),
    "Registration": ("key:ID(Registration)", "category", "since:date", "until:date"),
    "StageChange": (":ID(StageChange)", "stage", "at:datetime", "by"),
    "StatusChange": (":ID(StatusChange)", "status", "at:datetime", "by"),
}  # fmt: skip

#: The relationship files: (type, start space, end space) -> property columns.
RELATIONSHIPS: Final[dict[tuple[str, str, str], tuple[str, ...]]] = {
    ("PART_OF", "Region", "Region"): (),
    ("LOCATED_IN", "Household", "Region"): (),
    ("LOCATED_IN", "Institution", "Region"): (),
    ("MEMBER_OF", "Person", "Household"): (),
    ("PARENT_OF", "Person", "Person"): ("type",),
    ("GUARDIAN_OF", "Person", "Person"): ("since:date", "until:date", "basis"),
    ("GUARDIAN_OF", "Institution", "Person"): ("since:date", "until:date", "basis"),
    ("CARES_FOR", "Person", "Person"): ("since:date", "until:date", "agreementSignedOn:date", "entrustedBy"),
    ("AWAY", "Person", "AwayEpisode"): (),
    ("HAS_CONDITION", "Person", "Condition"): (),
    ("REGISTERED", "Person", "Registration"): (),
    ("ENROLLED_IN", "Person", "Institution"): ("since:date", "until:date", "grade", "boarding:boolean"),
    ("PLACED_IN", "Person", "Institution"): ("since:date", "until:date"),
    ("PAIRED_WITH", "Person", "Person"): ("since:date", "until:date"),
    ("SERVES", "Person", "Institution"): ("since:date", "role", "until:date", "regionCode", "institutionId"),
    ("SERVES", "Person", "Region"): ("since:date", "role", "until:date", "regionCode", "institutionId"),
    ("CONTACTED", "Person", "Person"): ("on:date", "channel"),
    ("VISITED", "Person", "Person"): ("on:date", "type", "notes"),
    ("ABOUT", "Report", "Person"): (),
    ("REPORTED", "Person", "Report"): (),
    ("CONCERNS", "Case", "Person"): (),
    ("ASSIGNED_TO", "Case", "Person"): (),
    ("FROM_REPORT", "Case", "Report"): (),
    ("HAD_STAGE", "Case", "StageChange"): (),
    ("REFERRED", "Case", "Referral"): (),
    ("TO", "Referral", "Institution"): (),
    ("HAD_STATUS", "Referral", "StatusChange"): (),
}

#: What identifies a record of each kind within a bundle (an entity by its key): the online
#: import merges two lines with the same identity into one record, the offline one cannot.
IDENTITY: Final[dict[str, tuple[str, ...]]] = {
    "region": ("code",), "household": ("id",), "person": ("id",), "institution": ("id",),
    "report": ("id",), "case": ("id",), "referral": ("id",),
    "parent": ("parent", "child"), "guardian": ("guardian", "child", "since"),
    "care": ("caregiver", "child", "since"), "away": ("person", "since"),
    "condition": ("person", "type", "since"), "enrollment": ("child", "institution", "since"),
    "placement": ("child", "institution", "since"), "pairing": ("volunteer", "child", "since"),
    "staff": ("person", "institution", "region", "since"), "registration": ("child", "category", "since"),
    "contact": ("from", "child", "on", "channel"), "visit": ("visitor", "child", "on", "type", "notes"),
}  # fmt: skip

#: After the import: the lists the online import always sets, empty ones included (the
#: offline importer leaves an empty list out).
EMPTY_LISTS: Final[tuple[LiteralString, ...]] = (
    "MATCH (h:Household) WHERE h.lowIncome IS NULL CALL (h) { SET h.lowIncome = [] } IN TRANSACTIONS OF 10000 ROWS",
    "MATCH (i:Institution) WHERE i.services IS NULL CALL (i) { SET i.services = [] } IN TRANSACTIONS OF 10000 ROWS",
)

IMPORTER_CLASS: Final = "org.neo4j.cli.AdminTool"
#: Seconds the indexes of a freshly loaded store may take to fill (a province's persons).
MIGRATION_WAIT: Final = 3600


class OfflineImportError(RuntimeError):
    """The offline import could not run; the message says why (nothing was loaded)."""


def _value(value: Any) -> str:
    if type(value) is str:  # most values: tested first, a province writes tens of millions
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return ARRAY_DELIMITER.join(value)
    return str(value)


def _column(header: str) -> str:
    return header.split(":", 1)[0]


#: The property each column of a node file, or each property column of a relationship file, holds.
NODE_COLUMNS: Final = {label: tuple(_column(h) for h in header) for label, header in NODES.items()}
RELATIONSHIP_COLUMNS: Final = {key: tuple(_column(c) for c in columns) for key, columns in RELATIONSHIPS.items()}


@dataclass(slots=True)
class CsvFiles:
    """The files written, with the rows in each, for `neo4j-admin database import full`."""

    folder: Path
    nodes: dict[str, Path] = field(default_factory=dict)
    relationships: dict[tuple[str, str, str], Path] = field(default_factory=dict)
    rows: int = 0

    def arguments(self) -> list[str]:
        found = [f"--nodes={label}={path}" for label, path in self.nodes.items()]
        found += [f"--relationships={key[0]}={path}" for key, path in self.relationships.items()]
        return found


class _Writers:
    """One open CSV writer per file, its header written on first use."""

    def __init__(self, files: CsvFiles) -> None:
        self.files = files
        self.handles: list[TextIO] = []
        self.writers: dict[object, Any] = {}

    def _writer(self, key: object, name: str, header: list[str]) -> Any:
        writer = self.writers.get(key)
        if writer is None:
            path = self.files.folder / f"{name}.csv"
            handle = path.open("w", encoding="utf-8", newline="")
            self.handles.append(handle)
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            self.writers[key] = writer
            if isinstance(key, tuple):
                self.files.relationships[key] = path
            else:
                self.files.nodes[str(key)] = path
        return writer

    def node(self, label: str, data: dict[str, Any]) -> None:
        writer = self.writers.get(label) or self._writer(label, label, list(NODES[label]))
        writer.writerow([_value(data.get(name)) for name in NODE_COLUMNS[label]])
        self.files.rows += 1

    def link(self, kind: str, start_space: str, end_space: str, start: str, end: str, **props: Any) -> None:
        key = (kind, start_space, end_space)
        writer = self.writers.get(key)
        if writer is None:
            header = [f":START_ID({start_space})", f":END_ID({end_space})", *RELATIONSHIPS[key]]
            writer = self._writer(key, f"{kind}-{start_space}-{end_space}", header)
        writer.writerow([start, end, *[_value(props.get(name)) for name in RELATIONSHIP_COLUMNS[key]]])
        self.files.rows += 1

    def close(self) -> None:
        for handle in self.handles:
            handle.close()


def _lines(source: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with source.open(encoding="utf-8", newline=None) as handle:
        for number, text in numbered(line.rstrip("\r\n") for line in handle):
            yield number, orjson.loads(text)


def _identity(kind: str, data: dict[str, Any]) -> int:
    if kind == "staff" and data.get("institution") is not None:
        # A post is held at the institution when one is named, else at the region.
        data = data | {"region": None}
    return hash((kind, *(data.get(name) for name in IDENTITY[kind])))


def repeated(source: Path, skip: frozenset[int]) -> list[Rejection]:
    """The lines that give a record an earlier line gave (by `IDENTITY`)."""
    seen: set[int] = set()
    found = []
    for number, data in _lines(source):
        kind = data.get("kind")
        if number in skip or kind not in IDENTITY:
            continue
        digest = _identity(kind, data)
        if digest in seen:
            found.append(
                Rejection(
                    number, None, f"{kind}: repeats an earlier line's record; the offline import takes each once",
                    "", "BAD_USER_INPUT",
                )
            )  # fmt: skip
        seen.add(digest)
    return found


#: Entity kinds are left to the validation, which already refuses a key defined twice.
_REPEATABLE: Final = frozenset(kind for kind in IDENTITY if kind not in ENTITY_KINDS)


class CsvSink:
    """The importer's CSV files written while the bundle is validated (`validate_bundle`'s
    `sink`): one parse of each line serves both. Whether the bundle may be loaded is known
    only at the end; the files are scratch until then.

    A person's `regionCode` is its household's village and a guardian is a person or an
    institution: both are known once the line defining the other record was read, which in
    a bundle written entity by entity (as exports and the generator are) is before; the few
    lines read before it are held back and written by `finish`. Each relationship line's
    identity is kept as a 64-bit hash (8 bytes a line, not a set of tuples), so `finish` can
    tell whether any record is given twice, which the offline importer cannot merge.
    """

    def __init__(self, folder: Path, at: datetime) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.files = CsvFiles(folder)
        self.at = at
        self._out = _Writers(self.files)
        self._villages: dict[str, str] = {}
        self._institutions: set[str] = set()
        self._guardians_written = False
        #: Institutions defined after some guardian line was written as a person's.
        self._late: set[str] = set()
        self._homeless: list[dict[str, Any]] = []
        self._changes = 0
        self._hashes = array("q")

    def __call__(self, number: int, kind: str, data: dict[str, Any]) -> None:
        store = KINDS[kind].store
        if store is None:
            return
        if kind in _REPEATABLE:
            self._hashes.append(_identity(kind, data))
        if kind == "household":
            self._villages[data["id"]] = data["region"]
        elif kind == "institution":
            self._institutions.add(data["id"])
            if self._guardians_written:
                self._late.add(data["id"])
        elif kind == "person" and data["household"] is not None and data["household"] not in self._villages:
            self._homeless.append(data)
            return
        elif kind == "guardian":
            self._guardians_written = True
        if store.shape == "interval_node":
            data = data | {"key": store.node_key(data)}
        self._changes = _write(self._out, kind, data, self._villages, self._institutions, self.at, self._changes)

    def repeats(self) -> bool:
        """Whether two relationship lines may give one record (equal hashes: `repeated` says
        exactly which)."""
        ordered = sorted(self._hashes)
        return any(a == b for a, b in itertools.pairwise(ordered))

    def finish(self) -> CsvFiles:
        for data in self._homeless:
            self._changes = _write(
                self._out, "person", data, self._villages, self._institutions, self.at, self._changes
            )
        self._homeless = []
        self._out.close()
        if self._late:
            self._move_late_guardians()
        return self.files

    def close(self) -> None:
        self._out.close()

    def _move_late_guardians(self) -> None:
        """Guardian rows written as a person's whose guardian turned out an institution (the
        two files have the same columns)."""
        people = self.files.relationships.get(("GUARDIAN_OF", "Person", "Person"))
        if people is None:
            return
        key = ("GUARDIAN_OF", "Institution", "Person")
        institutions = self.files.relationships.get(key)
        kept = people.with_suffix(".kept")
        with people.open(encoding="utf-8", newline="") as source, kept.open("w", encoding="utf-8", newline="") as out:
            reader, writer = csv.reader(source), csv.writer(out, lineterminator="\n")
            moved = []
            writer.writerow(next(reader))
            for fields in reader:
                if fields[0] in self._late:
                    moved.append(fields)
                else:
                    writer.writerow(fields)
        kept.replace(people)
        if not moved:
            return
        if institutions is None:
            institutions = self.files.folder / "GUARDIAN_OF-Institution-Person.csv"
            header = [":START_ID(Institution)", ":END_ID(Person)", *RELATIONSHIPS[key]]
            institutions.write_text(",".join(header) + "\n", encoding="utf-8")
            self.files.relationships[key] = institutions
        with institutions.open("a", encoding="utf-8", newline="") as out:
            csv.writer(out, lineterminator="\n").writerows(moved)


def write_csv(source: Path, folder: Path, *, skip: frozenset[int], at: datetime, row: Any) -> CsvFiles:
    """Every valid line of `source` (lines in `skip` left out) as the importer's CSV files.
    `row` converts a validated line's fields as the online import does (`importer._row`)."""
    villages: dict[str, str] = {}
    institutions: set[str] = set()
    for number, data in _lines(source):
        if number in skip:
            continue
        if data["kind"] == "household":
            villages[data["id"]] = data["region"]
        elif data["kind"] == "institution":
            institutions.add(data["id"])
    folder.mkdir(parents=True, exist_ok=True)
    files = CsvFiles(folder)
    out = _Writers(files)
    changes = 0
    try:
        for number, data in _lines(source):
            if number in skip:
                continue
            kind = data.pop("kind")
            if KINDS[kind].store is None:
                continue
            values = row(kind, data)
            changes = _write(out, kind, values, villages, institutions, at, changes)
    finally:
        out.close()
    return files


def _write(
    out: _Writers,
    kind: str,
    r: dict[str, Any],
    villages: dict[str, str],
    institutions: set[str],
    at: datetime,
    changes: int,
) -> int:
    """One line's rows; returns the number of history nodes written so far (their ids)."""
    if kind == "region":
        out.node("Region", r)
        if r.get("parent") is not None:
            out.link("PART_OF", "Region", "Region", r["code"], r["parent"])
    elif kind == "household":
        out.node("Household", r | {"regionCode": r["region"], "updatedAt": at})
        out.link("LOCATED_IN", "Household", "Region", r["id"], r["region"])
    elif kind == "person":
        household = r.get("household")
        out.node("Person", r | {"regionCode": villages.get(household) if household else None, "updatedAt": at})
        if household is not None:
            out.link("MEMBER_OF", "Person", "Household", r["id"], household)
    elif kind == "institution":
        out.node("Institution", r | {"regionCode": r["region"], "updatedAt": at})
        out.link("LOCATED_IN", "Institution", "Region", r["id"], r["region"])
    elif kind == "report":
        out.node("Report", r)
        out.link("ABOUT", "Report", "Person", r["id"], r["child"])
        if r.get("reporter") is not None:
            out.link("REPORTED", "Person", "Report", r["reporter"], r["id"])
    elif kind == "case":
        out.node("Case", r | {"updatedAt": at})
        out.link("CONCERNS", "Case", "Person", r["id"], r["child"])
        if r.get("worker") is not None:
            out.link("ASSIGNED_TO", "Case", "Person", r["id"], r["worker"])
        if r.get("report") is not None:
            out.link("FROM_REPORT", "Case", "Report", r["id"], r["report"])
        changes += 1
        out.node("StageChange", {"": str(changes), "stage": r["stage"], "at": at, "by": "import"})
        out.link("HAD_STAGE", "Case", "StageChange", r["id"], str(changes))
    elif kind == "referral":
        out.node("Referral", r | {"updatedAt": at})
        out.link("REFERRED", "Case", "Referral", r["case"], r["id"])
        out.link("TO", "Referral", "Institution", r["id"], r["institution"])
        changes += 1
        out.node("StatusChange", {"": str(changes), "status": r["status"], "at": at, "by": "import"})
        out.link("HAD_STATUS", "Referral", "StatusChange", r["id"], str(changes))
    elif kind in ("away", "condition", "registration"):
        label, via, anchor = {
            "away": ("AwayEpisode", "AWAY", "person"),
            "condition": ("Condition", "HAS_CONDITION", "person"),
            "registration": ("Registration", "REGISTERED", "child"),
        }[kind]
        out.node(label, r)
        out.link(via, "Person", label, r[anchor], r["key"])
    elif kind == "parent":
        out.link("PARENT_OF", "Person", "Person", r["parent"], r["child"], type=r["type"])
    elif kind == "guardian":
        space = "Institution" if r["guardian"] in institutions else "Person"
        out.link("GUARDIAN_OF", space, "Person", r["guardian"], r["child"], **r)
    elif kind == "care":
        out.link("CARES_FOR", "Person", "Person", r["caregiver"], r["child"], **r)
    elif kind in ("enrollment", "placement"):
        relationship = "ENROLLED_IN" if kind == "enrollment" else "PLACED_IN"
        out.link(relationship, "Person", "Institution", r["child"], r["institution"], **r)
    elif kind == "pairing":
        out.link("PAIRED_WITH", "Person", "Person", r["volunteer"], r["child"], **r)
    elif kind == "staff":
        institution = r.get("institution")
        props = r | {"regionCode": r.get("region"), "institutionId": institution}
        if institution is not None:
            out.link("SERVES", "Person", "Institution", r["person"], institution, **props)
        else:
            out.link("SERVES", "Person", "Region", r["person"], r["region"], **props)
    elif kind == "contact":
        out.link("CONTACTED", "Person", "Person", r["from"], r["child"], **r)
    elif kind == "visit":
        out.link("VISITED", "Person", "Person", r["visitor"], r["child"], **r)
    else:  # pragma: no cover - every stored kind is handled above
        raise AssertionError(f"no offline form for {kind}")
    return changes


def run_importer(local: localdb.LocalDatabase, files: CsvFiles, *, database: str, log: Path) -> None:
    """`neo4j-admin database import full` on the stopped local database (replacing its store)."""
    java = shutil.which("java")
    if java is None:
        raise OfflineImportError("java is not on PATH; the offline import needs Java 17")
    target = localdb.build()
    conf = local.home / "admin-conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "neo4j.conf").write_text("# the offline importer's settings: the launcher's defaults\n")
    command = [
        java, f"-Xmx{local.heap}", *localdb.JVM_FLAGS, "-cp", f"{target / 'classes'}:{target / 'lib' / '*'}",
        IMPORTER_CLASS, "database", "import", "full", *files.arguments(), f"--array-delimiter={ARRAY_DELIMITER}",
        "--multiline-fields=true", "--overwrite-destination=true", "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false", f"--report-file={log.with_suffix('.report')}",
        # The store is on local disk (random reads are cheap), and the importer's off-heap
        # caches get what the database's page cache would (by default it takes most of the
        # free memory, which a shared machine does not have to give).
        "--high-parallel-io=on", f"--max-off-heap-memory={local.pagecache}", f"--threads={os.cpu_count() or 1}",
        database,
    ]  # fmt: skip
    environment = {"NEO4J_HOME": str(local.home), "NEO4J_CONF": str(conf), "PATH": "/usr/bin:/bin"}
    with log.open("w", encoding="utf-8") as output:
        completed = subprocess.run(command, env=environment, stdout=output, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if completed.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise OfflineImportError("neo4j-admin database import failed:\n" + "\n".join(tail))


#: Empty but for the audit trail (of refused attempts, say), which the load carries over.
EMPTY: LiteralString = "MATCH (n) WHERE NOT n:AuditEvent RETURN count(n) = 0 AS empty"
AUDIT_TRAIL: LiteralString = "MATCH (e:AuditEvent) RETURN properties(e) AS event ORDER BY e.at"
RESTORE_AUDIT: LiteralString = "UNWIND $events AS event CREATE (e:AuditEvent) SET e = event"


@dataclass(frozen=True, slots=True)
class OfflineResult:
    """What `load` did; `seconds` by step (validate, csv, import, migrate, sweep)."""

    ok: bool
    lines: int
    written: int
    rejected: list[Rejection]
    run_id: str
    seconds: dict[str, float]
    children: int = 0


async def load(
    connect: Callable[[], AbstractAsyncContextManager[Graph]],
    local: localdb.LocalDatabase,
    password: str,
    source: Path,
    *,
    database: str,
    today: date,
    workdir: Path,
    thresholds: Thresholds,
    policy: AlertPolicy,
    caller: Caller = OPERATOR,
) -> OfflineResult:
    """Load `source` into the empty local database `local` (see the module); `connect` opens
    a `Graph` on it, called again after the restart."""
    from graph import alerts, migrations
    from graph.bundle import auditing, runs
    from graph.bundle.importer import row
    from graph.bundle.validation import validate_bundle

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 1)
        clock = now

    sha256, name = await asyncio.to_thread(_sha256, source)
    run_id = runs.run_id(sha256, caller.scope)
    at = datetime.now(UTC)

    def lines() -> Iterator[str]:
        with source.open(encoding="utf-8", errors="surrogateescape", newline=None) as handle:
            for line in handle:
                yield line.rstrip("\r\n")

    sink = CsvSink(workdir / "csv", at)
    try:
        async with connect() as graph:
            found = await graph.read(EMPTY)
            if not (found and found[0]["empty"]):
                raise OfflineImportError(
                    "the database is not empty: the offline import only loads an empty database (use the online import)"
                )
            report = await validate_bundle(lines(), graph, today=today, workdir=workdir, caller=caller, sink=sink)
            skip = report.rejected_lines() | report.unchanged
            rejected = list(report.rejections)
            if not rejected and await asyncio.to_thread(sink.repeats):
                rejected = await asyncio.to_thread(repeated, source, skip)
            summary = [
                f"lines={report.lines}",
                "written=0",
                f"rejected={len(rejected)}",
                f"run={run_id[:12]}",
                "offline",
            ]
            if rejected:
                outcome = auditing.outcome(rejection.code for rejection in rejected)
                await auditing.append(
                    graph, auditing.entries(caller, auditing.IMPORT, report.touched, summary, outcome)
                )
                sink.close()
                shutil.rmtree(workdir / "csv", ignore_errors=True)
                lap("validate")
                return OfflineResult(False, report.lines, 0, rejected, run_id, seconds)
            # The importer replaces the store: the audit trail so far goes over with the load.
            trail = [record["event"] for record in await graph.read(AUDIT_TRAIL)]
        lap("validate")
        if report.unchanged:
            # Lines that would change nothing are left out, as online: the files are rewritten.
            shutil.rmtree(workdir / "csv")
            files = await asyncio.to_thread(write_csv, source, workdir / "csv", skip=skip, at=at, row=row)
        else:
            files = await asyncio.to_thread(sink.finish)
    finally:
        sink.close()
    lap("csv")
    await asyncio.to_thread(localdb.stop, local, timeout=300)
    try:
        await asyncio.to_thread(run_importer, local, files, database=database, log=workdir / "neo4j-admin-import.log")
    finally:
        await asyncio.to_thread(localdb.start, local, password, timeout=600)
    lap("import")
    written = report.valid
    async with connect() as graph:
        # Every index is new and the store full: one scan fills them all.
        await migrations.apply(graph, together=True, wait=MIGRATION_WAIT)
        for statement in EMPTY_LISTS:
            await graph.autocommit(statement)
        summary[1] = f"written={written}"
        events = auditing.entries(caller, auditing.IMPORT, report.touched, summary, "ok")

        async def record(tx: AsyncManagedTransaction) -> None:
            await runs.record_complete_run(
                tx, run_id, source=name, mode="ALL_OR_NOTHING", lines=report.lines, rejected=0,
                written=written, at=at, scope=caller.scope, sub=caller.sub, sha256=sha256,
            )  # fmt: skip
            await auditing.append_in(tx, events)

        await graph.write_transaction(record)
        for start in range(0, len(trail), 10_000):
            await graph.write(RESTORE_AUDIT, {"events": trail[start : start + 10_000]})
        lap("migrate")
        # Every child judged as of today: alerts raised, risk materialised and stamped.
        await alerts.sweep(
            graph, region_prefix="", scope_prefix="", as_of=today, thresholds=thresholds, by=caller.sub, policy=policy
        )
        children = await graph.read("MATCH (k:ChildRisk) RETURN count(k) AS n")
        lap("sweep")
    return OfflineResult(True, report.lines, written, [], run_id, seconds, int(children[0]["n"]))


def _sha256(source: Path) -> tuple[str, str]:
    """The bundle's sha256 (what its `ImportRun` is keyed by) and its full path."""
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest(), str(source.resolve())
