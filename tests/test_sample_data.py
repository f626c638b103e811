"""The sample county under tests/data is what its generator writes, and it covers every rule."""

from __future__ import annotations

import json

from graph.discovery_rules import RULES
from tests.data import make_county


def test_the_committed_sample_is_what_the_generator_writes() -> None:
    bundle, expected = make_county.render(make_county.build())
    assert make_county.BUNDLE.read_text(encoding="utf-8") == bundle, "run: .venv/bin/python -m tests.data.make_county"
    assert make_county.EXPECTED.read_text(encoding="utf-8") == expected


def test_every_rule_fires_at_each_of_its_levels_and_every_colour_is_there() -> None:
    expected = json.loads(make_county.EXPECTED.read_text(encoding="utf-8"))
    fired = {(rule, level) for child in expected.values() for rule, level in child["findings"].items()}
    assert {rule for rule, _ in fired} == set(RULES)
    two_levels = {"REPORT_UNHANDLED": {"red", "yellow"}, "CONTACT_LAPSE": {"yellow", "blue"}}
    two_levels["VISIT_OVERDUE"] = {"yellow", "blue"}
    for rule, levels in two_levels.items():
        assert {level for fired_rule, level in fired if fired_rule == rule} == levels
    assert {child["level"] for child in expected.values()} == {"red", "yellow", "blue", "green"}
    # Most children change one thing of the template, so most have at most one finding.
    assert sum(1 for child in expected.values() if len(child["findings"]) <= 1) > 0.9 * len(expected)
