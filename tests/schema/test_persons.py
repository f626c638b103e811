"""The child's file on the small world: masking per role, the audit of full-record reads,
lists with filters and keyset pages, and the error codes of bad arguments."""

from __future__ import annotations

from typing import Any

import pytest

from graph.driver import Graph
from tests.conftest import GraphQLClient
from tests.schema.conftest import COUNTY, V1

from .test_scoping import codes, data

IDS = '{ person(id: "C1") { idNumber phone } }'


@pytest.mark.parametrize(
    ("role", "id_number", "phone"),
    [
        ("children_director", "360732***********7", "13912345678"),
        ("children_supervisor", "360732***********7", "13912345678"),
        ("case_worker", "360732***********7", "13912345678"),
        ("integrator", "360732***********7", "*******5678"),
        ("coordinator", "360732201503010027", "13912345678"),
        ("admin", "360732201503010027", "13912345678"),
    ],
)
async def test_masking_per_role(world: Graph, gql: GraphQLClient, role: str, id_number: str, phone: str) -> None:
    region = None if role == "admin" else (V1 if role == "children_director" else COUNTY)
    assert data(await gql.execute(IDS, role=role, region=region))["person"] == {"idNumber": id_number, "phone": phone}


async def _events(graph: Graph, sub: str) -> list[dict[str, Any]]:
    rows = await graph.read(
        "MATCH (e:AuditEvent {sub: $sub}) RETURN e.operation AS operation, e.ids AS ids, e.role AS role, "
        "e.outcome AS outcome, e.scope AS scope ORDER BY e.ids[0]",
        {"sub": sub},
    )
    return [row.data() for row in rows]


async def test_reading_a_full_record_is_audited_once_per_child(world: Graph, gql: GraphQLClient) -> None:
    query = """{
      a: child(id: "C1") { idNumber guardians { id } caregivers { since } }
      b: child(id: "C1") { idNumber }
      c: child(id: "C4") { guardians(includeHistory: true) { id } }
      d: person(id: "G1") { idNumber }
    }"""
    data(await gql.execute(query, role="children_director", region=V1, sub="director-7"))
    assert await _events(world, "director-7") == [
        {"operation": "read:child", "ids": ["C1"], "role": "children_director", "outcome": "ok", "scope": V1},
        {"operation": "read:child", "ids": ["C4"], "role": "children_director", "outcome": "ok", "scope": V1},
    ]
    # A name and a birth date are not the full record; guardianship tracing is.
    data(await gql.execute('{ child(id: "C1") { name birthDate } }', role="coordinator", region=COUNTY, sub="c-1"))
    assert await _events(world, "c-1") == []
    data(await gql.execute('{ guardianship(childId: "C1") { asOf } }', role="coordinator", region=COUNTY, sub="c-2"))
    assert [e["ids"] for e in await _events(world, "c-2")] == [["C1"]]


async def test_the_case_history_is_part_of_the_file_and_audited(world: Graph, gql: GraphQLClient) -> None:
    query = '{ a: child(id: "C1") { cases { id stage } } b: child(id: "C4") { cases { id } } }'
    found = data(await gql.execute(query, role="case_worker", region=V1, sub="cases-1"))
    assert found == {"a": {"cases": [{"id": "K2", "stage": "reported"}, {"id": "K1", "stage": "assessment"}]},
                     "b": {"cases": []}}  # fmt: skip
    assert [e["ids"] for e in await _events(world, "cases-1")] == [["C1"], ["C4"]]


async def test_audit_events_are_read_by_auditors_of_the_region(world: Graph, gql: GraphQLClient) -> None:
    data(await gql.execute('{ child(id: "C1") { idNumber } }', role="children_director", region=V1, sub="reader-9"))
    query = '{ auditEvents(operation: "read:child") { sub ids role operation outcome at } }'
    seen = data(await gql.execute(query, role="auditor", region=V1))["auditEvents"]
    assert {"sub": "reader-9", "ids": ["C1"], "role": "children_director", "operation": "read:child"}.items() <= next(
        e for e in seen if e["sub"] == "reader-9"
    ).items()
    elsewhere = data(await gql.execute(query, role="auditor", region="360732101201"))["auditEvents"]
    assert all(e["sub"] != "reader-9" for e in elsewhere)
    assert codes(await gql.execute(query, role="children_director", region=V1)) == ["FORBIDDEN"]


async def test_a_forbidden_or_empty_read_is_not_audited(world: Graph, gql: GraphQLClient) -> None:
    await gql.execute('{ child(id: "C2") { idNumber } }', role="children_director", region=V1, sub="nosy")
    await gql.execute('{ child(id: "C1") { idNumber } }', role="auditor", region=V1, sub="nosy")
    assert await _events(world, "nosy") == []


LEFT_BEHIND = """query($d: Date!) {
  children(region: "360732100000", asOf: "2026-06-15", leftBehindAsOf: $d) { edges { node { id } } }
}"""


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-06-15", ["C1", "C4"]),  # father away; mother ill (lacks capacity)
        ("2025-06-01", ["C1", "C4"]),  # both away
        ("2023-06-01", []),  # father at home
    ],
)
async def test_left_behind_at_a_date(world: Graph, gql: GraphQLClient, day: str, expected: list[str]) -> None:
    found = data(await gql.execute(LEFT_BEHIND, {"d": day}, role="case_worker", region="360732100000"))
    assert [e["node"]["id"] for e in found["children"]["edges"]] == expected


FILTERED = """query($sort: ChildSort!, $after: String, $cat: String, $min: Int, $max: Int) {
  children(region: "360732100000", asOf: "2026-06-15", sort: $sort, first: 2, after: $after,
           registrationCategory: $cat, minAge: $min, maxAge: $max) {
    totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}"""
SUPERVISOR: dict[str, Any] = {"role": "children_supervisor", "region": "360732100000"}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("ID", ["C1", "C1X", "C2", "C2X", "C4"]), ("BIRTH_DATE", ["C1", "C1X", "C2", "C2X", "C4"])],
)
async def test_pages_walk_every_child_once(world: Graph, gql: GraphQLClient, sort: str, expected: list[str]) -> None:
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = data(await gql.execute(FILTERED, {"sort": sort, "after": after}, **SUPERVISOR))["children"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == expected


async def test_a_page_is_stable_when_children_are_added_before_it(world: Graph, gql: GraphQLClient) -> None:
    first = data(await gql.execute(FILTERED, {"sort": "NAME"}, **SUPERVISOR))["children"]
    await world.write(
        "MATCH (h:Household {id: 'H1'}) CREATE (:Person {id: 'A0', name: '阿', birthDate: date('2018-01-01'), "
        "regionCode: h.regionCode})-[:MEMBER_OF]->(h)"
    )
    try:
        after = first["pageInfo"]["endCursor"]
        second = data(await gql.execute(FILTERED, {"sort": "NAME", "after": after}, **SUPERVISOR))["children"]
        names = [e["node"]["id"] for e in first["edges"] + second["edges"]]
        assert "A0" not in names and len(set(names)) == len(names) == 4
        assert second["totalCount"] == 6
    finally:
        await world.write("MATCH (p:Person {id: 'A0'}) DETACH DELETE p")


async def test_filters_by_category_and_age(world: Graph, gql: GraphQLClient) -> None:
    registered = data(await gql.execute(FILTERED, {"sort": "ID", "cat": "left_behind"}, **SUPERVISOR))
    assert [e["node"]["id"] for e in registered["children"]["edges"]] == ["C1"]
    # At 2026-06-15: C1, C1X are 11; C2, C2X 10 (born 2016-06-06); C4 8.
    ages = data(await gql.execute(FILTERED, {"sort": "ID", "min": 9, "max": 10}, **SUPERVISOR))["children"]
    assert ages["totalCount"] == 2 and [e["node"]["id"] for e in ages["edges"]] == ["C2", "C2X"]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ('{ children(region: "3607") { totalCount } }', {}, "region"),
        ('{ children(region: "360732000000", first: 0) { totalCount } }', {}, "first"),
        ('{ children(region: "360732000000", first: 501) { totalCount } }', {}, "first"),
        ('{ children(region: "360732000000", after: "garbage") { totalCount } }', {}, "after"),
        ('{ children(region: "360732000000", minAge: 18) { totalCount } }', {}, "minAge"),
        ('{ children(region: "360732000000", minAge: 9, maxAge: 3) { totalCount } }', {}, "maxAge"),
        (
            '{ children(region: "360732000000", registrationCategory: "rich") { totalCount } }',
            {},
            "registrationCategory",
        ),
        ('{ pathBetween(a: "C1", b: "C4", maxHops: 7) { length } }', {}, "maxHops"),
        ('{ pathBetween(a: "C1", b: "C4", maxHops: 0) { length } }', {}, "maxHops"),
        ("{ searchPersons { id } }", {}, "name"),
        ('{ duplicateCandidates(region: "x") { reasons } }', {}, "region"),
        ('query($d: Date!) { guardianship(childId: "C1", asOf: $d) { asOf } }', {"d": "2026-02-30"}, "d"),
    ],
)
async def test_bad_arguments_are_bad_user_input_naming_the_field(
    world: Graph, gql: GraphQLClient, query: str, variables: dict[str, Any], field: str
) -> None:
    body = await gql.execute(query, variables, role="coordinator", region=COUNTY)
    errors: list[dict[str, Any]] = body["errors"]
    assert len(errors) == 1
    error = errors[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"].get("field") == field


async def test_a_cursor_of_another_sort_order_is_refused(world: Graph, gql: GraphQLClient) -> None:
    page = data(await gql.execute(FILTERED, {"sort": "NAME"}, **SUPERVISOR))["children"]
    body = await gql.execute(FILTERED, {"sort": "ID", "after": page["pageInfo"]["endCursor"]}, **SUPERVISOR)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


WIDE = """query($region: String!, $after: String) {
  children(region: $region, asOf: "2026-06-15", first: 2, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}"""


async def _walk(gql: GraphQLClient, listed: str, **caller: Any) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(20):
        page = data(await gql.execute(WIDE, {"region": listed, "after": after}, **caller))["children"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    return seen


async def test_a_province_or_city_list_walks_ids_and_pages_like_a_county_list(world: Graph, gql: GraphQLClient) -> None:
    # Province and city pages take the id-order query variant; a county page seeks by prefix.
    county = await _walk(gql, COUNTY, role="admin")
    assert county and county == sorted(county)
    assert await _walk(gql, "360000000000", role="admin") == county
    assert await _walk(gql, "360700000000", role="coordinator", region="360700000000") == county
    # A narrow scope under a wide region still keeps the list to the scope.
    village = await _walk(gql, "360000000000", role="children_director", region=V1)
    assert village and set(village) < set(county)
    assert village == await _walk(gql, V1, role="children_director", region=V1)
