"""Shared set-up for the discovery boundary tests: a well-looked-after left-behind child that
is green as of `D`, whose parts each test can leave out or move across a boundary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from graph.discovery import DiscoveryResult, Thresholds, discover
from graph.driver import Graph
from tests import factories as f

D = dt.date(2026, 6, 15)
VILLAGE = "360732100201"
HOUSEHOLD = "H1"
VISITOR = "V1"
KEEP = dt.date(2024, 1, 1)  # a date well before D from which the green parts hold
YESTERDAY = D - dt.timedelta(days=1)


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def birthday(years: int, offset: int = 0) -> dt.date:
    """The birth date of someone whose `years`th birthday is `D + offset` days."""
    on = day(offset)
    return on.replace(year=on.year - years)


async def world(graph: Graph) -> None:
    """One village household and one children's director who visits."""
    await f.household(graph, HOUSEHOLD, VILLAGE)
    await f.person(graph, VISITOR, dt.date(1985, 5, 5), household=HOUSEHOLD)


async def left_behind_child(
    graph: Graph,
    cid: str,
    *,
    born: dt.date = dt.date(2022, 3, 3),
    household: str = HOUSEHOLD,
    away_until: dt.date | None = None,
    caregiver_born: dt.date | None = dt.date(1980, 1, 1),
    care_until: dt.date | None = None,
    signed: dt.date | None = KEEP,
    contact: dt.date | None = YESTERDAY,
    visit: dt.date | None = YESTERDAY,
    registered: bool = True,
    paired: bool = True,
) -> None:
    """Child `cid` with one parent `cid-F` away since 2024; by default cared for by `cid-G`
    under a signed agreement, contacted and visited yesterday, registered and paired: green."""
    await f.person(graph, cid, born, household=household)
    await f.person(graph, f"{cid}-F", dt.date(1990, 1, 1), household=household)
    await f.parent(graph, f"{cid}-F", cid)
    await f.away(graph, f"{cid}-F", KEEP, until=away_until)
    if caregiver_born is not None:
        await f.person(graph, f"{cid}-G", caregiver_born, household=household)
        await f.care(graph, f"{cid}-G", cid, KEEP, until=care_until, agreement_signed_on=signed)
    if contact is not None:
        await f.contact(graph, f"{cid}-F", cid, contact)
    if visit is not None:
        await f.visit(graph, VISITOR, cid, visit)
    if registered:
        await f.registration(graph, cid, "left_behind", KEEP)
    if paired:
        await f.pairing(graph, VISITOR, cid, KEEP)


async def findings(
    graph: Graph,
    *,
    as_of: dt.date = D,
    rules: Sequence[str] | None = None,
    thresholds: Thresholds | None = None,
    region: str = "360732",
    scope: str = "",
) -> dict[str, dict[str, str]]:
    """{child id: {rule: level}} for every child discovered (green children map to {})."""
    result = await discover(
        graph,
        region_prefix=region,
        scope_prefix=scope,
        as_of=as_of,
        thresholds=thresholds or Thresholds(),
        rules=rules,
    )
    return rule_levels(result)


def rule_levels(result: DiscoveryResult) -> dict[str, dict[str, str]]:
    return {c.child_id: {x.rule: x.level.value for x in c.findings} for c in result.children}
