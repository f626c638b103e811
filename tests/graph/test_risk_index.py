"""Today's discovery read from the materialised risk nodes agrees with evaluating the rules,
follows every write, and falls back to evaluating whenever the nodes cannot be trusted."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from neo4j import AsyncManagedTransaction

from graph import alerts, discovery, risk, risk_index
from graph.audit import AuditEntry
from graph.bundle.importer import import_bundle
from graph.discovery import ChildRisk, Level, Thresholds
from graph.driver import Graph
from graph.risk import AlertPolicy, Reevaluator
from graph.visits import record_visit
from graph.writes import Actor
from tests.conftest import SAMPLE_BUNDLE, SAMPLE_COUNTY
from tests.data import make_county

THRESHOLDS = Thresholds()
COUNTY = SAMPLE_COUNTY[:6]
TOWNSHIP = make_county.TOWNSHIPS[0][:9]
VILLAGE = make_county.VILLAGES[1]  # where the household lb-registration-after-d.home lives


def today() -> dt.date:
    return discovery.today(THRESHOLDS)


@pytest.fixture
async def swept(clean_graph: Graph, tmp_path: Path) -> AsyncIterator[Graph]:
    """The sample county imported, re-evaluated after each write, and swept as of today."""
    result = await import_bundle(clean_graph, SAMPLE_BUNDLE, today=today(), workdir=tmp_path)
    assert result.ok and result.pending is not None
    await alerts.sweep(clean_graph, region_prefix="", scope_prefix="", as_of=today(), thresholds=THRESHOLDS, by="t")
    clean_graph.after_write = Reevaluator(THRESHOLDS, AlertPolicy())
    try:
        yield clean_graph
    finally:
        clean_graph.after_write = None


async def every_page(
    graph: Graph,
    region: str,
    *,
    materialised: bool,
    rules: Sequence[str] | None = None,
    min_level: Level = Level.BLUE,
    first: int = 40,
    scope: str = "",
) -> tuple[list[ChildRisk], int]:
    """Every child over all pages of `first`, and the total the first page counted."""
    found: list[ChildRisk] = []
    after = None
    total = None
    while True:
        page = await discovery.discover_page(
            graph, region_prefix=region, scope_prefix=scope, as_of=today(), thresholds=THRESHOLDS, rules=rules,
            min_level=min_level, first=first, after=after, with_total=total is None, materialised=materialised,
        )  # fmt: skip
        total = page.total_count if total is None else total
        found.extend(page.items)
        if not page.has_next_page:
            assert total is not None
            return found, total
        after = page.end_cursor


async def trusted(graph: Graph, seek: str) -> bool:
    key = risk_index.thresholds_key(THRESHOLDS.as_dict())
    return await risk_index.trusted(graph, seek=seek, as_of=today(), thresholds=key)


#: (region, scope, rules, minLevel) compared, on one sweep of the sample county.
CASES: tuple[tuple[str, str, list[str] | None, Level], ...] = (
    (COUNTY, "", None, Level.BLUE),
    (COUNTY, "", None, Level.GREEN),
    ("52", "", None, Level.RED),
    ("", "", None, Level.YELLOW),
    (TOWNSHIP, "", None, Level.GREEN),
    (VILLAGE, "", None, Level.BLUE),
    (COUNTY, TOWNSHIP, None, Level.BLUE),
    (COUNTY, "", ["VISIT_OVERDUE", "NO_CAREGIVER"], Level.BLUE),
    (TOWNSHIP, "", ["CONTACT_LAPSE"], Level.GREEN),
)


async def test_the_materialised_pages_are_the_evaluated_pages(swept: Graph) -> None:
    for region, scope, rules, min_level in CASES:
        case = (region, scope, rules, min_level)
        assert await trusted(swept, risk_index.seek_prefix(region, scope) or ""), case
        # Pages small enough that a cursor lands inside a colour and between two.
        first = 7 if region == VILLAGE else 40
        live, live_total = await every_page(
            swept, region, scope=scope, rules=rules, min_level=min_level, materialised=False, first=first
        )
        stored, stored_total = await every_page(
            swept, region, scope=scope, rules=rules, min_level=min_level, materialised=True, first=first
        )
        assert live, f"the sample county has children at this level: {case}"
        assert stored == live, case
        assert stored_total == live_total == len(live), case
        whole = await discovery.discover(
            swept, region_prefix=region, scope_prefix=scope, as_of=today(), thresholds=THRESHOLDS, rules=rules,
            materialised=True,
        )  # fmt: skip
        evaluated = await discovery.discover(
            swept, region_prefix=region, scope_prefix=scope, as_of=today(), thresholds=THRESHOLDS, rules=rules
        )
        assert whole.children == evaluated.children, case


async def test_the_page_is_read_from_the_risk_nodes(swept: Graph) -> None:
    first = (await every_page(swept, COUNTY, materialised=True, min_level=Level.GREEN))[0][-1]
    # Altered behind the index's back (never done outside this test): the read shows it.
    await swept.write(
        "MATCH (k:ChildRisk {childId: $id}) SET k.rank = 3, k.level = 'red', k.rules = ['NO_CAREGIVER'],"
        ' k.ranks = [3], k.findings = \'[{"rule": "NO_CAREGIVER", "level": "red", "evidence": []}]\'',
        {"id": first.child_id},
    )
    page = await discovery.discover_page(
        swept, region_prefix=COUNTY, scope_prefix="", as_of=today(), thresholds=THRESHOLDS, min_level=Level.RED,
        first=1000, materialised=True,
    )  # fmt: skip
    assert first.child_id in {c.child_id for c in page.items}


async def test_a_write_is_reflected_at_once(swept: Graph) -> None:
    stored, _ = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    child = stored[0]
    assert child.findings[0].rule == "VISIT_OVERDUE"
    actor = Actor(sub="admin", role="admin", scope="")
    swept.round_trips = 0
    await record_visit(swept, actor, child=child.child_id, visitor="director", type="home_visit", today=today())
    # Two transactions: the visit with its checks, marker and audit; the judgement with the marker's removal.
    assert swept.round_trips == 2
    # Judged with the write, its marker went with the judgement's commit.
    assert (await swept.read("MATCH (p:RiskPending) RETURN count(p) AS n"))[0]["n"] == 0
    assert await trusted(swept, "")
    after, total = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    assert child.child_id not in {c.child_id for c in after}
    assert after == (await every_page(swept, COUNTY, materialised=False, rules=["VISIT_OVERDUE"]))[0]
    assert total == len(stored) - 1


async def test_a_write_awaiting_its_re_evaluation_keeps_discovery_live(swept: Graph, tmp_path: Path) -> None:
    newborn = (
        '{"kind": "person", "id": "NEW-1", "name": "新生", "gender": "F", "birthDate": "'
        + (today() - dt.timedelta(days=30)).isoformat()
        + '", "household": "lb-registration-after-d.home"}'
    )
    # An import nobody re-evaluated (a loader that skipped it, a process that died).
    result = await import_bundle(swept, [newborn], today=today(), workdir=tmp_path)
    assert result.ok and result.written == 1
    assert not await trusted(swept, COUNTY)
    green, total = await every_page(swept, VILLAGE, materialised=True, min_level=Level.GREEN, first=100)
    assert "NEW-1" in {c.child_id for c in green} and total == len(green)
    assert green == (await every_page(swept, VILLAGE, materialised=False, min_level=Level.GREEN, first=100))[0]
    # A complete sweep read everything the import wrote: the index is trusted again.
    await alerts.sweep(swept, region_prefix="", scope_prefix="", as_of=today(), thresholds=THRESHOLDS, by="t")
    assert await trusted(swept, COUNTY)
    assert (await every_page(swept, VILLAGE, materialised=True, min_level=Level.GREEN, first=100))[0] == green


async def test_a_day_or_thresholds_not_swept_are_evaluated(swept: Graph) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    # A sweep of tomorrow moves the nodes to tomorrow; a sweep of yesterday never moves them back.
    await alerts.sweep(swept, region_prefix="", scope_prefix="", as_of=tomorrow, thresholds=THRESHOLDS, by="t")
    await alerts.sweep(
        swept, region_prefix="", scope_prefix="", as_of=today() - dt.timedelta(days=1), thresholds=THRESHOLDS, by="t"
    )
    assert not await trusted(swept, COUNTY)
    stale = await swept.read("MATCH (k:ChildRisk) WHERE k.asOf <> $d RETURN count(k) AS n", {"d": tomorrow})
    assert stale[0]["n"] == 0
    live, _ = await every_page(swept, COUNTY, materialised=False, min_level=Level.GREEN, first=50)
    assert (await every_page(swept, COUNTY, materialised=True, min_level=Level.GREEN, first=50))[0] == live

    other = Thresholds(visit_blue_days=10)
    await alerts.sweep(swept, region_prefix=COUNTY, scope_prefix="", as_of=tomorrow, thresholds=other, by="t")
    assert not await trusted(swept, COUNTY)
    key = risk_index.thresholds_key(other.as_dict())
    assert await risk_index.trusted(swept, seek=COUNTY, as_of=tomorrow, thresholds=key)
    assert not await risk_index.trusted(swept, seek="", as_of=tomorrow, thresholds=key)


async def test_a_failed_re_evaluation_leaves_its_marker_until_a_later_write_judges_it(swept: Graph) -> None:
    stored, _ = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    first, second, third = stored[:3]
    await _visit_left_pending(swept, first.child_id)
    assert first.region_code is not None
    assert not await trusted(swept, first.region_code)
    after, _ = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    assert first.child_id not in {c.child_id for c in after}

    # A recent marker may still see its own re-evaluation: the next write leaves it alone.
    actor = Actor(sub="admin", role="admin", scope="")
    await record_visit(swept, actor, child=second.child_id, visitor="director", type="home_visit", today=today())
    assert not await trusted(swept, first.region_code)
    # Older than any request, it was left behind: the next write's re-evaluation judges its child too.
    await swept.write("MATCH (p:RiskPending) SET p.at = p.at - duration({minutes: 5})")
    await record_visit(swept, actor, child=third.child_id, visitor="director", type="home_visit", today=today())
    assert (await swept.read("MATCH (p:RiskPending) RETURN count(p) AS n"))[0]["n"] == 0
    assert await trusted(swept, "")
    after, total = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    assert not {first.child_id, second.child_id, third.child_id} & {c.child_id for c in after}
    assert after == (await every_page(swept, COUNTY, materialised=False, rules=["VISIT_OVERDUE"]))[0]
    assert total == len(stored) - 3


#: Choices of rules a page can be filtered by: each rule alone, and rules of several colours.
RULE_CHOICES: tuple[list[str], ...] = (
    *([rule] for rule in discovery.RULES),
    ["VISIT_OVERDUE", "NO_CAREGIVER"],
    ["CONTACT_LAPSE", "UNPAIRED", "OUT_OF_SCHOOL"],
    ["LOW_INCOME_HOUSEHOLD", "CAREGIVER_UNFIT", "REPORT_UNHANDLED", "NO_WRITTEN_AGREEMENT"],
)


async def test_every_page_filtered_by_rules_is_the_evaluation(swept: Graph) -> None:
    seen: set[str] = set()
    for rules in RULE_CHOICES:
        evaluated = await discovery.discover(
            swept, region_prefix=COUNTY, scope_prefix="", as_of=today(), thresholds=THRESHOLDS, rules=rules
        )
        for region, min_level in ((COUNTY, Level.GREEN), (COUNTY, Level.BLUE), (TOWNSHIP, Level.YELLOW)):
            live = [
                c
                for c in evaluated.children
                if c.level.rank >= min_level.rank and (c.region_code or "").startswith(region)
            ]
            stored, total = await every_page(
                swept, region, materialised=True, rules=rules, min_level=min_level, first=9
            )
            assert stored == live, (rules, region, min_level)
            assert total == len(live), (rules, region, min_level)
            seen.update(f.rule for c in live for f in c.findings)
    assert seen == set(discovery.RULES), "every rule has findings in the sample county: the comparison shows each"


async def test_a_page_filtered_by_rules_seeks_the_loops_of_its_rules(swept: Graph) -> None:
    stored, total = await every_page(swept, COUNTY, materialised=True, rules=["UNPAIRED"])
    child = stored[0].child_id
    # Taken away behind the index's back (never done outside this test): the read shows it.
    await swept.write("MATCH (:ChildRisk {childId: $id})-[f:FLAGGED {rule: 'UNPAIRED'}]->() DELETE f", {"id": child})
    after, after_total = await every_page(swept, COUNTY, materialised=True, rules=["UNPAIRED"])
    assert child not in {c.child_id for c in after}
    assert after_total == total - 1


async def test_a_stamp_of_risk_nodes_without_the_loops_is_not_trusted(swept: Graph) -> None:
    assert await trusted(swept, COUNTY)
    # What a sweep before the loops existed stamped: the thresholds alone.
    await swept.write("MATCH (v:Region) SET v.riskThresholds = $key", {"key": json.dumps(THRESHOLDS.as_dict())})
    assert not await trusted(swept, COUNTY)
    await alerts.sweep(swept, region_prefix="", scope_prefix="", as_of=today(), thresholds=THRESHOLDS, by="t")
    assert await trusted(swept, COUNTY)


async def test_a_sweep_in_batches_of_one_village_judges_as_in_one_batch(
    swept: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = await risk.village_batches(swept, region_prefix=COUNTY, scope_prefix="")
    monkeypatch.setattr(risk, "BATCH_HOUSEHOLDS", 1)
    single = await risk.village_batches(swept, region_prefix=COUNTY, scope_prefix="")
    assert len(whole) == 1 < len(single) and all(len(batch) == 1 for batch in single)
    assert [v for batch in single for v in batch] == whole[0] == sorted(whole[0])
    # Other thresholds change findings across the county; swept again, one village at a time.
    other = Thresholds(visit_blue_days=10, contact_blue_days=3)
    await alerts.sweep(swept, region_prefix=COUNTY, scope_prefix="", as_of=today(), thresholds=other, by="t")
    key = risk_index.thresholds_key(other.as_dict())
    assert await risk_index.trusted(swept, seek=COUNTY, as_of=today(), thresholds=key)
    evaluated = await discovery.discover(swept, region_prefix=COUNTY, scope_prefix="", as_of=today(), thresholds=other)
    stored = await discovery.discover(
        swept, region_prefix=COUNTY, scope_prefix="", as_of=today(), thresholds=other, materialised=True
    )
    assert stored.children == evaluated.children
    live = await swept.read(
        "MATCH (a:Alert) WHERE a.status IN ['open', 'acknowledged'] AND a.regionCode STARTS WITH $county"
        " RETURN a.childId AS child, a.rule AS rule, a.level AS level",
        {"county": COUNTY},
    )
    found = {(c.child_id, f.rule, f.level.value) for c in evaluated.children for f in c.findings}
    assert {(r["child"], r["rule"], r["level"]) for r in live} == found
    assert len(live) == len(found) > 0


async def test_writes_at_once_are_judged_together_in_rounds_of_one_actor(swept: Graph) -> None:
    overdue, total = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    assert len(overdue) >= 11
    judge = swept.after_write
    assert isinstance(judge, Reevaluator)
    markers: list[tuple[str, risk_index.Pending]] = []

    async def collect(graph: Graph, ids: Sequence[str], by: str, pending: risk_index.Pending | None) -> None:
        assert pending is not None
        markers.append((by, pending))

    # Six visits by two actors whose judgements are due at the same moment.
    swept.after_write = collect
    try:
        for child, sub in zip(overdue[:6], ["a", "a", "b", "b", "a", "a"], strict=True):
            actor = Actor(sub=sub, role="admin", scope="")
            await record_visit(swept, actor, child=child.child_id, visitor="director", type="home_visit", today=today())
    finally:
        swept.after_write = judge
    assert (await swept.read("MATCH (p:RiskPending) RETURN count(p) AS n"))[0]["n"] == 6
    before = judge.rounds
    results = await asyncio.gather(*(judge(swept, [], by, pending) for by, pending in markers))
    # All six joined before the first round began: one round per actor, each write judged in its own.
    assert judge.rounds - before == 2
    for (_, pending), result in zip(markers, results, strict=True):
        assert result is not None and pending.children is not None
        assert set(pending.children) <= set(result.children)
    changes = await swept.read(
        "MATCH (c:AlertChange {change: 'resolved'}) WHERE c.by IN ['a', 'b'] RETURN c.by AS by, count(*) AS n"
    )
    assert {r["by"]: r["n"] for r in changes} == {"a": 4, "b": 2}

    # Five more visits sent at once, each judged by the rounds the writes fall into.
    actor = Actor(sub="admin", role="admin", scope="")
    await asyncio.gather(
        *(
            record_visit(swept, actor, child=child.child_id, visitor="director", type="home_visit", today=today())
            for child in overdue[6:11]
        )
    )
    assert (await swept.read("MATCH (p:RiskPending) RETURN count(p) AS n"))[0]["n"] == 0
    assert await trusted(swept, "")
    after, after_total = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    assert not {c.child_id for c in overdue[:11]} & {c.child_id for c in after}
    assert after == (await every_page(swept, COUNTY, materialised=False, rules=["VISIT_OVERDUE"]))[0]
    assert after_total == total - 11


async def _visit_left_pending(graph: Graph, child_id: str) -> None:
    """A visit to `child_id` whose re-evaluation never came: its marker stays."""

    async def failing(graph: Graph, ids: Sequence[str], by: str, pending: risk_index.Pending | None) -> None:
        return None

    judge = graph.after_write
    graph.after_write = failing
    try:
        actor = Actor(sub="admin", role="admin", scope="")
        await record_visit(graph, actor, child=child_id, visitor="director", type="home_visit", today=today())
    finally:
        graph.after_write = judge


async def test_a_write_in_one_village_leaves_the_others_trusted(swept: Graph) -> None:
    overdue, _ = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    child = overdue[0]
    village = child.region_code
    assert village is not None
    township, other_township = village[:9], next(t[:9] for t in make_county.TOWNSHIPS if t[:9] != village[:9])
    other_village = next(v for v in make_county.VILLAGES if not v.startswith(village[:9]))
    other_county = make_county.OTHER_COUNTY_VILLAGE
    await _visit_left_pending(swept, child.child_id)

    # The visit's village and every region holding it evaluate; the rest read their risk nodes.
    for region in (village, township, COUNTY, "52", ""):
        assert not await trusted(swept, region), region
    for region in (other_village, other_township, other_county, other_county[:6], other_county[:9]):
        assert await trusted(swept, region), region
    for region in (village, COUNTY, other_township, other_county[:6]):
        stored, stored_total = await every_page(swept, region, materialised=True, min_level=Level.GREEN, first=25)
        live, live_total = await every_page(swept, region, materialised=False, min_level=Level.GREEN, first=25)
        assert stored == live and stored_total == live_total == len(live), region
    # Evaluated live, the visited child is no longer overdue although its risk node still says so.
    after, _ = await every_page(swept, village, materialised=True, rules=["VISIT_OVERDUE"])
    assert child.child_id not in {c.child_id for c in after}
    node = await swept.read("MATCH (k:ChildRisk {childId: $id}) RETURN k.rules AS rules", {"id": child.child_id})
    assert "VISIT_OVERDUE" in node[0]["rules"]

    # A complete sweep of another township reads nothing of that village: the marker stays.
    await alerts.sweep(
        swept, region_prefix=other_township, scope_prefix="", as_of=today(), thresholds=THRESHOLDS, by="t"
    )
    assert not await trusted(swept, COUNTY)
    # One of the visit's township judged it: every region is trusted again, and shows the visit.
    await alerts.sweep(swept, region_prefix=township, scope_prefix="", as_of=today(), thresholds=THRESHOLDS, by="t")
    assert await trusted(swept, "")
    after, _ = await every_page(swept, COUNTY, materialised=True, rules=["VISIT_OVERDUE"])
    assert child.child_id not in {c.child_id for c in after}
    assert after == (await every_page(swept, COUNTY, materialised=False, rules=["VISIT_OVERDUE"]))[0]


async def test_the_marker_names_the_village_a_child_left(swept: Graph) -> None:
    """A child moved by a write stays under its old village's risk until judged again: both
    villages are marked (the move is made by hand here, in the marking transaction)."""
    child = "other-county"
    moved_to = make_county.VILLAGES[0]

    async def move_and_mark(tx: AsyncManagedTransaction) -> risk_index.Pending | None:
        await tx.run("MATCH (c:Person {id: $id}) SET c.regionCode = $to", {"id": child, "to": moved_to})
        return await risk.mark_in(tx, AuditEntry("admin", "admin", "test", [child]))

    try:
        pending = await swept.write_transaction(move_and_mark)
        assert pending is not None and pending.children == (child,)
        marked = await swept.read("MATCH (p:RiskPending {token: $t}) RETURN p.villages AS v", {"t": pending.token})
        assert sorted(marked[0]["v"]) == sorted([moved_to, make_county.OTHER_COUNTY_VILLAGE])
        assert not await trusted(swept, make_county.OTHER_COUNTY_VILLAGE[:6])
        assert not await trusted(swept, moved_to)
        assert await trusted(swept, make_county.VILLAGES[-1])
    finally:
        await swept.write(
            "MATCH (c:Person {id: $id}) SET c.regionCode = $to",
            {"id": child, "to": make_county.OTHER_COUNTY_VILLAGE},
        )


async def test_a_sweep_mends_loops_that_disagree_with_the_findings(swept: Graph) -> None:
    live = (await every_page(swept, COUNTY, materialised=False, rules=["UNPAIRED"]))[0]
    child = live[-1].child_id  # blue, last: a red loop would list it first
    # What an earlier version's re-evaluation leaves: the node changed, its loops not.
    await swept.write(
        "MATCH (:ChildRisk {childId: $id})-[f:FLAGGED {rule: 'UNPAIRED'}]->() SET f.rank = 3", {"id": child}
    )
    assert (await every_page(swept, COUNTY, materialised=True, rules=["UNPAIRED"]))[0] != live
    await alerts.sweep(swept, region_prefix="", scope_prefix="", as_of=today(), thresholds=THRESHOLDS, by="t")
    assert (await every_page(swept, COUNTY, materialised=True, rules=["UNPAIRED"]))[0] == live


async def test_an_import_re_judges_every_child_its_changes_reach(swept: Graph, tmp_path: Path) -> None:
    """Lines that name no child still change children's findings: a parent back home, a school
    that is no longer one, a case moved to another child (the child it leaves loses its referral).
    After the import's re-evaluation, as the CLI and the API run it, every child reads as the
    rules judge it now: none is left with the findings of before."""
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    lines = [
        json.dumps(line, ensure_ascii=False)
        for line in (
            {"kind": "away", "person": "lb-one-parent.father", "since": "2025-01-24", "until": yesterday,
             "destination": "浙江杭州"},
            {"kind": "institution", "id": "school", "name": "新州镇中心小学", "type": "kindergarten",
             "region": "522622100000", "services": ["education", "boarding"]},
            {"kind": "case", "id": "referral-due-d.case1", "child": "lb-one-parent", "openedOn": "2026-02-08",
             "stage": "intervention", "worker": "worker"},
        )
    ]  # fmt: skip
    before = {c.child_id: c for c in (await every_page(swept, COUNTY, materialised=True, min_level=Level.GREEN))[0]}
    pupils = [row["id"] for row in await swept.read(PUPILS_IN_SCHOOL) if row["id"] in before]
    assert pupils and all("OUT_OF_SCHOOL" not in rules(before[pupil]) for pupil in pupils)
    assert "UNREGISTERED_LEFT_BEHIND" in rules(before["lb-one-parent"])
    assert "REFERRAL_OVERDUE" in rules(before["referral-due-d"])

    result = await import_bundle(swept, lines, today=today(), workdir=tmp_path)
    assert result.ok and result.written == len(lines)
    assert swept.after_write is not None
    await swept.after_write(swept, risk.bundle_ids(lines), "integrator", result.pending)

    assert await trusted(swept, "")
    after, _ = await every_page(swept, COUNTY, materialised=True, min_level=Level.GREEN)
    assert after == (await every_page(swept, COUNTY, materialised=False, min_level=Level.GREEN))[0]
    judged = {c.child_id: c for c in after}
    # Not vacuous: each change moved the findings of children its lines never name.
    assert all("OUT_OF_SCHOOL" in rules(judged[pupil]) for pupil in pupils)
    assert "UNREGISTERED_LEFT_BEHIND" not in rules(judged["lb-one-parent"])
    assert "REFERRAL_OVERDUE" not in rules(judged["referral-due-d"])


PUPILS_IN_SCHOOL = """
MATCH (c:Person)-[r:ENROLLED_IN]->(:Institution {id: 'school'})
WHERE r.until IS NULL AND c.birthDate <= date() - duration({years: 6}) AND c.birthDate > date() - duration({years: 16})
RETURN DISTINCT c.id AS id
"""


def rules(child: ChildRisk) -> set[str]:
    return {finding.rule for finding in child.findings}
