"""The three systems the API benchmark serves, each in its own process, and what they cost.

- `shouhu`: `shouhu serve` as deployed, `SHOUHU_ENV=production`: RS256 tokens checked
  against a JWKS file made here, a coordinator's token for the region asked about; the request
  logs go to a file. Only what a load test must change is changed: the per-caller rate
  limit and requests in flight (one caller sends every request), the cost ceiling (the list of 50 children three
  levels deep costs more than the default allows), and the daily sweep is off (it would
  rewrite the risk nodes mid-run). Any other `SHOUHU_*` setting in the environment (workers,
  say) is passed through.
- `peer`: `node bench/peer/server.mjs`: the Neo4j GraphQL Library on Apollo Server.
- `floor`: `uvicorn bench.floor:app`: one hand-written statement per operation.

CPU time is read from /proc (user + system, the process and all its descendants), so a
server with worker processes is counted whole.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.common import BENCH_PASSWORD, OUT, bench_database
from graph import localdb

ROOT: Final = Path(__file__).resolve().parent.parent
PEER_DIR: Final = Path(__file__).resolve().parent / "peer"
SYSTEMS: Final = ("shouhu", "peer", "floor")
#: The first of three consecutive ports (Shouhu, peer, floor).
BASE_PORT: Final = int(os.environ.get("SHOUHU_BENCH_API_PORT", "8701"))
_TICKS: Final = os.sysconf("SC_CLK_TCK")
JSON: Final = {"content-type": "application/json"}
#: What a load test must change in Shouhu's production settings, and why (docs above).
SHOUHU_OVERRIDES: Final = {
    "SHOUHU_RATE_LIMIT": "1000000/second",
    "SHOUHU_MAX_IN_FLIGHT_PER_CALLER": "64",
    "SHOUHU_MAX_COST": "10000000",
    "SHOUHU_DAILY_SWEEP": "off",
}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and every living descendant (and the reaped ones they waited for)."""
    tree = _children()
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat(5), here 11-14 after the name.
        total += sum(int(value) for value in fields[11:15]) / _TICKS
        stack.extend(tree.get(current, []))
    return total


def neo4j_pid() -> int | None:
    """The bench database's launcher process (the JVM is it or its descendant)."""
    return localdb.status(bench_database()).pid


@dataclass
class Token:
    """Coordinators' RS256 tokens, and the JWKS that verifies them."""

    jwks_file: Path
    key: rsa.RSAPrivateKey

    def bearer(self, sub: str, region: str) -> str:
        now = int(time.time())
        claims = {"sub": sub, "role": "coordinator", "region": region, "iat": now, "exp": now + 6 * 3600}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "bench"})


def make_token(workdir: Path) -> Token:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk |= {"kid": "bench", "alg": "RS256", "use": "sig"}
    workdir.mkdir(parents=True, exist_ok=True)
    jwks_file = workdir / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [jwk]}))
    return Token(jwks_file, key)


def credentials(name: str, token: Token, sub: str, region: str) -> dict[str, str]:
    """What a request to system `name` carries to act as the coordinator of `region`: Shouhu a
    token; the floor the scope its statements keep to; the peer nothing (it has no auth)."""
    from graph.regions import scope_prefix

    if name == "shouhu":
        return {"authorization": f"Bearer {token.bearer(sub, region)}"}
    if name == "floor":
        return {"x-scope": scope_prefix(region)}
    return {}


@dataclass
class Server:
    name: str
    port: int
    command: list[str]
    env: dict[str, str]
    cwd: Path
    #: the path GraphQL is served on
    path: str
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, logs: Path) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.log = (logs / f"{self.name}.log").open("wb")
        # Its own session: stopping it stops the workers it forked, and nothing else.
        self.process = subprocess.Popen(  # noqa: S603 - fixed commands
            self.command, cwd=self.cwd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, probe: str, headers: dict[str, str], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see its log in {OUT / 'api'}")
            try:
                response = httpx.post(self.url, content=probe, headers=JSON | headers, timeout=10)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as error:
                last = str(error)
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s: {last}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            except ProcessLookupError:  # gone already
                pass
        if self.log is not None:
            self.log.close()


def passed_settings() -> dict[str, str]:
    """The `SHOUHU_*` settings of the environment Shouhu's server gets (the bench's own aside)."""
    own = ("SHOUHU_BENCH_", "SHOUHU_TEST_", "SHOUHU_JWT", "SHOUHU_ENV", "SHOUHU_HOST", "SHOUHU_PORT")
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("SHOUHU_") and not k.startswith(own)}


def servers(token: Token, today: str) -> dict[str, Server]:
    """The three servers, configured for the bench database (not yet started)."""
    local = bench_database()
    uri = f"bolt://127.0.0.1:{local.bolt_port}"
    base = {key: value for key, value in os.environ.items() if not key.startswith(("NEO4J_", "SHOUHU_JWT"))}
    database = {"NEO4J_URI": uri, "NEO4J_USER": "neo4j", "NEO4J_PASSWORD": BENCH_PASSWORD}
    shouhu_env = (
        base
        | database
        | {
            "SHOUHU_ENV": "production",
            "SHOUHU_JWKS_FILE": str(token.jwks_file),
            "SHOUHU_HOST": "127.0.0.1",
            "SHOUHU_PORT": str(BASE_PORT),
        }
        | SHOUHU_OVERRIDES
    )
    bin_dir = Path(sys.executable).parent
    return {
        "shouhu": Server(
            "shouhu",
            BASE_PORT,
            [str(bin_dir / "shouhu"), "serve"],
            shouhu_env,
            ROOT,
            "/graphql",
        ),
        "peer": Server(
            "peer",
            BASE_PORT + 1,
            ["node", str(PEER_DIR / "server.mjs")],
            base | database | {"PEER_HOST": "127.0.0.1", "PEER_PORT": str(BASE_PORT + 1)},
            PEER_DIR,
            "/",
        ),
        "floor": Server(
            "floor",
            BASE_PORT + 2,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.floor:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(BASE_PORT + 2),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            base | database | {"FLOOR_TODAY": today, "PYTHONPATH": str(ROOT)},
            ROOT,
            "/graphql",
        ),
    }


def npm_ci() -> None:
    """Install the peer's and the load tool's packages from the lock, unless already installed."""
    marker = PEER_DIR / "node_modules" / ".package-lock.json"
    lock = PEER_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)  # noqa: S607


#: The packages whose versions a result records.
NPM_PACKAGES: Final = ("@neo4j/graphql", "@apollo/server", "graphql", "neo4j-driver", "autocannon")


def npm_version(name: str) -> str:
    lock = json.loads((PEER_DIR / "package-lock.json").read_text())["packages"]
    version: str = lock[f"node_modules/{name}"]["version"]
    return version
