"""Each read query on the shared sample county (Xingguo, 兴国县), as a county coordinator."""

from __future__ import annotations

import json
from typing import Any

from graph.driver import Graph
from tests.conftest import SAMPLE_EXPECTED, GraphQLClient
from tests.schema.conftest import COUNTY

COORDINATOR: dict[str, Any] = {"role": "coordinator", "region": COUNTY}


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body.get("errors")
    return body["data"]


CHILD_FILE = """query($id: ID!) {
  child(id: $id) {
    id name gender birthDate age(asOf: "2026-06-15") idNumber deceasedOn
    household { id regionCode lowIncome village { code level } members { id } }
    parents { relation parent { id person { id } } status(asOf: "2026-06-15") { dead away { destination since } } }
    guardians(asOf: "2026-06-15") { id kind basis since until }
    caregivers(asOf: "2026-06-15") { caregiver { id } since agreementSignedOn entrustedBy { id } }
    enrollments(asOf: "2026-06-15") { institutionId grade institution { name type } }
    placement(asOf: "2026-06-15") { institutionId }
    pairings(asOf: "2026-06-15") { volunteer { id } since }
    registrations(asOf: "2026-06-15") { category since }
    recentContacts(first: 1) { on channel by { id } }
    recentVisits(first: 1) { on type by { id } }
  }
}"""


async def test_the_child_file(sample_county: Graph, gql: GraphQLClient) -> None:
    child = data(await gql.execute(CHILD_FILE, {"id": "P000164"}, **COORDINATOR))["child"]
    assert child["name"] == "人0164" and child["birthDate"] == "2017-01-22" and child["age"] == 9
    assert child["idNumber"] == "360732201701220025"
    assert child["household"]["id"] == "H000161" and len(child["household"]["members"]) == 4
    assert child["household"]["village"]["level"] == "village"
    parents = {p["parent"]["id"]: p for p in child["parents"]}
    assert parents["P000162"]["status"] == {"dead": True, "away": None}
    assert parents["P000163"]["status"] == {"dead": False, "away": {"destination": "广东东莞", "since": "2025-05-11"}}
    assert parents["P000163"]["parent"]["person"] == {"id": "P000163"}
    assert sorted(g["id"] for g in child["guardians"]) == ["P000162", "P000163"]
    assert child["caregivers"] == [
        {
            "caregiver": {"id": "P000165"},
            "since": "2025-05-21",
            "agreementSignedOn": "2025-05-21",
            "entrustedBy": {"id": "P000162"},
        }
    ]
    assert child["enrollments"] == [
        {"institutionId": "I000001", "grade": "4", "institution": {"name": "100中心小学", "type": "school"}}
    ]
    assert child["placement"] is None
    assert child["pairings"] == [{"volunteer": {"id": "P000010"}, "since": "2025-11-27"}]
    assert child["registrations"] == [{"category": "left_behind", "since": "2025-08-19"}]
    assert child["recentContacts"] == [{"on": "2026-06-12", "channel": "video", "by": {"id": "P000163"}}]
    assert child["recentVisits"] == [{"on": "2026-06-05", "type": "home_visit", "by": {"id": "P000009"}}]


async def test_the_county_children_are_those_of_the_expected_file(sample_county: Graph, gql: GraphQLClient) -> None:
    expected = sorted(json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8")))
    query = """query($after: String) {
      children(region: "360732000000", asOf: "2026-06-15", first: 50, after: $after) {
        totalCount edges { node { id } } pageInfo { hasNextPage endCursor }
      }
    }"""
    seen: list[str] = []
    after = None
    while True:
        page = data(await gql.execute(query, {"after": after}, **COORDINATOR))["children"]
        assert page["totalCount"] == len(expected)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_guardianship_on_the_sample(sample_county: Graph, gql: GraphQLClient) -> None:
    query = """{ guardianship(childId: "P000189", asOf: "2026-06-15") {
      asOf child { id } legalGuardians { id kind } caregivers { caregiver { id } } placement { institutionId since }
      guardianHistory { id since until } careHistory { since } placementHistory { institutionId }
    } }"""
    found = data(await gql.execute(query, **COORDINATOR))["guardianship"]
    assert found["asOf"] == "2026-06-15" and found["child"] == {"id": "P000189"}
    assert found["placement"] == {"institutionId": "I000007", "since": "2026-04-26"}
    assert found["placementHistory"] == [{"institutionId": "I000007"}]
    assert {g["id"] for g in found["guardianHistory"]} >= {g["id"] for g in found["legalGuardians"]}


async def test_region_counts_and_lists(sample_county: Graph, gql: GraphQLClient) -> None:
    query = """{ region(code: "360732000000") {
      counts(asOf: "2026-06-15") { households children institutions }
      households(first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage } }
      institutions(first: 10) { totalCount edges { node { id type services capacity currentLoad region { code } } } }
      childList(asOf: "2026-06-15", first: 1) { totalCount }
      children { code counts(asOf: "2026-06-15") { children } }
    } }"""
    region = data(await gql.execute(query, **COORDINATOR))["region"]
    assert region["counts"] == {"households": 87, "children": 121, "institutions": 7}
    assert region["households"]["totalCount"] == 87 and region["households"]["pageInfo"]["hasNextPage"] is True
    assert region["childList"]["totalCount"] == 121
    assert sum(t["counts"]["children"] for t in region["children"]) == 121
    loads = {i["node"]["id"]: i["node"]["currentLoad"] for i in region["institutions"]["edges"]}
    assert len(loads) == 7 and sum(loads.values()) <= 3


async def test_search_by_id_number_and_birth_date(sample_county: Graph, gql: GraphQLClient) -> None:
    query = "query($n: String, $b: Date, $i: String) { searchPersons(name: $n, birthDate: $b, idNumber: $i) { id } }"
    by_number = await gql.execute(query, {"i": "360732201701220025"}, **COORDINATOR)
    assert data(by_number)["searchPersons"] == [{"id": "P000164"}]
    by_birth = await gql.execute(query, {"b": "2017-01-22", "n": "人01"}, **COORDINATOR)
    assert {"id": "P000164"} in data(by_birth)["searchPersons"]


async def test_left_behind_filter_on_the_sample(sample_county: Graph, gql: GraphQLClient) -> None:
    query = """{ children(region: "360732000000", asOf: "2026-06-15", leftBehindAsOf: "2026-06-15", first: 100) {
      totalCount edges { node { id } } pageInfo { hasNextPage } } }"""
    found = data(await gql.execute(query, **COORDINATOR))["children"]
    ids = {e["node"]["id"] for e in found["edges"]}
    assert not found["pageInfo"]["hasNextPage"]
    assert "P000164" in ids and found["totalCount"] == len(ids) > 0
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    # A child flagged as unregistered left-behind must be in the left-behind list.
    unregistered = {c for c, e in expected.items() if "UNREGISTERED_LEFT_BEHIND" in e["findings"]}
    assert unregistered <= ids


async def test_every_other_root_query_on_the_sample(sample_county: Graph, gql: GraphQLClient) -> None:
    query = """{
      person(id: "P000128") { name age(asOf: "2026-06-15") household { id } }
      household(id: "H000161") { id members { id } village { code } }
      institution(id: "I000005") { name type services capacity currentLoad region { level } }
      institutions(region: "360732000000", service: "education") { totalCount }
      households(region: "360732000000", first: 1) { totalCount }
      caregiverNetwork(personId: "P000128") { caregiver { id } children { child { id } current entrustedBy { id } } }
      pathBetween(a: "P000126", b: "P000124", maxHops: 2) { length steps { type } }
      duplicateCandidates(region: "360732000000") { reasons }
      auditEvents(first: 5) { operation }
    }"""
    found = data(await gql.execute(query, **COORDINATOR))
    assert found["person"] == {"name": "人0128", "age": 64, "household": {"id": "H000121"}}
    assert found["household"]["village"]["code"].startswith("360732") and len(found["household"]["members"]) == 4
    assert found["institution"] == {
        "name": "101未保工作站",
        "type": "minor_protection_workstation",
        "services": ["psychological_support", "family_guidance"],
        "capacity": 3,
        "currentLoad": found["institution"]["currentLoad"],
        "region": {"level": "township"},
    }
    assert found["institutions"]["totalCount"] >= 2 and found["households"]["totalCount"] == 87
    network = found["caregiverNetwork"]
    assert [c["child"]["id"] for c in network["children"]] == ["P000124", "P000125", "P000126", "P000127"]
    assert all(c["current"] and c["entrustedBy"] == {"id": "P000122"} for c in network["children"])
    assert found["pathBetween"]["length"] == 2
    assert isinstance(found["duplicateCandidates"], list) and isinstance(found["auditEvents"], list)
