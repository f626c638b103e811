"""The walk that completes a resolved root field (`schema.execution.Executor`) answers every
selection exactly as graphql-core does: the same JSON, the same errors, the same audit, for
aliases, fragments, `__typename`, variables, directives and errors; and it really answers the
file and the lists (else it would measure nothing)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from graph.child_file import ChildFile
from graph.driver import Graph
from schema.execution import Executor
from schema.loaders import Loaders
from tests.conftest import GraphQLClient
from tests.schema.conftest import COUNTY, TOWNSHIP, V1, V2

FILE = """
  id name idNumber phone age gender birthDate deceasedOn regionCode __typename
  household { id lowIncome address members { id name idNumber phone age(asOf: $asOf) } }
  parents { relation __typename
            parent { id name inScope person { id phone household { id members { id } } } }
            status(asOf: $asOf) { asOf dead lacksCapacity away { destination since until } conditions { type since } }
            awayHistory { since destination } }
  guardians(includeHistory: true) { id name kind inScope basis since until
              person { id idNumber household { id } } institution { id name } }
  current: guardians(asOf: $asOf) { id kind }
  caregivers(includeHistory: true) { since until agreementSignedOn
               caregiver { id name inScope person { id phone household { id members { id } } } }
               entrustedBy { id name inScope person { id } } }
"""

#: (document, variables): each asked with the walk and without it.
SELECTIONS: list[tuple[str, dict[str, Any]]] = [
    ("query($id: ID!, $asOf: Date) { child(id: $id) {" + FILE + "} }", {"id": "C1", "asOf": "2026-06-15"}),
    ("query($id: ID!, $asOf: Date) { child(id: $id) {" + FILE + "} }", {"id": "C2", "asOf": None}),
    # Fragments (named, inline, nested), aliases, and one field asked twice with its parts merged.
    (
        """query($id: ID!) { a: child(id: $id) { ...F ... on Person { who: name } }
                             b: child(id: $id) { id parents { relation } parents { parent { id } } } }
           fragment F on Person { id __typename kin: parents { ...P } guardians { ... on Guardian { id } } }
           fragment P on Parent { relation parent { id name } }""",
        {"id": "C1"},
    ),
    # Directives on fields: graphql-core answers, whatever the variable says.
    (
        "query($id: ID!, $with: Boolean!) { child(id: $id) { id phone @include(if: $with) parents { relation } } }",
        {"id": "C1", "with": False},
    ),
    (
        "query($id: ID!, $skip: Boolean!) { child(id: $id) { id ... @skip(if: $skip) { name } } }",
        {"id": "C1", "skip": True},
    ),
    # An async field in the selection (cases, visits): graphql-core answers.
    ('{ child(id: "C1") { id cases { id } recentVisits { on } parents { relation } } }', {}),
    # A person read field by field (no file statement): the loaders are not primed.
    ('query($asOf: Date) { person(id: "C1") {' + FILE + "} }", {"asOf": "2026-06-15"}),
    # Absent, an adult, out of the caller's scope in some parametrisations.
    ('{ child(id: "NOPE") { id } adult: child(id: "G1") { id } c3: child(id: "C3") { id name } }', {}),
    # The lists, with the page info, cursors and the total (an async field).
    (
        """query($region: String!, $asOf: Date) {
             children(region: $region, asOf: $asOf, first: 3) {
               edges { cursor node { ...L } } pageInfo { hasNextPage endCursor } __typename } }
           fragment L on Person { id name age(asOf: $asOf)
             parents { relation parent { id person { household { id } } } }
             guardians(asOf: $asOf) { id kind person { household { id } } }
             caregivers(asOf: $asOf) { since caregiver { id person { household { id } } } } }""",
        {"region": TOWNSHIP, "asOf": "2026-06-15"},
    ),
    (
        "query($region: String!) { children(region: $region, first: 50) { totalCount edges { node { id } } } }",
        {"region": COUNTY},
    ),
    # Errors: a bad argument of the root field, a page too large, a bad date in a variable.
    ('{ children(region: "nope") { edges { node { id } } } }', {}),
    (
        "query($region: String!) { children(region: $region, first: 100000) { edges { node { id } } } }",
        {"region": COUNTY},
    ),
    ('query($asOf: Date) { child(id: "C1") { age(asOf: $asOf) } }', {"asOf": "2026-13-45"}),
    # Mutations are never walked; a query beside another root field still is, field by field.
    ('{ me { role } child(id: "C1") { id name } }', {}),
    # Discovery's page and the worklist, each item's child read with the page.
    (
        """query($region: String!) { discover(region: $region, minLevel: GREEN, first: 20) {
             edges { cursor node { level asOf findings { rule level evidence { kind id personId since on until } }
                                   child { id name idNumber age } } }
             pageInfo { hasNextPage } } }""",
        {"region": COUNTY},
    ),
    (
        "{ worklist(first: 20) { totalCount edges { node { level action reasons findings { rule } child { id } } } } }",
        {},
    ),
]

CALLERS: list[dict[str, Any]] = [
    {"role": "children_director", "region": V1},
    {"role": "children_director", "region": V2},
    {"role": "case_worker", "region": TOWNSHIP},
    {"role": "coordinator", "region": COUNTY},
    {"role": "integrator", "region": V1},
    {"role": "auditor", "region": COUNTY},
    {"role": "admin"},
]


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The root fields the walk answered during the test (by their root type's field name)."""
    answered: list[str] = []
    complete = Executor._complete

    def counting(self: Executor, *args: Any) -> Any:
        value = complete(self, *args)
        path = args[3]
        if path.prev is None:
            answered.append(str(path.key))
        return value

    monkeypatch.setattr(Executor, "_complete", counting)
    yield answered


def without_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Executor, "_walkable", lambda *_: False)


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: f"{c['role']}-{c.get('region')}")
async def test_the_walk_answers_as_graphql_core_does(
    world: Graph,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
    walks: list[str],
    caller: dict[str, Any],
) -> None:
    walked = [await gql.execute(query, variables, **caller) for query, variables in SELECTIONS]
    answered = list(walks)
    without_walk(monkeypatch)
    general = [await gql.execute(query, variables, **caller) for query, variables in SELECTIONS]
    for (query, _), fast, slow in zip(SELECTIONS, walked, general, strict=True):
        assert fast == slow, query
        # The same keys in the same order: clients may read the JSON as it is written.
        assert list(_keys(fast)) == list(_keys(slow)), query
    # Somebody's file and the township's list went through the walk (not all fell back).
    assert "child" in answered or caller["role"] in {"auditor", "integrator"}
    if caller["role"] in {"case_worker", "coordinator", "admin"}:
        assert "children" in answered
    if caller["role"] in {"coordinator", "admin"}:
        assert "discover" in answered
    if caller["role"] == "children_director":
        assert "worklist" in answered


def _keys(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + "." + key
            yield from _keys(item, prefix + "." + key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _keys(item, f"{prefix}[{i}]")


async def test_the_walk_gives_way_on_what_it_cannot_answer(world: Graph, gql: GraphQLClient, walks: list[str]) -> None:
    # A directive kept on a field, async fields and unprimed loaders leave the root field to
    # graphql-core (a field a directive leaves out is left out by graphql-core's collection).
    kept = (SELECTIONS[3][0], {"id": "C1", "with": True})
    for query, variables in [kept, *SELECTIONS[5:7]]:
        walks.clear()
        body = await gql.execute(query, variables, role="admin")
        assert "errors" not in body, body
        assert walks == [], query
    # The file itself is walked.
    walks.clear()
    body = await gql.execute(*SELECTIONS[0], role="admin")
    assert body["data"]["child"]["idNumber"] == "360732201503010027" and walks == ["child"]


async def test_an_answered_request_leaves_nothing_for_the_garbage_collector(world: Graph, gql: GraphQLClient) -> None:
    """A request's loaders and the files they read are freed as soon as it is answered, by their
    references alone: in a reference cycle (the executor and graphql-core's helpers, a loader's
    function and the loaders, a nested function calling itself) a list's tens of thousands of
    objects waited for the collector, whose passes over them then took milliseconds each."""
    gc.collect()
    gc.disable()
    try:
        for query, variables in (SELECTIONS[0], SELECTIONS[6], SELECTIONS[8]):
            body = await gql.execute(query, variables, role="admin")
            assert "errors" not in body, body
        left = [type(o).__name__ for o in gc.get_objects() if isinstance(o, Loaders | ChildFile | Executor)]
    finally:
        gc.enable()
    assert left == []
