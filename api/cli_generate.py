"""`shouhu generate`: a realistic county (or province) bundle, streamed to stdout or a file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import click

from api.settings import Settings, SettingsError
from graph.bundle.generator import DEFAULT_COUNTY_CODE, DEFAULT_PROVINCE_CODE, generate_county, generate_province

# Lines are written in chunks: one `write` per line would dominate the run time.
CHUNK = 4096


def _today() -> date:
    """Today in the deployment's zone, the same "today" the importer checks dates against."""
    try:
        zone = Settings.from_environment().timezone
    except SettingsError:
        return date.today()
    return datetime.now(zone).date()


def write_lines(lines: Iterator[str], out: TextIO) -> int:
    """Write lines with newlines; return how many."""
    count = 0
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK:
            out.write("\n".join(chunk) + "\n")
            count += CHUNK
            chunk = []
    if chunk:
        out.write("\n".join(chunk) + "\n")
        count += len(chunk)
    return count


@click.command("generate")
@click.option(
    "--villages",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Villages per county, about 100 children each.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same bundle.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the data describes (default today); nothing is dated after it.",
)
@click.option("--county-code", default=DEFAULT_COUNTY_CODE, show_default=True, help="12-digit county code.")
@click.option(
    "--counties", type=click.IntRange(min=1), help="Generate a province of this many counties instead of one county."
)
@click.option(
    "--province-code",
    default=DEFAULT_PROVINCE_CODE,
    show_default=True,
    help="12-digit province code (with --counties).",
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
def generate_command(
    villages: int,
    seed: int,
    as_of: datetime | None,
    county_code: str,
    counties: int | None,
    province_code: str,
    output: Path | None,
) -> None:
    """Write a realistic county bundle (NDJSON) for demos, tests and benchmarks."""
    day = as_of.date() if as_of is not None else _today()
    if day > _today():
        raise click.BadParameter(
            "the bundle may not describe the future (birth dates, visits...)", param_hint="--as-of"
        )
    try:
        if counties is None:
            lines = generate_county(villages, seed, day, county_code=county_code)
        else:
            lines = generate_province(counties, villages, seed, day, province_code=province_code)
        if output is None:
            count = write_lines(lines, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as out:
                count = write_lines(lines, out)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if output is not None:
        click.echo(f"wrote {count} lines to {output}", err=True)
