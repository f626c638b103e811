"""`shouhu check` end to end on the sample county, against the real test database."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from api.cli import main
from api.cli_check import _only_county
from graph.driver import Graph
from tests.conftest import SAMPLE_AS_OF, SAMPLE_BUNDLE, SAMPLE_COUNTY, SAMPLE_EXPECTED
from tests.data.make_county import inside_lines

CHECK = ["check", str(SAMPLE_BUNDLE), str(SAMPLE_EXPECTED), "--as-of", SAMPLE_AS_OF.isoformat()]


@pytest.mark.slow
def test_check_passes_on_the_sample_refuses_a_full_database_and_names_every_difference(
    clean_graph: Graph, tmp_path: Path, test_environment: dict[str, str]
) -> None:
    runner = CliRunner(env=test_environment)
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))

    passed = runner.invoke(main, [*CHECK, "--region", SAMPLE_COUNTY])
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.splitlines()[-1] == (
        f"{len(expected)} children of {SAMPLE_COUNTY} as of 2026-02-28 "
        f"({sum(1 for line in SAMPLE_BUNDLE.read_text(encoding='utf-8').splitlines() if line[:1] == '{')} "
        "records imported): 0 differ from county.expected.json"
    )

    # The database now holds the county: a second check is refused and writes nothing.
    refused = runner.invoke(main, [*CHECK, "--region", SAMPLE_COUNTY])
    assert refused.exit_code == 1
    assert "nodes; check imports into an empty database" in refused.output and "--wipe" in refused.output

    # A deliberately wrong expected file: a finding changed, a child missing, one invented.
    wrong = dict(expected)
    wrong["lb-green"] = {"level": "red", "findings": {"NO_CAREGIVER": "red"}}
    del wrong["born-on-d"]
    wrong["nobody"] = {"level": "green", "findings": {}}
    wrong_file = tmp_path / "wrong.expected.json"
    wrong_file.write_text(json.dumps(wrong), encoding="utf-8")
    failed = runner.invoke(
        main,
        ["check", str(SAMPLE_BUNDLE), str(wrong_file), "--as-of", "2026-02-28", "--region", SAMPLE_COUNTY, "--wipe"],
    )
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.startswith("deleted the ") and "nodes the database held" in failed.stderr
    assert failed.stdout.splitlines()[:-1] == [
        "born-on-d: expected absent, got green {}",
        "lb-green: expected red {NO_CAREGIVER: red}, got green {}",
        "nobody: expected green {}, got absent",
    ]
    assert failed.stdout.splitlines()[-1].endswith(": 3 differ from wrong.expected.json")

    # The county's part alone (no neighbouring county, so no --region needed): the child that
    # lives in no household is gone, and with it the fourth child of the overloaded caregiver.
    inside = tmp_path / "inside.ndjson"
    inside.write_text("\n".join(inside_lines()) + "\n", encoding="utf-8")
    overloaded = runner.invoke(main, ["check", str(inside), str(SAMPLE_EXPECTED), "--as-of", "2026-02-28", "--wipe"])
    assert overloaded.exit_code == 1, overloaded.output
    assert overloaded.stdout.splitlines()[:-1] == [
        f"overload-{n}: expected blue {{CAREGIVER_OVERLOAD: blue}}, got green {{}}" for n in range(3)
    ]


def test_check_refuses_a_malformed_expected_file_and_wipe_in_production(
    tmp_path: Path, test_environment: dict[str, str]
) -> None:
    runner = CliRunner(env=test_environment)
    for document, reason in [
        ([], "must be an object mapping child ids"),
        ({"c1": {"level": "green"}}, "c1: must be an object with exactly `level` and `findings`"),
        ({"c1": {"level": "pink", "findings": {}}}, "c1: level 'pink' is not one of"),
        ({"c1": {"level": "red", "findings": {"NO_SUCH_RULE": "red"}}}, "c1: 'NO_SUCH_RULE' is not a discovery rule"),
        ({"c1": {"level": "red", "findings": {"NO_CAREGIVER": "green"}}}, "c1: NO_CAREGIVER has level 'green'"),
    ]:
        path = tmp_path / "expected.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        result = runner.invoke(main, ["check", str(SAMPLE_BUNDLE), str(path)])
        assert result.exit_code == 1 and reason in result.output, (document, result.output)

    bad_region = runner.invoke(main, [*CHECK, "--region", "5226"])
    assert bad_region.exit_code == 2 and "is not a 12-digit region code" in bad_region.output

    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}', encoding="utf-8")
    production = test_environment | {
        "SHOUHU_ENV": "production",
        "NEO4J_URI": "bolt://127.0.0.1:1",
        "NEO4J_PASSWORD": "not-used",
        "SHOUHU_JWKS_FILE": str(jwks),
        "SHOUHU_JWT_SECRET": "",
    }
    refused = CliRunner(env=production).invoke(main, [*CHECK, "--wipe"])
    assert refused.exit_code == 2 and "--wipe is refused in production" in refused.output


def test_the_region_defaults_to_the_bundles_only_county() -> None:
    assert _only_county(["522622000000"]) == "522622000000"
    with pytest.raises(click.UsageError, match=r"the bundle has 2 counties \(522622000000, 522623000000\)"):
        _only_county(["522622000000", "522623000000"])
    with pytest.raises(click.UsageError, match=r"0 counties \(none\)"):
        _only_county([])
