"""Fuzz the running API with schemathesis in its GraphQL mode: `make fuzz` (and briefly in `make test`).

The API runs as a real server (tests/live.py) on the test database, seeded with a generated
village through its own `importBundle`. Schemathesis reads the schema by introspection and
generates operations for every query and mutation for a bounded time, twice: as an admin,
whose requests reach every resolver, and as a village's children's director, whose requests
meet the scope and role refusals. Generated ids, region codes and dates are drawn half the
time from the seeded records and from dates at the edges of the calendar, so cases get past
"not found" into the resolvers. Every response must be free of 5xx and `INTERNAL`
(tests/fuzz_checks.py).

    .venv/bin/python -m tests.fuzz --seconds 300
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.auth import mint_development_token
from api.settings import PROJECT_ROOT, Settings
from graph import localdb
from graph.bundle.generator import generate_county
from graph.callers import Role
from graph.driver import Connection, connect
from tests.fuzz_checks import EDGE_DATES
from tests.live import LiveServer, live_server

COUNTY = "430524000000"
#: Which seeded values each argument (or input field) name is drawn from.
BINDINGS: Mapping[str, str] = {
    "region": "regions",
    "code": "regions",
    "id": "ids",
    "childId": "persons",
    "personId": "persons",
    "visitorId": "persons",
    "workerId": "persons",
    "reporterId": "persons",
    "fromId": "persons",
    "caregiverId": "persons",
    "guardianId": "persons",
    "volunteerId": "persons",
    "a": "persons",
    "b": "persons",
    "institutionId": "institutions",
    "householdId": "households",
    "caseId": "cases",
    "asOf": "dates",
    "on": "dates",
    "since": "dates",
    "until": "dates",
    "birthDate": "dates",
}


@dataclass
class Run:
    caller: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    output: str = ""


def seeded_values(lines: Iterable[str]) -> dict[str, list[str]]:
    """The ids and codes of a bundle, by dictionary name (a few of each: variety, not volume)."""
    found: dict[str, list[str]] = {"regions": [], "persons": [], "institutions": [], "households": [], "cases": []}
    kinds = {"region": "regions", "person": "persons", "institution": "institutions", "household": "households"}
    for line in lines:
        record = json.loads(line)
        kind = record["kind"]
        if kind in kinds and len(found[kinds[kind]]) < 40:
            found[kinds[kind]].append(record.get("code") or record["id"])
        elif kind == "case":
            found["cases"].append(record["id"])
    found["ids"] = found["persons"][:20] + found["households"][:10] + found["institutions"][:10] + found["cases"]
    found["dates"] = [*EDGE_DATES, dt.date.today().isoformat()]
    return {name: values for name, values in found.items() if values}


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def config_text(values: Mapping[str, Sequence[str]]) -> str:
    """A schemathesis.toml binding each argument name to its dictionary of seeded values."""
    lines = []
    for name, entries in values.items():
        lines += [f"[dictionaries.{name}]", "values = [" + ", ".join(map(_toml_string, entries)) + "]", ""]
    lines.append("[parameters]")
    for argument, dictionary in BINDINGS.items():
        if dictionary in values:
            for key in (f"*.*.{argument}", f"*.*.input.{argument}"):
                lines.append(f'"{key}" = {{ dictionary = "{dictionary}", probability = 0.5 }}')
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Budget:
    """How much one caller's run may do: `seconds` of fuzzing, repeated until they are spent; or,
    with `examples`, one pass of that many cases per operation, `seconds` then only the cap on a
    run that hangs. The suite's run counts cases, so a loaded machine makes it slower, never
    emptier; `make fuzz` spends time."""

    seconds: int
    examples: int | None = None

    def arguments(self) -> list[str]:
        if self.examples is None:
            return ["--max-time", str(self.seconds)]
        # Without --max-time each phase runs once; the stateful phase's scenarios have no count.
        return ["--max-examples", str(self.examples), "--phases", "fuzzing"]


def fuzz(server: LiveServer, token: str, caller: str, budget: Budget, config: Path, workdir: Path) -> Run:
    """One bounded schemathesis run with the caller's token; its cases and failures."""
    report = workdir / f"{caller}.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        server.graphql,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "shouhu_no_internal",
        *budget.arguments(),
        # A slow answer on a loaded machine (a province's sweep) is not what this run looks for.
        "--request-timeout",
        "60",
        "--workers",
        "1",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_checks"}
    completed = subprocess.run(  # noqa: S603 - our own tool, no shell
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=budget.seconds + 120, check=False
    )
    run = Run(caller, output=completed.stdout + completed.stderr)
    if not report.exists():
        run.failures.append(f"schemathesis wrote no report (exit {completed.returncode})")
        return run
    summary = json.loads(report.read_text())
    run.cases = int(summary["test_cases"]["generated"])
    run.failures += [json.dumps(failure, ensure_ascii=False)[:2000] for failure in summary["failures"]]
    run.failures += [json.dumps(error, ensure_ascii=False)[:2000] for error in summary["errors"]]
    return run


def tokens(settings: Settings, village: str) -> dict[str, str]:
    assert settings.jwt_secret is not None
    return {
        "admin": mint_development_token(settings.jwt_secret, role=Role.ADMIN, sub="fuzz-admin", ttl=3600),
        "children_director": mint_development_token(
            settings.jwt_secret, role=Role.CHILDREN_DIRECTOR, sub="fuzz-director", region=village, ttl=3600
        ),
    }


def seed(server: LiveServer, admin: str, lines: list[str]) -> None:
    mutation = "mutation Seed($b: String!) { importBundle(ndjson: $b) { ok written } }"
    response = httpx.post(
        server.graphql,
        json={"query": mutation, "variables": {"b": "\n".join(lines) + "\n"}},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=600,
    )
    report = response.json()["data"]["importBundle"]
    if not report["ok"]:
        raise RuntimeError(f"the seed bundle did not import: {response.text[:2000]}")


#: Each run's report and output are kept here, to read what a failure was.
REPORTS = PROJECT_ROOT / ".shouhu" / "fuzz"


def run_all(server: LiveServer, settings: Settings, budget: Budget, seeded: Mapping[str, Sequence[str]]) -> list[Run]:
    """Each caller's run in turn, each with the whole `budget`."""
    villages = [code for code in seeded.get("regions", ()) if not code.endswith("000")]
    callers = tokens(settings, villages[0] if villages else COUNTY)
    REPORTS.mkdir(parents=True, exist_ok=True)
    config = REPORTS / "schemathesis.toml"
    config.write_text(config_text(seeded), encoding="utf-8")
    runs = [fuzz(server, token, caller, budget, config, REPORTS) for caller, token in callers.items()]
    for run in runs:
        (REPORTS / f"{run.caller}.txt").write_text(run.output, encoding="utf-8")
    return runs


def report(runs: Sequence[Run]) -> int:
    for run in runs:
        print(f"fuzz as {run.caller}: {run.cases} cases, {len(run.failures)} failures")
        for failure in run.failures:
            print(f"  {failure}")
    failed = sum(len(run.failures) for run in runs)
    print(f"fuzz: {sum(run.cases for run in runs)} cases, {failed} failures (reports in {REPORTS})")
    return 1 if failed else 0


async def _wipe(settings: Settings) -> None:
    from tests.conftest import wipe

    connection = Connection(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database)
    async with connect(connection) as graph:
        await wipe(graph)


def main(argv: Sequence[str] | None = None) -> int:
    from tests.conftest import _test_environment

    parser = argparse.ArgumentParser(description="Fuzz the running API with schemathesis (GraphQL).")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SHOUHU_FUZZ_SECONDS", "240")))
    parser.add_argument("--villages", type=int, default=1)
    options = parser.parse_args(argv)
    environment = {**_test_environment(), "SHOUHU_RATE_LIMIT": "1000/second"}
    settings = Settings.from_environment(environment)
    local = settings.local_database
    started = local is not None and not localdb.status(local).running
    if local is not None:
        localdb.start(local, settings.neo4j_password)
    try:
        asyncio.run(_wipe(settings))
        lines = list(generate_county(options.villages, 20260615, dt.date.today(), county_code=COUNTY))
        with (
            tempfile.TemporaryDirectory(prefix="shouhu-fuzz-log-") as folder,
            live_server(environment, Path(folder) / "server.log") as server,
        ):
            seed(server, tokens(settings, COUNTY)["admin"], lines)
            runs = run_all(server, settings, Budget(max(1, options.seconds // 2)), seeded_values(lines))
        asyncio.run(_wipe(settings))
    finally:
        if started and local is not None and not os.environ.get("SHOUHU_TEST_KEEP_DB"):
            localdb.stop(local)
    return report(runs)


if __name__ == "__main__":
    sys.exit(main())
