"""The on-disk cross-reference index a bundle is validated against.

A bundle may hold millions of lines, so what the cross-line checks need goes into a private
SQLite file under the caller's work folder, never into Python collections: which keys each
line defines and refers to, birth dates, region levels, services, ID numbers. The file is
written in big transactions with the journal off (it is scratch: nothing survives a crash and
nothing needs to) and deleted on close. The text of each line, needed only to report the
lines the cross-line checks reject, goes to a plain spool file beside it.

One table per kind, `k_<kind>`, with one row per line that passed the per-line checks (`ok` 1
until a cross-line check rejects it), with one column per reference field (`f_<field>`).
Entity tables have `key` (id or code) and `attr`: a region's level rank, a person's birth
date (`day_number`), an institution's services (comma-joined), a referral's requested service;
`k_person` also has `idn`. Entity lines the per-line checks rejected are kept with `ok` 0 when
their key could be read, so that a reference to them can name the line to fix. `dbent` holds
the keys that no line of the bundle defines, as found in the database.

SQL text here is built once at import from `records.KINDS` (table and column names come from
that fixed table, hence the `noqa: S608`); values are always parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final, TypeVar

from graph.bundle.records import ENTITY_ORDER, KINDS, MIN_PARENT_AGE
from graph.regions import LEVEL_RANK

T = TypeVar("T")

#: What an entity line stores in `attr`, by kind.
ATTRIBUTES: Final[dict[str, Callable[[dict[str, Any]], Any]]] = {
    "region": lambda data: LEVEL_RANK[data["level"]],
    "person": lambda data: day_number(data["birthDate"]),
    "institution": lambda data: ",".join(data["services"]),
    "referral": lambda data: data["service"],
}


def day_number(day: date) -> int:
    """A date as the integer YYYYMMDD: the difference of two is at least 120000 exactly when
    the later is at least 12 completed years after the earlier."""
    return day.year * 10000 + day.month * 100 + day.day


def _resolved(kind: str, name: str) -> str:
    """The attr of reference `name` of `kind` (single target), from the bundle or the database."""
    position = next(number for number, field in enumerate(field for field in KINDS[kind].fields if field.refs)
                    if field.name == name)  # fmt: skip
    return f"coalesce(g{position}_0.attr, d{position}_0.attr)"


#: Per kind, SQL that holds when the line meets its cross-line rule, given its references
#: (aliases as in `_layout`). Only lines that fail it, or have an unresolved reference, are read
#: back into Python, which words the reason; regions are few and always read back.
RULES: Final = {
    "region": "0",
    "household": f"{_resolved('household', 'region')} IS NULL"
    f" OR {_resolved('household', 'region')} = {LEVEL_RANK['village']}",
    "referral": f"instr(',' || coalesce({_resolved('referral', 'institution')}, '') || ',', ',' || l.attr || ',') > 0",
    "parent": f"{_resolved('parent', 'parent')} IS NULL OR {_resolved('parent', 'child')} IS NULL"
    f" OR {_resolved('parent', 'child')} - {_resolved('parent', 'parent')} >= {MIN_PARENT_AGE * 10000}",
}
#: Rows buffered before one `executemany` per table.
FLUSH_EVERY: Final = 20_000


@dataclass(frozen=True, slots=True)
class Layout:
    """How one kind is stored, and the SQL that reads it back."""

    kind: str
    key: str | None
    #: (field, target kinds) of each reference field, in field order.
    refs: tuple[tuple[str, tuple[str, ...]], ...]
    schema: str
    insert: str
    #: Every reference of the still-valid lines, resolved (see `references`).
    references: str

    @property
    def table(self) -> str:
        return f"k_{self.kind}"


def _layout(kind: str) -> Layout:
    spec = KINDS[kind]
    refs = tuple((field.name, field.refs) for field in spec.fields if field.refs)
    columns = ["line INTEGER PRIMARY KEY", "ok INTEGER NOT NULL DEFAULT 1"]
    inserted = ["line"]
    if spec.key:
        columns += ["key TEXT", "attr"]
        inserted += ["key", "attr"]
    if kind == "person":
        columns.append("idn TEXT")
        inserted.append("idn")
    for name, _ in refs:
        columns.append(f"f_{name} TEXT")
        inserted.append(f"f_{name}")
    schema = f"CREATE TABLE k_{kind} ({', '.join(columns)})"
    insert = f"INSERT INTO k_{kind} ({', '.join(inserted)}) VALUES ({', '.join('?' * len(inserted))})"  # noqa: S608

    # One row per line: its own key and attr, then per reference field its value and, per
    # target kind, where that key is defined: a valid line of the bundle (line, attr), a node
    # of the database (found, attr), else the first rejected line of the bundle defining it.
    selected = ["l.line", "l.key" if spec.key else "NULL", "l.attr" if spec.key else "NULL"]
    joins = []
    sound = []
    for position, (name, targets) in enumerate(refs):
        value = f"l.f_{name}"
        selected.append(value)
        found_any = [f"{value} IS NULL"]
        for number, target in enumerate(targets):
            good, found = f"g{position}_{number}", f"d{position}_{number}"
            found_any += [f"{good}.line IS NOT NULL", f"{found}.key IS NOT NULL"]
            joins.append(f"LEFT JOIN k_{target} AS {good} ON {good}.key = {value} AND {good}.ok = 1")
            joins.append(f"LEFT JOIN dbent AS {found} ON {found}.kind = '{target}' AND {found}.key = {value}")
            selected += [
                f"{good}.line",
                f"{good}.attr",
                f"{found}.key IS NOT NULL",
                f"{found}.attr",
                f"CASE WHEN {good}.line IS NULL AND {found}.key IS NULL AND {value} IS NOT NULL THEN"  # noqa: S608
                f" (SELECT min(x.line) FROM k_{target} AS x WHERE x.key = {value} AND x.ok = 0) END",
            ]
        sound.append(f"({' OR '.join(found_any)})")
    sound.append(f"coalesce(({RULES.get(kind, '1')}), 0)")
    level = " AND l.attr = :level" if kind == "region" else ""
    references = (
        f"SELECT {', '.join(selected)} FROM k_{kind} AS l {' '.join(joins)}"  # noqa: S608
        f" WHERE l.ok = 1{level} AND NOT ({' AND '.join(sound)}) ORDER BY l.line"
    )
    return Layout(kind, spec.key, refs, schema, insert, references)


LAYOUTS: Final = {kind: _layout(kind) for kind in KINDS}

SCHEMA: Final = "\n".join(
    [
        *(f"{layout.schema};" for layout in LAYOUTS.values()),
        "CREATE TABLE dbent (kind TEXT NOT NULL, key TEXT NOT NULL, attr, PRIMARY KEY (kind, key)) WITHOUT ROWID;",
        "CREATE TABLE pending (target TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (target, key)) WITHOUT ROWID;",
    ]
)

# Built after loading: one sorted build is much faster than maintaining them row by row.
INDEXES: Final = "\n".join(
    [
        *(f"CREATE INDEX k_{kind}_key ON k_{kind} (key, ok);" for kind, layout in LAYOUTS.items() if layout.key),
        "CREATE INDEX k_person_idn ON k_person (idn) WHERE idn IS NOT NULL;",
        "CREATE INDEX k_parent_child ON k_parent (f_child);",
    ]
)

# Keys referred to that no line of the bundle defines: only these are looked up in the
# database. A key whose lines were all rejected is not: a reference to it is rejected too.
PENDING: Final = tuple(
    f"INSERT OR IGNORE INTO pending (target, key) SELECT '{target}', l.f_{name} FROM k_{kind} AS l"  # noqa: S608
    f" WHERE l.f_{name} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM k_{target} AS e WHERE e.key = l.f_{name})"
    for kind, layout in LAYOUTS.items()
    for name, targets in layout.refs
    for target in targets
)

DUPLICATE_KEYS: Final = {
    kind: f"""
    SELECT r.line, r.key, f.first
    FROM (SELECT key, min(line) AS first FROM k_{kind} WHERE ok = 1 GROUP BY key HAVING count(*) > 1) AS f
    JOIN k_{kind} AS r ON r.key = f.key AND r.ok = 1 AND r.line > f.first
    ORDER BY r.line
    """  # noqa: S608
    for kind, layout in LAYOUTS.items()
    if layout.key
}

DUPLICATE_ID_NUMBERS: Final = """
SELECT p.line, p.idn, f.first, (SELECT key FROM k_person WHERE line = f.first)
FROM (SELECT idn, min(line) AS first FROM k_person
      WHERE ok = 1 AND idn IS NOT NULL GROUP BY idn HAVING count(*) > 1) AS f
JOIN k_person AS p ON p.idn = f.idn AND p.ok = 1 AND p.line > f.first
ORDER BY p.line
"""

ID_NUMBERS: Final = """
SELECT line, key, idn FROM k_person WHERE ok = 1 AND idn IS NOT NULL AND line > ? ORDER BY line LIMIT ?
"""

# Is `:ancestor` reachable upwards from `:person` through the bundle's valid parent edges?
IS_ANCESTOR: Final = """
WITH RECURSIVE up (id) AS (
  SELECT :person
  UNION
  SELECT e.f_parent FROM k_parent AS e JOIN up ON e.f_child = up.id WHERE e.ok = 1
)
SELECT 1 FROM up WHERE id = :ancestor LIMIT 1
"""


class BundleIndex:
    """A scratch SQLite file and text spool, deleted by `close` (or leaving a `with` block).

    Its work runs in worker threads (`in_thread`), one call at a time, so the event loop stays
    free; `close` waits for the call under way.
    """

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="bundle-", suffix=".sqlite", dir=workdir)
        os.close(handle)
        self.path = Path(name)
        self.spool_path = self.path.with_suffix(".lines")
        self.offsets_path = self.path.with_suffix(".offsets")
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "locking_mode = EXCLUSIVE",
            "temp_store = FILE",
            "cache_size = -32768",  # 32 MiB, whatever the bundle's size
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self._rows: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in LAYOUTS}
        self._rejected: dict[str, list[tuple[int, str]]] = {kind: [] for kind in LAYOUTS}
        self._buffered = 0
        # Line texts: the spool holds them end to end; `offsets[n]` is line n's start (-1: none).
        self._spool = self.spool_path.open("wb")
        self._spooled = 0
        self._offsets = array("q")
        self._offsets_file = self.offsets_path.open("wb")
        self._offset_lines = 0
        self._readers: tuple[BinaryIO, BinaryIO] | None = None

    def __enter__(self) -> BundleIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in a worker thread, holding the index."""
        return await asyncio.to_thread(self._locked, work, *args)

    def _locked(self, work: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return work(*args)

    def close(self) -> None:
        with self._lock:
            self.db.close()
            for stream in (self._spool, self._offsets_file, *(self._readers or ())):
                stream.close()
            for path in (self.path, self.spool_path, self.offsets_path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    # Loading -------------------------------------------------------------------------------

    def add(self, line: int, kind: str, data: dict[str, Any], text: str) -> None:
        """Record a line that passed the per-line checks, with its typed fields."""
        layout = LAYOUTS[kind]
        row: list[Any] = [line]
        if layout.key:
            attribute = ATTRIBUTES.get(kind)
            row += [data[layout.key], attribute(data) if attribute else None]
        if kind == "person":
            row.append(data["idNumber"])
        row += [data[name] for name, _ in layout.refs]
        self._rows[kind].append(tuple(row))
        self._spool_text(line, text)
        self._buffered += 1
        if self._buffered >= FLUSH_EVERY:
            self.flush()

    def add_rejected(self, line: int, kind: str, key: str) -> None:
        """Record the key of an entity line the per-line checks rejected."""
        self._rejected[kind].append((line, key))
        self._buffered += 1
        if self._buffered >= FLUSH_EVERY:
            self.flush()

    def _spool_text(self, line: int, text: str) -> None:
        # Length-prefixed, so a text holding a newline (JSON allows one between tokens) survives.
        missing = line - (self._offset_lines + len(self._offsets))
        if missing > 0:
            self._offsets.extend(array("q", [-1]) * missing)
        self._offsets.append(self._spooled)
        data = text.encode("utf-8", "surrogateescape")
        self._spool.write(len(data).to_bytes(4, "little"))
        self._spool.write(data)
        self._spooled += 4 + len(data)

    def flush(self) -> None:
        for kind, rows in self._rows.items():
            if rows:
                self.db.executemany(LAYOUTS[kind].insert, rows)
                rows.clear()
        for kind, keys in self._rejected.items():
            if keys:
                self.db.executemany(f"INSERT INTO k_{kind} (line, ok, key) VALUES (?, 0, ?)", keys)  # noqa: S608
                keys.clear()
        self._buffered = 0
        self._offsets.tofile(self._offsets_file)
        self._offset_lines += len(self._offsets)
        del self._offsets[:]

    def finish_loading(self) -> None:
        self.flush()
        self._spool.close()
        self._offsets_file.close()
        self.db.execute("COMMIT")
        self.db.executescript(INDEXES)

    # Cross-line queries --------------------------------------------------------------------

    def duplicate_keys(self, kind: str) -> list[tuple[int, str, int]]:
        """(line, key, first line) for every later valid line defining the same key."""
        return self.db.execute(DUPLICATE_KEYS[kind]).fetchall()

    def pending_keys(self, batch: int) -> Iterator[tuple[str, list[str]]]:
        """Keys referred to but defined nowhere in the bundle, by target kind, in batches."""
        self.db.execute("BEGIN")
        for statement in PENDING:
            self.db.execute(statement)
        self.db.execute("COMMIT")
        for target in ENTITY_ORDER:
            last = ""
            while keys := [
                row[0]
                for row in self.db.execute(
                    "SELECT key FROM pending WHERE target = ? AND key > ? ORDER BY key LIMIT ?", (target, last, batch)
                )
            ]:
                last = keys[-1]
                yield target, keys

    def add_database_entities(self, rows: Sequence[tuple[str, str, Any]]) -> None:
        """(kind, key, attr) of nodes found in the database."""
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR REPLACE INTO dbent VALUES (?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def references(self, kind: str, level: int | None = None) -> Iterator[tuple[Any, ...]]:
        """The still-valid lines of `kind` (of one region level) that a cross-line check may
        reject, by line: `line, key, attr`, then per reference field `value` and, per target
        kind, `line, attr` of its valid line, `found, attr` in the database, and the first
        line that defined it but was rejected."""
        cursor = self.db.execute(LAYOUTS[kind].references, {"level": level})
        while rows := cursor.fetchmany(2000):
            yield from rows

    def duplicate_id_numbers(self) -> list[tuple[int, str, int, str]]:
        """(line, idNumber, first line, first line's person id) for later uses of a number."""
        return self.db.execute(DUPLICATE_ID_NUMBERS).fetchall()

    def id_numbers(self, batch: int) -> Iterator[list[tuple[int, str, str]]]:
        """(line, person id, idNumber) of the still-valid persons with a number, in batches."""
        last = 0
        while rows := self.db.execute(ID_NUMBERS, (last, batch)).fetchall():
            last = rows[-1][0]
            yield rows

    def is_ancestor(self, ancestor: str, person: str) -> bool:
        return self.db.execute(IS_ANCESTOR, {"ancestor": ancestor, "person": person}).fetchone() is not None

    def reject(self, kind: str, lines: Iterable[int]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(f"UPDATE k_{kind} SET ok = 0 WHERE line = ?", ((line,) for line in lines))  # noqa: S608
        self.db.execute("COMMIT")

    def text(self, line: int) -> str:
        """The text of a line that passed the per-line checks."""
        if self._readers is None:
            self._readers = (self.offsets_path.open("rb"), self.spool_path.open("rb"))
        offsets, spool = self._readers
        offsets.seek(line * 8)
        found = array("q", offsets.read(8))
        if not found or found[0] < 0:
            return ""
        spool.seek(found[0])
        size = int.from_bytes(spool.read(4), "little")
        return spool.read(size).decode("utf-8", "surrogateescape")

    def counts(self) -> dict[str, int]:
        """Valid lines per kind (kinds with none left out)."""
        counts = {}
        for kind in LAYOUTS:
            counts[kind] = self.db.execute(f"SELECT count(*) FROM k_{kind} WHERE ok = 1").fetchone()[0]  # noqa: S608
        return {kind: count for kind, count in counts.items() if count}
