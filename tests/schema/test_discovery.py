"""`discover` and `riskProfile` over GraphQL on the sample county: pages, scope, roles, evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graph.driver import Graph
from tests.conftest import SAMPLE_AS_OF, SAMPLE_COUNTY, SAMPLE_EXPECTED, GraphQLClient
from tests.data.make_county import TOWNSHIPS, VILLAGES
from tests.schema.test_scoping import codes, data

COUNTY = SAMPLE_COUNTY
TOWNSHIP2 = TOWNSHIPS[1]
AS_OF = SAMPLE_AS_OF.isoformat()
# The cost limit counts `first` on the connection and 20 per list below it: pages of 30
# children with their levels, or of 3 with their findings, fit the default budget.
DISCOVER = """query($region: String!, $after: String, $min: RiskLevel, $rules: [String!]) {
  discover(region: $region, asOf: "$AS_OF", first: 30, after: $after, minLevel: $min, rules: $rules) {
    totalCount
    thresholds { contactBlueDays timezone }
    pageInfo { hasNextPage endCursor }
    edges { cursor node { level child { id regionCode } } }
  }
}""".replace("$AS_OF", AS_OF)
FINDINGS = """query($region: String!, $after: String) {
  discover(region: $region, asOf: "$AS_OF", first: 3, after: $after) {
    edges { node { child { id } findings { rule level } } }
  }
}""".replace("$AS_OF", AS_OF)
PROFILE = """query($id: ID!) {
  riskProfile(childId: $id, asOf: "$AS_OF") {
    level asOf child { id }
    findings { rule level evidence { kind id personId caregiverId dueOn status urgency at on days } }
  }
}""".replace("$AS_OF", AS_OF)


@pytest.mark.slow
async def test_discover_pages_through_the_county_as_the_expected_file_says(
    sample_county: Graph, gql: GraphQLClient
) -> None:
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    rank = {"red": 0, "yellow": 1, "blue": 2, "green": 3}
    wanted = sorted((rank[v["level"]], cid) for cid, v in expected.items())

    seen: list[tuple[int, str]] = []
    after = None
    while True:
        variables: dict[str, Any] = {"region": COUNTY, "after": after, "min": "GREEN"}
        found = data(await gql.execute(DISCOVER, variables, role="coordinator", region=COUNTY))["discover"]
        assert found["totalCount"] == len(expected)
        assert found["thresholds"] == {"contactBlueDays": 7, "timezone": "Asia/Shanghai"}
        for edge in found["edges"]:
            node = edge["node"]
            cid = node["child"]["id"]
            assert node["level"].lower() == expected[cid]["level"]
            seen.append((rank[node["level"].lower()], cid))
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    assert seen == wanted

    top = data(await gql.execute(FINDINGS, {"region": COUNTY}, role="coordinator", region=COUNTY))["discover"]
    for edge in top["edges"]:
        node = edge["node"]
        assert {f["rule"]: f["level"].lower() for f in node["findings"]} == expected[node["child"]["id"]]["findings"]

    # Default minLevel is BLUE; rules narrow the findings.
    blue_up = data(await gql.execute(DISCOVER, {"region": COUNTY}, role="case_worker", region=COUNTY))
    assert blue_up["discover"]["totalCount"] == sum(1 for v in expected.values() if v["level"] != "green")
    only = data(
        await gql.execute(DISCOVER, {"region": COUNTY, "rules": ["REFERRAL_OVERDUE"]}, role="admin", region=COUNTY)
    )["discover"]
    assert [e["node"]["child"]["id"] for e in only["edges"]] == [
        cid for cid, v in sorted(expected.items()) if "REFERRAL_OVERDUE" in v["findings"]
    ]


V = VILLAGES[0]


async def test_discover_respects_scope_and_roles_and_rejects_bad_input(
    sample_county: Graph, gql: GraphQLClient
) -> None:
    township = data(
        await gql.execute(DISCOVER, {"region": COUNTY, "min": "GREEN"}, role="children_supervisor", region=TOWNSHIP2)
    )
    regions = {e["node"]["child"]["regionCode"][:9] for e in township["discover"]["edges"]}
    assert regions == {TOWNSHIP2[:9]}
    # A village director discovers her own village (docs/access.md), and nothing beyond it.
    village = data(await gql.execute(DISCOVER, {"region": COUNTY, "min": "GREEN"}, role="children_director", region=V))
    assert {e["node"]["child"]["regionCode"] for e in village["discover"]["edges"]} == {V}
    assert codes(await gql.execute(DISCOVER, {"region": COUNTY}, role="integrator", region=V)) == ["FORBIDDEN"]
    assert codes(await gql.execute(DISCOVER, {"region": "5226"}, role="admin")) == ["BAD_USER_INPUT"]
    assert codes(await gql.execute(DISCOVER, {"region": COUNTY, "rules": ["NOPE"]}, role="admin")) == ["BAD_USER_INPUT"]
    assert codes(await gql.execute(DISCOVER, {"region": COUNTY, "after": "junk"}, role="admin")) == ["BAD_USER_INPUT"]


async def test_risk_profile_carries_evidence_and_hides_children_out_of_scope(
    sample_county: Graph, gql: GraphQLClient
) -> None:
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    overdue = next(cid for cid, v in sorted(expected.items()) if "REFERRAL_OVERDUE" in v["findings"])
    found = data(await gql.execute(PROFILE, {"id": overdue}, role="case_worker", region=COUNTY))["riskProfile"]
    assert found["child"]["id"] == overdue and found["asOf"] == AS_OF
    assert found["level"].lower() == expected[overdue]["level"]
    (referral,) = next(f for f in found["findings"] if f["rule"] == "REFERRAL_OVERDUE")["evidence"]
    assert referral["kind"] == "referral" and referral["status"] == "pending" and referral["dueOn"] < AS_OF

    child = data(await gql.execute("query($id: ID!) { person(id: $id) { regionCode } }", {"id": overdue}))
    elsewhere = TOWNSHIPS[1] if child["person"]["regionCode"].startswith(TOWNSHIPS[0][:9]) else TOWNSHIPS[0]
    hidden = await gql.execute(PROFILE, {"id": overdue}, role="case_worker", region=elsewhere)
    assert data(hidden)["riskProfile"] is None
    assert data(await gql.execute(PROFILE, {"id": "P-nobody"}, role="admin"))["riskProfile"] is None
