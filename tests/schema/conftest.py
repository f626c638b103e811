"""Fixtures for the GraphQL read side: the app's own graph handle, the sample county, and a
small two-township world built with the factories for scoping, masking and audit tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import wipe

V1 = "360732100201"  # 1镇1村
V2 = "360732100202"  # 1镇2村, next village, same township
V3 = "360732101201"  # 2镇1村, another township
TOWNSHIP = "360732100000"
COUNTY = "360732000000"
DAY = dt.date(2026, 6, 15)


async def capture_graph(app: Any) -> Graph:
    """The `Graph` an application made in its lifespan (the one whose round trips count)."""
    graph: Graph = (await capture_state(app))["graph"]
    return graph


async def capture_state(app: Any) -> dict[str, Any]:
    """The state an application's lifespan hands to every request (graph, alert hub...)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": "/health/live",
        "raw_path": b"/health/live",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("shouhu.test", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: dict[str, Any]) -> None:
        return None

    await app(scope, receive, send)
    state: dict[str, Any] = scope["state"]
    return state


@pytest.fixture(scope="session")
async def app_graph(app: Any) -> Graph:
    return await capture_graph(app)


async def build_world(g: Graph) -> None:
    """Two villages of one township and a village of another, with links across them.

    C1 (V1) lives with grandmother G1, who also cares for C2 in the next village V2; C1's
    father F1 lives in V2 (away for work) and is also the father of C4 (V1, another
    household); C2's guardian is the county protection centre I1; C3 lives in V3.
    """
    await factories.household(g, "H1", V1, low_income=["dibao"], address="1组1号")
    await factories.household(g, "H4", V1)
    await factories.household(g, "H2", V2)
    await factories.household(g, "H3", V3)
    await factories.institution(g, "I1", "minor_protection_center", COUNTY, services=["temporary_guardianship"])
    await factories.institution(g, "I2", "school", V2, services=["education"], capacity=2)
    await factories.person(
        g,
        "C1",
        dt.date(2015, 3, 1),
        household="H1",
        name="张小一",
        id_number="360732201503010027",
        phone="13912345678",
    )
    await factories.person(g, "G1", dt.date(1955, 5, 5), household="H1", name="李奶奶", phone="13800001111")
    await factories.person(g, "F1", dt.date(1985, 1, 1), household="H2", name="张父", gender="M")
    await factories.person(g, "M1", dt.date(1986, 2, 2), household="H1", name="王母")
    await factories.person(g, "C2", dt.date(2016, 6, 6), household="H2", name="张小二")
    await factories.person(g, "C3", dt.date(2014, 4, 4), household="H3", name="刘小三")
    await factories.person(g, "C4", dt.date(2017, 7, 7), household="H4", name="张小四")
    await factories.person(g, "S1", dt.date(1980, 8, 8), name="周主任")
    await factories.parent(g, "F1", "C1")
    await factories.parent(g, "M1", "C1")
    await factories.parent(g, "F1", "C4")
    await factories.away(g, "F1", dt.date(2024, 2, 1), destination="广东东莞")
    await factories.away(g, "M1", dt.date(2023, 1, 1), until=dt.date(2025, 12, 31), destination="浙江义乌")
    await factories.condition(g, "M1", "serious_illness", dt.date(2026, 1, 1))
    await factories.guardian(g, "F1", "C1", dt.date(2015, 3, 1))
    await factories.guardian(g, "M1", "C1", dt.date(2015, 3, 1), until=dt.date(2025, 12, 31))
    await factories.guardian(g, "I1", "C2", dt.date(2024, 1, 1), basis="state")
    await factories.care(g, "G1", "C1", dt.date(2024, 2, 1), agreement_signed_on=dt.date(2024, 2, 1), entrusted_by="F1")
    await factories.care(g, "G1", "C2", dt.date(2025, 1, 1))
    await factories.care(g, "M1", "C1", dt.date(2020, 1, 1), until=dt.date(2022, 12, 31))
    await factories.registration(g, "C1", "left_behind", dt.date(2024, 3, 1))
    await factories.enrollment(g, "C1", "I2", dt.date(2021, 9, 1), grade="5")
    await factories.placement(g, "C2", "I1", dt.date(2026, 4, 1))
    await factories.pairing(g, "S1", "C1", dt.date(2025, 1, 1))
    await factories.contact(g, "F1", "C1", dt.date(2026, 6, 1), channel="video")
    await factories.visit(g, "S1", "C1", dt.date(2026, 5, 20), notes="家中整洁")
    await factories.case(g, "K1", "C1", dt.date(2026, 5, 1), stage="assessment")
    await factories.case(g, "K2", "C1", dt.date(2026, 6, 1))
    # Look-alikes: the same name and birth date in V1, and the same in V2 (invisible from V1).
    await factories.person(g, "C1X", dt.date(2015, 3, 1), household="H4", name="张小一", phone="13912345678")
    await factories.person(g, "C2X", dt.date(2016, 6, 6), household="H2", name="张小二")


@pytest.fixture(scope="module")
async def world(graph: Graph) -> AsyncIterator[Graph]:
    await wipe(graph)
    await build_world(graph)
    yield graph
    await wipe(graph)
