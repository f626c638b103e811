"""The children a change can reach (`graph.risk.AFFECTED`), as a write finds them (every id under
every label) and as an import does (each id under its own kind), against what the rules read."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Final, LiteralString

from graph import alerts, discovery_rules, risk
from graph.driver import Graph
from tests.conftest import SAMPLE_BUNDLE

#: For each relationship the rules read around a child, the things whose change the rules see
#: through it, as (the id a write of that change names, its kind, the child reading it), found in
#: the sample county. Written from the rules (graph/discovery_rules.py), not from `AFFECTED`: a
#: property of the far end that a rule reads makes the far end what a change names (a parent's
#: death, a caregiver's condition, a household's low income, a school's type, a referral's
#: status); a relationship read for itself is written with the child named.
READ_THROUGH: Final[dict[str, tuple[LiteralString, ...]]] = {
    # Each parent who is no guardian or caregiver of the child too, so that only PARENT_OF
    # reaches the child (the sample's parents are all guardians: the test adds one who is not).
    "PARENT_OF": ("""MATCH (x:Person)-[:PARENT_OF]->(c:Person) WHERE NOT (x)-[:GUARDIAN_OF|CARES_FOR]->(c)
                     RETURN x.id AS id, 'person' AS kind, c.id AS child""",),
    "AWAY": ("""MATCH (x:Person)-[:AWAY]->() MATCH (x)-[:PARENT_OF]->(c:Person)
                RETURN DISTINCT x.id AS id, 'person' AS kind, c.id AS child""",),
    "HAS_CONDITION": ("""MATCH (x:Person)-[:HAS_CONDITION]->() MATCH (x)-[:PARENT_OF|CARES_FOR]->(c:Person)
                         RETURN DISTINCT x.id AS id, 'person' AS kind, c.id AS child""",),
    # The caregiver (death, conditions), and the caregiver's other children (how many they care for).
    "CARES_FOR": (
        "MATCH (x:Person)-[:CARES_FOR]->(c:Person) RETURN x.id AS id, 'person' AS kind, c.id AS child",
        """MATCH (x:Person)<-[:CARES_FOR]-(:Person)-[:CARES_FOR]->(c:Person)
           WHERE x <> c AND NOT (x)-[:PARENT_OF|GUARDIAN_OF|CARES_FOR]->(c)
           RETURN DISTINCT x.id AS id, 'person' AS kind, c.id AS child""",
    ),
    # Only who the guardian is counts (a contact from family), never a property of theirs.
    "GUARDIAN_OF": ("MATCH ()-[:GUARDIAN_OF]->(c:Person) RETURN DISTINCT c.id AS id, 'person' AS kind, c.id AS child",),
    "REGISTERED": ("MATCH (c:Person)-[:REGISTERED]->() RETURN DISTINCT c.id AS id, 'person' AS kind, c.id AS child",),
    "ABOUT": ("MATCH (x:Report)-[:ABOUT]->(c:Person) RETURN x.id AS id, 'report' AS kind, c.id AS child",),
    "CONCERNS": ("MATCH (x:Case)-[:CONCERNS]->(c:Person) RETURN x.id AS id, 'case' AS kind, c.id AS child",),
    "REFERRED": ("""MATCH (k:Case)-[:REFERRED]->(x:Referral) MATCH (k)-[:CONCERNS]->(c:Person)
                    RETURN x.id AS id, 'referral' AS kind, c.id AS child""",),
    "HAD_STATUS": ("""MATCH (k:Case)-[:REFERRED]->(x:Referral)-[:HAD_STATUS]->() MATCH (k)-[:CONCERNS]->(c:Person)
                      RETURN DISTINCT x.id AS id, 'referral' AS kind, c.id AS child""",),
    "PLACED_IN": ("MATCH (c:Person)-[:PLACED_IN]->() RETURN DISTINCT c.id AS id, 'person' AS kind, c.id AS child",),
    "PAIRED_WITH": ("MATCH ()-[:PAIRED_WITH]->(c:Person) RETURN DISTINCT c.id AS id, 'person' AS kind, c.id AS child",),
    "ENROLLED_IN": (
        "MATCH (c:Person)-[:ENROLLED_IN]->(x:Institution) RETURN x.id AS id, 'institution' AS kind, c.id AS child",
    ),
    "MEMBER_OF": (
        "MATCH (c:Person)-[:MEMBER_OF]->(x:Household) RETURN x.id AS id, 'household' AS kind, c.id AS child",
    ),
    "CONTACTED": ("MATCH ()-[:CONTACTED]->(c:Person) RETURN DISTINCT c.id AS id, 'person' AS kind, c.id AS child",),
    "VISITED": ("MATCH ()-[:VISITED]->(c:Person) RETURN DISTINCT c.id AS id, 'person' AS kind, c.id AS child",),
}  # fmt: skip

#: A parent of a left-behind child who is not their guardian, added for the test and removed after.
ADD_PARENT_ONLY: LiteralString = """
MATCH (c:Person {id: 'lb-one-parent'})
CREATE (:Person {id: 'test-risk.parent-only', name: '测试', gender: 'M', birthDate: date('1990-01-01')})
       -[:PARENT_OF]->(c)
"""
REMOVE_PARENT_ONLY: LiteralString = "MATCH (x:Person {id: 'test-risk.parent-only'}) DETACH DELETE x"

#: How many of each relationship's instances are checked (the sample has hundreds of some).
EACH: Final = 20


def relationships_the_rules_read() -> set[str]:
    types: set[str] = set()
    for name, value in vars(discovery_rules).items():
        if name.isupper() and isinstance(value, str):
            for found in re.findall(r"\[\w*:([A-Z_|]+)", value):
                types.update(found.split("|"))
    return types


def test_every_relationship_the_rules_read_is_accounted_for() -> None:
    """A rule that starts reading a relationship of a new type fails here until what a change of
    it reaches has been thought about (and `AFFECTED` made to reach it)."""
    assert relationships_the_rules_read() == set(READ_THROUGH)


async def test_a_change_reaches_every_child_that_reads_it_by_both_paths(sample_county: Graph) -> None:
    missed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    await sample_county.write(ADD_PARENT_ONLY)
    try:
        for relationship, queries in READ_THROUGH.items():
            for query in queries:
                rows = await sample_county.read(query)
                assert rows, f"the sample county holds no {relationship}: nothing would be checked"
                for row in sorted(rows, key=lambda r: (r["id"], r["child"]))[:EACH]:
                    named_id, kind, child = row["id"], row["kind"], row["child"]
                    if child not in await risk.affected_children(sample_county, [named_id]):
                        missed[relationship].append(("write", named_id))
                    if child not in await risk.affected_named(sample_county, {kind: [named_id]}):
                        missed[relationship].append(("import", named_id))
    finally:
        await sample_county.write(REMOVE_PARENT_ONLY)
    assert not missed


async def test_a_write_and_an_import_of_one_line_reach_the_same_children(sample_county: Graph) -> None:
    """The ids of a line as a write names them (every id under every label, `bundle_ids`) and as
    an import does (each under the kinds its field refers to, `named_ids`) reach the same
    children, for lines of every kind of the sample bundle."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for line in SAMPLE_BUNDLE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() and not line.startswith("#") else None
        if isinstance(record, dict) and record.get("kind") not in (None, "region"):
            by_kind[record["kind"]].append(line)
    assert len(by_kind) >= 10
    reached_any = set()
    for kind, lines in sorted(by_kind.items()):
        for line in lines[:5]:
            data = json.loads(line)
            named: dict[str, set[str]] = defaultdict(set)
            for target, value in risk.named_ids(kind, data):
                named[target].add(value)
            as_written = await risk.affected_children(sample_county, risk.bundle_ids([line]))
            as_imported = await risk.affected_named(sample_county, named)
            assert as_written == as_imported, (kind, line)
            if as_written:
                reached_any.add(kind)
    assert {"person", "household", "away", "care", "case", "referral"} <= reached_any


def test_a_reconciliation_takes_no_string_or_list_its_plan_would_be_keyed_by() -> None:
    """Neo4j keys a plan by the size of each top-level string and list parameter: a statement of
    ten parts taking some would be planned again for each combination of sizes a round brings.
    What is left at the top are dates, a time and a map (`SIZED` holds the rest)."""
    for statement in (risk._children_reconciliation(), alerts.VILLAGES_RECONCILIATION, alerts.PARTIAL_RECONCILIATION):
        assert risk._parameter_names(statement) == {"asOf", "at", "readAt", "dueDays", "sized"}
