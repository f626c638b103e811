"""`shouhu serve` in several processes: each starts with its own driver, all answer on the one
port, the daily sweep still runs once a day, and all of them stop cleanly together."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from graph.driver import Graph
from tests.conftest import make_token
from tests.live import live_server

STARTED = "Application startup complete."
STOPPED = "Application shutdown complete."


def _lines(log: Path) -> list[dict[str, Any]]:
    text = log.read_text(encoding="utf-8", errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _pids(log: Path, message: str) -> set[int]:
    return {line["pid"] for line in _lines(log) if line.get("message") == message}


async def _until(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.25)


@pytest.mark.slow
async def test_two_workers_serve_sweep_once_and_stop_together(
    clean_graph: Graph, test_environment: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    environment = {
        **test_environment,
        "SHOUHU_WORKERS": "2",
        "SHOUHU_DAILY_SWEEP": "on",
        "SHOUHU_DAILY_SWEEP_AT": "00:00",
    }
    log = tmp_path / "server.log"
    headers = {"Authorization": f"Bearer {make_token(settings, 'admin', sub='w')}", "Connection": "close"}
    with live_server(environment, log) as server:

        async def both_started() -> bool:
            return len(_pids(log, STARTED)) == 2

        await _until(both_started, 60)

        async def ask(http: httpx.AsyncClient) -> int:
            response = await http.post("/graphql", json={"query": "{ me { sub } }"}, headers=headers)
            return response.status_code if response.json() == {"data": {"me": {"sub": "w"}}} else -1

        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            assert await asyncio.gather(*(ask(http) for _ in range(16))) == [200] * 16

        async def swept() -> bool:
            rows = await clean_graph.read("MATCH (s:DailySweep) WHERE s.state <> 'running' RETURN s.state AS state")
            return bool(rows)

        # Both processes woke due and claimed today; one swept, the other found it taken.
        await _until(swept, 60)
    rows = await clean_graph.read("MATCH (s:DailySweep) RETURN s.state AS state, s.holder AS holder")
    assert [row["state"] for row in rows] == ["done"]
    started = _pids(log, STARTED)
    assert len(started) == 2 and _pids(log, STOPPED) == started
    messages = [str(line.get("message")) for line in _lines(log)]
    assert not [message for message in messages if "died" in message or "Traceback" in message]
    assert sum("daily sweep" in message for message in messages) == 1
