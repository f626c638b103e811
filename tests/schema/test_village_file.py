"""Keeping the file in the village through the API: a director creates and corrects persons and
households, links and unlinks a parent and moves a person, all within her village, validated
by the bundle's rules, idempotent, audited, and with the previous values kept."""

from __future__ import annotations

import orjson
import pytest

from graph.driver import Graph
from tests.conftest import GraphQLClient
from tests.schema.casework import DIRECTOR, V1, V3, WORKER, build, data, error

HOUSEHOLD = """
mutation($input: HouseholdInput!, $key: String) {
  createHousehold(input: $input, clientMutationId: $key) { id address }
}"""
CORRECT_HOUSEHOLD = """
mutation($id: ID!, $input: HouseholdInput!) {
  correctHousehold(id: $id, input: $input, note: "门牌更正") { id address }
}"""
PERSON = """
mutation($household: ID!, $input: PersonDetails!, $key: String) {
  createPerson(householdId: $household, input: $input, clientMutationId: $key) { id name birthDate household { id } }
}"""
CORRECT_PERSON = """
mutation($id: ID!, $input: PersonDetails!) { correctPerson(id: $id, input: $input, note: "户口本核对") { id name } }"""
MOVE = (
    'mutation($p: ID!, $h: ID!) { movePerson(personId: $p, householdId: $h, note: "随母迁居") { id household { id } } }'
)
LINK = """
mutation($p: ID!, $c: ID!, $t: String!) {
  linkParent(parentId: $p, childId: $c, type: $t) { id parents { relation parent { id } } }
}"""
UNLINK = """
mutation($p: ID!, $c: ID!) {
  endParentLink(parentId: $p, childId: $c, note: "录入错误") { id parents { parent { id } } }
}"""
TIMELINE = "query($c: ID!) { timeline(childId: $c) { kind value actor note } }"
CORRECTIONS = """
MATCH (k:FileCorrection)-[:CORRECTS]->({id: $id})
RETURN k.operation AS operation, k.by AS by, k.note AS note, k.before AS before, k.after AS after ORDER BY k.at"""


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    await build(clean_graph)
    return clean_graph


async def test_a_director_keeps_her_villages_file(county: Graph, gql: GraphQLClient) -> None:
    created = data(
        await gql.execute(HOUSEHOLD, {"input": {"region": V1, "address": "3组8号"}, "key": "h-1"}, **DIRECTOR)
    )
    household = created["createHousehold"]["id"]
    again = await gql.execute(HOUSEHOLD, {"input": {"region": V1, "address": "3组8号"}, "key": "h-1"}, **DIRECTOR)
    assert data(again)["createHousehold"]["id"] == household  # the retry replays
    details = {"name": "李小花", "gender": "F", "birthDate": "2018-04-02"}
    child = data(await gql.execute(PERSON, {"household": household, "input": details, "key": "p-1"}, **DIRECTOR))
    child_id = child["createPerson"]["id"]
    assert child["createPerson"]["household"] == {"id": household}

    corrected = {"name": "李晓花", "gender": "F", "birthDate": "2018-04-12"}
    assert data(await gql.execute(CORRECT_PERSON, {"id": child_id, "input": corrected}, **DIRECTOR))[
        "correctPerson"
    ] == {"id": child_id, "name": "李晓花"}
    kept = await county.read(CORRECTIONS, {"id": child_id})
    assert [(row["operation"], row["by"], row["note"]) for row in kept] == [("correctPerson", "D1", "户口本核对")]
    assert orjson.loads(kept[0]["before"])["name"] == "李小花" and orjson.loads(kept[0]["after"])["name"] == "李晓花"

    # The bundle's line rules: a future birth date, a gender not listed.
    for bad, field in (({"birthDate": "2999-01-01"}, "birthDate"), ({"gender": "X"}, "gender")):
        refused = await gql.execute(CORRECT_PERSON, {"id": child_id, "input": corrected | bad}, **DIRECTOR)
        assert error(refused) == {"code": "BAD_USER_INPUT", "field": field}

    # A parent link, its correction and its end; a parent younger than 12 years older is refused.
    linked = data(await gql.execute(LINK, {"p": "M1", "c": child_id, "t": "biological"}, **DIRECTOR))["linkParent"]
    assert linked["parents"] == [{"relation": "biological", "parent": {"id": "M1"}}]
    data(await gql.execute(LINK, {"p": "M1", "c": child_id, "t": "step"}, **DIRECTOR))
    too_young = await gql.execute(LINK, {"p": child_id, "c": "C1", "t": "biological"}, **DIRECTOR)
    assert error(too_young) == {"code": "BAD_USER_INPUT", "field": "parentId"}
    unlinked = data(await gql.execute(UNLINK, {"p": "M1", "c": child_id}, **DIRECTOR))["endParentLink"]
    assert unlinked["parents"] == []

    # A move within the village; the household's correction; both kept in the timeline.
    moved = data(await gql.execute(MOVE, {"p": child_id, "h": "H1"}, **DIRECTOR))["movePerson"]
    assert moved["household"] == {"id": "H1"}
    fixed = await gql.execute(CORRECT_HOUSEHOLD, {"id": "H1", "input": {"region": V1, "address": "1组2号"}}, **DIRECTOR)
    assert data(fixed)["correctHousehold"] == {"id": "H1", "address": "1组2号"}
    events = data(await gql.execute(TIMELINE, {"c": child_id}, **WORKER))["timeline"]
    assert [(e["value"], e["actor"]) for e in events if e["kind"] == "file_corrected"] == [
        ("correctPerson", "D1"), ("linkParent", "D1"), ("endParentLink", "D1"), ("movePerson", "D1"),
        ("correctHousehold", "D1"),
    ]  # fmt: skip
    audited = await county.read(
        "MATCH (e:AuditEvent) WHERE e.sub = 'D1' RETURN e.operation AS op, e.outcome AS outcome ORDER BY e.at"
    )
    assert ("createPerson", "ok") in [(row["op"], row["outcome"]) for row in audited]
    assert ("createHousehold", "replayed") in [(row["op"], row["outcome"]) for row in audited]


async def test_nothing_leaves_or_enters_the_callers_scope(county: Graph, gql: GraphQLClient) -> None:
    refusals: list[tuple[str, dict[str, object]]] = [
        (MOVE, {"p": "C1", "h": "H3"}),  # a household in another township
        (MOVE, {"p": "C3", "h": "H1"}),  # a person of another township
        (CORRECT_HOUSEHOLD, {"id": "H1", "input": {"region": V3}}),  # the village moved out of scope
        (HOUSEHOLD, {"input": {"region": V3}}),
        (PERSON, {"household": "H3", "input": {"name": "甲", "gender": "M", "birthDate": "2015-01-01"}}),
        (LINK, {"p": "F1", "c": "C3", "t": "biological"}),
    ]
    for query, variables in refusals:
        assert error(await gql.execute(query, variables, **DIRECTOR))["code"] == "FORBIDDEN", variables
    rows = await county.read("MATCH (p:Person {id: 'C1'})-[:MEMBER_OF]->(h) RETURN h.id AS h, p.regionCode AS r")
    assert [(row["h"], row["r"]) for row in rows] == [("H1", V1)]
    assert not await county.read("MATCH (k:FileCorrection) RETURN k")
    # Every refusal was audited as such.
    outcomes = await county.read("MATCH (e:AuditEvent {sub: 'D1'}) RETURN collect(DISTINCT e.outcome) AS o")
    assert outcomes[0]["o"] == ["FORBIDDEN"]
