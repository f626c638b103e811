"""Who is a child at D, where they are, and how discovery is scoped, paged and configured."""

from __future__ import annotations

import datetime as dt

import pytest

from graph.dates import age_at, birth_cutoff
from graph.discovery import (
    Level,
    Thresholds,
    discover,
    discover_page,
    risk_profile,
)
from graph.driver import Graph
from graph.errors import InvalidInput
from tests import factories as f
from tests.graph.discovery_helpers import HOUSEHOLD, D, birthday, day, findings, left_behind_child, world


def test_birth_cutoff_is_exactly_the_completed_years_boundary_on_every_day_including_feb_29() -> None:
    day_ = dt.date(2024, 1, 1)
    while day_ < dt.date(2029, 1, 1):
        for years in (6, 16, 18, 70):
            cutoff = birth_cutoff(day_, years)
            for delta in range(-2, 3):
                born = cutoff + dt.timedelta(days=delta)
                assert (born <= cutoff) == (age_at(born, day_) >= years), (day_, years, born)
        day_ += dt.timedelta(days=1)
    assert age_at(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert age_at(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


async def test_a_child_is_born_by_d_alive_at_d_under_18_at_d_and_in_a_household(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await f.person(g, "born-on-D", D, household=HOUSEHOLD)
    await f.person(g, "born-after-D", day(1), household=HOUSEHOLD)
    await f.person(g, "turns-18-on-D", birthday(18), household=HOUSEHOLD)
    await f.person(g, "turns-18-tomorrow", birthday(18, 1), household=HOUSEHOLD)
    await f.person(g, "died-on-D", dt.date(2022, 1, 1), household=HOUSEHOLD, deceased_on=D)
    await f.person(g, "dies-tomorrow", dt.date(2022, 1, 1), household=HOUSEHOLD, deceased_on=day(1))
    await f.person(g, "no-household", dt.date(2022, 1, 1))
    await f.person(g, "leap", dt.date(2008, 2, 29), household=HOUSEHOLD)

    assert await findings(g) == {"born-on-D": {}, "turns-18-tomorrow": {}, "dies-tomorrow": {}}
    # Born on Feb 29: still 17 on Feb 28 of a common year, 18 on Mar 1.
    assert "leap" in await findings(g, as_of=dt.date(2026, 2, 28))
    assert "leap" not in await findings(g, as_of=dt.date(2026, 3, 1))
    # An empty region and scope mean everything, still only children with a household.
    assert set(await findings(g, region="", scope="")) == {"born-on-D", "turns-18-tomorrow", "dies-tomorrow"}


async def test_region_and_caller_scope_are_both_prefixes_and_both_apply(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await f.household(g, "H2", "360732101201")
    await f.person(g, "town1", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "town2", dt.date(2022, 1, 1), household="H2")

    assert set(await findings(g, region="360732", scope="36")) == {"town1", "town2"}
    assert set(await findings(g, region="360732100", scope="360732")) == {"town1"}
    assert set(await findings(g, region="360732", scope="360732101")) == {"town2"}
    assert await findings(g, region="360732100", scope="360732101") == {}

    thresholds = Thresholds()
    assert await risk_profile(g, "town2", scope_prefix="360732101", as_of=D, thresholds=thresholds) is not None
    assert await risk_profile(g, "town1", scope_prefix="360732101", as_of=D, thresholds=thresholds) is None
    assert await risk_profile(g, "V1", scope_prefix="", as_of=D, thresholds=thresholds) is None  # an adult
    assert await risk_profile(g, "nobody", scope_prefix="", as_of=D, thresholds=thresholds) is None

    for region, scope, field in (("3607321", "", "region"), ("360732", "36x", "scope"), ("36073", "36", "region")):
        with pytest.raises(InvalidInput) as raised:
            await findings(g, region=region, scope=scope)
        assert raised.value.field == field


async def test_thresholds_rules_and_validation_are_reported_and_enforced(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await left_behind_child(g, "eight-days", contact=day(-8))
    assert await findings(g) == {"eight-days": {"CONTACT_LAPSE": "blue"}}
    relaxed = Thresholds(contact_blue_days=8)
    assert await findings(g, thresholds=relaxed) == {"eight-days": {}}
    result = await discover(
        g, region_prefix="360732", scope_prefix="", as_of=D, thresholds=relaxed, rules=["VISIT_OVERDUE"]
    )
    assert result.thresholds.as_dict()["contact_blue_days"] == 8
    assert result.rules == ("VISIT_OVERDUE",)
    assert await findings(g, rules=["VISIT_OVERDUE"]) == {"eight-days": {}}  # the lapse is not evaluated

    bad = [
        (Thresholds(contact_blue_days=-1), "contact_blue_days"),
        (Thresholds(visit_blue_days=100), "visit_yellow_days"),
        (Thresholds(overload_children=0), "overload_children"),
        (Thresholds(timezone="Mars/Olympus"), "timezone"),
    ]
    for thresholds, field in bad:
        with pytest.raises(InvalidInput) as raised:
            await findings(g, thresholds=thresholds)
        assert raised.value.field == field
    with pytest.raises(InvalidInput) as raised:
        await findings(g, rules=["NO_SUCH_RULE"])
    assert raised.value.field == "rules"


@pytest.mark.slow
async def test_pages_walk_the_children_most_severe_first_with_a_total(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await left_behind_child(g, "a-red", caregiver_born=None)  # NO_CAREGIVER
    await left_behind_child(g, "b-yellow", contact=None)  # CONTACT_LAPSE yellow
    await left_behind_child(g, "c-yellow", registered=False)  # UNREGISTERED_LEFT_BEHIND
    await left_behind_child(g, "d-blue", paired=False)  # UNPAIRED
    await left_behind_child(g, "e-green")
    thresholds = Thresholds()

    seen: list[tuple[str, Level]] = []
    after = None
    while True:
        page = await discover_page(
            g, region_prefix="360732", scope_prefix="", as_of=D, thresholds=thresholds, first=2, after=after
        )
        assert page.total_count == 4
        seen += [(c.child_id, c.level) for c in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == [
        ("a-red", Level.RED),
        ("b-yellow", Level.YELLOW),
        ("c-yellow", Level.YELLOW),
        ("d-blue", Level.BLUE),
    ]

    everyone = await discover_page(
        g, region_prefix="360732", scope_prefix="", as_of=D, thresholds=thresholds, min_level=Level.GREEN, first=10
    )
    assert [c.child_id for c in everyone.items][-1] == "e-green"
    assert everyone.total_count == 5 and not everyone.has_next_page
    yellow_up = await discover_page(
        g,
        region_prefix="360732",
        scope_prefix="",
        as_of=D,
        thresholds=thresholds,
        min_level=Level.YELLOW,
        first=10,
        with_total=False,
    )
    assert [c.child_id for c in yellow_up.items] == ["a-red", "b-yellow", "c-yellow"]
    assert yellow_up.total_count is None
    with pytest.raises(InvalidInput) as raised:
        await discover_page(g, region_prefix="", scope_prefix="", as_of=D, thresholds=thresholds, after="%%%")
    assert raised.value.field == "after"
