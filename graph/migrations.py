"""Constraints and indexes: idempotent statements applied at start-up and by `shouhu db migrate`.

Each statement names its constraint or index, so readiness can check that all are in place.
"""

from __future__ import annotations

from typing import LiteralString

from graph import risk_index
from graph.bundle.records import KINDS
from graph.driver import AsyncManagedTransaction, Graph

#: Each stored kind's uniqueness constraint is declared with the kind (`Store.unique`).
STATEMENTS: tuple[tuple[str, LiteralString], ...] = (
    *(kind.store.unique for kind in KINDS.values() if kind.store is not None and kind.store.unique is not None),
    (
        "person_id_number",
        "CREATE CONSTRAINT person_id_number IF NOT EXISTS FOR (p:Person) REQUIRE p.idNumber IS UNIQUE",
    ),
    ("alert_id", "CREATE CONSTRAINT alert_id IF NOT EXISTS FOR (a:Alert) REQUIRE a.id IS UNIQUE"),
    ("import_run_id", "CREATE CONSTRAINT import_run_id IF NOT EXISTS FOR (r:ImportRun) REQUIRE r.id IS UNIQUE"),
    ("audit_event_id", "CREATE CONSTRAINT audit_event_id IF NOT EXISTS FOR (e:AuditEvent) REQUIRE e.id IS UNIQUE"),
    (
        "idempotency_key",
        "CREATE CONSTRAINT idempotency_key IF NOT EXISTS FOR (k:IdempotencyKey) REQUIRE k.key IS UNIQUE",
    ),
    (
        "lookup_quota_sub",
        "CREATE CONSTRAINT lookup_quota_sub IF NOT EXISTS FOR (q:LookupQuota) REQUIRE q.sub IS UNIQUE",
    ),
    ("person_region", "CREATE INDEX person_region IF NOT EXISTS FOR (p:Person) ON (p.regionCode)"),
    # A page of children seeks a region's persons here (graph.persons, _CHILD_IN_REGION): the
    # birth date that tells a child comes with the index entry, not read from each person.
    (
        "person_region_birth_date",
        "CREATE INDEX person_region_birth_date IF NOT EXISTS FOR (p:Person) ON (p.regionCode, p.birthDate)",
    ),
    ("person_name", "CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)"),
    ("person_birth_date", "CREATE INDEX person_birth_date IF NOT EXISTS FOR (p:Person) ON (p.birthDate)"),
    ("person_phone", "CREATE INDEX person_phone IF NOT EXISTS FOR (p:Person) ON (p.phone)"),
    ("household_region", "CREATE INDEX household_region IF NOT EXISTS FOR (h:Household) ON (h.regionCode)"),
    ("institution_region", "CREATE INDEX institution_region IF NOT EXISTS FOR (i:Institution) ON (i.regionCode)"),
    ("region_level", "CREATE INDEX region_level IF NOT EXISTS FOR (r:Region) ON (r.level)"),
    ("audit_event_at", "CREATE INDEX audit_event_at IF NOT EXISTS FOR (e:AuditEvent) ON (e.at)"),
    ("audit_event_sub", "CREATE INDEX audit_event_sub IF NOT EXISTS FOR (e:AuditEvent) ON (e.sub, e.operation)"),
    ("alert_status", "CREATE INDEX alert_status IF NOT EXISTS FOR (a:Alert) ON (a.status)"),
    ("alert_child_rule", "CREATE INDEX alert_child_rule IF NOT EXISTS FOR (a:Alert) ON (a.childId, a.rule)"),
    ("alert_region", "CREATE INDEX alert_region IF NOT EXISTS FOR (a:Alert) ON (a.regionCode)"),
    ("sweep_region", "CREATE INDEX sweep_region IF NOT EXISTS FOR (s:Sweep) ON (s.regionPrefix)"),
    (
        "child_risk_child",
        "CREATE CONSTRAINT child_risk_child IF NOT EXISTS FOR (k:ChildRisk) REQUIRE k.childId IS UNIQUE",
    ),
    ("child_risk_region", "CREATE INDEX child_risk_region IF NOT EXISTS FOR (k:ChildRisk) ON (k.regionCode)"),
    *risk_index.INDEXES,
    ("alert_owner", "CREATE INDEX alert_owner IF NOT EXISTS FOR (a:Alert) ON (a.ownerId)"),
    # Every replica polls the red alerts numbered after its cursor (graph.alerts, NUMBER_RED).
    ("alert_red_seq", "CREATE INDEX alert_red_seq IF NOT EXISTS FOR (a:Alert) ON (a.redSeq)"),
    (
        "alert_sequence_name",
        "CREATE CONSTRAINT alert_sequence_name IF NOT EXISTS FOR (s:AlertSequence) REQUIRE s.name IS UNIQUE",
    ),
    (
        "daily_sweep_day",
        "CREATE CONSTRAINT daily_sweep_day IF NOT EXISTS FOR (s:DailySweep) REQUIRE s.day IS UNIQUE",
    ),
)

NAMES = frozenset(name for name, _ in STATEMENTS)

# A uniqueness constraint's backing index carries the constraint's name, so online indexes
# cover both kinds; constraints are listed too, so a dropped constraint whose index
# somehow remained still counts as missing.
SHOW_ONLINE_INDEXES: LiteralString = "SHOW INDEXES YIELD name, state WHERE state = 'ONLINE' RETURN name"
SHOW_CONSTRAINTS: LiteralString = "SHOW CONSTRAINTS YIELD name RETURN name"
CONSTRAINT_NAMES = frozenset(name for name, statement in STATEMENTS if "CONSTRAINT" in statement)


AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes($seconds)"


async def apply(graph: Graph, *, together: bool = False, wait: int = 300) -> list[str]:
    """Apply every statement (each is a no-op when already in place); return their names.

    `together` creates them all in one transaction: Neo4j then fills every new index in one
    scan of the store instead of one scan each, which is what a freshly loaded store (the
    offline import) needs; `wait` is how long to wait for them to come online (seconds).
    """
    if together:

        async def create(tx: AsyncManagedTransaction) -> None:
            for _, statement in STATEMENTS:
                await (await tx.run(statement)).consume()

        await graph.write_transaction(create)
    else:
        for _, statement in STATEMENTS:
            await graph.write(statement)
    await graph.write(AWAIT_INDEXES, {"seconds": wait})
    return [name for name, _ in STATEMENTS]


async def missing(graph: Graph) -> frozenset[str]:
    """The names of constraints and indexes not yet in place (online)."""
    indexes = {record["name"] for record in await graph.read(SHOW_ONLINE_INDEXES)}
    constraints = {record["name"] for record in await graph.read(SHOW_CONSTRAINTS)}
    return (NAMES - indexes) | (CONSTRAINT_NAMES - constraints)
