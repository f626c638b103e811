"""The shared sample county, discovered as of 2026-06-15, must equal its expected file exactly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from graph.bundle.importer import import_bundle
from graph.discovery import Level, Thresholds, discover, discover_findings, risk_profile
from graph.driver import Graph
from tests.conftest import SAMPLE_EXPECTED, sample_path

AS_OF = dt.date(2026, 6, 15)


async def test_sample_county_matches_the_expected_file_in_both_directions(clean_graph: Graph, tmp_path: Path) -> None:
    imported = await import_bundle(clean_graph, sample_path(), today=dt.date.today(), workdir=tmp_path)
    assert imported.ok, imported.rejected
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))

    result = await discover(
        clean_graph, region_prefix="360732", scope_prefix="36", as_of=AS_OF, thresholds=Thresholds()
    )
    actual = {
        child.child_id: {"level": child.level.value, "findings": {f.rule: f.level.value for f in child.findings}}
        for child in result.children
    }
    assert sorted(set(expected) - set(actual)) == []  # none missing
    assert sorted(set(actual) - set(expected)) == []  # none extra
    wrong = {cid: (actual[cid], expected[cid]) for cid in expected if actual[cid] != expected[cid]}
    assert wrong == {}

    # Most severe first, then by child id; every finding carries evidence.
    keys = [(-c.level.rank, c.child_id) for c in result.children]
    assert keys == sorted(keys)
    assert all(f.evidence for c in result.children for f in c.findings)

    # The sweep's light variant finds exactly the same (child, rule, level) triples.
    flat = await discover_findings(
        clean_graph, region_prefix="360732", scope_prefix="36", as_of=AS_OF, thresholds=Thresholds()
    )
    assert flat == sorted((c.child_id, f.rule, f.level) for c in result.children for f in c.findings)

    # One child through riskProfile gives exactly what the sweep gave.
    reds = [c for c in result.children if c.level is Level.RED]
    for child in reds:
        assert (
            await risk_profile(clean_graph, child.child_id, scope_prefix="360732", as_of=AS_OF, thresholds=Thresholds())
            == child
        )

    # A scope outside the region sees nothing; an empty scope sees the same county.
    outside = await discover(
        clean_graph, region_prefix="360732", scope_prefix="3608", as_of=AS_OF, thresholds=Thresholds()
    )
    assert outside.children == ()
    assert (
        await risk_profile(clean_graph, reds[0].child_id, scope_prefix="3608", as_of=AS_OF, thresholds=Thresholds())
        is None
    )
