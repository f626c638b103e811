"""The child's file read in one statement (`graph.child_file`) shows exactly what the
per-field loaders show, in every scope, and the GraphQL file answers alike either way."""

from __future__ import annotations

from typing import Any

import pytest

from graph import guardianship, households, persons
from graph.callers import NO_REGION
from graph.child_file import STATEMENTS, Part, child_files, pages_with_files, parts_of
from graph.driver import Graph
from graph.regions import scope_prefix
from tests.conftest import GraphQLClient
from tests.schema.conftest import COUNTY, DAY, TOWNSHIP, V1, V2, V3

PEOPLE = ["C1", "C2", "C3", "C4", "C1X", "C2X", "G1", "F1", "M1", "S1", "NOPE"]
EVERYTHING = parts_of(set(Part))


@pytest.mark.parametrize("scope", [*map(scope_prefix, [V1, V2, V3, TOWNSHIP, COUNTY]), "", NO_REGION])
async def test_the_file_reads_what_the_loaders_read(world: Graph, scope: str) -> None:
    files = await child_files(world, [(id, EVERYTHING) for id in PEOPLE], scope=scope)
    assert any(files) is (scope != NO_REGION)
    found = await persons.get_persons(world, PEOPLE, scope=scope)
    parents = await guardianship.parents(world, PEOPLE, scope=scope)
    guardians = await guardianship.guardians(world, PEOPLE, scope=scope)
    cares = await guardianship.caregivers(world, PEOPLE, scope=scope)
    for id, file in zip(PEOPLE, files, strict=True):
        if file is None:
            assert id not in found
            continue
        assert file.person == found[id]
        assert (file.parents, file.guardians, file.caregivers) == (parents[id], guardians[id], cares[id])
        assert file.households is not None and file.members is not None
        reached = {file.person.household_id}
        reached |= {p.parent.person.household_id for p in file.parents or [] if p.parent.person is not None}
        reached |= {g.person.household_id for g in file.guardians or [] if g.person is not None}
        reached |= {c.other.person.household_id for c in file.caregivers or [] if c.other.person is not None}
        assert set(file.households) == reached - {None}
        homes = await households.get_households(world, list(file.households), scope=scope)
        members = await households.members(world, list(file.households), scope=scope)
        assert file.households == {key: homes.get(key) for key in file.households}
        assert file.members == {key: members[key] for key in file.households if homes.get(key) is not None}


async def test_a_link_out_of_the_scope_shows_only_id_and_name(world: Graph) -> None:
    (file,) = await child_files(world, [("C1", EVERYTHING)], scope=V1)
    assert file is not None and file.parents is not None and file.households is not None
    father = next(p.parent for p in file.parents if p.parent.id == "F1")
    assert (father.name, father.in_scope, father.person) == ("张父", False, None)
    assert "H2" not in file.households  # the father's household, in the next village
    assert file.caregivers is not None
    entrusted = next(c.entrusted_by for c in file.caregivers if c.other.id == "G1")
    assert entrusted is not None and (entrusted.id, entrusted.in_scope, entrusted.person) == ("F1", False, None)


async def test_only_the_parts_asked_for_are_read(world: Graph) -> None:
    (file,) = await child_files(world, [("C1", parts_of({Part.PARENTS}))], scope=scope_prefix(COUNTY))
    assert file is not None and file.parents and len(file.parents) == 2
    assert (file.guardians, file.caregivers, file.households, file.members) == (None, None, None, None)
    (file,) = await child_files(world, [("C1", parts_of({Part.MEMBERS}))], scope=scope_prefix(COUNTY))
    assert file is not None and file.households is not None and file.members is not None
    assert set(file.households) == {"H1"} and [p.id for p in file.members["H1"]] == ["G1", "M1", "C1"]


FILE = """{
  id name idNumber phone age
  household { id lowIncome address members { id name idNumber phone } }
  parents { relation parent { id name inScope person { id phone household { id members { id } } } }
            status(asOf: "2026-06-15") { dead lacksCapacity away { destination since } conditions { type } } }
  guardians(includeHistory: true) { id name kind inScope basis since until
              person { id idNumber household { id } } institution { id name } }
  caregivers(includeHistory: true) { since until agreementSignedOn
               caregiver { id name inScope person { id phone household { id members { id } } } }
               entrustedBy { id name inScope person { id } } }
}"""


@pytest.mark.parametrize(
    "caller",
    [
        {"role": "children_director", "region": V1},
        {"role": "children_director", "region": V2},
        {"role": "case_worker", "region": TOWNSHIP},
        {"role": "coordinator", "region": COUNTY},
        {"role": "integrator", "region": V1},
        {"role": "admin"},
    ],
)
async def test_the_file_answers_as_the_loaders_do(
    world: Graph, gql: GraphQLClient, app_graph: Graph, caller: dict[str, Any]
) -> None:
    seen = 0
    for id in ["C1", "C2", "C3", "C4"]:
        app_graph.round_trips = 0
        # Through a fragment, as clients write it: the parts are found in it all the same.
        through_file = await gql.execute(
            "query($id: ID!) { child(id: $id) { ...File } } fragment File on Person " + FILE, {"id": id}, **caller
        )
        file_trips = app_graph.round_trips
        # `person` reads field by field through the loaders: the reference.
        through_loaders = await gql.execute("query($id: ID!) { person(id: $id) " + FILE + " }", {"id": id}, **caller)
        assert "errors" not in through_file, through_file
        assert through_file["data"]["child"] == through_loaders["data"]["person"]
        seen += through_file["data"]["child"] is not None
        # The file, then the audit of the full-record read when there is one.
        assert file_trips <= 2
    assert seen > 0


@pytest.mark.parametrize("scope", [*map(scope_prefix, [V1, TOWNSHIP, COUNTY]), ""])
async def test_a_page_read_with_its_files_is_the_page_and_the_files_read_apart(world: Graph, scope: str) -> None:
    """Every variant of the page statement (sorts, the left-behind filter, a wide region walked
    in id order, a cursor) and every combination of parts, against the two statements apart."""
    filters = [
        persons.ChildFilter(scope_prefix(region), DAY, None, None, None, left_behind)
        for region in (V1, TOWNSHIP, COUNTY, "360000000000")
        for left_behind in (None, DAY)
    ]
    requests = [
        persons.ChildPageRequest(f, sort, first, after)
        for f in filters
        for sort in persons.ChildSort
        for first, after in ((1, None), (50, None), (2, (None, "C1") if sort is persons.ChildSort.ID else None))
    ]
    combinations = [parts for parts in STATEMENTS if parts]
    asked = [(r, combinations[i % len(combinations)]) for i, r in enumerate(requests)]
    together = await pages_with_files(world, asked, scope=scope)
    apart = await persons.child_pages(world, requests, scope=scope)
    assert any(page.items for page, _ in together)
    for (request, parts), (page, files), alone in zip(asked, together, apart, strict=True):
        assert page == alone, request
        expected = await child_files(world, [(p.id, parts) for p in alone.items], scope=scope)
        assert sorted(files, key=lambda f: f.person.id) == sorted(
            (f for f in expected if f is not None), key=lambda f: f.person.id
        ), request


async def test_a_file_read_without_the_parents_history_holds_links_no_status_can_come_from(world: Graph) -> None:
    (links,) = await child_files(world, [("C1", parts_of({Part.PARENTS}))], scope=scope_prefix(COUNTY))
    (whole,) = await child_files(world, [("C1", parts_of({Part.PARENT_HISTORY}))], scope=scope_prefix(COUNTY))
    assert links is not None and links.parents is not None and links.parent_records is None
    assert not any(isinstance(p, guardianship.ParentRecord) for p in links.parents)
    assert whole is not None and whole.parent_records == (await guardianship.parents(world, ["C1"], scope=""))["C1"]
    assert whole.parents == whole.parent_records
    # The links' rows lack the history: converting one into a record fails, it never shows none.
    rows = await world.read(
        persons.ANCHOR + guardianship.PARENT_LINKS_PART + "RETURN parents",
        {"ids": ["C1"], "scope": scope_prefix(COUNTY)},
    )
    with pytest.raises(KeyError):
        guardianship.parent_record(rows[0]["parents"][0])
    assert [guardianship.parent_link(row) for row in rows[0]["parents"]] == links.parents


#: A page whose parents' status is not selected, and the same children's parents' status.
LINKS_ONLY = "{ edges { node { id parents { relation parent { id } } } } }"
STATUS = """parents { parent { id } relation
  status(asOf: "2025-06-01") { dead lacksCapacity away { destination since } conditions { type } }
  awayHistory { destination since until } }"""


@pytest.mark.parametrize(
    ("caller", "later"),
    [
        ({"role": "coordinator", "region": COUNTY}, 'person(id: "C1") { ' + STATUS + " }"),
        ({"role": "coordinator", "region": COUNTY}, 'child(id: "C1") { ' + STATUS + " }"),
        (
            {"role": "case_worker", "region": TOWNSHIP},
            'guardianship(childId: "C1", asOf: "2025-06-01") { ' + STATUS + " }",
        ),
        (
            {"role": "coordinator", "region": COUNTY},
            f'again: children(region: "{COUNTY}", asOf: "2026-06-15", first: 10) '
            f"{{ edges {{ node {{ id {STATUS} }} }} }}",
        ),
    ],
)
async def test_a_status_is_never_worked_out_from_a_history_the_request_did_not_read(
    world: Graph,
    gql: GraphQLClient,
    app_graph: Graph,
    monkeypatch: pytest.MonkeyPatch,
    caller: dict[str, Any],
    later: str,
) -> None:
    """A page of children without their parents' status, and in the same request a status of
    the same parents: the status is the one asked for alone, away episodes and conditions
    included, never one worked out from the history the page left unread (a wrong "green")."""
    page = f'page: children(region: "{caller["region"]}", asOf: "2026-06-15", first: 10) {LINKS_ONLY}'
    alone = await gql.execute("{ " + later + " }", **caller)
    assert "errors" not in alone, alone
    # What is asked is what the data holds: the mother away in 浙江义乌 until the end of 2025.
    assert "浙江义乌" in str(alone) and "2023-01-01" in str(alone)
    statements: list[str] = []
    read = app_graph.read

    async def watched(query: Any, parameters: Any = None) -> Any:
        statements.append(query)
        return await read(query, parameters)

    monkeypatch.setattr(app_graph, "read", watched)
    only_page = await gql.execute("{ " + page + " }", **caller)
    assert "errors" not in only_page and only_page["data"]["page"]["edges"], only_page
    # The page alone reads no parent's history.
    assert statements and not any(":AWAY]" in statement for statement in statements)
    together = await gql.execute("{ " + page + " " + later + " }", **caller)
    assert "errors" not in together, together
    assert together["data"]["page"] == only_page["data"]["page"]
    assert {key: value for key, value in together["data"].items() if key != "page"} == alone["data"]
