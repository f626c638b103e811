"""The local database's lifecycle against a real Neo4j of its own (a separate store and port)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from graph import localdb
from graph.localdb import LocalDatabase

PASSWORD = "lifecycle-password"
#: A Neo4j setting the launcher is given beside its own (as the suite gives its planner's).
SETTING = ("dbms.cypher.min_replan_interval", "7s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalDatabase]:
    database = LocalDatabase(
        home=tmp_path / "neo4j", bolt_port=free_port(), pagecache="64m", heap="512m", settings=(SETTING,)
    )
    yield database
    localdb.stop(database)


def count_marks(port: int) -> int:
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", PASSWORD)) as driver:
        records, _, _ = driver.execute_query("MATCH (m:Mark) RETURN count(m) AS n", database_="neo4j")
        return int(records[0]["n"])


def setting(port: int, name: str) -> str:
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", PASSWORD)) as driver:
        records, _, _ = driver.execute_query("SHOW SETTINGS YIELD name, value WHERE name = $name", name=name)
        return str(records[0]["value"])


def mark(port: int) -> None:
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", PASSWORD)) as driver:
        driver.execute_query("CREATE (:Mark)", database_="neo4j")


@pytest.mark.slow
def test_start_twice_stop_twice_and_recover_after_kill_9(local: LocalDatabase) -> None:
    first = localdb.start(local, PASSWORD)
    assert first.running and first.pid is not None
    again = localdb.start(local, PASSWORD)
    assert again.running and again.pid == first.pid and again.message.startswith("already running")
    assert setting(local.bolt_port, SETTING[0]) == SETTING[1]
    mark(local.bolt_port)

    # Two processes never open one store: Neo4j's store lock refuses a second launcher.
    target = localdb.build()
    second = subprocess.run(  # noqa: S603
        [
            shutil.which("java") or "java",
            *localdb.JVM_FLAGS,
            "-cp",
            f"{target / 'classes'}:{target / 'lib' / '*'}",
            localdb.LAUNCHER_CLASS,
            "--home",
            str(local.home),
            "--port",
            str(free_port()),
            "--pagecache",
            "32m",
        ],
        env={**os.environ, "SHOUHU_NEO4J_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode != 0
    assert "store_lock" in second.stdout + second.stderr

    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while localdb.status(local).pid is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    stale = localdb.status(local)
    assert not stale.running and "stale pid file" in stale.message

    recovered = localdb.start(local, PASSWORD)
    assert recovered.running and recovered.pid != first.pid
    assert count_marks(local.bolt_port) == 1  # the committed write survived kill -9
    assert setting(local.bolt_port, SETTING[0]) == SETTING[1]  # and a start again keeps the settings given

    stopped = localdb.stop(local)
    assert not stopped.running and stopped.message.startswith("stopped")
    assert localdb.stop(local).message == "not running"
    assert localdb.status(local).message == "stopped"
