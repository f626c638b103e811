"""`make pytest`: the suite in two pytest processes side by side, each on a test database of its own.

One pytest process keeps about one core of two busy: it waits on its database, and the database
waits on it. Two processes, each with its own Neo4j, fill both cores. The split is fixed, by
measured times: the second runs tests/schema (the API's GraphQL resolvers) but its access
matrix, its alerts and its child files, and the modules that take a database down (the
outages, the offline load, the backup), which stay together with the one second database they
share; the first runs everything else (the access matrix, the alerts, the child files, the
database's own tests, the servers, the browsers, the imports). The first's output streams; the
second's is printed whole when both are done.

`SHOUHU_TEST_SHARDS=1` runs the whole suite in one process instead, as does a suite pointed at an
external server (`SHOUHU_TEST_NEO4J_URI`). Arguments are passed to both processes
(`python -m tests.shards -x`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from api.settings import PROJECT_ROOT

#: The modules that stop, kill or replace a database: one process runs all of them, on the one
#: second database they share (`fault_database` in tests/conftest.py).
FAULTS = ("tests/api/test_outages.py", "tests/graph/bundle/test_offline.py", "tests/graph/test_backup.py")
#: tests/schema's modules that the first process runs with the rest.
SCHEMA_IN_FIRST = (
    "tests/schema/test_access_matrix.py",
    "tests/schema/test_alerts.py",
    "tests/schema/test_child_file.py",
)
#: What the second process runs; the first runs everything else. Measured in one fresh-clone run
#: (load 4 to 7): the rest without the fault modules took 560 s, tests/schema 460 s, the fault
#: modules 310 s and the access matrix about 140 of tests/schema's. Then, in another (load 3 to
#: 5), the first 655 s and the second 814 s; with the alerts' module moved, 618 s and 765 s, of
#: which the child file's module about 95 s.
SECOND = (
    *sorted(
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in (PROJECT_ROOT / "tests" / "schema").glob("test_*.py")
        if path.relative_to(PROJECT_ROOT).as_posix() not in SCHEMA_IN_FIRST
    ),
    *FAULTS,
)
#: The second process's database port is the test port plus this (the first uses the port and,
#: for its second database, the port plus one).
OFFSET = 3


def main(arguments: list[str]) -> int:
    pytest = str(Path(sys.executable).with_name("pytest"))
    # An external server is one database: two processes on it would empty each other's data.
    if os.environ.get("SHOUHU_TEST_SHARDS") == "1" or os.environ.get("SHOUHU_TEST_NEO4J_URI"):
        return subprocess.call([pytest, *arguments], cwd=PROJECT_ROOT)  # noqa: S603 - our own command
    port = int(os.environ.get("SHOUHU_TEST_NEO4J_PORT", "7688"))
    environment = {
        **os.environ,
        "SHOUHU_TEST_NEO4J_PORT": str(port + OFFSET),
        "SHOUHU_TEST_FAULT_NEO4J_PORT": str(port + OFFSET + 1),
    }
    started = time.monotonic()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        second = subprocess.Popen(  # noqa: S603 - our own command
            [pytest, *SECOND, *arguments], cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        ignored = [f"--ignore={path}" for path in SECOND]
        first = subprocess.call([pytest, *ignored, *arguments], cwd=PROJECT_ROOT)  # noqa: S603
        first_took = time.monotonic() - started
        second.wait()
        second_took = time.monotonic() - started
        output.seek(0)
        print(f"\n===== the second process (SHOUHU_TEST_NEO4J_PORT={port + OFFSET}) =====", flush=True)
        sys.stdout.write(output.read())
    print(
        f"\n===== the rest: exit {first} in {first_took:.0f} s; the second process: exit {second.returncode} "
        f"in {second_took:.0f} s =====",
        flush=True,
    )
    return first or second.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
