"""Backups of the local database that keep everything: `shouhu db backup` and `shouhu db restore`.

A backup is taken offline, so it is consistent: the database is stopped cleanly (Neo4j
checkpoints its store on shutdown), its store is copied, and it is started again if it was
running. Two formats:

- `store`: the store folder (`data/`, both databases, their transaction logs) copied byte for
  byte; restored by copying it back. It needs the same Neo4j version.
- `dump`: Neo4j's own archives (`neo4j-admin database dump '*'`, run from the launcher's
  jars), one per database; far smaller, and `neo4j-admin database load` reads them on any
  Neo4j server of this version or later.

Every backup carries `manifest.json`, written last: the format, the Neo4j and Shouhu versions,
when, from where, and each file with its size and sha256. A restore checks every file against
it before it touches anything, refuses a target that already holds a store unless forced (and
then moves the old store aside rather than deleting it), and checks each file again as it
copies it. The store keeps its own password (the `neo4j` user lives in the `system`
database): after a restore, `NEO4J_PASSWORD` must be the one of the store backed up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal

from graph import localdb
from graph.localdb import LocalDatabase, LocalDatabaseError

Format = Literal["store", "dump"]
FORMATS: Final = ("store", "dump")
MANIFEST: Final = "manifest.json"
#: The manifest's own layout; a restore refuses any other.
LAYOUT: Final = 1
CHUNK: Final = 1 << 20


class BackupError(LocalDatabaseError):
    """A backup or a restore refused or failed; the message says why and what was left."""


@dataclass(frozen=True, slots=True)
class BackupFile:
    path: str  #: relative to the backup folder, with `/`
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    format: Format
    neo4j_version: str
    shouhu_version: str
    created: str  #: UTC, ISO 8601
    source: str  #: the store folder backed up
    files: tuple[BackupFile, ...]
    layout: int = LAYOUT

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"files": [asdict(f) for f in self.files]}

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("layout") != LAYOUT:
                raise BackupError(f"{path}: layout {raw.get('layout')!r}, this version reads layout {LAYOUT}")
            if raw["format"] not in FORMATS:
                raise BackupError(f"{path}: unknown format {raw['format']!r}")
            files = tuple(BackupFile(str(f["path"]), int(f["bytes"]), str(f["sha256"])) for f in raw["files"])
            return cls(
                format=raw["format"],
                neo4j_version=str(raw["neo4j_version"]),
                shouhu_version=str(raw["shouhu_version"]),
                created=str(raw["created"]),
                source=str(raw["source"]),
                files=files,
            )
        except FileNotFoundError as error:
            raise BackupError(f"{folder} holds no {MANIFEST}: not a backup, or one that did not finish") from error
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(f"{path} is unreadable: {error}") from error


@dataclass(frozen=True, slots=True)
class Outcome:
    manifest: Manifest
    seconds: float
    restarted: bool
    #: where a restore moved the store it replaced
    moved_aside: Path | None = None


def _store(local: LocalDatabase) -> Path:
    return local.home / "data"


def _holds_store(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _shouhu_version() -> str:
    try:
        return metadata.version("shouhu")
    except metadata.PackageNotFoundError:
        return "unknown"


def _hash_copy(source: Path, target: Path) -> tuple[int, str]:
    """Copy one file, hashing what was read, in one pass."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target)
    return size, digest.hexdigest()


def _hash(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


class _Offline:
    """Stop the database for the block if it runs, and start it again afterwards, whatever happened."""

    def __init__(self, local: LocalDatabase, password: str) -> None:
        self.local = local
        self.password = password
        self.was_running = False

    def __enter__(self) -> _Offline:
        current = localdb.status(self.local)
        if current.pid is not None and not current.running:
            raise BackupError(f"the database is {current.message}; try again once it has started or stopped")
        self.was_running = current.running
        if self.was_running:
            localdb.stop(self.local)
        return self

    def check_still_stopped(self) -> None:
        if localdb.status(self.local).pid is not None:
            self.was_running = False  # someone else started it: leave it to them
            raise BackupError("the database was started while its store was being copied; the copy is not consistent")

    def __exit__(self, *_: object) -> None:
        if self.was_running:
            # A busy machine can take minutes to start Neo4j; the backup is done by then.
            localdb.start(self.local, self.password, timeout=600)


def backup(local: LocalDatabase, password: str, folder: Path, *, form: Format = "store") -> Outcome:
    """Write a consistent backup of the local store into `folder` (new or empty)."""
    started = time.monotonic()
    store = _store(local)
    if not (store / "databases").is_dir():
        raise BackupError(f"there is no store at {store} to back up")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not empty; a backup goes into a new or empty folder")
    if folder.resolve().is_relative_to(local.home.resolve()):
        raise BackupError(f"{folder} is inside the database's folder {local.home}; choose another place")
    folder.mkdir(parents=True, exist_ok=True)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        with _Offline(local, password) as offline:
            if form == "store":
                files = []
                for path in _files(store):
                    relative = path.relative_to(local.home)
                    files.append(BackupFile(relative.as_posix(), *_hash_copy(path, folder / relative)))
            else:
                (folder / "dumps").mkdir()
                localdb.admin(local, "database", "dump", "*", f"--to-path={folder / 'dumps'}")
                files = [BackupFile(p.relative_to(folder).as_posix(), *_hash(p)) for p in _files(folder / "dumps")]
            offline.check_still_stopped()
    except BaseException:
        # The folder was new or empty: what is in it now is this backup's unfinished copy.
        for written in (folder / "data", folder / "dumps"):
            shutil.rmtree(written, ignore_errors=True)
        raise
    manifest = Manifest(
        format=form,
        neo4j_version=localdb.neo4j_version(),
        shouhu_version=_shouhu_version(),
        created=created,
        source=str(store),
        files=tuple(files),
    )
    # Written last, and atomically: a folder without a manifest is no backup.
    partial = folder / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest.as_json(), indent=1) + "\n", encoding="utf-8")
    os.replace(partial, folder / MANIFEST)
    return Outcome(manifest, time.monotonic() - started, offline.was_running)


def verify(folder: Path) -> Manifest:
    """The backup's manifest, once every file it lists is there with its size and sha256, and no other."""
    manifest = Manifest.read(folder)
    listed = {f.path for f in manifest.files}
    present = {p.relative_to(folder).as_posix() for p in _files(folder)} - {MANIFEST}
    problems = [f"missing {path}" for path in sorted(listed - present)]
    problems += [f"not in the manifest: {path}" for path in sorted(present - listed)]
    for entry in manifest.files:
        if entry.path in present:
            size, sha = _hash(folder / entry.path)
            if (size, sha) != (entry.bytes, entry.sha256):
                problems.append(f"{entry.path}: sha256 {sha} ({size} bytes), the manifest says {entry.sha256}")
    if problems:
        raise BackupError(
            f"{folder} does not match its manifest, nothing was restored: "
            + "; ".join(problems[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        )
    return manifest


def restore(local: LocalDatabase, password: str, folder: Path, *, force: bool = False) -> Outcome:
    """Replace the local store with the backup in `folder`, after checking it whole."""
    started = time.monotonic()
    manifest = verify(folder)
    if manifest.neo4j_version != localdb.neo4j_version():
        raise BackupError(
            f"the backup is of Neo4j {manifest.neo4j_version}, the local database runs {localdb.neo4j_version()}; "
            "restore it with that version"
        )
    store = _store(local)
    if _holds_store(store) and not force:
        raise BackupError(
            f"{store} already holds a store; restore refuses to replace it unless --force is given "
            "(the store it replaces is moved aside, not deleted)"
        )
    moved: Path | None = None
    local.home.mkdir(parents=True, exist_ok=True)
    with _Offline(local, password) as offline:
        if _holds_store(store):
            moved = store.with_name(f"data.replaced-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
            store.rename(moved)
        elif store.exists():
            store.rmdir()
        if manifest.format == "store":
            for entry in manifest.files:
                target = local.home / entry.path
                if (got := _hash_copy(folder / entry.path, target)) != (entry.bytes, entry.sha256):
                    raise BackupError(f"{entry.path} changed while it was restored ({got[1]}); restore again")
        else:
            localdb.admin(local, "database", "load", "*", f"--from-path={folder / 'dumps'}")
        offline.check_still_stopped()
    return Outcome(manifest, time.monotonic() - started, offline.was_running, moved)
