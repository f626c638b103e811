"""The generator: valid bundles by the real validator, deterministic, realistic, flat in memory."""

from __future__ import annotations

import collections
import itertools
import tracemalloc
from datetime import date
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from api.cli import main
from graph.bundle.generator import generate_county, generate_province, resident_id
from graph.bundle.importer import import_bundle
from graph.bundle.validation import validate_bundle
from graph.discovery import RULES, Level, Thresholds, discover
from graph.driver import Graph

AS_OF = date(2026, 6, 15)
COUNTY = "430524000000"


def test_resident_id_matches_the_standard_example() -> None:
    # GB 11643's own worked example: check character X.
    assert resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    assert resident_id("360732", date(1983, 11, 26), 3) == "360732198311260035"


def test_same_seed_gives_the_same_lines_and_another_seed_does_not() -> None:
    first = list(generate_county(2, 11, AS_OF))
    assert first == list(generate_county(2, 11, AS_OF))
    assert first != list(generate_county(2, 12, AS_OF))
    # A province is made of the same villages: deterministic too, and every line one record.
    province = list(generate_province(2, 1, 11, AS_OF))
    assert province == list(generate_province(2, 1, 11, AS_OF))
    assert all(orjson.loads(line)["kind"] for line in province)


def test_nothing_is_dated_after_as_of() -> None:
    latest = ""
    for line in generate_county(3, 5, AS_OF):
        record = orjson.loads(line)
        for name in ("birthDate", "deceasedOn", "on", "at", "openedOn", "since", "agreementSignedOn"):
            value = record.get(name)
            if isinstance(value, str):
                latest = max(latest, value[:10])
    assert latest
    assert latest <= AS_OF.isoformat()


def test_rejects_codes_that_are_not_counties_or_provinces() -> None:
    with pytest.raises(ValueError, match="county code"):
        list(generate_county(1, 1, AS_OF, county_code="430524100000"))
    with pytest.raises(ValueError, match="province code"):
        list(generate_province(1, 1, 1, AS_OF, province_code="430500000000"))


@pytest.mark.slow
async def test_a_generated_county_imports_without_rejection_and_every_rule_fires(
    clean_graph: Graph, tmp_path: Path
) -> None:
    bundle = tmp_path / "county.ndjson"
    lines = list(generate_county(8, 1, AS_OF, county_code=COUNTY))
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = await import_bundle(clean_graph, bundle, today=AS_OF, workdir=tmp_path / "work")

    assert result.rejected == []
    assert result.ok and result.complete
    assert result.written == len(lines)

    found = await discover(clean_graph, region_prefix=COUNTY[:6], scope_prefix="", as_of=AS_OF, thresholds=Thresholds())
    children = found.children
    assert 700 <= len(children) <= 1000
    fired = collections.Counter(finding.rule for child in children for finding in child.findings)
    assert set(fired) == set(RULES), f"rules that never fire: {set(RULES) - set(fired)}"
    levels = found.counts()
    # Most children are green or blue; a few percent are red.
    assert levels[Level.GREEN] + levels[Level.BLUE] >= 0.75 * len(children)
    assert 0.005 * len(children) <= levels[Level.RED] <= 0.05 * len(children)


async def test_a_generated_province_passes_the_validator(clean_graph: Graph, tmp_path: Path) -> None:
    # Three counties in one city and a fourth... ids and resident IDs stay unique across counties.
    lines = list(generate_province(11, 1, 3, AS_OF))
    report = await validate_bundle(lines, clean_graph, today=AS_OF, workdir=tmp_path)
    assert report.rejections == []
    cities = {
        record["code"]
        for record in map(orjson.loads, lines)
        if record["kind"] == "region" and record["level"] == "city" and record["code"].startswith("43")
    }
    assert len(cities) == 2  # eleven counties: ten in the first city, one in the second


def _peak(lines: object) -> int:
    tracemalloc.start()
    try:
        for _ in lines:  # type: ignore[attr-defined]
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_stays_flat_as_the_province_grows() -> None:
    one = _peak(generate_province(1, 4, 9, AS_OF))
    six = _peak(generate_province(6, 4, 9, AS_OF))
    # Six times the data, about the same peak: only one village (and one county's resident-ID
    # sequence counters) is ever held.
    assert six < one * 1.5, (one, six)


def test_the_command_writes_the_same_bundle_to_a_file_or_stdout(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "c.ndjson"
    args = ["generate", "--villages", "2", "--seed", "4", "--as-of", "2026-06-15"]
    written = runner.invoke(main, [*args, "--output", str(out)])
    assert written.exit_code == 0, written.output
    printed = runner.invoke(main, args)
    assert printed.exit_code == 0
    assert printed.stdout == out.read_text(encoding="utf-8")
    assert printed.stdout.splitlines() == list(generate_county(2, 4, AS_OF))

    province = runner.invoke(main, [*args, "--counties", "2"])
    assert province.exit_code == 0
    assert province.stdout.splitlines() == list(generate_province(2, 2, 4, AS_OF))

    future = runner.invoke(main, ["generate", "--villages", "1", "--as-of", "2999-01-01"])
    assert future.exit_code != 0
    assert "future" in future.output


def test_about_a_hundred_children_per_village() -> None:
    born_after = date(AS_OF.year - 18, AS_OF.month, AS_OF.day).isoformat()
    persons = (orjson.loads(line) for line in generate_county(5, 3, AS_OF))
    children = sum(
        1
        for record in persons
        if record["kind"] == "person" and record["birthDate"] > born_after and "household" in record
    )
    assert 400 <= children <= 600
    assert next(itertools.islice(generate_county(1, 3, AS_OF), 0, None)).startswith('{"kind":"region"')
