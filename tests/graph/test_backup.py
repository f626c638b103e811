"""`shouhu db backup` and `shouhu db restore` keep everything: a real database holding the sample
county, with alerts, audit events, idempotency keys and visits written through the API, is
backed up (while it runs, and stopped), restored into an empty database, and compared label by
label, relationship type by relationship type, property by property, audit event by audit event.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from click.testing import CliRunner
from neo4j import GraphDatabase

from api.app import create_app
from api.cli import main
from api.settings import Settings
from graph import backup, localdb
from graph.localdb import LocalDatabase
from tests.conftest import SAMPLE_AS_OF, SAMPLE_BUNDLE, SAMPLE_COUNTY, WIPE, GraphQLClient
from tests.data.make_county import VILLAGES
from tests.live import free_port
from tests.schema.test_scoping import data

SWEEP = f'mutation {{ sweep(region: "{SAMPLE_COUNTY}", asOf: "{SAMPLE_AS_OF}") {{ id raised }} }}'
ALERTS = f'{{ alerts(region: "{SAMPLE_COUNTY}", status: "open") {{ id level }} }}'
ACK = 'mutation($id: ID!) { acknowledgeAlert(alertId: $id, note: "已电话核实") { status } }'
VISIT = "mutation($input: VisitInput!) { recordVisit(input: $input) { id } }"
CHILD = "query($id: ID!) { child(id: $id) { id name } }"
VILLAGE_CHILDREN = """
MATCH (c:Person {regionCode: $village}) WHERE c.birthDate > date('2012-01-01')
RETURN c.id AS id ORDER BY id LIMIT 3
"""

# The whole graph, as it is: every node with its labels and properties, every relationship
# with its type, its properties and its two ends. Element ids are left out, so the comparison
# says the same content is there, not merely that the same bytes were copied.
NODES = "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS properties"
RELATIONSHIPS = """
MATCH (a)-[r]->(b)
RETURN elementId(a) AS start, type(r) AS type, properties(r) AS properties, elementId(b) AS end
"""
SCHEMA = (
    "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties",
    "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state",
)
AUDIT = "MATCH (e:AuditEvent) RETURN properties(e) AS event ORDER BY e.at, e.id"


def canonical(value: Any) -> Any:
    """A JSON form of a property value that keeps its type (a date is not its string)."""
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return [type(value).__name__, str(value)]


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    #: label -> (nodes, sha256 of their sorted fingerprints); type -> the same for relationships
    labels: dict[str, tuple[int, str]]
    types: dict[str, tuple[int, str]]
    #: label -> every property key its nodes carry
    keys: dict[str, frozenset[str]]
    schema: list[Any]
    audit: list[Any]


def snapshot(port: int, password: str) -> Snapshot:
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", password)) as driver:
        nodes, _, _ = driver.execute_query(NODES, database_="neo4j")
        relationships, _, _ = driver.execute_query(RELATIONSHIPS, database_="neo4j")
        schema = [row for show in SCHEMA for row in driver.execute_query(show, database_="neo4j").records]
        audit, _, _ = driver.execute_query(AUDIT, database_="neo4j")
    prints: dict[str, str] = {}
    by_label: dict[str, list[str]] = {}
    keys: dict[str, set[str]] = {}
    for node in nodes:
        properties = {k: canonical(v) for k, v in node["properties"].items()}
        prints[node["id"]] = digest([sorted(node["labels"]), properties])
        for label in node["labels"]:
            by_label.setdefault(label, []).append(prints[node["id"]])
            keys.setdefault(label, set()).update(properties)
    by_type: dict[str, list[str]] = {}
    for rel in relationships:
        properties = {k: canonical(v) for k, v in rel["properties"].items()}
        by_type.setdefault(rel["type"], []).append(
            digest([prints[rel["start"]], rel["type"], properties, prints[rel["end"]]])
        )
    return Snapshot(
        labels={label: (len(fps), digest(sorted(fps))) for label, fps in by_label.items()},
        types={kind: (len(fps), digest(sorted(fps))) for kind, fps in by_type.items()},
        keys={label: frozenset(found) for label, found in keys.items()},
        schema=sorted(digest([canonical(v) for v in row.values()]) for row in schema),
        audit=[{k: canonical(v) for k, v in row["event"].items()} for row in audit],
    )


def environment_of(local: LocalDatabase, base: dict[str, str], password: str) -> dict[str, str]:
    return base | {
        "SHOUHU_NEO4J_HOME": str(local.home),
        "SHOUHU_NEO4J_PORT": str(local.bolt_port),
        "SHOUHU_NEO4J_HEAP": local.heap,
        "SHOUHU_NEO4J_PAGECACHE": local.pagecache,
        "NEO4J_PASSWORD": password,
    }


@pytest.fixture
def databases(
    fault_database: LocalDatabase, fault_settings: Settings, tmp_path: Path
) -> Iterator[tuple[LocalDatabase, LocalDatabase]]:
    """The source is the suite's second database (tests/conftest.py), already started for the
    modules before this one, and emptied here; the target is a new, empty one."""
    source = fault_database
    password = fault_settings.neo4j_password
    localdb.start(source, password, timeout=300)
    with (
        GraphDatabase.driver(f"bolt://127.0.0.1:{source.bolt_port}", auth=("neo4j", password)) as driver,
        driver.session(database="neo4j") as session,
    ):
        session.run(WIPE).consume()  # in transactions of its own: an auto-commit one
    target = LocalDatabase(home=tmp_path / "target", bolt_port=free_port(), pagecache="64m", heap="512m")
    yield source, target
    localdb.stop(target)


async def write_through_the_api(settings: Settings, port: int) -> None:
    """Alerts and their history, acknowledgements, visits with their idempotency keys and replays,
    audited reads: what a bundle export leaves behind."""
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shouhu.test") as http:
            gql = GraphQLClient(http, settings)
            coordinator = {"role": "coordinator", "region": SAMPLE_COUNTY}
            assert data(await gql.execute(SWEEP, **coordinator))["sweep"]["raised"]
            first = data(await gql.execute(ALERTS, **coordinator))["alerts"][0]
            data(await gql.execute(ACK, {"id": first["id"]}, **coordinator))
            director = {"role": "children_director", "region": VILLAGES[0], "sub": "director"}
            with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", settings.neo4j_password)) as driver:
                children, _, _ = driver.execute_query(VILLAGE_CHILDREN, {"village": VILLAGES[0]}, database_="neo4j")
            assert len(children) == 3
            for row in children:
                visit = {
                    "childId": row["id"],
                    "type": "home_visit",
                    "notes": "备份前的家访",
                    "clientMutationId": row["id"],
                }
                recorded = data(await gql.execute(VISIT, {"input": visit}, **director))["recordVisit"]
                assert data(await gql.execute(VISIT, {"input": visit}, **director))["recordVisit"] == recorded
                data(await gql.execute(CHILD, {"id": row["id"]}, **director))


@pytest.mark.slow
def test_a_backup_restored_into_an_empty_database_holds_everything_the_original_held(
    databases: tuple[LocalDatabase, LocalDatabase],
    fault_settings: Settings,
    tmp_path: Path,
    test_environment: dict[str, str],
) -> None:
    source, target = databases
    password = fault_settings.neo4j_password
    source_env = environment_of(source, test_environment, password)
    target_env = environment_of(target, test_environment, password)
    imported = CliRunner(env=source_env).invoke(main, ["import", str(SAMPLE_BUNDLE), "--operator", "backup-test"])
    assert imported.exit_code == 0, imported.output
    # The commands run their own event loops: the test is synchronous, the API part is not.
    asyncio.run(write_through_the_api(Settings.from_environment(source_env), source.bolt_port))
    original = snapshot(source.bolt_port, password)
    for label in ("Person", "Household", "Region", "Alert", "AlertChange", "Sweep", "ChildRisk", "AuditEvent",
                  "IdempotencyKey", "ImportRun"):  # fmt: skip
        assert original.labels.get(label, (0, ""))[0] > 0, f"the original holds no {label}: the test shows nothing"
    assert original.types["HAD_CHANGE"][0] > 0 and original.types["VISITED"][0] > 68
    assert {e["operation"] for e in original.audit} >= {"sweep", "acknowledgeAlert", "recordVisit", "importBundle"}
    assert "cli:backup-test" in {e["sub"] for e in original.audit}
    assert {e["outcome"] for e in original.audit if e["operation"] == "recordVisit"} == {"ok", "replayed"}

    # A store backup of the running database: stopped, copied, started again.
    stored = tmp_path / "backup-store"
    done = CliRunner(env=source_env).invoke(main, ["db", "backup", str(stored)])
    assert done.exit_code == 0, done.output
    assert "the database runs again" in done.output and localdb.status(source).running
    assert snapshot(source.bolt_port, password) == original  # taking it changed nothing
    manifest = backup.Manifest.read(stored)
    assert manifest.format == "store" and manifest.neo4j_version == localdb.neo4j_version()
    assert any(f.path.startswith("data/databases/neo4j/") for f in manifest.files)
    assert any(f.path.startswith("data/transactions/neo4j/") for f in manifest.files)

    # Restored into an empty database, it is the original.
    restored = CliRunner(env=target_env).invoke(main, ["db", "restore", str(stored)])
    assert restored.exit_code == 0, restored.output
    localdb.start(target, password, timeout=300)  # the store brought its own password
    assert snapshot(target.bolt_port, password) == original

    # A store is never replaced by accident, and a damaged backup never replaces anything.
    refused = CliRunner(env=target_env).invoke(main, ["db", "restore", str(stored)])
    assert refused.exit_code == 1 and "already holds a store" in refused.output and "--force" in refused.output
    damaged = next(stored / f.path for f in manifest.files if f.path.endswith("neostore.nodestore.db"))
    original_bytes = damaged.read_bytes()
    damaged.write_bytes(original_bytes[:-1] + bytes([original_bytes[-1] ^ 1]))
    elsewhere = environment_of(LocalDatabase(tmp_path / "elsewhere", free_port()), test_environment, password)
    corrupt = CliRunner(env=elsewhere).invoke(main, ["db", "restore", str(stored)])
    assert corrupt.exit_code == 1 and "does not match its manifest" in corrupt.output, corrupt.output
    assert "neostore.nodestore.db: sha256" in corrupt.output and not (tmp_path / "elsewhere" / "data").exists()
    damaged.write_bytes(original_bytes)
    production = test_environment | {
        "SHOUHU_ENV": "production",
        "NEO4J_URI": "neo4j+s://db.example.org",
        "SHOUHU_JWKS_FILE": str(tmp_path / "jwks.json"),
    }
    production.pop("SHOUHU_JWT_SECRET")
    in_production = CliRunner(env=production).invoke(main, ["db", "restore", str(stored)])
    assert in_production.exit_code == 2 and "--production" in in_production.output

    # Neo4j's own dump of the stopped database, loaded over the running target with --force.
    localdb.stop(source)
    dumped = tmp_path / "backup-dump"
    done = CliRunner(env=source_env).invoke(main, ["db", "backup", str(dumped), "--format", "dump"])
    assert done.exit_code == 0 and "runs again" not in done.output, done.output
    assert sorted(f.path for f in backup.Manifest.read(dumped).files) == ["dumps/neo4j.dump", "dumps/system.dump"]
    forced = CliRunner(env=target_env).invoke(main, ["db", "restore", str(dumped), "--force"])
    assert forced.exit_code == 0 and "the database runs again" in forced.output, forced.output
    assert "the store it replaced is in" in forced.output
    assert snapshot(target.bolt_port, password) == original
    assert Counter(p.name.split("-")[0] for p in target.home.iterdir() if p.name.startswith("data")) == {
        "data": 1,
        "data.replaced": 1,
    }
