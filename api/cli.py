"""The `shouhu` command line: the local database, the API server, tokens and the SDL.

Other command groups (import, export, generate, discover, ...) live in their own modules
and are added to `main` below.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TypeVar

import click

from api.auth import mint_development_token
from api.cli_common import Commands, load_settings, run_with_graph
from api.settings import PROJECT_ROOT, Settings
from graph import backup, localdb, migrations
from graph.callers import Role
from graph.localdb import LocalDatabase

T = TypeVar("T")

#: The subject of a token minted without `--sub`: deliberately no one's person id.
DEFAULT_SUB = "dev-user"


@click.group(cls=Commands)
def main() -> None:
    """守护 Shouhu: proactive discovery and referral for rural left-behind children."""


@main.group()
def db() -> None:
    """The local development Neo4j (embedded Neo4j Community, no Docker needed)."""


def _local(settings: Settings) -> LocalDatabase:
    if settings.local_database is None:
        raise click.ClickException("NEO4J_URI points at an external database; `shouhu db` manages only the local one")
    return settings.local_database


@db.command("start")
def db_start() -> None:
    """Start the local database and wait until it answers."""
    settings = load_settings()
    started = time.monotonic()
    try:
        status = localdb.start(_local(settings), settings.neo4j_password)
    except localdb.LocalDatabaseError as error:
        raise click.ClickException(str(error)) from error
    took = "" if status.message.startswith("already") else f" after {time.monotonic() - started:.1f} s"
    click.echo(f"neo4j: {status.message}{took}")


@db.command("stop")
def db_stop() -> None:
    """Stop the local database cleanly."""
    try:
        status = localdb.stop(_local(load_settings()))
    except localdb.LocalDatabaseError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"neo4j: {status.message}")


@db.command("status")
def db_status() -> None:
    """Say whether the local database runs; exit 1 when it does not."""
    status = localdb.status(_local(load_settings()))
    click.echo(f"neo4j: {status.message}")
    sys.exit(0 if status.running else 1)


@db.command("migrate")
def db_migrate() -> None:
    """Apply constraints and indexes (idempotent)."""
    names = run_with_graph(load_settings(), migrations.apply)
    click.echo(f"migrations: {len(names)} constraints and indexes in place")


@db.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "form",
    type=click.Choice(backup.FORMATS),
    default="store",
    show_default=True,
    help="store: a byte copy of the store folder; dump: Neo4j's own archives (neo4j-admin database dump), "
    "far smaller, loadable by any Neo4j server of this version.",
)
def db_backup(folder: Path, form: backup.Format) -> None:
    """Back up the local database into FOLDER (new or empty), with a manifest of sha256 checksums.

    Offline, so consistent: a running database is stopped, copied and started again.
    """
    settings = load_settings()
    outcome = backup.backup(_local(settings), settings.neo4j_password, folder, form=form)
    manifest = outcome.manifest
    click.echo(
        f"backup ({manifest.format}) of {manifest.source}: {len(manifest.files)} files, "
        f"{manifest.total_bytes / 1e6:,.1f} MB in {folder}, {outcome.seconds:.1f} s"
        + ("; the database runs again" if outcome.restarted else "")
    )


@db.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that is there (it is moved aside, not deleted).")
@click.option("--production", "in_production", is_flag=True, help="Allow it with SHOUHU_ENV=production.")
def db_restore(folder: Path, force: bool, in_production: bool) -> None:
    """Restore the local database from a backup in FOLDER, after checking every file's sha256.

    Refuses a database that holds a store unless --force, and refuses in production unless
    --production. A running database is stopped and started again.
    """
    settings = load_settings()
    if settings.production and not in_production:
        raise click.UsageError("restore replaces the database: in production (SHOUHU_ENV=production) give --production")
    outcome = backup.restore(_local(settings), settings.neo4j_password, folder, force=force)
    manifest = outcome.manifest
    click.echo(
        f"restored the {manifest.format} backup of {manifest.created} ({len(manifest.files)} files, "
        f"checksums verified) in {outcome.seconds:.1f} s"
        + (f"; the store it replaced is in {outcome.moved_aside}" if outcome.moved_aside else "")
        + ("; the database runs again" if outcome.restarted else "")
    )


@main.command()
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(reload: bool) -> None:
    """Run the API with uvicorn on SHOUHU_HOST:SHOUHU_PORT, in SHOUHU_WORKERS processes.

    On SIGTERM one process drains: readiness answers 503 for SHOUHU_SHUTDOWN_DRAIN_SECONDS while
    requests are still served, then it stops listening and gives the requests under way up to
    SHOUHU_SHUTDOWN_TIMEOUT_SECONDS to finish. SIGINT (Ctrl-C) skips the drain.
    """
    from api.serving import serve as run

    settings = load_settings()
    if reload and settings.workers > 1:
        raise click.ClickException("--reload runs one process: unset SHOUHU_WORKERS or set it to 1")
    run(settings, reload=reload)


@main.command()
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--region", help="12-digit region code: the root of the caller's scope.")
@click.option("--institution", help="Institution id (institution_staff only).")
@click.option(
    "--sub",
    default=DEFAULT_SUB,
    show_default=True,
    help="Must be the caller's person id (an integrator's: its system id): writes that name the caller "
    "(a visit's visitor, a care agreement's guide) refuse a subject that is no person in scope. "
    "The default is no person.",
)
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(1, 30 * 24 * 3600), help="Seconds.")
@click.pass_context
def token(context: click.Context, role: str, region: str | None, institution: str | None, sub: str, ttl: int) -> None:
    """Print a development token (HS256, signed with SHOUHU_JWT_SECRET); `me` shows who it names."""
    if context.get_parameter_source("sub") is click.core.ParameterSource.DEFAULT:
        click.echo(
            f"warning: no --sub: the token's subject is {DEFAULT_SUB!r}, which is no person; give the caller's "
            "person id, or writes that name the caller (a visit's visitor) will be refused",
            err=True,
        )
    settings = load_settings()
    if settings.jwt_secret is None:
        raise click.ClickException("no SHOUHU_JWT_SECRET: development tokens cannot be minted here")
    from api.auth import AuthenticationError

    try:
        click.echo(
            mint_development_token(
                settings.jwt_secret, role=Role(role), sub=sub, region=region, institution=institution, ttl=ttl
            )
        )
    except AuthenticationError as error:
        raise click.ClickException(str(error)) from error


SDL_PATH = PROJECT_ROOT / "schema.graphql"


@main.command("schema")
# The default is shown relative: the generated CLI reference must not depend on the checkout's path.
@click.option("--output", type=click.Path(path_type=Path), default=SDL_PATH, show_default="schema.graphql")
def schema_command(output: Path) -> None:
    """Write the GraphQL SDL (schema.graphql at the repository root)."""
    from schema.schema import build_schema

    output.write_text(build_schema().as_str() + "\n", encoding="utf-8")
    click.echo(f"wrote {output}")


@main.command("docs")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a generated page is stale.")
def docs_command(check: bool) -> None:
    """Write the reference pages generated from the code (docs/generated/, and the record-kind
    tables of graph/MODEL.md)."""
    from api import docs
    from graph import model

    if check:
        stale = [f"docs/generated/{name}" for name in docs.stale()]
        if model.stale():
            stale.append("graph/MODEL.md")
        if stale:
            raise click.ClickException(f"stale: {', '.join(stale)}; run `shouhu docs`")
        click.echo("docs/generated and graph/MODEL.md are current")
        return
    for path in (*docs.write(), model.write()):
        click.echo(f"wrote {path.relative_to(PROJECT_ROOT)}")


from api.cli_generate import generate_command  # noqa: E402 - command modules hang off `main`

main.add_command(generate_command)

from api.cli_discover import discover_command, sweep_command  # noqa: E402

main.add_command(discover_command)
main.add_command(sweep_command)

from api.cli_bundle import export_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(export_command)

from api.cli_report import report_command  # noqa: E402

main.add_command(report_command)

from api.cli_check import check_command  # noqa: E402

main.add_command(check_command)
