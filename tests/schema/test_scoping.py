"""Scoping: a village director cannot see a child of the next village through any path, and
linked people outside the scope show only what the link needs (docs/access.md)."""

from __future__ import annotations

from typing import Any

import pytest

from graph.driver import Graph
from tests.conftest import GraphQLClient
from tests.schema.conftest import COUNTY, TOWNSHIP, V1, V2, V3

DIRECTOR: dict[str, Any] = {"role": "children_director", "region": V1}
WORKER_V1: dict[str, Any] = {"role": "case_worker", "region": V1}


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body.get("errors")
    return body["data"]


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


CHILD = "query($id: ID!) { child(id: $id) { id name } }"
PERSON = "query($id: ID!) { person(id: $id) { id name } }"


@pytest.mark.parametrize(("id", "visible"), [("C1", True), ("C4", True), ("C2", False), ("C3", False)])
async def test_direct_reads_stop_at_the_village(world: Graph, gql: GraphQLClient, id: str, visible: bool) -> None:
    child = data(await gql.execute(CHILD, {"id": id}, **DIRECTOR))["child"]
    person = data(await gql.execute(PERSON, {"id": id}, **DIRECTOR))["person"]
    assert (child is not None, person is not None) == (visible, visible)


async def test_absent_and_out_of_scope_read_alike(world: Graph, gql: GraphQLClient) -> None:
    absent = await gql.execute(CHILD, {"id": "NOPE"}, **DIRECTOR)
    elsewhere = await gql.execute(CHILD, {"id": "C3"}, **DIRECTOR)
    assert absent == elsewhere == {"data": {"child": None}}


async def test_child_is_null_for_an_adult(world: Graph, gql: GraphQLClient) -> None:
    assert data(await gql.execute(CHILD, {"id": "G1"}, **DIRECTOR)) == {"child": None}
    assert data(await gql.execute(PERSON, {"id": "G1"}, **DIRECTOR))["person"]["name"] == "李奶奶"


LIST = """query($region: String!) {
  children(region: $region, asOf: "2026-06-15", first: 50) { totalCount edges { node { id } } }
}"""


@pytest.mark.parametrize(
    ("region", "expected"),
    [(V1, ["C1", "C1X", "C4"]), (TOWNSHIP, ["C1", "C1X", "C4"]), (COUNTY, ["C1", "C1X", "C4"]), (V2, []), (V3, [])],
)
async def test_lists_hold_only_the_scope(world: Graph, gql: GraphQLClient, region: str, expected: list[str]) -> None:
    found = data(await gql.execute(LIST, {"region": region}, **DIRECTOR))["children"]
    assert [e["node"]["id"] for e in found["edges"]] == expected
    assert found["totalCount"] == len(expected)


async def test_a_township_supervisor_sees_both_villages(world: Graph, gql: GraphQLClient) -> None:
    found = data(await gql.execute(LIST, {"region": COUNTY}, role="children_supervisor", region=TOWNSHIP))
    assert [e["node"]["id"] for e in found["children"]["edges"]] == ["C1", "C1X", "C2", "C2X", "C4"]


NESTED = """query {
  child(id: "C1") {
    parents { relation parent { id name inScope person { id household { id members { id } } } }
              status(asOf: "2026-06-15") { dead away { destination since } lacksCapacity
                                           conditions { type } } }
    guardians(includeHistory: true) { id name inScope kind person { id } }
    caregivers(includeHistory: true) { caregiver { id inScope person { id household { id } } }
                                       entrustedBy { id name inScope person { id } } }
    recentContacts { by { id name inScope person { id } } }
    household { members { id } }
  }
}"""


async def test_linked_people_outside_the_scope_show_only_the_link(world: Graph, gql: GraphQLClient) -> None:
    child = data(await gql.execute(NESTED, **DIRECTOR))["child"]
    father, mother = sorted(child["parents"], key=lambda p: p["parent"]["id"])
    assert father["parent"] == {"id": "F1", "name": "张父", "inScope": False, "person": None}
    assert father["status"] == {
        "dead": False,
        "away": {"destination": "广东东莞", "since": "2024-02-01"},
        "lacksCapacity": False,
        "conditions": [],
    }
    assert mother["parent"]["inScope"] is True and mother["parent"]["person"]["household"]["id"] == "H1"
    assert mother["status"]["lacksCapacity"] is True
    # The father's household (in V2) never appears, nor its members (C2).
    assert {g["id"]: (g["inScope"], g["person"]) for g in child["guardians"]} == {
        "F1": (False, None),
        "M1": (True, {"id": "M1"}),
    }
    assert child["caregivers"][0]["caregiver"]["person"] == {"id": "M1", "household": {"id": "H1"}}
    assert child["caregivers"][1]["entrustedBy"] == {"id": "F1", "name": "张父", "inScope": False, "person": None}
    assert child["recentContacts"] == [{"by": {"id": "F1", "name": "张父", "inScope": False, "person": None}}]
    assert sorted(m["id"] for m in child["household"]["members"]) == ["C1", "G1", "M1"]
    assert "C2" not in str(child)


async def test_an_institution_guardian_outside_the_scope_is_a_name_only(world: Graph, gql: GraphQLClient) -> None:
    query = '{ child(id: "C2") { guardians { id kind inScope institution { id } } } }'
    seen = data(await gql.execute(query, role="children_director", region=V2))["child"]["guardians"]
    assert seen == [{"id": "I1", "kind": "institution", "inScope": False, "institution": None}]
    county = data(await gql.execute(query, role="coordinator", region=COUNTY))["child"]["guardians"]
    assert county == [{"id": "I1", "kind": "institution", "inScope": True, "institution": {"id": "I1"}}]


async def test_households_and_institutions_are_scoped(world: Graph, gql: GraphQLClient) -> None:
    query = """query($h: ID!, $i: ID!) { household(id: $h) { id } institution(id: $i) { id currentLoad } }"""
    assert data(await gql.execute(query, {"h": "H1", "i": "I2"}, **DIRECTOR)) == {
        "household": {"id": "H1"},
        "institution": None,
    }
    assert data(await gql.execute(query, {"h": "H2", "i": "I2"}, role="children_director", region=V2)) == {
        "household": {"id": "H2"},
        "institution": {"id": "I2", "currentLoad": 0},
    }
    lists = f'{{ households(region: "{TOWNSHIP}") {{ totalCount edges {{ node {{ id }} }} }} }}'
    found = data(await gql.execute(lists, **DIRECTOR))["households"]
    assert [e["node"]["id"] for e in found["edges"]] == ["H1", "H4"] and found["totalCount"] == 2


async def test_search_finds_nothing_outside_the_scope(world: Graph, gql: GraphQLClient) -> None:
    query = "query($name: String!) { searchPersons(name: $name) { id } }"
    assert data(await gql.execute(query, {"name": "张小"}, **DIRECTOR))["searchPersons"] == [
        {"id": "C1"},
        {"id": "C1X"},
        {"id": "C4"},
    ]
    assert data(await gql.execute(query, {"name": "张小二"}, **DIRECTOR))["searchPersons"] == []
    assert data(await gql.execute(query, {"name": "张小二"}, role="children_director", region=V2))["searchPersons"] == [
        {"id": "C2"},
        {"id": "C2X"},
    ]


async def test_duplicates_only_among_people_in_scope(world: Graph, gql: GraphQLClient) -> None:
    query = "query($r: String!) { duplicateCandidates(region: $r) { first { id } second { id } reasons } }"
    seen = data(await gql.execute(query, {"r": TOWNSHIP}, **DIRECTOR))["duplicateCandidates"]
    assert seen == [
        {"first": {"id": "C1"}, "second": {"id": "C1X"}, "reasons": ["same_name_and_birth_date", "same_phone"]}
    ]
    township = data(await gql.execute(query, {"r": TOWNSHIP}, role="children_supervisor", region=TOWNSHIP))
    assert [(d["first"]["id"], d["second"]["id"]) for d in township["duplicateCandidates"]] == [
        ("C1", "C1X"),
        ("C2", "C2X"),
    ]


async def test_caregiver_network_leaves_out_children_outside_the_scope(world: Graph, gql: GraphQLClient) -> None:
    query = '{ caregiverNetwork(personId: "G1") { caregiver { id } children { child { id } current } } }'
    village = data(await gql.execute(query, **WORKER_V1))["caregiverNetwork"]
    assert village == {"caregiver": {"id": "G1"}, "children": [{"child": {"id": "C1"}, "current": True}]}
    township = data(await gql.execute(query, role="case_worker", region=TOWNSHIP))["caregiverNetwork"]
    assert [c["child"]["id"] for c in township["children"]] == ["C1", "C2"]
    assert data(await gql.execute(query, role="case_worker", region=V3)) == {"caregiverNetwork": None}


PATH = """query($a: ID!, $b: ID!, $hops: Int!) {
  pathBetween(a: $a, b: $b, maxHops: $hops) { length nodes { id kind } steps { type from to } }
}"""


async def test_paths_never_pass_through_people_outside_the_scope(world: Graph, gql: GraphQLClient) -> None:
    # C1 and C4 share a father who lives in V2: from V1 that link is invisible.
    assert data(await gql.execute(PATH, {"a": "C1", "b": "C4", "hops": 6}, **WORKER_V1)) == {"pathBetween": None}
    township = data(await gql.execute(PATH, {"a": "C1", "b": "C4", "hops": 6}, role="case_worker", region=TOWNSHIP))
    path = township["pathBetween"]
    assert path["length"] == 2
    assert path["nodes"] == [{"id": n, "kind": "person"} for n in ("C1", "F1", "C4")]
    # F1 is C1's parent and guardian: either link is a shortest step.
    assert path["steps"][0]["type"] in {"PARENT_OF", "GUARDIAN_OF"}
    assert [(s["from"], s["to"]) for s in path["steps"]] == [("F1", "C1"), ("F1", "C4")]
    assert path["steps"][1]["type"] == "PARENT_OF"
    # Either end out of scope reads as no path.
    assert data(await gql.execute(PATH, {"a": "C1", "b": "C2", "hops": 6}, **WORKER_V1)) == {"pathBetween": None}


@pytest.mark.parametrize(
    "query",
    [
        '{ guardianship(childId: "C1") { asOf } }',
        '{ caregiverNetwork(personId: "G1") { caregiver { id } } }',
        '{ pathBetween(a: "C1", b: "G1") { length } }',
    ],
)
@pytest.mark.parametrize("role", ["children_director", "children_supervisor", "integrator"])
async def test_tracing_is_forbidden_to_other_roles(world: Graph, gql: GraphQLClient, query: str, role: str) -> None:
    body = await gql.execute(query, role=role, region=V1)
    assert codes(body) == ["FORBIDDEN"]


async def test_auditors_and_institution_staff_read_no_persons(world: Graph, gql: GraphQLClient) -> None:
    assert codes(await gql.execute(CHILD, {"id": "C1"}, role="auditor", region=COUNTY)) == ["FORBIDDEN"]
    staff: dict[str, Any] = {"role": "institution_staff", "institution": "I2"}
    assert codes(await gql.execute(CHILD, {"id": "C1"}, **staff)) == ["FORBIDDEN"]
    assert codes(await gql.execute(LIST, {"region": COUNTY}, **staff)) == ["FORBIDDEN"]
    assert codes(await gql.execute('{ searchPersons(name: "张") { id } }', **staff)) == ["FORBIDDEN"]
