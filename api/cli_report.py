"""`shouhu report`: a region's statistics as a workbook (docs/statistics.md).

Like `shouhu discover`, an operator's tool: it reads the whole region (no caller scope) with a
driver of its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from api.cli_common import load_settings, run_with_graph
from api.report import write
from graph import statistics
from graph.discovery import Thresholds
from graph.driver import Graph


@click.command("report")
@click.option("--region", required=True, help="12-digit region code (a county); its whole subtree is counted.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date D (default: today).")
@click.option("--format", "output_format", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def report_command(region: str, as_of: dt.datetime | None, output_format: str, output: Path) -> None:
    """Write a region's statistics (children by colour, rule and category, coverage, rates, institutions per
    township, directors per village) as Chinese-headed tables: an xlsx workbook or one CSV file."""
    settings = load_settings()
    day = as_of.date() if as_of is not None else dt.datetime.now(settings.timezone).date()
    thresholds = Thresholds(timezone=settings.timezone.key)

    async def run(graph: Graph) -> statistics.Statistics:
        return await statistics.statistics(
            graph, region=region, scope="", as_of=day, thresholds=thresholds, materialised=True
        )

    stats = run_with_graph(settings, run)
    write(stats, output_format, output)
    click.echo(f"{output}: {stats.children.count} children as of {day.isoformat()} in {region}")
