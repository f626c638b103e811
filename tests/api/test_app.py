"""The application end to end: health, authentication, a first query through Neo4j, errors."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from api.settings import Settings
from graph.driver import Graph
from tests.conftest import GraphQLClient, make_token

REGION_QUERY = "query($code: String!) { region(code: $code) { code name level parent { code } children { code } } }"

TREE = """
CREATE (p:Region {code: '360000000000', name: '江西省', level: 'province'})
CREATE (c:Region {code: '360700000000', name: '赣州市', level: 'city'})-[:PART_OF]->(p)
CREATE (x:Region {code: '360732000000', name: '兴国县', level: 'county'})-[:PART_OF]->(c)
CREATE (t:Region {code: '360732100000', name: '潋江镇', level: 'township'})-[:PART_OF]->(x)
CREATE (:Region {code: '360732100201', name: '一村', level: 'village'})-[:PART_OF]->(t)
CREATE (:Region {code: '360732100202', name: '二村', level: 'village'})-[:PART_OF]->(t)
"""


async def test_liveness_and_readiness_need_no_token(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "live"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_region_query_reaches_neo4j_and_is_scoped(clean_graph: Graph, gql: GraphQLClient) -> None:
    await clean_graph.write(TREE)
    body = await gql.execute(REGION_QUERY, {"code": "360732100000"}, role="coordinator", region="360732000000")
    assert body == {
        "data": {
            "region": {
                "code": "360732100000",
                "name": "潋江镇",
                "level": "township",
                "parent": {"code": "360732000000"},
                "children": [{"code": "360732100201"}, {"code": "360732100202"}],
            }
        }
    }
    # A village director sees their village, not its township: out of scope reads as absent.
    director = {"role": "children_director", "region": "360732100201"}
    assert (await gql.execute(REGION_QUERY, {"code": "360732100000"}, **director))["data"] == {"region": None}
    village = await gql.execute(REGION_QUERY, {"code": "360732100201"}, **director)
    assert village["data"] == {
        "region": {"code": "360732100201", "name": "一村", "level": "village", "parent": None, "children": []}
    }


async def test_a_malformed_region_code_is_bad_user_input_naming_the_field(gql: GraphQLClient) -> None:
    body = await gql.execute(REGION_QUERY, {"code": "36073"})
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "region"}
    assert "12-digit" in error["message"]


@pytest.mark.parametrize("case", ["missing", "expired", "malformed", "wrong-signature", "unknown-role"])
async def test_a_bad_token_gets_an_authentication_error_and_nothing_else(
    case: str, client: httpx.AsyncClient, settings: Settings
) -> None:
    tokens = {
        "missing": None,
        "expired": jwt.encode({"sub": "x", "role": "admin", "exp": int(time.time()) - 5}, settings.jwt_secret or ""),
        "malformed": "not.a.token",
        "wrong-signature": make_token(settings, "admin")[:-4] + "AAAA",
        "unknown-role": jwt.encode(
            {"sub": "x", "role": "mayor", "exp": int(time.time()) + 60, "region": "360000000000"},
            settings.jwt_secret or "",
        ),
    }
    headers = {} if tokens[case] is None else {"Authorization": f"Bearer {tokens[case]}"}
    response = await client.post(
        "/graphql",
        json={"query": '{ region(code: "360000000000") { code } }'},
        headers=headers,
    )
    assert response.status_code == 401
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_introspection_needs_a_token(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    anonymous = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert anonymous.status_code == 401
    assert (await gql.execute("{ __schema { queryType { name } } }"))["data"] == {
        "__schema": {"queryType": {"name": "Query"}}
    }


async def test_depth_beyond_the_limit_is_limit_exceeded(gql: GraphQLClient) -> None:
    deep = '{ region(code: "360000000000") { ' + "children { " * 12 + "code" + " }" * 12 + " } }"
    body = await gql.execute(deep)
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


async def test_an_operation_whose_estimated_cost_is_too_high_is_limit_exceeded(gql: GraphQLClient) -> None:
    # Five nested lists of ~10 each: about 111,111 fields, over the default 20,000.
    costly = (
        '{ region(code: "360000000000") { children { children { children { children { children { code } } } } } } }'
    )
    body = await gql.execute(costly)
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "maximum cost" in body["errors"][0]["message"]
    # The same shape hidden in a fragment costs the same.
    fragment = (
        'query { region(code: "360000000000") { ...Deep } } '
        "fragment Deep on Region { children { children { children { children { children { code } } } } } }"
    )
    body = await gql.execute(fragment)
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    cheap = await gql.execute('{ region(code: "360000000000") { children { children { children { code } } } } }')
    assert "errors" not in cheap


async def test_institution_staff_and_auditors_cannot_read_the_region_tree(
    clean_graph: Graph, gql: GraphQLClient
) -> None:
    await clean_graph.write(TREE)
    staff = await gql.execute(REGION_QUERY, {"code": "360732000000"}, role="institution_staff", institution="I1")
    assert staff["data"] == {"region": None}
    auditor = await gql.execute(REGION_QUERY, {"code": "360732000000"}, role="auditor", region="360732000000")
    assert auditor["data"] == {"region": None}


async def test_the_in_browser_ide_is_served_without_a_token_and_runs_nothing(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    query = await client.get("/graphql", params={"query": "{ __typename }"})
    assert query.status_code == 401
