"""Each read query on the sample county (黄平县, tests/data/make_county.py), as a county coordinator.

The facts asserted are those the generator writes for the children named (their records are
listed by `make_county.build()`); the dates are as of the sample's date, 2026-02-28.
"""

from __future__ import annotations

import json
from typing import Any

from graph.driver import Graph
from tests.conftest import SAMPLE_AS_OF, SAMPLE_COUNTY, SAMPLE_EXPECTED, GraphQLClient
from tests.data.make_county import TOWNSHIPS, VILLAGES, build

COORDINATOR: dict[str, Any] = {"role": "coordinator", "region": SAMPLE_COUNTY}
AS_OF = SAMPLE_AS_OF.isoformat()


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body.get("errors")
    return body["data"]


def record(person_id: str) -> dict[str, Any]:
    """The sample's own line for a person: what the API must give back."""
    return next(r for r in build().records if r["kind"] == "person" and r["id"] == person_id)


def query(text: str) -> str:
    return text.replace("$AS_OF", f'"{AS_OF}"').replace("$COUNTY", f'"{SAMPLE_COUNTY}"')


CHILD_FILE = query("""query($id: ID!) {
  child(id: $id) {
    id name gender birthDate age(asOf: $AS_OF) idNumber deceasedOn
    household { id regionCode lowIncome village { code level } members { id } }
    parents { relation parent { id person { id } } status(asOf: $AS_OF) { dead away { destination since } } }
    guardians(asOf: $AS_OF) { id kind basis since until }
    caregivers(asOf: $AS_OF) { caregiver { id } since agreementSignedOn entrustedBy { id } }
    enrollments(asOf: $AS_OF) { institutionId grade institution { name type } }
    placement(asOf: $AS_OF) { institutionId }
    pairings(asOf: $AS_OF) { volunteer { id } since }
    registrations(asOf: $AS_OF) { category since }
    recentContacts(first: 1) { on channel by { id } }
    recentVisits(first: 1) { on type by { id } }
  }
}""")


async def test_the_child_file(sample_county: Graph, gql: GraphQLClient) -> None:
    # A left-behind boy whose father died in 2024 and whose mother works in Hangzhou.
    child = data(await gql.execute(CHILD_FILE, {"id": "lb-dead-and-away"}, **COORDINATOR))["child"]
    line = record("lb-dead-and-away")
    assert (child["name"], child["gender"], child["birthDate"], child["age"]) == (line["name"], "M", "2016-05-10", 9)
    assert child["idNumber"] == line["idNumber"] == "522622201605100078" and child["deceasedOn"] is None
    household = child["household"]
    assert household["id"] == "lb-dead-and-away.home" and household["lowIncome"] == []
    assert household["regionCode"] == household["village"]["code"] == VILLAGES[0]
    assert household["village"]["level"] == "village"
    assert sorted(m["id"] for m in household["members"]) == [
        "lb-dead-and-away",
        "lb-dead-and-away.carer1",
        "lb-dead-and-away.father",
        "lb-dead-and-away.mother",
    ]
    parents = {p["parent"]["id"]: p for p in child["parents"]}
    assert parents["lb-dead-and-away.father"]["status"] == {"dead": True, "away": None}
    mother = parents["lb-dead-and-away.mother"]
    assert mother["status"] == {"dead": False, "away": {"destination": "浙江杭州", "since": "2025-01-24"}}
    assert mother["parent"]["person"] == {"id": "lb-dead-and-away.mother"}
    # The father's guardianship ended with his death; the mother's holds.
    assert [(g["id"], g["basis"], g["until"]) for g in child["guardians"]] == [
        ("lb-dead-and-away.mother", "parent", None)
    ]
    assert child["caregivers"] == [
        {
            "caregiver": {"id": "lb-dead-and-away.carer1"},
            "since": "2025-05-04",
            "agreementSignedOn": "2025-05-04",
            "entrustedBy": {"id": "lb-dead-and-away.mother"},
        }
    ]
    assert child["enrollments"] == [
        {"institutionId": "school", "grade": "4", "institution": {"name": "新州镇中心小学", "type": "school"}}
    ]
    assert child["placement"] is None and child["registrations"] == []
    assert child["pairings"] == [{"volunteer": {"id": "volunteer-0"}, "since": "2025-08-12"}]
    assert child["recentContacts"] == [
        {"on": "2026-02-25", "channel": "video", "by": {"id": "lb-dead-and-away.mother"}}
    ]
    assert child["recentVisits"] == [{"on": "2026-02-18", "type": "home_visit", "by": {"id": "director"}}]

    # A left-behind girl placed in the welfare home, registered since August 2025.
    placed = data(await gql.execute(CHILD_FILE, {"id": "placed"}, **COORDINATOR))["child"]
    assert placed["placement"] == {"institutionId": "welfare"} and placed["caregivers"] == []
    assert placed["registrations"] == [{"category": "left_behind", "since": "2025-08-12"}]
    assert sorted(g["id"] for g in placed["guardians"]) == ["placed.father", "placed.mother"]


async def test_the_county_children_are_those_of_the_expected_file(sample_county: Graph, gql: GraphQLClient) -> None:
    expected = sorted(json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8")))
    listing = query("""query($after: String) {
      children(region: $COUNTY, asOf: $AS_OF, first: 50, after: $after) {
        totalCount edges { node { id } } pageInfo { hasNextPage endCursor }
      }
    }""")
    seen: list[str] = []
    after = None
    while True:
        page = data(await gql.execute(listing, {"after": after}, **COORDINATOR))["children"]
        assert page["totalCount"] == len(expected)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    # The boundaries of "a child at D" are on both sides of the list.
    assert {"leap-17", "born-on-d", "dies-after-d"} <= set(seen)
    assert not {"turns-18-on-d", "born-after-d", "died-before-d", "no-household", "other-county"} & set(seen)


async def test_guardianship_on_the_sample(sample_county: Graph, gql: GraphQLClient) -> None:
    # Both parents died on 2024-10-16; the county centre became guardian and the child lives
    # in the welfare home.
    guardianship = query("""{ guardianship(childId: "orphan", asOf: $AS_OF) {
      asOf child { id } legalGuardians { id kind } caregivers { caregiver { id } } placement { institutionId since }
      guardianHistory { id since until } careHistory { since } placementHistory { institutionId }
    } }""")
    found = data(await gql.execute(guardianship, **COORDINATOR))["guardianship"]
    assert found["asOf"] == AS_OF and found["child"] == {"id": "orphan"}
    assert found["legalGuardians"] == [{"id": "centre", "kind": "institution"}]
    assert found["caregivers"] == [] and found["careHistory"] == []
    assert found["placement"] == {"institutionId": "welfare", "since": "2025-01-24"}
    assert found["placementHistory"] == [{"institutionId": "welfare"}]
    assert sorted((g["id"], g["since"], g["until"]) for g in found["guardianHistory"]) == [
        ("centre", "2025-01-24", None),
        ("orphan.father", "2016-05-10", "2024-10-16"),
        ("orphan.mother", "2016-05-10", "2024-10-16"),
    ]


async def test_region_counts_and_lists(sample_county: Graph, gql: GraphQLClient) -> None:
    county = build()
    inside = [r for r in county.records if r["kind"] == "household" and r["region"].startswith(SAMPLE_COUNTY[:6])]
    children = len(json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8")))
    region_query = query("""{ region(code: $COUNTY) {
      counts(asOf: $AS_OF) { households children institutions }
      households(first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage } }
      institutions(first: 10) { totalCount edges { node { id type services capacity currentLoad region { code } } } }
      childList(asOf: $AS_OF, first: 1) { totalCount }
      children { code counts(asOf: $AS_OF) { children } }
    } }""")
    region = data(await gql.execute(region_query, **COORDINATOR))["region"]
    assert region["counts"] == {"households": len(inside), "children": children, "institutions": 5}
    assert region["households"]["totalCount"] == len(inside) and region["households"]["pageInfo"]["hasNextPage"]
    assert region["childList"]["totalCount"] == children
    townships = {t["code"]: t["counts"]["children"] for t in region["children"]}
    assert set(townships) == set(TOWNSHIPS) and sum(townships.values()) == children
    assert all(count > 0 for count in townships.values())
    # Open referrals (pending or accepted) all go to the social work station: five of them.
    loads = {i["node"]["id"]: i["node"]["currentLoad"] for i in region["institutions"]["edges"]}
    assert loads == {"school": 0, "kindergarten": 0, "centre": 0, "welfare": 0, "station": 5}


async def test_search_by_id_number_and_birth_date(sample_county: Graph, gql: GraphQLClient) -> None:
    search = "query($n: String, $b: Date, $i: String) { searchPersons(name: $n, birthDate: $b, idNumber: $i) { id } }"
    by_number = await gql.execute(search, {"i": "522622201605100078"}, **COORDINATOR)
    assert data(by_number)["searchPersons"] == [{"id": "lb-dead-and-away"}]
    # lb-green's father and his look-alike in another village share a name and a birth date.
    by_birth = await gql.execute(search, {"b": "1986-03-15", "n": record("lb-green.father")["name"]}, **COORDINATOR)
    assert sorted(p["id"] for p in data(by_birth)["searchPersons"]) == ["lb-green.father", "look-alike"]


async def test_left_behind_filter_on_the_sample(sample_county: Graph, gql: GraphQLClient) -> None:
    listing = query("""{ children(region: $COUNTY, asOf: $AS_OF, leftBehindAsOf: $AS_OF, first: 200) {
      totalCount edges { node { id } } pageInfo { hasNextPage } } }""")
    found = data(await gql.execute(listing, **COORDINATOR))["children"]
    ids = {e["node"]["id"] for e in found["edges"]}
    assert not found["pageInfo"]["hasNextPage"] and found["totalCount"] == len(ids)
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    # Every child flagged as unregistered left-behind is left-behind, and so is every child of
    # the template; none of the children the sample made not left-behind is.
    unregistered = {c for c, e in expected.items() if "UNREGISTERED_LEFT_BEHIND" in e["findings"]}
    assert unregistered <= ids and {"lb-green", "lb-one-parent", "lb-away-ends-on-d", "lb-15"} <= ids
    assert not {c for c in expected if c.startswith(("not-lb-", "home-", "dfu-", "orphan"))} & ids


async def test_every_other_root_query_on_the_sample(sample_county: Graph, gql: GraphQLClient) -> None:
    roots = query("""{
      person(id: "carer-of-4") { name age(asOf: $AS_OF) household { id village { code } } }
      household(id: "lb-green.home") { id members { id } village { code } }
      institution(id: "station") { name type services capacity currentLoad region { level } }
      institutions(region: $COUNTY, service: "education") { totalCount }
      households(region: $COUNTY, first: 1) { totalCount }
      caregiverNetwork(personId: "carer-of-4") { caregiver { id } children { child { id } current entrustedBy { id } } }
      pathBetween(a: "lb-green", b: "lb-green.carer1", maxHops: 2) { length steps { type } }
      duplicateCandidates(region: $COUNTY) { reasons first { id } second { id } }
      auditEvents(first: 5) { operation }
    }""")
    found = data(await gql.execute(roots, **COORDINATOR))
    assert found["person"]["age"] == 63
    assert found["person"]["household"] == {"id": "carer-of-4.home", "village": {"code": VILLAGES[2]}}
    assert sorted(m["id"] for m in found["household"]["members"]) == [
        "lb-green",
        "lb-green.carer1",
        "lb-green.father",
        "lb-green.mother",
    ]
    assert found["household"]["village"]["code"] == VILLAGES[1]
    assert found["institution"] == {
        "name": "旧州镇社工站",
        "type": "social_work_station",
        "services": ["psychological_support", "family_guidance"],
        "capacity": 20,
        "currentLoad": 5,
        "region": {"level": "township"},
    }
    assert found["institutions"]["totalCount"] == 2  # the school and the kindergarten
    assert found["households"]["totalCount"] == sum(
        1 for r in build().records if r["kind"] == "household" and r["region"].startswith(SAMPLE_COUNTY[:6])
    )
    network = found["caregiverNetwork"]
    assert network["caregiver"] == {"id": "carer-of-4"}
    # Four children in her care; the fourth lives in no household, so no county coordinator sees it.
    shown = ["overload-0", "overload-1", "overload-2"]
    assert [c["child"]["id"] for c in network["children"]] == shown
    assert [c["entrustedBy"] for c in network["children"]] == [{"id": f"{child}.father"} for child in shown]
    assert all(c["current"] for c in network["children"])
    assert found["pathBetween"]["length"] == 1 and found["pathBetween"]["steps"] == [{"type": "CARES_FOR"}]
    assert [(d["first"]["id"], d["second"]["id"], d["reasons"]) for d in found["duplicateCandidates"]] == [
        ("lb-green.father", "look-alike", ["same_name_and_birth_date"])
    ]
    assert isinstance(found["auditEvents"], list)
