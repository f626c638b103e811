"""`recommendInstitutions` and `recommendVolunteers` at every boundary docs/graphql.md states."""

from __future__ import annotations

import datetime as dt

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import (
    COUNTY,
    DIRECTOR,
    OTHER_WORKER,
    TOWNSHIP,
    TOWNSHIP2,
    V1,
    V2,
    WORKER,
    data,
    error,
    today,
)

INSTITUTIONS = """
query($child: ID!, $service: String!, $first: Int) {
  recommendInstitutions(childId: $child, service: $service, first: $first) {
    institutionId tier capacity openReferrals loadRatio
  }
}"""
VOLUNTEERS = "query($child: ID!) { recommendVolunteers(childId: $child) { personId name roles currentPairings } }"
SERVICE = "psychological_support"


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    g = clean_graph
    await factories.household(g, "H1", V1)
    await factories.household(g, "H2", V2)
    await factories.person(g, "C1", dt.date(2016, 1, 1), household="H1")
    await factories.person(g, "C2", dt.date(2016, 1, 1), household="H2")
    await factories.case(g, "K", "C2", today())
    # (id, region, capacity, open referrals, closed referrals)
    for id, region, capacity, open_, closed in [
        ("A-T1", TOWNSHIP, 2, 1, 0),  # 0.5
        ("B-T1", V2, None, 3, 0),  # a village of the township; no capacity: 0
        ("C-T1", TOWNSHIP, 1, 1, 0),  # at capacity
        ("D-T1", TOWNSHIP, 0, 0, 0),  # capacity 0: always at capacity
        ("E-T1", TOWNSHIP, 4, 2, 0),  # 0.5, ties with A-T1: by id
        ("K-T1", TOWNSHIP, 3, 1, 3),  # 1/3: declined, completed and withdrawn do not count
        ("F-CO", COUNTY, None, 0, 0),  # the county
        ("G-T2", TOWNSHIP2, 10, 0, 0),  # another township of the county: county tier
        ("H-CI", "360700000000", 1, 0, 0),  # the city
        ("I-XC", "360800000000", None, 0, 0),  # another city: never
    ]:
        await factories.institution(g, id, "social_work_station", region, services=[SERVICE], capacity=capacity)
        for n in range(open_):
            status = ("pending", "accepted")[n % 2]
            await factories.referral(g, f"{id}-o{n}", "K", id, SERVICE, today(), today(), status=status)
        for n, status in enumerate(["declined", "completed", "withdrawn"][:closed]):
            await factories.referral(g, f"{id}-c{n}", "K", id, SERVICE, today(), today(), status=status)
    await factories.institution(g, "J-T1", "school", TOWNSHIP, services=["education"])
    return g


async def test_institutions_rank_township_county_city_then_load_then_id(county: Graph, gql: GraphQLClient) -> None:
    body = await gql.execute(INSTITUTIONS, {"child": "C1", "service": SERVICE}, **WORKER)
    ranked = [
        (r["institutionId"], r["tier"], r["openReferrals"], round(r["loadRatio"], 3))
        for r in data(body)["recommendInstitutions"]
    ]
    assert ranked == [
        ("B-T1", "township", 3, 0.0),
        ("K-T1", "township", 1, 0.333),
        ("A-T1", "township", 1, 0.5),
        ("E-T1", "township", 2, 0.5),
        ("F-CO", "county", 0, 0.0),
        ("G-T2", "county", 0, 0.0),
        ("H-CI", "city", 0, 0.0),
    ]
    first = await gql.execute(INSTITUTIONS, {"child": "C1", "service": SERVICE, "first": 2}, **WORKER)
    assert [r["institutionId"] for r in data(first)["recommendInstitutions"]] == ["B-T1", "K-T1"]
    education = await gql.execute(INSTITUTIONS, {"child": "C1", "service": "education"}, **WORKER)
    assert [r["institutionId"] for r in data(education)["recommendInstitutions"]] == ["J-T1"]


async def test_institution_recommendations_refuse_bad_input_and_other_roles(county: Graph, gql: GraphQLClient) -> None:
    assert error(await gql.execute(INSTITUTIONS, {"child": "C1", "service": "massage"}, **WORKER)) == {
        "code": "BAD_USER_INPUT",
        "field": "service",
    }
    assert error(await gql.execute(INSTITUTIONS, {"child": "C1", "service": SERVICE, "first": -1}, **WORKER)) == {
        "code": "BAD_USER_INPUT",
        "field": "first",
    }
    assert error(await gql.execute(INSTITUTIONS, {"child": "C1", "service": SERVICE}, **DIRECTOR))["code"] == (
        "FORBIDDEN"
    )
    # A child outside the caller's scope reads as absent: nothing to recommend.
    outside = await gql.execute(INSTITUTIONS, {"child": "C1", "service": SERVICE}, **OTHER_WORKER)
    assert data(outside) == {"recommendInstitutions": []}


async def test_volunteers_serving_the_village_or_township_fewest_pairings_first(
    county: Graph, gql: GraphQLClient
) -> None:
    g, t = county, today()
    year_ago = t - dt.timedelta(days=365)
    for id in ("S-DIR", "S-SUP", "S-OLD", "S-V2", "S-CO", "P-BUSY", "P-FREE", "P-FAR"):
        await factories.person(g, id, dt.date(1980, 1, 1), household="H2" if id.startswith("P-") else None, name=id)
    await factories.staff(g, "S-DIR", "children_director", year_ago, region=V1)
    await factories.staff(g, "S-SUP", "children_supervisor", year_ago, region=TOWNSHIP)
    await factories.staff(g, "S-OLD", "children_director", year_ago, region=V1, until=t - dt.timedelta(days=1))
    await factories.staff(g, "S-V2", "children_director", year_ago, region=V2)  # the next village only
    await factories.staff(g, "S-CO", "case_worker", year_ago, region=COUNTY)  # the county, not the township
    await factories.pairing(g, "S-SUP", "C2", year_ago)  # staff who also pair
    await factories.pairing(g, "P-BUSY", "C2", year_ago)
    await factories.person(g, "C9", dt.date(2016, 1, 1), household="H2")
    await factories.pairing(g, "P-BUSY", "C9", year_ago)
    await factories.pairing(g, "P-FREE", "C2", year_ago - dt.timedelta(days=30), until=year_ago)  # ended
    await factories.household(g, "HX", "360732101201")
    await factories.person(g, "P-FAR2", dt.date(1980, 1, 1), household="HX")
    await factories.pairing(g, "P-FAR2", "C2", year_ago)  # lives in another township

    found = data(await gql.execute(VOLUNTEERS, {"child": "C1"}, **WORKER))["recommendVolunteers"]
    assert [(v["personId"], v["roles"], v["currentPairings"]) for v in found] == [
        ("P-FREE", ["volunteer"], 0),
        ("S-DIR", ["children_director"], 0),
        ("S-SUP", ["children_supervisor"], 1),  # pairs, but lives in no township
        ("P-BUSY", ["volunteer"], 2),
    ]
    # Someone already paired with the child is not offered again.
    await factories.pairing(g, "P-FREE", "C1", t)
    again = data(await gql.execute(VOLUNTEERS, {"child": "C1"}, **WORKER))["recommendVolunteers"]
    assert [v["personId"] for v in again] == ["S-DIR", "S-SUP", "P-BUSY"]
    assert error(await gql.execute(VOLUNTEERS, {"child": "C1"}, **DIRECTOR))["code"] == "FORBIDDEN"
