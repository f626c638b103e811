"""The persons repository against the real database: scope inside every query, the child
filter's age cutoffs, keyset pages and duplicate candidates."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import guardianship, households, institutions, persons
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.persons import ChildFilter, ChildPageRequest, ChildSort
from tests import factories

V1 = "360732100201"
V2 = "360732100202"
NOTHING = "-"


async def test_scope_is_applied_in_the_database(clean_graph: Graph) -> None:
    await factories.household(clean_graph, "H1", V1)
    await factories.person(clean_graph, "A", dt.date(2015, 1, 1), household="H1")
    await factories.person(clean_graph, "LOOSE", dt.date(1980, 1, 1))  # no household: in no region
    ids = ["A", "LOOSE", "MISSING"]
    assert set(await persons.get_persons(clean_graph, ids, scope="")) == {"A", "LOOSE"}
    assert set(await persons.get_persons(clean_graph, ids, scope="360732")) == {"A"}
    assert set(await persons.get_persons(clean_graph, ids, scope=V2)) == set()
    assert await persons.get_persons(clean_graph, ids, scope=NOTHING) == {}
    assert await households.get_households(clean_graph, ["H1"], scope=NOTHING) == {}
    assert await institutions.get_institutions(clean_graph, ["I"], scope="") == {}
    assert await guardianship.parents(clean_graph, ["A"], scope=V2) == {"A": []}


async def test_linked_people_outside_the_scope_carry_no_record(clean_graph: Graph) -> None:
    await factories.household(clean_graph, "H1", V1)
    await factories.household(clean_graph, "H2", V2)
    await factories.person(clean_graph, "C", dt.date(2015, 1, 1), household="H1")
    await factories.person(clean_graph, "F", dt.date(1985, 1, 1), household="H2", id_number="360732198501010011")
    await factories.parent(clean_graph, "F", "C")
    (link,) = (await guardianship.parents(clean_graph, ["C"], scope=V1))["C"]
    assert (link.parent.id, link.parent.in_scope, link.parent.person) == ("F", False, None)
    (link,) = (await guardianship.parents(clean_graph, ["C"], scope="360732100"))["C"]
    assert link.parent.person is not None and link.parent.person.id_number == "360732198501010011"


@pytest.mark.parametrize(
    ("as_of", "min_age", "max_age", "born_on_or_before", "born_after"),
    [
        (dt.date(2026, 6, 15), 6, 10, dt.date(2020, 6, 15), dt.date(2015, 6, 15)),
        # On Feb 28 of a common year, someone born on Feb 29 has not yet had the birthday.
        (dt.date(2027, 2, 28), 3, None, dt.date(2024, 2, 28), None),
    ],
)
def test_age_ranges_become_birth_date_cutoffs(
    as_of: dt.date, min_age: int, max_age: int | None, born_on_or_before: dt.date, born_after: dt.date | None
) -> None:
    parameters = ChildFilter("36", as_of, min_age=min_age, max_age=max_age).parameters()
    assert (parameters["bornOnOrBefore"], parameters["bornAfter"]) == (born_on_or_before, born_after)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"category": "nope"}, "registrationCategory"),
        ({"min_age": -1}, "minAge"),
        ({"max_age": 18}, "maxAge"),
        ({"min_age": 5, "max_age": 4}, "maxAge"),
    ],
)
def test_a_bad_child_filter_names_its_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        ChildFilter("36", dt.date(2026, 1, 1), **kwargs).validate()  # type: ignore[arg-type]
    assert raised.value.field == field


async def test_age_boundaries_in_the_database(clean_graph: Graph) -> None:
    await factories.household(clean_graph, "H1", V1)
    day = dt.date(2026, 6, 15)
    for id, born in [("ten", dt.date(2016, 6, 15)), ("nine", dt.date(2016, 6, 16)), ("adult", dt.date(2008, 6, 15))]:
        await factories.person(clean_graph, id, born, household="H1")
    await factories.person(clean_graph, "unborn", dt.date(2026, 6, 16), household="H1")
    await factories.person(clean_graph, "dead", dt.date(2016, 1, 1), household="H1", deceased_on=dt.date(2026, 6, 1))

    async def ids(**kwargs: int) -> list[str]:
        request = ChildPageRequest(ChildFilter(V1, day, **kwargs), ChildSort.ID, 10)  # type: ignore[arg-type]
        (page,) = await persons.child_pages(clean_graph, [request], scope=V1)
        return [p.id for p in page.items]

    assert await ids() == ["nine", "ten"]
    assert await ids(min_age=10) == ["ten"]
    assert await ids(max_age=9) == ["nine"]


async def test_pages_of_several_lists_in_one_round_trip(clean_graph: Graph) -> None:
    await factories.household(clean_graph, "H1", V1)
    await factories.household(clean_graph, "H2", V2)
    for i in range(5):
        await factories.person(clean_graph, f"A{i}", dt.date(2015, 1, 1 + i), household="H1", name=f"名{4 - i}")
        await factories.person(clean_graph, f"B{i}", dt.date(2015, 1, 1 + i), household="H2")
    day = dt.date(2026, 1, 1)
    requests = [
        ChildPageRequest(ChildFilter(V1, day), ChildSort.ID, 2, ("ignored", "A1")),
        ChildPageRequest(ChildFilter(V2, day), ChildSort.ID, 10),
        ChildPageRequest(ChildFilter("3607321", day), ChildSort.NAME, 2, ("名1", "A3")),
    ]
    clean_graph.round_trips = 0
    first, second, third = await persons.child_pages(clean_graph, requests, scope="")
    assert clean_graph.round_trips == 2  # one per sort order used
    assert ([p.id for p in first.items], first.has_next_page) == (["A2", "A3"], True)
    assert ([p.id for p in second.items], second.has_next_page) == ([f"B{i}" for i in range(5)], False)
    assert ([p.id for p in third.items], third.has_next_page) == (["A2", "A1"], True)


async def test_id_numbers_that_differ_only_in_the_check_character(clean_graph: Graph) -> None:
    await factories.household(clean_graph, "H1", V1)
    await factories.person(clean_graph, "P", dt.date(2015, 3, 1), household="H1", id_number="360732201503010027")
    await factories.person(clean_graph, "Q", dt.date(2015, 3, 2), household="H1", id_number="36073220150301002X")
    await factories.person(clean_graph, "R", dt.date(2015, 3, 3), household="H1", id_number="360732201503010035")
    found = await persons.duplicate_candidates(clean_graph, V1, scope="", limit=10)
    assert [(d.first.id, d.second.id, d.reasons) for d in found] == [
        ("P", "Q", ("id_number_differs_in_check_character",))
    ]


async def test_search_needs_a_criterion_and_matches_them_all(clean_graph: Graph) -> None:
    await factories.household(clean_graph, "H1", V1)
    await factories.person(clean_graph, "P", dt.date(2015, 3, 1), household="H1", name="王小明",
                           id_number="36073220150301002X")  # fmt: skip
    await factories.person(clean_graph, "Q", dt.date(2016, 3, 1), household="H1", name="王小红")
    with pytest.raises(InvalidInput):
        await persons.search(clean_graph, scope="", name=" ", birth_date=None, limit=5)
    found = await persons.search(clean_graph, scope="", name="王小", birth_date=None, limit=5)
    assert [p.id for p in found] == ["P", "Q"]  # by name, in code-point order: 明 (U+660E) < 红 (U+7EA2)
    lookup = persons.IdLookup("tester", "admin", per_minute=10, per_day=100)
    by_number = await persons.search_by_id_number(
        clean_graph, lookup, scope="", name=None, birth_date=None, id_number="36073220150301002x", limit=5
    )
    assert [p.id for p in by_number] == ["P"]
    none = await persons.search(clean_graph, scope="", name="王小", birth_date=dt.date(2017, 1, 1), limit=5)
    assert none == []
