"""`make pytest`: the suite in two pytest processes side by side, each on a test database of its own.

One pytest process keeps about one core of two busy: it waits on its database, and the database
waits on it. Two processes, each with its own Neo4j, fill both cores. The split is by folder and
fixed: tests/schema (the API's GraphQL: the access matrix and the resolvers) in one, everything
else (the database's own tests, the servers, the outages, the browsers) in the other, which
keeps the tests that take a database down in one process, with the one second database they
share. The first's output streams; the second's is printed whole when both are done.

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

#: The folder the second process runs; the first runs everything else.
SECOND = "tests/schema"
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
            [pytest, SECOND, *arguments], cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        first = subprocess.call([pytest, f"--ignore={SECOND}", *arguments], cwd=PROJECT_ROOT)  # noqa: S603
        first_took = time.monotonic() - started
        second.wait()
        second_took = time.monotonic() - started
        output.seek(0)
        print(f"\n===== {SECOND} (second process, SHOUHU_TEST_NEO4J_PORT={port + OFFSET}) =====", flush=True)
        sys.stdout.write(output.read())
    print(
        f"\n===== the rest: exit {first} in {first_took:.0f} s; {SECOND}: exit {second.returncode} "
        f"in {second_took:.0f} s =====",
        flush=True,
    )
    return first or second.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
