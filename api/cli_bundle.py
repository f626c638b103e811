"""`shouhu import` and `shouhu export`: bundles in and out of the database.

Each command opens its own driver from the environment and applies the migrations first, so
it works against an empty database. Whoever runs them has the database's credentials, so they
act as `admin`: no region scope, full ID numbers. Their audit events name the operator
(`cli:<login name>`, or `--operator`).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO, TypeVar

import click
from tqdm import tqdm

from api.cli_common import load_settings, run_with_graph
from api.settings import Settings
from graph import localdb
from graph.bundle import auditing, offline
from graph.bundle.exporter import export_region
from graph.bundle.importer import ImportMode, ImportResult, import_bundle
from graph.bundle.runs import ImportRunRecord, import_runs
from graph.callers import Caller, Role
from graph.discovery import Thresholds
from graph.driver import Connection, Graph, connect
from graph.risk import Reevaluator, bundle_ids

T = TypeVar("T")

#: Rejections printed before the count says how many more there are.
SHOWN_REJECTIONS = 50
OPERATOR_HELP = "Who the audit trail names as having run this (default: your login name). The command acts as admin."


def operator(name: str | None) -> Caller:
    """The operator as a caller: an admin, named in the audit trail."""
    return Caller(sub=f"cli:{name or getpass.getuser()}", role=Role.ADMIN)


@click.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice(["all-or-nothing", "skip-invalid"]),
    default=None,
    help="all-or-nothing (default): any bad line and nothing is written.",
)
@click.option("--skip-invalid", is_flag=True, help="Same as --mode skip-invalid.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where skip-invalid writes the rejected lines (default: FILE.rejects.ndjson in the current folder).",
)
@click.option("--status", is_flag=True, help="List import runs (every caller's) instead, incomplete ones first.")
@click.option(
    "--offline",
    is_flag=True,
    help="Load an EMPTY local database with Neo4j's offline importer (stops and restarts it), after the same "
    "all-or-nothing validation; then a sweep as of today.",
)
@click.option("--operator", "name", help=OPERATOR_HELP)
def import_command(
    file: Path | None,
    mode: str | None,
    skip_invalid: bool,
    rejects: Path | None,
    status: bool,
    offline: bool,
    name: str | None,
) -> None:
    """Import an NDJSON bundle; run it again to complete an import that was killed.

    Runs as admin (it has the database's credentials): every line in any region is accepted,
    and the import is audited under the regions it touches, naming the operator.
    """
    settings = load_settings()
    caller = operator(name)
    if status:
        _show_runs(run_with_graph(settings, import_runs, migrate=True))
        return
    if file is None:
        raise click.UsageError("FILE is required (or use --status)")
    if skip_invalid and mode == "all-or-nothing":
        raise click.UsageError("--skip-invalid contradicts --mode all-or-nothing")
    chosen: ImportMode = "SKIP_INVALID" if skip_invalid or mode == "skip-invalid" else "ALL_OR_NOTHING"
    if rejects is not None and chosen != "SKIP_INVALID":
        raise click.UsageError("--rejects needs --skip-invalid: all-or-nothing writes no reject file")
    if chosen == "SKIP_INVALID" and rejects is None:
        rejects = Path.cwd() / f"{file.name}.rejects.ndjson"
    if offline:
        if chosen != "ALL_OR_NOTHING":
            raise click.UsageError("--offline is all-or-nothing: it takes no --skip-invalid")
        _import_offline(settings, file, caller)
        return

    # Concurrent batches sometimes deadlock and are retried; the driver's warning for each
    # retry would drown the progress bar.
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    started = time.monotonic()
    click.echo(f"validating {file} ...", err=True)
    bar = tqdm(total=None, unit=" records", unit_scale=True, dynamic_ncols=True, file=sys.stderr, disable=None)

    def validated(valid: int) -> None:
        bar.reset(total=valid)

    def advance(records: int) -> None:
        bar.update(records)

    async def work(graph: Graph) -> ImportResult:
        today = datetime.now(settings.timezone).date()
        with tempfile.TemporaryDirectory(prefix="shouhu-import-") as workdir:
            result = await import_bundle(
                graph, file, mode=chosen, today=today, workdir=Path(workdir), rejects=rejects,
                progress=advance, validated=validated, caller=caller,
            )  # fmt: skip
        if result.written:
            # The children the bundle names are judged again and their alerts follow, as after
            # any write (graph.risk); `shouhu sweep` does the same for a whole region.
            reevaluate = Reevaluator(Thresholds(timezone=settings.timezone.key), settings.alert_policy)
            with file.open(encoding="utf-8") as lines:
                evaluation = await reevaluate(graph, bundle_ids(lines), "import", result.pending)
            if evaluation is not None:
                click.echo(
                    f"re-evaluated {len(evaluation.children)} persons it reaches in {evaluation.seconds:.1f} s: "
                    f"{len(evaluation.changes.raised)} alerts raised, {len(evaluation.changes.resolved)} resolved",
                    err=True,
                )
        return result

    try:
        result = run_with_graph(settings, work, migrate=True)
    finally:
        bar.close()
    seconds = time.monotonic() - started
    _summary(result, seconds, chosen, rejects, sys.stdout)
    if not result.ok:
        sys.exit(1)


def _import_offline(settings: Settings, file: Path, caller: Caller) -> None:
    local = settings.local_database
    if local is None:
        raise click.UsageError("--offline loads the local database only (NEO4J_URI points elsewhere)")
    connection = Connection(
        settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database,
        connection_timeout=settings.connection_timeout, retry_budget=30.0,
    )  # fmt: skip
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    localdb.start(local, settings.neo4j_password)
    click.echo(f"validating {file}, then loading it offline ...", err=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shouhu-offline-") as workdir:
        try:
            result = asyncio.run(
                offline.load(
                    lambda: connect(connection), local, settings.neo4j_password, file,
                    database=settings.neo4j_database, today=datetime.now(settings.timezone).date(),
                    workdir=Path(workdir), thresholds=Thresholds(timezone=settings.timezone.key),
                    policy=settings.alert_policy, caller=caller,
                )
            )  # fmt: skip
        except (offline.OfflineImportError, localdb.LocalDatabaseError) as error:
            raise click.ClickException(str(error)) from error
    seconds = time.monotonic() - started
    for rejection in result.rejected[:SHOWN_REJECTIONS]:
        print(f"line {rejection.line}: {rejection.reason}")
    if len(result.rejected) > SHOWN_REJECTIONS:
        print(f"... and {len(result.rejected) - SHOWN_REJECTIONS} more rejected lines")
    steps = "  ".join(f"{step} {value:.1f} s" for step, value in result.seconds.items())
    rate = result.written / seconds if seconds > 0 else 0.0
    print(
        f"lines: {result.lines}  written: {result.written}  rejected: {len(result.rejected)}  "
        f"seconds: {seconds:.1f}  records/s: {rate:,.0f}  ({steps}; {result.children} children judged)"
    )
    if not result.ok:
        print("nothing was written (all-or-nothing); fix the lines above")
        sys.exit(1)


def _summary(result: ImportResult, seconds: float, mode: ImportMode, rejects: Path | None, out: TextIO) -> None:
    for rejection in result.rejected[:SHOWN_REJECTIONS]:
        print(f"line {rejection.line}: {rejection.reason}", file=out)
    hidden = len(result.rejected) - SHOWN_REJECTIONS
    if hidden > 0:
        print(f"... and {hidden} more rejected lines", file=out)
    if result.resumed:
        print(f"resumed an interrupted import after its first {result.resumed} records", file=out)
    rate = (result.written - result.resumed) / seconds if seconds > 0 else 0.0
    print(
        f"lines: {result.lines}  written: {result.written}  rejected: {len(result.rejected)}  "
        f"seconds: {seconds:.1f}  records/s: {rate:,.0f}",
        file=out,
    )
    if result.rejected and mode == "ALL_OR_NOTHING":
        print("nothing was written (all-or-nothing); fix the lines above or use --skip-invalid", file=out)
    elif result.rejected and rejects is not None:
        print(f"rejected lines, with their reasons, are in {rejects}: fix them and import that file", file=out)


def _show_runs(found: list[ImportRunRecord]) -> None:
    if not found:
        click.echo("no imports recorded")
        return
    for run in sorted(found, key=lambda run: run.complete):
        started = run.started_at.isoformat(timespec="seconds") if run.started_at else "-"
        state = "complete" if run.complete else f"INCOMPLETE ({run.status})"
        click.echo(
            f"{state:<24} {started}  lines {run.lines}  written {run.written}  rejected {run.rejected}  "
            f"{run.mode}  {run.source}  [{run.id[:12]}]"
        )
        if not run.complete:
            click.echo(f"{'':<24} re-run `shouhu import {run.source}` to complete it")


@click.command("export")
@click.option("--region", "code", required=True, help="12-digit code of the region whose subtree to export.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Default: stdout.")
@click.option("--operator", "name", help=OPERATOR_HELP)
def export_command(code: str, output: Path | None, name: str | None) -> None:
    """Export every record of a region subtree as an NDJSON bundle.

    Runs as admin: full records, ID numbers included, of everything the region's records
    name; audited under the regions exported, naming the operator.
    """
    settings = load_settings()
    caller = operator(name)

    async def work(graph: Graph, out: TextIO) -> int:
        tally = auditing.ExportTally()
        async for line in export_region(graph, code):
            out.write(line + "\n")
            tally.add(line)
        if tally.lines:
            await auditing.append(graph, tally.events(caller, code))
        return tally.lines

    if output is None:
        count = run_with_graph(settings, lambda graph: work(graph, sys.stdout), migrate=True)
    else:
        with output.open("w", encoding="utf-8") as out:
            count = run_with_graph(settings, lambda graph: work(graph, out), migrate=True)
    if count == 0:
        raise click.ClickException(f"region: {code} does not exist")
    if output is not None:
        click.echo(f"wrote {count} lines to {output}", err=True)
