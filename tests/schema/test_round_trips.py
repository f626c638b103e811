"""No N+1: a three-level query over many children costs a constant number of round trips."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.settings import Settings
from graph.driver import Graph
from tests.conftest import GraphQLClient, wipe
from tests.schema.conftest import V1, V2

# Each child has a father away in the next village, a mother at home, a grandmother who
# cares for it, and the father as guardian: every level reaches other households.
FAMILIES = """
UNWIND range(1, $n) AS i
WITH i, right('000' + toString(i), 3) AS k
CREATE (home:Household {id: 'HC' + k, regionCode: $v1, lowIncome: []})
CREATE (away:Household {id: 'HF' + k, regionCode: $v2, lowIncome: []})
CREATE (c:Person {id: 'C' + k, name: '儿' + k, birthDate: date('2015-01-01') + duration({days: i}),
                  regionCode: $v1, idNumber: '3607322015' + k + '00001'})-[:MEMBER_OF]->(home)
CREATE (f:Person {id: 'F' + k, name: '父' + k, birthDate: date('1985-01-01'), regionCode: $v2})-[:MEMBER_OF]->(away)
CREATE (m:Person {id: 'M' + k, name: '母' + k, birthDate: date('1987-01-01'), regionCode: $v1})-[:MEMBER_OF]->(home)
CREATE (g:Person {id: 'G' + k, name: '奶' + k, birthDate: date('1955-01-01'), regionCode: $v1})-[:MEMBER_OF]->(home)
CREATE (f)-[:PARENT_OF {type: 'biological'}]->(c), (m)-[:PARENT_OF {type: 'biological'}]->(c)
CREATE (f)-[:GUARDIAN_OF {since: date('2015-06-01'), basis: 'parent'}]->(c)
CREATE (g)-[:CARES_FOR {since: date('2024-01-01'), entrustedBy: f.id}]->(c)
CREATE (f)-[:AWAY]->(:AwayEpisode {key: f.id + '|2024-01-01', since: date('2024-01-01'), destination: '广东'})
"""

THREE_LEVELS = """query($first: Int!) {
  children(region: "360732100201", asOf: "2026-06-15", first: $first) {
    totalCount
    edges { node {
      id idNumber
      household { id lowIncome }
      parents { relation status { away { destination } } parent { id person { id household { id } } } }
      guardians { id person { household { id members { id } } } }
      caregivers { caregiver { id person { household { id } } } entrustedBy { id } }
    } }
  }
}"""


@pytest.fixture(scope="module")
async def roomy(settings: Settings, graph: Graph) -> AsyncIterator[tuple[GraphQLClient, Graph]]:
    """The app with a cost ceiling high enough for 100 children three levels deep."""
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from tests.schema.conftest import capture_graph

    limits = dataclasses.replace(settings.limits, max_cost=10**7)
    async with LifespanManager(create_app(dataclasses.replace(settings, limits=limits))) as manager:
        app: Any = manager.app
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shouhu.test") as http:
            yield GraphQLClient(http, settings), await capture_graph(app)


async def _run(graph: Graph, gql: GraphQLClient, app_graph: Graph, n: int) -> int:
    await wipe(graph)
    await graph.write(FAMILIES, {"n": n, "v1": V1, "v2": V2})
    app_graph.round_trips = 0
    body = await gql.execute(THREE_LEVELS, {"first": n}, role="case_worker", region=V1, sub="bench")
    assert "errors" not in body, body.get("errors")
    children = body["data"]["children"]
    assert children["totalCount"] == n and len(children["edges"]) == n
    first = children["edges"][0]["node"]
    father = next(p for p in first["parents"] if p["parent"]["id"].startswith("F"))
    assert father["parent"]["person"] is None  # the father lives in the next village
    assert father["status"]["away"] == {"destination": "广东"}
    assert first["caregivers"][0]["caregiver"]["person"]["household"]["id"] == first["household"]["id"]
    return app_graph.round_trips


async def test_a_three_level_query_costs_a_constant_number_of_round_trips(
    graph: Graph, roomy: tuple[GraphQLClient, Graph]
) -> None:
    gql, app_graph = roomy
    try:
        few = await _run(graph, gql, app_graph, 5)
        many = await _run(graph, gql, app_graph, 100)
    finally:
        await wipe(graph)
    # children page, count, households, parents, guardians, caregivers, members, and the
    # audit of every child's full-record read appended in one write.
    assert few == many <= 8, (few, many)
