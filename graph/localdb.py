"""The local development Neo4j: Neo4j Community embedded in a small Java launcher.

`shouhu db start|stop|status` use this module. The jars come from Maven Central through
`mvn package` (copied into `graph/neo4j/target/lib`, never shaded: Neo4j finds its
extensions through `META-INF/services`), and every one of them must have the sha256 that
`graph/neo4j/artifacts.sha256` records, so the database runs exactly the code it was tested
on. Neo4j's own `store_lock` means two processes can never open one store; the pid file lets
`start` find a running server and recover from a stale one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCHER_DIR = Path(__file__).resolve().parent / "neo4j"
LAUNCHER_CLASS = "cn.shouhu.neo4j.Launcher"
STAMP = ".built-from"
#: `sha256sum` lines for each jar of target/lib; `make lock-jars` rewrites it.
ARTIFACTS = LAUNCHER_DIR / "artifacts.sha256"

# Neo4j 5 reaches into these java.base packages (direct buffers, file channels, netty);
# without them Java 17 logs illegal-access warnings or fails to map the page cache.
JVM_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
)


@dataclass(frozen=True, slots=True)
class LocalDatabase:
    """Where and how the project's own Neo4j runs (`shouhu db ...`)."""

    home: Path
    bolt_port: int
    pagecache: str = "1g"
    heap: str = "1g"
    tx_total_max: str = "1g"
    tx_max: str = "768m"
    tx_timeout: str = "120s"
    #: Further Neo4j settings as (name, value) pairs, given to the launcher last. The test suite
    #: sets its planner's here (tests/conftest.py, docs/operations.md); nothing else sets any.
    settings: tuple[tuple[str, str], ...] = ()


class LocalDatabaseError(RuntimeError):
    """The local database could not be built, started or stopped; the message says why."""


@dataclass(frozen=True, slots=True)
class Status:
    running: bool
    pid: int | None
    port: int
    message: str


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([LAUNCHER_DIR / "pom.xml", ARTIFACTS, *LAUNCHER_DIR.glob("src/**/*.java")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _jar_digests(lib: Path) -> dict[str, str]:
    return {jar.name: hashlib.sha256(jar.read_bytes()).hexdigest() for jar in sorted(lib.glob("*.jar"))}


def _recorded_digests() -> dict[str, str]:
    recorded: dict[str, str] = {}
    for line in ARTIFACTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            sha, name = line.split(maxsplit=1)
            recorded[name.lstrip("*")] = sha
    return recorded


def verify_artifacts(lib: Path) -> None:
    """Refuse jars that differ from the recorded ones: another version, another build, or one more."""
    recorded = _recorded_digests()
    found = _jar_digests(lib)
    problems = [f"missing {name}" for name in sorted(recorded.keys() - found.keys())]
    problems += [f"not recorded: {name}" for name in sorted(found.keys() - recorded.keys())]
    problems += [
        f"sha256 differs: {name} is {found[name]}, recorded {recorded[name]}"
        for name in sorted(found.keys() & recorded.keys())
        if found[name] != recorded[name]
    ]
    if problems:
        raise LocalDatabaseError(
            f"Neo4j's jars in {lib} are not the ones {ARTIFACTS.name} records ("
            + "; ".join(problems[:10])
            + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
            + "). If pom.xml changed on purpose, run `make lock-jars` and review the new list."
        )


def _write_artifacts(lib: Path) -> None:
    lines = [f"{sha}  {name}" for name, sha in _jar_digests(lib).items()]
    ARTIFACTS.write_text(
        "# The jars `mvn package` copies into target/lib, by sha256; the build refuses any other.\n"
        "# Rewritten by `make lock-jars` after a change to pom.xml.\n" + "\n".join(lines) + "\n"
    )


def build(*, quiet: bool = True, relock: bool = False) -> Path:
    """Compile the launcher and copy Neo4j's jars, once per change of its sources, and check
    every jar against the recorded sha256 (`relock` records them instead)."""
    target = LAUNCHER_DIR / "target"
    stamp = target / STAMP
    digest = _source_digest()
    if not relock and stamp.exists() and stamp.read_text() == digest and (target / "lib").is_dir():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalDatabaseError("Maven (mvn) is not on PATH; install Maven and Java 17 to run the local database")
    # copy-dependencies never removes a jar, so a version left from an older pom would
    # stay on the classpath and fail the check below.
    shutil.rmtree(target / "lib", ignore_errors=True)
    stamp.unlink(missing_ok=True)
    # --strict-checksums: a download whose checksum does not match the repository's fails.
    command = [mvn, "-B", "--strict-checksums", "package"]
    if quiet:
        command.insert(2, "-q")
    completed = subprocess.run(command, cwd=LAUNCHER_DIR, check=False, capture_output=quiet, text=True)  # noqa: S603
    if completed.returncode != 0:
        detail = (completed.stdout or "")[-4000:] + (completed.stderr or "")[-2000:] if quiet else ""
        raise LocalDatabaseError(f"building the Neo4j launcher failed (mvn package):\n{detail}")
    if relock:
        _write_artifacts(target / "lib")
        digest = _source_digest()
    verify_artifacts(target / "lib")
    stamp.write_text(digest)
    return target


def _pid_file(local: LocalDatabase) -> Path:
    return local.home / "neo4j.pid"


def _ready(local: LocalDatabase, pid: int) -> bool:
    """The launcher writes its pid to `ready` once the password is set and Bolt is up."""
    try:
        written = (local.home / "ready").read_text().strip()
    except FileNotFoundError:
        return False
    return written == str(pid) and _bolt_answers(local.bolt_port)


def _log_file(local: LocalDatabase) -> Path:
    return local.home / "launcher.log"


def _read_pid(local: LocalDatabase) -> int | None:
    try:
        return int(_pid_file(local).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_launcher(pid: int) -> bool:
    """True when `pid` is alive and is our launcher (not a recycled pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return LAUNCHER_CLASS.encode() in command


def _bolt_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        # A Bolt server answers the handshake preamble with a 4-byte version.
        sock.sendall(b"\x60\x60\xb0\x17" + b"\x00\x00\x05\x05" + b"\x00" * 12)
        return len(sock.recv(4)) == 4
    return False


def status(local: LocalDatabase) -> Status:
    pid = _read_pid(local)
    if pid is not None and _is_launcher(pid):
        if _ready(local, pid):
            return Status(True, pid, local.bolt_port, f"running (pid {pid}) on bolt://127.0.0.1:{local.bolt_port}")
        return Status(False, pid, local.bolt_port, f"starting or stopping (pid {pid}); Bolt not answering yet")
    if pid is not None:
        return Status(False, None, local.bolt_port, f"stopped (stale pid file for pid {pid})")
    return Status(False, None, local.bolt_port, "stopped")


def start(local: LocalDatabase, password: str, *, timeout: float = 120.0) -> Status:
    """Start the database and wait until Bolt answers. A second start reports the running one."""
    current = status(local)
    if current.running:
        return Status(True, current.pid, local.bolt_port, f"already {current.message}")
    if current.pid is not None:
        # Alive but not answering: it is mid-start; wait for it rather than racing it.
        return _wait_ready(local, current.pid, timeout)
    if _pid_file(local).exists():
        # The previous launcher died without cleaning up (kill -9, power loss). Neo4j
        # recovers its store from the transaction log on the next start.
        _pid_file(local).unlink()
    if _bolt_answers(local.bolt_port):
        raise LocalDatabaseError(
            f"port {local.bolt_port} already answers Bolt but not from this project's database at {local.home}; "
            "stop that server or set SHOUHU_NEO4J_PORT"
        )
    java = shutil.which("java")
    if java is None:
        raise LocalDatabaseError("java is not on PATH; the local database needs Java 17")
    target = build()
    local.home.mkdir(parents=True, exist_ok=True)
    classpath = f"{target / 'classes'}{os.pathsep}{target / 'lib' / '*'}"
    command = [
        java,
        f"-Xms{local.heap}",
        f"-Xmx{local.heap}",
        *JVM_FLAGS,
        "-cp",
        classpath,
        LAUNCHER_CLASS,
        "--home",
        str(local.home),
        "--port",
        str(local.bolt_port),
        "--pagecache",
        local.pagecache,
        "--tx-total-max",
        local.tx_total_max,
        "--tx-max",
        local.tx_max,
        "--tx-timeout",
        local.tx_timeout,
        *(argument for name, value in local.settings for argument in (f"--neo4j.{name}", value)),
    ]
    environment = {**os.environ, "SHOUHU_NEO4J_PASSWORD": password}
    # A shell starts the JVM in the background and exits at once, so the server is not our
    # child: it outlives this command, and no zombie or unreaped Popen is left behind.
    spawn = 'exec "$@" >>"$SHOUHU_NEO4J_LOG" 2>&1 </dev/null & echo $!'
    environment["SHOUHU_NEO4J_LOG"] = str(_log_file(local))
    completed = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", spawn, "sh", *command],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    )
    pid = int(completed.stdout.strip())
    _pid_file(local).write_text(str(pid))
    return _wait_ready(local, pid, timeout)


def _wait_ready(local: LocalDatabase, pid: int, timeout: float) -> Status:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_launcher(pid):
            _pid_file(local).unlink(missing_ok=True)
            raise LocalDatabaseError(
                f"Neo4j (pid {pid}) exited while starting; the end of {_log_file(local)}:\n" + _tail(_log_file(local))
            )
        if _ready(local, pid):
            return Status(True, pid, local.bolt_port, f"running (pid {pid}) on bolt://127.0.0.1:{local.bolt_port}")
        time.sleep(0.25)
    raise LocalDatabaseError(
        f"Neo4j did not answer on port {local.bolt_port} within {timeout:.0f} s; see {_log_file(local)}"
    )


def stop(local: LocalDatabase, *, timeout: float = 60.0) -> Status:
    """Stop the database cleanly (SIGTERM runs Neo4j's shutdown); idempotent."""
    pid = _read_pid(local)
    if pid is None or not _is_launcher(pid):
        _pid_file(local).unlink(missing_ok=True)
        return Status(False, None, local.bolt_port, "not running")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_launcher(pid):
            break
        time.sleep(0.2)
    else:
        raise LocalDatabaseError(f"Neo4j (pid {pid}) did not stop within {timeout:.0f} s; it is still running")
    _pid_file(local).unlink(missing_ok=True)
    return Status(False, None, local.bolt_port, f"stopped (was pid {pid})")


def neo4j_version() -> str:
    """The Neo4j version the launcher runs (pom.xml's `neo4j.version`)."""
    found = re.search(r"<neo4j\.version>([^<]+)</neo4j\.version>", (LAUNCHER_DIR / "pom.xml").read_text())
    if found is None:
        raise LocalDatabaseError(f"{LAUNCHER_DIR / 'pom.xml'} names no neo4j.version")
    return found.group(1)


#: neo4j-admin's entry point, in the jars the launcher runs from.
ADMIN_CLASS = "org.neo4j.cli.AdminTool"


def admin(local: LocalDatabase, *arguments: str, timeout: float = 600.0) -> str:
    """Run `neo4j-admin` on the stopped local store (dump and load are offline in Community)."""
    java = shutil.which("java")
    if java is None:
        raise LocalDatabaseError("java is not on PATH; the local database needs Java 17")
    target = build()
    with tempfile.TemporaryDirectory(prefix="shouhu-neo4j-admin-") as conf:
        # neo4j-admin reads $NEO4J_CONF/neo4j.conf; the store is at its default, $NEO4J_HOME/data.
        (Path(conf) / "neo4j.conf").write_text("# neo4j-admin run by shouhu db backup/restore\n")
        completed = subprocess.run(  # noqa: S603 - our own java command, no shell
            [java, "-Xmx512m", *JVM_FLAGS, "-cp", f"{target / 'classes'}{os.pathsep}{target / 'lib' / '*'}",
             ADMIN_CLASS, *arguments],
            env={**os.environ, "NEO4J_HOME": str(local.home), "NEO4J_CONF": conf},
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        raise LocalDatabaseError(f"neo4j-admin {' '.join(arguments)} failed: " + " / ".join(output[-5:]))
    return completed.stdout


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
