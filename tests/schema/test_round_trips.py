"""No N+1: a three-level query over many children costs a constant number of round trips."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
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


Run = Callable[[Graph, GraphQLClient, Graph, int], Awaitable[int]]


async def _few_and_many(graph: Graph, roomy: tuple[GraphQLClient, Graph], run: Run, few: int, many: int) -> list[int]:
    """The round trips of `run` on a small and on a large world, the database emptied after."""
    gql, app_graph = roomy
    try:
        return [await run(graph, gql, app_graph, n) for n in (few, many)]
    finally:
        await wipe(graph)


async def test_a_three_level_query_costs_a_constant_number_of_round_trips(
    graph: Graph, roomy: tuple[GraphQLClient, Graph]
) -> None:
    few, many = await _few_and_many(graph, roomy, _run, 5, 100)
    # The children page with their files in one statement (graph.child_file), its count, and
    # the audit of every child's full-record read appended in one write.
    assert few == many <= 3, (few, many)


# One child cared for by $n caregivers, each in a household of their own with three members.
CARED_FOR = """
CREATE (home:Household {id: 'HC', regionCode: $v1, lowIncome: []})
CREATE (c:Person {id: 'C', name: '儿', birthDate: date('2015-01-01'), regionCode: $v1})-[:MEMBER_OF]->(home)
WITH c
UNWIND range(1, $n) AS i
CREATE (h:Household {id: 'HG' + i, regionCode: $v1, lowIncome: []})
CREATE (g:Person {id: 'G' + i, name: '照护' + i, birthDate: date('1960-01-01'), regionCode: $v1})-[:MEMBER_OF]->(h)
CREATE (g)-[:CARES_FOR {since: date('2020-01-01') + duration({days: i})}]->(c)
CREATE (g)-[:GUARDIAN_OF {since: date('2020-01-01') + duration({days: i}), basis: 'relative'}]->(c)
CREATE (g)-[:PARENT_OF {type: 'step'}]->(c)
WITH h, i
UNWIND range(1, 2) AS j
CREATE (:Person {id: 'M' + i + '-' + j, name: '成员', birthDate: date('1990-01-01'), regionCode: $v1})-[:MEMBER_OF]->(h)
"""

CHILD_FILE = """{
  child(id: "C") {
    id idNumber household { id members { id } }
    parents { parent { id person { household { id members { id } } } } status { dead } }
    guardians(includeHistory: true) { id person { household { id members { id } } } }
    caregivers(includeHistory: true) { caregiver { person { household { id members { id } } } } }
  }
}"""


async def _child_file(graph: Graph, gql: GraphQLClient, app_graph: Graph, n: int) -> int:
    await wipe(graph)
    await graph.write(CARED_FOR, {"n": n, "v1": V1})
    app_graph.round_trips = 0
    body = await gql.execute(CHILD_FILE, role="case_worker", region=V1, sub="bench")
    assert "errors" not in body, body.get("errors")
    child = body["data"]["child"]
    assert len(child["caregivers"]) == len(child["guardians"]) == len(child["parents"]) == n
    homes = [c["caregiver"]["person"]["household"] for c in child["caregivers"]]
    assert sorted(h["id"] for h in homes) == sorted(f"HG{i}" for i in range(1, n + 1))
    assert all(len(h["members"]) == 3 for h in homes)
    return app_graph.round_trips


async def test_the_child_file_costs_the_same_few_round_trips_however_many_links_it_holds(
    graph: Graph, roomy: tuple[GraphQLClient, Graph]
) -> None:
    few, many = await _few_and_many(graph, roomy, _child_file, 1, 12)
    # The file in one statement, and the audit of the full-record read.
    assert few == many <= 2, (few, many)
