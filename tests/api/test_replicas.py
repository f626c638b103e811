"""Two `shouhu serve` processes against one database, as a deployment runs them behind a balancer
(tests/balancer.py): the daily sweep runs once, a red alert raised through one reaches a
subscriber of the other, and a rolling restart under writes loses and doubles nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import websockets

from api.settings import PROJECT_ROOT, Settings
from graph.bundle.importer import import_bundle
from graph.driver import Graph
from tests.balancer import Balancer
from tests.conftest import SAMPLE_AS_OF, SAMPLE_BUNDLE, SAMPLE_COUNTY, make_token
from tests.data.make_county import VILLAGES
from tests.live import free_port

SHOUHU = Path(sys.executable).with_name("shouhu")
SWEEP = f'mutation {{ sweep(region: "{SAMPLE_COUNTY}", asOf: "{SAMPLE_AS_OF}") {{ raised }} }}'
SUBSCRIBE = f'subscription {{ alertRaised(region: "{SAMPLE_COUNTY}") {{ id childId level status }} }}'
VISIT = "mutation($input: VisitInput!) { recordVisit(input: $input) { id notes } }"
CHILDREN = "MATCH (c:Person {regionCode: $village}) WHERE c.birthDate > date('2012-01-01') RETURN c.id AS id"
DAILY = "MATCH (s:DailySweep {day: $day}) RETURN s.state AS state, s.holder AS holder"
DAILY_SWEEPS = "MATCH (s:Sweep {by: 'daily-sweep'}) RETURN s.id AS id, s.asOf AS asOf"
CLEAR_ALERTS = "MATCH (n) WHERE n:Alert OR n:AlertChange OR n:Sweep DETACH DELETE n"
WRITTEN = """
MATCH (:Person)-[v:VISITED]->(:Person) WHERE v.notes STARTS WITH '滚动重启 '
RETURN v.notes AS notes, count(*) AS copies
"""
SWEPT = re.compile(r"daily sweep [0-9a-f-]{36} as of")


@dataclass
class Replica:
    """One `shouhu serve` on a port of its own, which it keeps across restarts."""

    name: str
    environment: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        timeout = 120.0
        env = {**os.environ, **self.environment, "SHOUHU_HOST": "127.0.0.1", "SHOUHU_PORT": str(self.port)}
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                str(SHOUHU), "serve", cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output
            )
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while asyncio.get_running_loop().time() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
                try:
                    if (await http.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready within {timeout} s: {self.log.read_text()[-3000:]}")

    async def stop(self) -> None:
        """SIGTERM, as an orchestrator stops a replica, and wait for it to go."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def ready_status(self) -> int:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{self.url}/health/ready")).status_code


async def post(url: str, settings: Settings, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Writers:
    """Clients that record visits through the balancer, each retried with its clientMutationId
    until it is acknowledged, as a field client does on a bad connection."""

    url: str
    settings: Settings
    children: list[str]
    acknowledged: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, writer: int) -> None:
        token = make_token(self.settings, "children_director", region=VILLAGES[0], sub="director")
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            sequence = 0
            while not self.stop.is_set():
                key = f"w{writer}-{sequence}"
                visit = {
                    "childId": self.children[sequence % len(self.children)],
                    "type": "home_visit",
                    "notes": f"滚动重启 {key}",
                    "clientMutationId": key,
                }
                self.acknowledged[key] = await self._until_acknowledged(http, token, visit)
                sequence += 1

    async def _until_acknowledged(self, http: httpx.AsyncClient, token: str, visit: dict[str, str]) -> str:
        for _ in range(100):
            try:
                response = await http.post(
                    "/graphql",
                    json={"query": VISIT, "variables": {"input": visit}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                outcome = f"HTTP {response.status_code} {response.text[:60]!r}"
                json_body = response.headers.get("content-type", "").startswith("application/json")
                body = response.json() if json_body else {}
                if response.status_code == 200 and "data" in body and "errors" not in body:
                    recorded: dict[str, str] = body["data"]["recordVisit"]
                    assert recorded["notes"] == visit["notes"]
                    return recorded["id"]
                outcome = body["errors"][0]["extensions"].get("code", outcome) if "errors" in body else outcome
            except httpx.TransportError as error:
                outcome = type(error).__name__
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
            self.retries += 1
            await asyncio.sleep(0.1)
        raise AssertionError(f"{visit['clientMutationId']} was never acknowledged: {self.statuses}")


@pytest.mark.slow
async def test_two_replicas_sweep_once_share_red_alerts_and_restart_one_by_one_without_losing_a_write(
    clean_graph: Graph, tmp_path: Path, test_environment: dict[str, str], settings: Settings
) -> None:
    imported = await import_bundle(clean_graph, SAMPLE_BUNDLE, today=dt.date.today(), workdir=tmp_path)
    assert imported.ok
    environment = test_environment | {
        "SHOUHU_DAILY_SWEEP": "on",
        "SHOUHU_DAILY_SWEEP_AT": "00:00",
        "SHOUHU_ALERT_POLL_SECONDS": "0.2",
        "SHOUHU_SHUTDOWN_DRAIN_SECONDS": "1.5",
    }
    a = Replica("A", environment, tmp_path / "a.log")
    b = Replica("B", environment, tmp_path / "b.log")
    try:
        # Both replicas claim today's sweep as they start, and cron's `shouhu sweep --daily` too.
        cron = await asyncio.create_subprocess_exec(
            str(SHOUHU), "sweep", "--daily", env={**os.environ, **environment},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        await asyncio.gather(a.start(), b.start())
        said = (await cron.communicate())[0].decode()
        today = dt.datetime.now(ZoneInfo(settings.timezone.key)).date()
        for _ in range(600):
            claimed = await clean_graph.read(DAILY, {"day": today})
            if claimed and claimed[0]["state"] == "done":
                break
            await asyncio.sleep(0.2)
        assert claimed and claimed[0]["state"] == "done", claimed
        sweeps = await clean_graph.read(DAILY_SWEEPS)
        assert len(sweeps) == 1 and sweeps[0]["asOf"].to_native() == today, sweeps
        # Exactly one of the three swept: a replica logs its sweep, cron prints it.
        winners = [bool(SWEPT.search(r.log.read_text())) for r in (a, b)] + [said.startswith("sweep ")]
        assert sum(winners) == 1 and ("already done or running elsewhere" in said) != winners[2], (winners, said)

        # A red alert raised through A reaches a subscriber of B, through the database only.
        await clean_graph.write(CLEAR_ALERTS)
        socket = await websockets.connect(
            b.url.replace("http", "ws") + "/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        )
        try:
            token = make_token(settings, "case_worker", region=SAMPLE_COUNTY)
            await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
            await asyncio.sleep(1.0)  # the subscription registers with B's hub
            coordinator = make_token(settings, "coordinator", region=SAMPLE_COUNTY)
            raised = await post(a.url, settings, SWEEP, {}, coordinator)
            assert raised["data"]["sweep"]["raised"], raised
            pushed = json.loads(await asyncio.wait_for(socket.recv(), 15))
            assert pushed["type"] == "next", pushed
            alert = pushed["payload"]["data"]["alertRaised"]
            assert (
                alert["level"] == "RED"
                and alert["status"] == "open"
                and alert["id"] in raised["data"]["sweep"]["raised"]
            )
        finally:
            await socket.close()

        # A rolling restart, A then B, while clients write visits through the balancer.
        children = [row["id"] for row in await clean_graph.read(CHILDREN, {"village": VILLAGES[0]})]
        async with Balancer([a.port, b.port]) as balancer:
            writers = Writers(balancer.url, settings, children)
            clients = [asyncio.create_task(writers.run(n)) for n in range(4)]
            await asyncio.sleep(2)
            for replica in (a, b):
                before = len(writers.acknowledged)
                assert replica.process is not None
                replica.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.5)
                # Draining: still alive and serving, but no longer ready, so the balancer moves on.
                assert replica.process.returncode is None and await replica.ready_status() == 503
                await asyncio.wait_for(replica.process.wait(), 60)
                await replica.start()
                await asyncio.sleep(2)
                assert len(writers.acknowledged) > before  # writes went on meanwhile
            writers.stop.set()
            await asyncio.gather(*clients)
        assert balancer.sent.get(a.port, 0) > 0 and balancer.sent.get(b.port, 0) > 0
    finally:
        await asyncio.gather(a.stop(), b.stop())

    written = {row["notes"]: row["copies"] for row in await clean_graph.read(WRITTEN)}
    assert len(writers.acknowledged) > 20
    assert written == {f"滚动重启 {key}": 1 for key in writers.acknowledged}, writers.statuses
    print(f"rolling restart: {len(writers.acknowledged)} writes, {writers.retries} retries: {writers.statuses}")
