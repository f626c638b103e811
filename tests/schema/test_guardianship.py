"""Guardianship tracing on the small world: who is responsible on a date, and the history."""

from __future__ import annotations

from typing import Any

import pytest

from graph.driver import Graph
from tests.conftest import GraphQLClient
from tests.schema.conftest import COUNTY

from .test_scoping import data

COORDINATOR: dict[str, Any] = {"role": "coordinator", "region": COUNTY}

GUARDIANSHIP = """query($d: Date) {
  guardianship(childId: "C1", asOf: $d) {
    asOf
    legalGuardians { id basis since until }
    caregivers { caregiver { id } since until agreementSignedOn entrustedBy { id } }
    placement { institutionId }
    parents { parent { id } status { away { destination } lacksCapacity } }
    guardianHistory { id since until }
    careHistory { caregiver { id } since until }
  }
}"""


@pytest.mark.parametrize(
    ("day", "guardians", "carers", "away", "incapable"),
    [
        ("2021-06-01", ["F1", "M1"], ["M1"], set(), set()),  # both at home, the mother caring
        ("2025-06-01", ["F1", "M1"], ["G1"], {"F1", "M1"}, set()),
        ("2026-06-15", ["F1"], ["G1"], {"F1"}, {"M1"}),  # mother's guardianship ended; she is ill
    ],
)
async def test_guardians_and_caregivers_at_a_date(
    world: Graph,
    gql: GraphQLClient,
    day: str,
    guardians: list[str],
    carers: list[str],
    away: set[str],
    incapable: set[str],
) -> None:
    found = data(await gql.execute(GUARDIANSHIP, {"d": day}, **COORDINATOR))["guardianship"]
    assert found["asOf"] == day
    assert sorted(g["id"] for g in found["legalGuardians"]) == guardians
    assert [c["caregiver"]["id"] for c in found["caregivers"]] == carers
    assert {p["parent"]["id"] for p in found["parents"] if p["status"]["away"]} == away
    assert {p["parent"]["id"] for p in found["parents"] if p["status"]["lacksCapacity"]} == incapable
    # The history is the same on every date: every interval, oldest first.
    assert found["guardianHistory"] == [
        {"id": "F1", "since": "2015-03-01", "until": None},
        {"id": "M1", "since": "2015-03-01", "until": "2025-12-31"},
    ]
    assert found["careHistory"] == [
        {"caregiver": {"id": "M1"}, "since": "2020-01-01", "until": "2022-12-31"},
        {"caregiver": {"id": "G1"}, "since": "2024-02-01", "until": None},
    ]


async def test_guardianship_defaults_to_today_and_shows_the_placement(world: Graph, gql: GraphQLClient) -> None:
    query = '{ guardianship(childId: "C2") { legalGuardians { id basis } placement { institutionId since } } }'
    found = data(await gql.execute(query, **COORDINATOR))["guardianship"]
    assert found == {
        "legalGuardians": [{"id": "I1", "basis": "state"}],
        "placement": {"institutionId": "I1", "since": "2026-04-01"},
    }


async def test_guardianship_of_an_absent_child_is_null(world: Graph, gql: GraphQLClient) -> None:
    assert data(await gql.execute('{ guardianship(childId: "NOPE") { asOf } }', **COORDINATOR)) == {
        "guardianship": None
    }


async def test_a_care_path_through_the_household(world: Graph, gql: GraphQLClient) -> None:
    query = '{ pathBetween(a: "C1", b: "G1", maxHops: 1) { length steps { type from to since } } }'
    found = data(await gql.execute(query, **COORDINATOR))["pathBetween"]
    assert found == {"length": 1, "steps": [{"type": "CARES_FOR", "from": "G1", "to": "C1", "since": "2024-02-01"}]}
    # Two people who share only a household meet through it in two MEMBER_OF steps.
    query = '{ pathBetween(a: "C1X", b: "C4", maxHops: 2) { length nodes { id kind } steps { type } } }'
    found = data(await gql.execute(query, **COORDINATOR))["pathBetween"]
    assert found == {
        "length": 2,
        "nodes": [{"id": "C1X", "kind": "person"}, {"id": "H4", "kind": "household"}, {"id": "C4", "kind": "person"}],
        "steps": [{"type": "MEMBER_OF"}, {"type": "MEMBER_OF"}],
    }
    too_short = '{ pathBetween(a: "C1X", b: "C4", maxHops: 1) { length } }'
    assert data(await gql.execute(too_short, **COORDINATOR)) == {"pathBetween": None}
