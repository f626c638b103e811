"""Fixtures shared by the whole suite. Every database test runs against a real Neo4j.

The test database is the project's own local Neo4j on its own port and data folder
(`SHOUHU_TEST_NEO4J_PORT`, default 7688, under `.shouhu/test-neo4j-<port>`), started here if
it is not running and stopped at the end if this session started it. `SHOUHU_TEST_NEO4J_URI`
(with `NEO4J_USER`/`NEO4J_PASSWORD`) points the suite at an external server instead. When the
database cannot start, the suite fails: it never skips.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any, LiteralString

import httpx
import pytest
from starlette.types import ASGIApp

from api.settings import PROJECT_ROOT, Settings
from graph import localdb, migrations
from graph.driver import Connection, Graph, connect
from graph.localdb import LocalDatabase
from tests.data import make_county as county

# The project's own sample county (tests/data/make_county.py says what each child is for).
SAMPLE_BUNDLE = county.BUNDLE
SAMPLE_EXPECTED = county.EXPECTED
SAMPLE_AS_OF = county.AS_OF
SAMPLE_COUNTY = county.COUNTY
TEST_PASSWORD = "shouhu-test-password"

WIPE = """
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""


def _test_environment() -> dict[str, str]:
    external = os.environ.get("SHOUHU_TEST_NEO4J_URI")
    port = os.environ.get("SHOUHU_TEST_NEO4J_PORT", "7688")
    environment = {
        "SHOUHU_ENV": "test",
        "SHOUHU_JWT_SECRET": "shouhu-test-secret-0123456789abcdef0123",
        "SHOUHU_TIMEZONE": "Asia/Shanghai",
        # The suite sends far more requests as one caller than anyone in the field; the rate limit
        # has its own test (tests/api/test_transport.py) with an app of its own.
        "SHOUHU_RATE_LIMIT": "100000/second",
        # A live server the suite stops goes at once; tests/api/test_replicas.py tests the drain.
        "SHOUHU_SHUTDOWN_DRAIN_SECONDS": "0",
        # Eight suites on one small machine make a cold discovery slow; the deadline has its own
        # tests (tests/api/test_shedding.py), with apps of their own.
        "SHOUHU_REQUEST_TIMEOUT": "120",
        "NEO4J_DATABASE": os.environ.get("NEO4J_DATABASE", "neo4j"),
    }
    if external:
        environment |= {
            "NEO4J_URI": external,
            "NEO4J_USER": os.environ.get("NEO4J_USER", "neo4j"),
            "NEO4J_PASSWORD": os.environ.get("NEO4J_PASSWORD", ""),
        }
    else:
        environment |= {
            "SHOUHU_NEO4J_PORT": port,
            "SHOUHU_NEO4J_HOME": str(PROJECT_ROOT / ".shouhu" / f"test-neo4j-{port}"),
            "NEO4J_PASSWORD": TEST_PASSWORD,
            "SHOUHU_NEO4J_PAGECACHE": "512m",
            "SHOUHU_NEO4J_HEAP": "1g",
        }
    return environment


@pytest.fixture(scope="session")
def test_environment() -> dict[str, str]:
    return _test_environment()


#: How the suite's own databases plan (docs/operations.md, "The test databases' planner"). Plans
#: decide how a statement is run, never what it returns.
#: - `internal.cypher.use_parameter_size`: by default the plan cache keys every statement by the
#:   size of each string and list parameter, in buckets (0, 1, up to 10, up to 100...), so one
#:   statement is planned again for a scope of 12 characters, of 9 and of none, and for 1, 2 and
#:   11 ids. The suite runs each statement over every scope and many list sizes: most of Neo4j's
#:   time went on planning the same text again (a page of child files: 7 min on a cold
#:   database, 5 s once planned). Without it a statement is planned once per parameter types.
TEST_PLANNER: tuple[tuple[str, str], ...] = (("internal.cypher.use_parameter_size", "false"),)


def _planned_for_tests(settings: Settings) -> Settings:
    local = settings.local_database
    if local is None:
        return settings
    return dataclasses.replace(settings, local_database=dataclasses.replace(local, settings=TEST_PLANNER))


@pytest.fixture(scope="session")
def settings(test_environment: dict[str, str]) -> Settings:
    return _planned_for_tests(Settings.from_environment(test_environment))


@pytest.fixture(scope="session")
def database_server(settings: Settings) -> Iterator[LocalDatabase | None]:
    """Start the test database unless it runs already; stop it afterwards if we started it."""
    local = settings.local_database
    if local is None:
        yield None
        return
    was_running = localdb.status(local).running
    localdb.start(local, settings.neo4j_password)
    yield local
    if not was_running and not os.environ.get("SHOUHU_TEST_KEEP_DB"):
        localdb.stop(local)


# --- a second database, for the tests that stop, kill or replace one -----------------------


@pytest.fixture(scope="session")
def fault_environment(test_environment: dict[str, str]) -> dict[str, str]:
    """The test environment pointed at a local Neo4j of its own (`SHOUHU_TEST_FAULT_NEO4J_PORT`,
    default the test port plus one, its store under `.shouhu/test-neo4j-<port>`), even when the
    suite's database is external: the outage, offline-load and backup tests take it down."""
    port = os.environ.get("SHOUHU_TEST_FAULT_NEO4J_PORT") or str(
        int(os.environ.get("SHOUHU_TEST_NEO4J_PORT", "7688")) + 1
    )
    environment = {k: v for k, v in test_environment.items() if k not in ("NEO4J_URI", "NEO4J_USER")}
    return environment | {
        "SHOUHU_NEO4J_PORT": port,
        "SHOUHU_NEO4J_HOME": str(PROJECT_ROOT / ".shouhu" / f"test-neo4j-{port}"),
        "NEO4J_PASSWORD": TEST_PASSWORD,  # its own store, never the external server's
        "SHOUHU_NEO4J_PAGECACHE": "128m",
        "SHOUHU_NEO4J_HEAP": "512m",
    }


@pytest.fixture(scope="session")
def fault_settings(fault_environment: dict[str, str]) -> Settings:
    return _planned_for_tests(Settings.from_environment(fault_environment))


@pytest.fixture(scope="session")
def fault_database(fault_settings: Settings) -> Iterator[LocalDatabase]:
    """The second database, started at most once per session for every module that needs one
    to break (a start is what these modules cost most). Each test that uses it starts it again
    if a test before left it stopped, and empties it as it needs; it is stopped at the end."""
    local = fault_settings.local_database
    assert isinstance(local, LocalDatabase)
    was_running = localdb.status(local).running
    localdb.start(local, fault_settings.neo4j_password, timeout=300)
    yield local
    if not was_running and not os.environ.get("SHOUHU_TEST_KEEP_DB"):
        localdb.stop(local, timeout=180)


@pytest.fixture(scope="session")
async def graph(settings: Settings, database_server: LocalDatabase | None) -> AsyncIterator[Graph]:
    connection = Connection(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database)
    async with connect(connection) as handle:
        await handle.driver.verify_connectivity()
        await migrations.apply(handle)
        yield handle


async def wipe(graph: Graph) -> None:
    await graph.autocommit(WIPE)


@pytest.fixture
async def clean_graph(graph: Graph) -> AsyncIterator[Graph]:
    """An empty graph (constraints kept) for one test; it is emptied again afterwards."""
    await wipe(graph)
    graph.round_trips = 0
    yield graph
    await wipe(graph)


def sample_path() -> Path:
    return SAMPLE_BUNDLE


# --- the sample county, imported once per run ---------------------------------------------

SAMPLE_FIXTURE = "sample_county"
_SAMPLE_RUN: LiteralString = "MATCH (r:ImportRun {id: $id}) RETURN r.startedAt AS startedAt"
_imported: dict[str, object] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that read the sample county first and together, so that it is imported
    once for all of them before any other test empties the database (a stable sort: within
    each group the order is unchanged)."""
    items.sort(key=lambda item: SAMPLE_FIXTURE not in getattr(item, "fixturenames", ()))


@pytest.fixture
async def sample_county(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Graph:
    """The sample county, for tests that only read it (or remove what they added). It is
    imported when the database does not hold this run's import of it: the first time, and
    again only if another test emptied the database in between."""
    from graph.bundle.importer import import_bundle

    if _imported:
        rows = await graph.read(_SAMPLE_RUN, {"id": _imported["run"]})
        if rows and rows[0]["startedAt"] == _imported["startedAt"]:
            return graph
    await wipe(graph)
    result = await import_bundle(
        graph, SAMPLE_BUNDLE, today=dt.date.today(), workdir=tmp_path_factory.mktemp("sample-import")
    )
    assert result.ok, result.rejected[:3]
    rows = await graph.read(_SAMPLE_RUN, {"id": result.run_id})
    _imported.update(run=result.run_id, startedAt=rows[0]["startedAt"])
    return graph


# --- the API -------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def app(settings: Settings, graph: Graph) -> AsyncIterator[ASGIApp]:
    """The real application with its lifespan run (driver, migrations, verifier)."""
    from asgi_lifespan import LifespanManager

    from api.app import create_app

    async with LifespanManager(create_app(settings)) as manager:
        started: ASGIApp = manager.app
        yield started


@pytest.fixture
async def client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shouhu.test") as http:
        yield http


def make_token(
    settings: Settings,
    role: str,
    *,
    region: str | None = None,
    institution: str | None = None,
    sub: str = "tester",
    ttl: int = 600,
) -> str:
    from api.auth import mint_development_token
    from graph.callers import Role

    assert settings.jwt_secret is not None
    return mint_development_token(
        settings.jwt_secret, role=Role(role), sub=sub, region=region, institution=institution, ttl=ttl
    )


class GraphQLClient:
    """Posts GraphQL operations with a bearer token; returns the decoded response body."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def execute(
        self,
        query: str,
        variables: Mapping[str, object] | None = None,
        /,
        *,
        role: str = "admin",
        region: str | None = None,
        institution: str | None = None,
        sub: str = "tester",
        token: str | None = None,
    ) -> dict[str, Any]:
        bearer = token or make_token(self.settings, role, region=region, institution=institution, sub=sub)
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gql(client: httpx.AsyncClient, settings: Settings) -> GraphQLClient:
    return GraphQLClient(client, settings)
