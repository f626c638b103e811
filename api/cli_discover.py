"""`shouhu discover`: proactive discovery for a region from the command line.

The command is an operator's tool: it reads the whole database (no caller scope) and opens
its own driver from the environment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, TypeVar

import click

from api.cli_common import load_settings, run_with_graph
from graph import alerts, regions, scheduler
from graph.discovery import DiscoveryResult, Level, Thresholds, discover
from graph.driver import Graph

_THRESHOLD_FIELDS = {f.name: f.type for f in dataclasses.fields(Thresholds)}
T = TypeVar("T")


def thresholds_from(pairs: tuple[str, ...]) -> Thresholds:
    """The `--threshold NAME=VALUE` options, over the defaults."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in _THRESHOLD_FIELDS:
            raise click.BadParameter(
                f"{pair!r}: expected NAME=VALUE, NAME one of {', '.join(_THRESHOLD_FIELDS)}", param_hint="--threshold"
            )
        if name == "timezone":
            values[name] = raw
            continue
        try:
            values[name] = int(raw)
        except ValueError as error:
            raise click.BadParameter(f"{name}: not a whole number: {raw!r}", param_hint="--threshold") from error
    return Thresholds(**values)


def as_json(result: DiscoveryResult) -> dict[str, Any]:
    """`children` maps each child id to its level and its findings' levels: {id: {level, findings: {rule: level}}}."""
    return {
        "region": result.region_prefix,
        "asOf": result.as_of.isoformat(),
        "thresholds": result.thresholds.as_dict(),
        "rules": list(result.rules),
        "children": {
            child.child_id: {
                "level": child.level.value,
                "findings": {finding.rule: finding.level.value for finding in child.findings},
            }
            for child in result.children
        },
    }


def as_table(result: DiscoveryResult) -> str:
    rows = [("child", "name", "level", "findings")]
    rows += [
        (
            child.child_id,
            child.name or "",
            child.level.value,
            ", ".join(f"{finding.rule}:{finding.level.value}" for finding in child.findings),
        )
        for child in result.children
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    counts = result.counts()
    lines.append(
        f"{len(result.children)} children as of {result.as_of.isoformat()}: "
        + ", ".join(f"{counts[level]} {level.value}" for level in Level)
    )
    lines.append("thresholds: " + ", ".join(f"{k}={v}" for k, v in result.thresholds.as_dict().items()))
    return "\n".join(line.rstrip() for line in lines)


@click.command("discover")
@click.option("--region", "region", required=True, help="12-digit region code; its whole subtree is examined.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date D (default: today).")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--rule", "rules", multiple=True, help="Evaluate only this rule (repeatable; default: all).")
@click.option("--threshold", "threshold_pairs", multiple=True, metavar="NAME=VALUE", help="Override a threshold.")
def discover_command(
    region: str, as_of: dt.datetime | None, output: str, rules: tuple[str, ...], threshold_pairs: tuple[str, ...]
) -> None:
    """Children at risk in a region as of a date, most severe first (docs/discovery.md)."""
    settings = load_settings()
    thresholds = thresholds_from(threshold_pairs)
    day = as_of.date() if as_of is not None else dt.datetime.now(settings.timezone).date()

    async def run(graph: Graph) -> DiscoveryResult:
        return await discover(
            graph,
            region_prefix=regions.scope_prefix(region),
            scope_prefix="",
            as_of=day,
            thresholds=thresholds,
            rules=rules or None,
        )

    result = run_with_graph(settings, run)
    if output == "json":
        click.echo(json.dumps(as_json(result), ensure_ascii=False, indent=1, sort_keys=False))
    else:
        click.echo(as_table(result))


@click.command("sweep")
@click.option("--region", "region", help="12-digit region code; its whole subtree is swept (default: everything).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date D (default: today).")
@click.option("--threshold", "threshold_pairs", multiple=True, metavar="NAME=VALUE", help="Override a threshold.")
@click.option(
    "--daily",
    is_flag=True,
    help="Claim today's daily sweep first (the lock the API's scheduler takes), and do nothing if it is taken.",
)
def sweep_command(region: str | None, as_of: dt.datetime | None, threshold_pairs: tuple[str, ...], daily: bool) -> None:
    """Persist a region's findings as alerts: raise new ones, escalate, resolve those that stopped holding,
    give new ones an owner and a due date, and hand up the overdue (for cron; docs/operations.md)."""
    settings = load_settings()
    thresholds = thresholds_from(threshold_pairs)
    day = as_of.date() if as_of is not None else dt.datetime.now(settings.timezone).date()

    async def run(graph: Graph) -> alerts.SweepResult | None:
        if daily:
            runner = scheduler.DailySweep(graph, thresholds, settings.alert_policy, at=dt.time(0, 0))
            if region is not None or as_of is not None:
                raise click.UsageError("--daily sweeps everything as of today: it takes no --region or --as-of")
            return await runner.run_once()
        return await alerts.sweep(
            graph,
            region_prefix="" if region is None else regions.scope_prefix(region),
            scope_prefix="",
            as_of=day,
            thresholds=thresholds,
            policy=settings.alert_policy,
            by="cli",
        )

    result = run_with_graph(settings, run, migrate=True)
    if result is None:
        click.echo("today's daily sweep is already done or running elsewhere")
        return
    click.echo(
        f"sweep {result.id} as of {result.as_of.isoformat()}: {len(result.raised)} raised, "
        f"{len(result.escalated)} escalated, {len(result.lowered)} lowered, {len(result.resolved)} resolved, "
        f"{len(result.overdue)} handed up as overdue"
    )
