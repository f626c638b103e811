"""Every `shouhu` command ends a database failure with one line and an exit status, never a
traceback; and a local store that was deleted comes back with the configured password."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from api.cli import main
from api.cli_common import EXIT_REFUSED, EXIT_UNAVAILABLE
from api.settings import PROJECT_ROOT
from graph import localdb
from graph.localdb import LocalDatabase
from tests.conftest import SAMPLE_BUNDLE, SAMPLE_COUNTY, SAMPLE_EXPECTED
from tests.live import free_port

SHOUHU = Path(sys.executable).with_name("shouhu")

#: Each command that talks to the database, with arguments that get it that far.
DATABASE_COMMANDS: dict[str, list[str]] = {
    "db migrate": ["db", "migrate"],
    "discover": ["discover", "--region", SAMPLE_COUNTY],
    "sweep": ["sweep", "--region", SAMPLE_COUNTY],
    "sweep --daily": ["sweep", "--daily"],
    "import": ["import", str(SAMPLE_BUNDLE)],
    "import --status": ["import", "--status"],
    "export": ["export", "--region", SAMPLE_COUNTY],
    "report": ["report", "--region", SAMPLE_COUNTY, "--output", "report.xlsx"],
    "check": ["check", str(SAMPLE_BUNDLE), str(SAMPLE_EXPECTED)],
}
#: Commands that never open a driver (`serve` is the API, which has its own outage handling;
#: backup and restore work on the stopped store, tests/graph/test_backup.py).
OFFLINE = {f"db {name}" for name in ("start", "stop", "status", "backup", "restore")} | {
    "serve", "token", "schema", "docs", "generate",
}  # fmt: skip


def _command_names() -> set[str]:
    names: set[str] = set()
    for name, command in main.commands.items():
        sub = getattr(command, "commands", None)
        names |= {f"{name} {inner}" for inner in sub} if sub else {name}
    return names


def run(arguments: list[str], environment: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [str(SHOUHU), *arguments],
        env={**os.environ, **environment},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line(completed: subprocess.CompletedProcess[str], status: int, *phrases: str) -> None:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert completed.returncode == status, completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    # One line says what failed, last (`import` announces its validation first).
    assert [line for line in lines if "rror" in line] == lines[-1:], completed.stderr
    for phrase in phrases:
        assert phrase in lines[-1]


def test_every_command_that_talks_to_the_database_fails_in_one_line_when_it_is_not_there(
    tmp_path: Path, test_environment: dict[str, str]
) -> None:
    # A new command must be classified here, so that it is tested too.
    assert {name.split(" --")[0] for name in DATABASE_COMMANDS} | OFFLINE == _command_names()
    port = free_port()  # nobody listens there
    environment = {**test_environment, "SHOUHU_NEO4J_PORT": str(port), "SHOUHU_NEO4J_HOME": str(tmp_path / "none")}
    children = {
        name: subprocess.Popen(  # noqa: S603 - our own command; all at once, each waits out its retries
            [str(SHOUHU), *arguments],
            env={**os.environ, **environment},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, arguments in DATABASE_COMMANDS.items()
    }
    finished = {name: (child, *child.communicate(timeout=120)) for name, child in children.items()}
    for name, (child, stdout, stderr) in finished.items():
        completed = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
        assert_one_line(completed, EXIT_UNAVAILABLE, f"bolt://127.0.0.1:{port} is not reachable", "shouhu db start")
        assert name  # which command failed is in the assertion's traceback


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalDatabase]:
    database = LocalDatabase(home=tmp_path / "neo4j", bolt_port=free_port(), pagecache="64m", heap="512m")
    yield database
    localdb.stop(database)


@pytest.mark.slow
def test_a_deleted_store_comes_back_with_the_configured_password_and_a_wrong_one_is_one_line(
    local: LocalDatabase, tmp_path: Path, test_environment: dict[str, str]
) -> None:
    environment = {
        **test_environment,
        "SHOUHU_NEO4J_HOME": str(local.home),
        "SHOUHU_NEO4J_PORT": str(local.bolt_port),
        "SHOUHU_NEO4J_HEAP": local.heap,
        "SHOUHU_NEO4J_PAGECACHE": local.pagecache,
        "NEO4J_PASSWORD": "first-password",
    }
    started = run(["db", "start"], environment, tmp_path)
    assert started.returncode == 0, started.stderr
    assert run(["db", "migrate"], environment, tmp_path).returncode == 0

    # The trap: the store is deleted, and the marker older launchers kept beside it stays.
    assert run(["db", "stop"], environment, tmp_path).returncode == 0
    (local.home / "shouhu-password-set").write_text("initial password set\n")
    subprocess.run(["rm", "-rf", str(local.home / "data")], check=True)  # noqa: S603, S607
    environment["NEO4J_PASSWORD"] = "second-password"  # the new store takes whatever is configured now
    assert run(["db", "start"], environment, tmp_path).returncode == 0
    migrated = run(["db", "migrate"], environment, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "constraints and indexes in place" in migrated.stdout
    assert not (local.home / "shouhu-password-set").exists()

    wrong = {**environment, "NEO4J_PASSWORD": "not-the-password"}
    for arguments in (["db", "migrate"], ["discover", "--region", SAMPLE_COUNTY], ["import", "--status"]):
        assert_one_line(run(arguments, wrong, tmp_path), EXIT_REFUSED, "refused the credentials", str(local.home))
    # Neo4j locks the user out for a few seconds after repeated failures, the right password too.
    deadline = time.monotonic() + 30
    while (again := run(["db", "migrate"], environment, tmp_path)).returncode != 0 and time.monotonic() < deadline:
        time.sleep(2)
    assert again.returncode == 0, again.stderr


def test_the_cli_guide_lists_the_exit_statuses() -> None:
    guide = (PROJECT_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for status in (EXIT_UNAVAILABLE, EXIT_REFUSED):
        assert f"| {status} |" in guide
