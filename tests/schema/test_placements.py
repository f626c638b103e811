"""Placements through the API: a placement clears NO_CAREGIVER, capacity holds, and the emergency
override of a full shelter (placement or referral) is recorded, audited and flagged to the county."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import (
    COORDINATOR,
    COUNTY,
    DIRECTOR,
    OPEN,
    REFER,
    WORKER,
    build,
    count,
    data,
    error,
    today,
)

PLACE = """
mutation($input: PlacementInput!) {
  placeChild(input: $input) {
    childId institutionId kind since until capacityOverride overrideReason recordedBy
  }
}"""
END = """
mutation($child: ID!, $institution: ID!, $since: Date!, $until: Date, $note: String) {
  endPlacement(childId: $child, institutionId: $institution, since: $since, until: $until, note: $note) {
    kind since until endedBy endNote
  }
}"""
PROFILE = "query($id: ID!) { riskProfile(childId: $id) { level findings { rule } } }"
OVERRIDES = """
query($region: String!) {
  capacityOverrides(region: $region) { kind by childId institutionId reason load capacity subject }
}"""
PLACEMENTS = "query($id: ID!) { child(id: $id) { placement { kind institutionId } placements { kind since } } }"


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    """The case-work county, and C5 and C6 of V1: left behind (both parents away), no caregiver."""
    await build(clean_graph)
    for child in ("C5", "C6"):
        await factories.person(clean_graph, child, dt.date(2016, 5, 5), household="H1")
        for parent in ("F1", "M1"):
            await factories.parent(clean_graph, parent, child)
    await factories.institution(
        clean_graph, "SH", "minor_protection_center", COUNTY, services=["emergency_shelter", "temporary_guardianship"],
        capacity=1,
    )  # fmt: skip
    await factories.institution(clean_graph, "SHR", "child_welfare_institution", COUNTY, services=["emergency_shelter"],
                                capacity=1)  # fmt: skip
    return clean_graph


def _rules(body: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in data(body)["riskProfile"]["findings"]}


async def test_a_placement_clears_no_caregiver_and_capacity_holds_unless_an_emergency_overrides_it(
    county: Graph, gql: GraphQLClient
) -> None:
    assert "NO_CAREGIVER" in _rules(await gql.execute(PROFILE, {"id": "C5"}, **WORKER))
    shelter = {"childId": "C5", "institutionId": "SH", "kind": "emergency_shelter"}
    assert error(await gql.execute(PLACE, {"input": shelter}, **DIRECTOR))["code"] == "FORBIDDEN"
    assert error(await gql.execute(PLACE, {"input": shelter | {"kind": "orphanage"}}, **WORKER))["field"] == "kind"
    wrong = shelter | {"institutionId": "SCH"}
    assert error(await gql.execute(PLACE, {"input": wrong}, **WORKER))["field"] == "institutionId"
    elsewhere = error(await gql.execute(PLACE, {"input": shelter | {"childId": "C3"}}, **WORKER))
    assert (elsewhere["code"], elsewhere["field"]) == ("FORBIDDEN", "childId")

    placed = data(await gql.execute(PLACE, {"input": shelter | {"note": "夜间独自在家"}}, **WORKER))["placeChild"]
    assert placed == {
        "childId": "C5",
        "institutionId": "SH",
        "kind": "emergency_shelter",
        "since": str(today()),
        "until": None,
        "capacityOverride": False,
        "overrideReason": None,
        "recordedBy": "W1",
    }
    # The very next risk profile no longer finds the child without care.
    assert "NO_CAREGIVER" not in _rules(await gql.execute(PROFILE, {"id": "C5"}, **WORKER))
    shown = data(await gql.execute(PLACEMENTS, {"id": "C5"}, **DIRECTOR))["child"]
    assert shown["placement"] == {"kind": "emergency_shelter", "institutionId": "SH"}
    again = {"childId": "C5", "institutionId": "MPC", "kind": "emergency_shelter"}
    assert error(await gql.execute(PLACE, {"input": again}, **WORKER))["code"] == "CONFLICT"

    # SH is full now: C6 waits, unless an emergency shelter placement overrides it, with a reason.
    full = {"childId": "C6", "institutionId": "SH", "kind": "emergency_shelter"}
    refused = await gql.execute(PLACE, {"input": full}, **WORKER)
    assert error(refused)["code"] == "CONFLICT" and "overrideCapacity" in refused["errors"][0]["message"]
    guardianship = full | {"kind": "temporary_state_guardianship", "overrideCapacity": True, "overrideReason": "急"}
    assert error(await gql.execute(PLACE, {"input": guardianship}, **WORKER))["field"] == "overrideCapacity"
    silent = full | {"overrideCapacity": True}
    assert error(await gql.execute(PLACE, {"input": silent}, **WORKER))["field"] == "overrideReason"
    assert await count(county, "MATCH (:Person {id: 'C6'})-[r:PLACED_IN]->() RETURN count(r) AS n") == 0
    forced = full | {"overrideCapacity": True, "overrideReason": "深夜无其他去处"}
    over = data(await gql.execute(PLACE, {"input": forced}, **WORKER))["placeChild"]
    assert over["capacityOverride"] is True and over["overrideReason"] == "深夜无其他去处"

    flags = data(await gql.execute(OVERRIDES, {"region": COUNTY}, **COORDINATOR))["capacityOverrides"]
    assert flags == [
        {
            "kind": "placement",
            "by": "W1",
            "childId": "C6",
            "institutionId": "SH",
            "reason": "深夜无其他去处",
            "load": 1,
            "capacity": 1,
            "subject": f"C6|SH|{today()}",
        }
    ]
    assert error(await gql.execute(OVERRIDES, {"region": COUNTY}, **WORKER))["code"] == "FORBIDDEN"
    audited = await county.read(
        "MATCH (e:AuditEvent) WHERE e.operation IN ['placeChild', 'capacityOverride'] "
        "RETURN e.operation AS operation, e.outcome AS outcome, e.ids AS ids ORDER BY operation, outcome"
    )
    assert [(row["operation"], row["outcome"]) for row in audited] == [
        ("capacityOverride", "ok"),
        *[("placeChild", code) for code in ["BAD_USER_INPUT"] * 4 + ["CONFLICT"] * 2 + ["FORBIDDEN"] * 2],
        ("placeChild", "ok"),
        ("placeChild", "ok"),
    ]
    assert audited[0]["ids"] == ["C6", "SH"]

    day = str(today())
    ended = data(await gql.execute(END, {"child": "C5", "institution": "SH", "since": day, "note": "返家"}, **WORKER))
    assert ended["endPlacement"] == {
        "kind": "emergency_shelter",
        "since": day,
        "until": day,
        "endedBy": "W1",
        "endNote": "返家",
    }
    assert error(await gql.execute(END, {"child": "C5", "institution": "SH", "since": day}, **WORKER))["code"] == (
        "CONFLICT"
    )
    earlier = str(today() - dt.timedelta(days=3))
    assert error(await gql.execute(END, {"child": "C5", "institution": "SH", "since": earlier}, **WORKER))["code"] == (
        "NOT_FOUND"
    )
    tomorrow = str(today() + dt.timedelta(days=1))
    bad_end: dict[str, object] = {"child": "C6", "institution": "SH", "since": day, "until": tomorrow}
    assert error(await gql.execute(END, bad_end, **WORKER))["field"] == "until"


async def test_a_full_shelter_takes_a_referral_only_with_a_recorded_override(county: Graph, gql: GraphQLClient) -> None:
    first = data(await gql.execute(OPEN, {"input": {"childId": "C5"}}, **WORKER))["openCase"]["id"]
    second = data(await gql.execute(OPEN, {"input": {"childId": "C6"}}, **WORKER))["openCase"]["id"]
    shelter = {"institutionId": "SHR", "service": "emergency_shelter", "reason": "无人照料"}
    data(await gql.execute(REFER, {"input": shelter | {"caseId": first}}, **WORKER))
    assert error(await gql.execute(REFER, {"input": shelter | {"caseId": second}}, **WORKER))["code"] == "CONFLICT"
    silent = shelter | {"caseId": second, "overrideCapacity": True}
    assert error(await gql.execute(REFER, {"input": silent}, **WORKER))["field"] == "overrideReason"
    forced = silent | {"overrideReason": "当晚必须安置"}
    referral = data(await gql.execute(REFER, {"input": forced}, **WORKER))["referCase"]
    assert referral["status"] == "pending"

    flags = data(await gql.execute(OVERRIDES, {"region": COUNTY}, **COORDINATOR))["capacityOverrides"]
    assert [(f["kind"], f["subject"], f["reason"], f["load"], f["capacity"], f["by"]) for f in flags] == [
        ("referral", referral["id"], "当晚必须安置", 1, 1, "W1")
    ]
    assert await count(county, "MATCH (e:AuditEvent {operation: 'capacityOverride'}) RETURN count(e) AS n") == 1
