"""What every `shouhu` command shares: settings from the environment and a driver of its own.

Project errors (`graph.errors`) and settings errors end the command with their message,
never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from api.settings import Settings, SettingsError
from graph import migrations
from graph.driver import Connection, Graph, connect
from graph.errors import GraphError

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

    try:
        return asyncio.run(runner())
    except GraphError as error:
        raise click.ClickException(str(error)) from error
