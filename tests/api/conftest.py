"""The API as a real server for the tests that need a socket (tests/live.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.driver import Graph
from tests.live import LiveServer, live_server


@pytest.fixture(scope="module")
def live(
    test_environment: dict[str, str], graph: Graph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`shouhu serve` on the test database; the fuzzer sends more than a caller's default rate."""
    environment = {**test_environment, "SHOUHU_RATE_LIMIT": "1000/second"}
    with live_server(environment, tmp_path_factory.mktemp("live") / "server.log") as server:
        yield server
