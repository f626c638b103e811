"""`shouhu check`: import a bundle and compare discovery with its expected result.

It writes into the configured database, so it insists on an empty one: a database that holds
anything is refused unless `--wipe` is given, and `--wipe` is refused outright in production.
The import is left in place afterwards, for looking into a difference.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from api.cli_common import load_settings, run_with_graph
from api.cli_discover import thresholds_from
from graph import check, regions
from graph.bundle.importer import ImportResult, import_bundle
from graph.discovery import discover
from graph.discovery_rules import RULES
from graph.driver import Graph
from graph.errors import InvalidInput

#: Rejected lines shown before the count of the rest.
SHOWN = 20


@dataclass(frozen=True, slots=True)
class Outcome:
    imported: ImportResult
    wiped: int = 0
    region: str = ""
    differences: tuple[check.Difference, ...] = ()
    children: int = 0


@click.command("check")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("expected", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date D of EXPECTED (default: today)."
)
@click.option("--region", help="12-digit region code EXPECTED covers (default: the bundle's only county).")
@click.option("--threshold", "threshold_pairs", multiple=True, metavar="NAME=VALUE", help="Override a threshold.")
@click.option("--wipe", is_flag=True, help="Delete everything in the database first if it is not empty.")
def check_command(
    bundle: Path,
    expected: Path,
    as_of: dt.datetime | None,
    region: str | None,
    threshold_pairs: tuple[str, ...],
    wipe: bool,
) -> None:
    """Import BUNDLE into an empty database, run discovery and compare it with EXPECTED,
    {childId: {"level": ..., "findings": {RULE: level}}} for every child of the region.

    Prints every child whose result differs (expected, got) and exits 1 if any does.
    """
    settings = load_settings()
    if wipe and settings.production:
        raise click.UsageError("--wipe is refused in production (SHOUHU_ENV=production)")
    try:
        wanted = check.parse_expected(json.loads(expected.read_text(encoding="utf-8")), frozenset(RULES))
    except (ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{expected}: {error}") from error
    thresholds = thresholds_from(threshold_pairs)
    day = as_of.date() if as_of is not None else dt.datetime.now(settings.timezone).date()
    if region is not None:
        try:
            regions.level_of(region)
        except InvalidInput as error:
            raise click.BadParameter(error.reason, param_hint="--region") from error
    logging.getLogger("neo4j").setLevel(logging.ERROR)

    async def work(graph: Graph) -> Outcome:
        wiped = await check.node_count(graph)
        if wiped and not wipe:
            raise click.ClickException(
                f"the database holds {wiped} nodes; check imports into an empty database. "
                "Point it at another one, or pass --wipe to delete everything in it first."
            )
        if wiped:
            await check.wipe(graph)
        with tempfile.TemporaryDirectory(prefix="shouhu-check-") as workdir:
            imported = await import_bundle(
                graph, bundle, mode="ALL_OR_NOTHING", today=dt.datetime.now(settings.timezone).date(),
                workdir=Path(workdir),
            )  # fmt: skip
        if not imported.ok:
            return Outcome(imported, wiped)
        code = region or _only_county(await check.counties(graph))
        result = await discover(
            graph, region_prefix=regions.scope_prefix(code), scope_prefix="", as_of=day, thresholds=thresholds
        )
        found = check.differences(wanted, check.verdicts(result))
        return Outcome(imported, wiped, code, tuple(found), len(wanted.keys() | {c.child_id for c in result.children}))

    outcome = run_with_graph(settings, work, migrate=True)
    if outcome.wiped:
        click.echo(f"deleted the {outcome.wiped} nodes the database held", err=True)
    if not outcome.imported.ok:
        for rejection in outcome.imported.rejected[:SHOWN]:
            click.echo(f"line {rejection.line}: {rejection.reason}")
        hidden = len(outcome.imported.rejected) - SHOWN
        if hidden > 0:
            click.echo(f"... and {hidden} more rejected lines")
        click.echo(f"{bundle} does not import: nothing was written, nothing compared")
        sys.exit(1)
    for difference in outcome.differences:
        click.echo(str(difference))
    summary = (
        f"{outcome.children} children of {outcome.region} as of {day.isoformat()} "
        f"({outcome.imported.written} records imported): {len(outcome.differences)} differ from {expected.name}"
    )
    click.echo(summary)
    if outcome.differences:
        sys.exit(1)


def _only_county(codes: list[str]) -> str:
    if len(codes) != 1:
        found = ", ".join(codes) or "none"
        raise click.UsageError(f"the bundle has {len(codes)} counties ({found}); name one with --region")
    return codes[0]
