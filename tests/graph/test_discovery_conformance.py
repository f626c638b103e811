"""The sample county, discovered as of its date, must equal its expected file exactly."""

from __future__ import annotations

import json

import pytest

from graph.discovery import Level, Thresholds, discover, discover_findings, risk_profile
from graph.driver import Graph
from tests.conftest import SAMPLE_AS_OF, SAMPLE_EXPECTED

AS_OF = SAMPLE_AS_OF


@pytest.mark.slow
async def test_sample_county_matches_the_expected_file_in_both_directions(sample_county: Graph) -> None:
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))

    result = await discover(
        sample_county, region_prefix="522622", scope_prefix="52", as_of=AS_OF, thresholds=Thresholds()
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
        sample_county, region_prefix="522622", scope_prefix="52", as_of=AS_OF, thresholds=Thresholds()
    )
    assert flat == sorted((c.child_id, f.rule, f.level) for c in result.children for f in c.findings)

    # One child through riskProfile gives exactly what the sweep gave: the child with the
    # most findings, and the first child of each level.
    reds = [c for c in result.children if c.level is Level.RED]
    most = max(result.children, key=lambda c: len(c.findings))
    chosen = {most.child_id: most} | {
        c.child_id: c for c in (next(c for c in result.children if c.level is level) for level in Level)
    }
    for child in chosen.values():
        assert (
            await risk_profile(
                sample_county, child.child_id, scope_prefix="522622", as_of=AS_OF, thresholds=Thresholds()
            )
            == child
        )

    # A scope outside the region sees nothing; an empty scope sees the same county.
    outside = await discover(
        sample_county, region_prefix="522622", scope_prefix="522623", as_of=AS_OF, thresholds=Thresholds()
    )
    assert outside.children == ()
    assert (
        await risk_profile(sample_county, reds[0].child_id, scope_prefix="522623", as_of=AS_OF, thresholds=Thresholds())
        is None
    )
