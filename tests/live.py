"""The API as a real server: `shouhu serve` in a child process on a free loopback port.

For what an in-process ASGI client cannot show: a WebSocket over a real socket, the JSON lines
the server writes to stderr, and the fuzzer, which speaks HTTP. The child reads the same test
environment as the suite (its own test database), plus whatever a test adds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.settings import PROJECT_ROOT


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"

    @property
    def websocket(self) -> str:
        return self.graphql.replace("http://", "ws://", 1)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def spawn_server(environment: Mapping[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`shouhu serve` started on a free loopback port with its output in `log`; the process and
    its base URL. The caller stops it (`live_server` does, and waits for it to be ready)."""
    port = free_port()
    env = {**os.environ, **environment, "SHOUHU_HOST": "127.0.0.1", "SHOUHU_PORT": str(port)}
    shouhu = Path(sys.executable).with_name("shouhu")
    with log.open("wb") as output:
        child = subprocess.Popen(  # noqa: S603 - our own command, no shell
            [str(shouhu), "serve"], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return child, f"http://127.0.0.1:{port}"


@contextmanager
def live_server(environment: Mapping[str, str], log: Path, timeout: float = 60.0) -> Iterator[LiveServer]:
    """Serve until the block ends; the server is stopped (and waited for) whatever happens."""
    child, url = spawn_server(environment, log)
    server = LiveServer(url, log)
    try:
        _wait_ready(server, child, timeout)
        yield server
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_ready(server: LiveServer, child: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"shouhu serve exited with {child.returncode}:\n{server.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/health/ready", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"shouhu serve was not ready within {timeout} s:\n{server.log_text()[-3000:]}")
