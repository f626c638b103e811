"""The visit rhythm's periods (一年两排、季季巡、月月访) and the ids an import re-evaluates."""

from __future__ import annotations

import datetime as dt

import pytest

from graph.discovery import Level
from graph.errors import InvalidInput
from graph.risk import bundle_ids
from graph.worklist import Cadence, month_bounds


@pytest.mark.parametrize(
    ("level", "day", "period"),
    [
        (Level.RED, dt.date(2026, 2, 14), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        (Level.YELLOW, dt.date(2028, 2, 29), (dt.date(2028, 2, 1), dt.date(2028, 2, 29))),
        (Level.BLUE, dt.date(2026, 12, 1), (dt.date(2026, 10, 1), dt.date(2026, 12, 31))),
        (Level.BLUE, dt.date(2026, 4, 1), (dt.date(2026, 4, 1), dt.date(2026, 6, 30))),
        (Level.GREEN, dt.date(2026, 6, 30), (dt.date(2026, 1, 1), dt.date(2026, 6, 30))),
        (Level.GREEN, dt.date(2026, 7, 1), (dt.date(2026, 7, 1), dt.date(2026, 12, 31))),
    ],
)
def test_each_colour_has_its_rhythm_and_period(level: Level, day: dt.date, period: tuple[dt.date, dt.date]) -> None:
    assert Cadence.of(level).period(day) == period


def test_a_month_is_read_whole_and_a_bad_one_names_the_field() -> None:
    assert month_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    with pytest.raises(InvalidInput, match="month"):
        month_bounds("2026-13")


def test_an_import_reevaluates_what_its_lines_name_but_not_regions_or_values() -> None:
    lines = [
        '{"kind":"region","code":"360732100201","name":"一村","level":"village","parent":"360732100000"}',
        '{"kind":"person","id":"C1","name":"张三","household":"H1","birthDate":"2015-01-01"}',
        '{"kind":"care","caregiver":"G1","child":"C1","since":"2024-01-01"}',
        "# a comment",
        "",
    ]
    assert bundle_ids(lines) == ["C1", "G1", "H1"]
