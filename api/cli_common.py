"""What every `shouhu` command shares: settings from the environment, a driver of its own,
and one way to end on a database error.

Project errors (`graph.errors`), settings errors and every error of the database or its driver
end the command with a one-line message and an exit status that says which kind it was
(`Commands`, docs/cli.md), never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from neo4j import exceptions as neo4j_errors

from api.settings import Settings, SettingsError
from graph import migrations
from graph.driver import Connection, Graph, connect
from graph.errors import DatabaseUnavailable, GraphError
from graph.localdb import LocalDatabaseError

T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings.from_environment()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


def run_with_graph(settings: Settings, work: Callable[[Graph], Awaitable[T]], *, migrate: bool = False) -> T:
    """Open a driver for one command (applying the migrations first if asked), run `work`, close it."""

    async def runner() -> T:
        connection = Connection(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password,
            settings.neo4j_database,
            connection_timeout=settings.connection_timeout,
            retry_budget=settings.retry_budget,
        )
        async with connect(connection) as graph:
            if migrate:
                await migrations.apply(graph)
            return await work(graph)

    return asyncio.run(runner())


#: Exit statuses of a command that failed on the database (sysexits.h names): the database
#: could not be reached or answered too slowly (try again), refused the credentials, or
#: failed otherwise. 1 is a command's own failure and 2 a usage error, as in click.
EXIT_UNAVAILABLE = 69
EXIT_REFUSED = 77
EXIT_DATABASE = 70


class DatabaseFailure(click.ClickException):
    """A database error as one line; `exit_code` (a class attribute in click) says which kind."""


class Unavailable(DatabaseFailure):
    exit_code = EXIT_UNAVAILABLE


class Refused(DatabaseFailure):
    exit_code = EXIT_REFUSED


class Failed(DatabaseFailure):
    exit_code = EXIT_DATABASE


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def database_failure(error: BaseException, settings: Settings | None = None) -> DatabaseFailure | None:
    """The one-line message and exit status for a database error, or None for any other error."""
    chain = _chain(error)
    neo4j_error = next((e for e in chain if isinstance(e, neo4j_errors.Neo4jError)), None)
    code = getattr(neo4j_error, "code", None) or ""
    credentials = ("Unauthorized", "AuthenticationRateLimit", "CredentialsExpired")
    if isinstance(neo4j_error, neo4j_errors.AuthError) or code.split(".")[-1] in credentials:
        hint = ""
        if settings is not None and settings.local_database is not None:
            hint = (
                f"; the local store at {settings.local_database.home / 'data'} keeps the password it was "
                "created with: set NEO4J_PASSWORD to it, or delete that folder to start an empty store"
            )
        if code.endswith("AuthenticationRateLimit"):
            return Refused(
                "the database refused the credentials too many times in a row and rejects them for a few "
                f"seconds ({code}): check NEO4J_USER and NEO4J_PASSWORD{hint}",
            )
        return Refused(
            f"the database refused the credentials of NEO4J_USER and NEO4J_PASSWORD ({code or 'unauthorized'}){hint}"
        )
    where = f" at {settings.neo4j_uri}" if settings is not None else ""
    unreachable = [e for e in chain if isinstance(e, neo4j_errors.ServiceUnavailable | neo4j_errors.SessionExpired)]
    if unreachable or any(isinstance(e, DatabaseUnavailable) for e in chain):
        detail = f" ({_first_line(unreachable[-1])})" if unreachable else ""
        hint = "; start it with `shouhu db start`" if settings is not None and settings.local_database else ""
        return Unavailable(f"the database{where} is not reachable{detail}{hint}")
    if isinstance(neo4j_error, neo4j_errors.TransientError):
        return Unavailable(f"the database{where} is busy; try again ({code})")
    if isinstance(error, GraphError | LocalDatabaseError):
        return DatabaseFailure(str(error))
    if neo4j_error is not None:
        return Failed(f"the database{where} failed: {code} {_first_line(neo4j_error)}".strip())
    if any(isinstance(e, neo4j_errors.DriverError) for e in chain):
        return Failed(f"the database driver failed: {_first_line(error)}")
    return None


def _first_line(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__


class Commands(click.Group):
    """The `shouhu` group: a database error in any command ends it as one line (`database_failure`)."""

    def invoke(self, ctx: click.Context) -> object:
        # The driver warns on stderr at each retry of a transaction; the command's own line says
        # what failed (`shouhu serve` configures its logs itself).
        logging.getLogger("neo4j").setLevel(logging.ERROR)
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as error:
            settings: Settings | None
            try:
                settings = Settings.from_environment()
            except SettingsError:
                settings = None
            failure = database_failure(error, settings)
            if failure is None:
                raise
            raise failure from error
