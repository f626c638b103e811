"""Bundle export: every record of a region subtree as NDJSON lines an empty database accepts.

What a region's export holds:

- the region's subtree, and the ancestors of every region it names (so parents resolve);
- the households, persons and institutions whose `regionCode` lies in the subtree;
- every relationship, interval and event that touches one of those persons or institutions
  (or, for staff, a region of the subtree), every report and case about or by those persons,
  the referrals of those cases and every referral to those institutions;
- every record those records refer to even when it lies outside (a parent registered in
  another county, a referral's case), with each such person's household and region, and the
  away episodes, conditions and registrations of every exported person.

Exporting the import of an export gives the same lines: what is included depends only on
the subtree and on records that are themselves exported. Lines come kind by kind (regions
first, entities before what refers to them), each kind sorted, keys in the spec's order and
absent optional fields omitted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Final, LiteralString

import orjson

from graph.bundle.records import ENTITY_ORDER, KINDS
from graph.driver import Graph
from graph.regions import scope_prefix

KIND_ORDER: Final = (*ENTITY_ORDER, *(kind for kind in KINDS if kind not in ENTITY_ORDER))

SUBTREE_REGIONS: LiteralString = "MATCH (r:Region) WHERE r.code STARTS WITH $prefix RETURN r.code AS code"
SUBTREE_HOUSEHOLDS: LiteralString = "MATCH (h:Household) WHERE h.regionCode STARTS WITH $prefix RETURN h.id AS id"
SUBTREE_PERSONS: LiteralString = "MATCH (p:Person) WHERE p.regionCode STARTS WITH $prefix RETURN p.id AS id"
SUBTREE_INSTITUTIONS: LiteralString = "MATCH (i:Institution) WHERE i.regionCode STARTS WITH $prefix RETURN i.id AS id"

# Relationship records touching a subtree person or institution, or (staff) a subtree region.
TOUCHING_LINKS: LiteralString = """
CALL () {
    MATCH (x:Person) WHERE x.regionCode STARTS WITH $prefix RETURN x
    UNION
    MATCH (x:Institution) WHERE x.regionCode STARTS WITH $prefix RETURN x
    UNION
    MATCH (x:Region) WHERE x.code STARTS WITH $prefix RETURN x
}
MATCH (x)-[r:PARENT_OF|GUARDIAN_OF|CARES_FOR|ENROLLED_IN|PLACED_IN|PAIRED_WITH|SERVES|CONTACTED|VISITED]-()
WITH DISTINCT r
RETURN type(r) AS type, startNode(r).id AS start, startNode(r):Institution AS startIsInstitution,
       endNode(r).id AS end, properties(r) AS props
"""

NODE_INTERVALS: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[rel:AWAY|HAS_CONDITION|REGISTERED]->(n)
RETURN p.id AS person, type(rel) AS type, properties(n) AS props
"""

TOUCHING_REPORTS: LiteralString = """
MATCH (x:Person) WHERE x.regionCode STARTS WITH $prefix
CALL (x) {
    MATCH (r:Report)-[:ABOUT]->(x) RETURN r
    UNION
    MATCH (x)-[:REPORTED]->(r:Report) RETURN r
}
RETURN DISTINCT r.id AS id
"""

TOUCHING_CASES: LiteralString = """
MATCH (x:Person) WHERE x.regionCode STARTS WITH $prefix
CALL (x) {
    MATCH (c:Case)-[:CONCERNS]->(x) RETURN c
    UNION
    MATCH (c:Case)-[:ASSIGNED_TO]->(x) RETURN c
}
RETURN DISTINCT c.id AS id
"""

TOUCHING_REFERRALS: LiteralString = """
CALL () {
    UNWIND $cases AS id
    MATCH (:Case {id: id})-[:REFERRED]->(f:Referral) RETURN f
    UNION
    MATCH (i:Institution) WHERE i.regionCode STARTS WITH $prefix
    MATCH (f:Referral)-[:TO]->(i) RETURN f
}
RETURN DISTINCT f.id AS id
"""

REGIONS: LiteralString = """
UNWIND $codes AS code
MATCH (:Region {code: code})-[:PART_OF*0..]->(r:Region)
WITH DISTINCT r
OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
RETURN r.code AS code, r.name AS name, r.level AS level, parent.code AS parent
"""

HOUSEHOLDS: LiteralString = """
UNWIND $ids AS id
MATCH (h:Household {id: id})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(r:Region)
RETURN h.id AS id, coalesce(r.code, h.regionCode) AS region, h.address AS address, h.lowIncome AS lowIncome
"""

PERSONS: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household)
RETURN p.id AS id, p.name AS name, p.gender AS gender, p.birthDate AS birthDate,
       p.idNumber AS idNumber, h.id AS household, p.phone AS phone, p.deceasedOn AS deceasedOn
"""

INSTITUTIONS: LiteralString = """
UNWIND $ids AS id
MATCH (i:Institution {id: id})
OPTIONAL MATCH (i)-[:LOCATED_IN]->(r:Region)
RETURN i.id AS id, i.name AS name, i.type AS type, coalesce(r.code, i.regionCode) AS region,
       i.services AS services, i.capacity AS capacity
"""

REPORTS: LiteralString = """
UNWIND $ids AS id
MATCH (r:Report {id: id})
OPTIONAL MATCH (r)-[:ABOUT]->(child:Person)
OPTIONAL MATCH (reporter:Person)-[:REPORTED]->(r)
RETURN r.id AS id, child.id AS child, reporter.id AS reporter, r.reporterRole AS reporterRole,
       r.at AS at, r.category AS category, r.urgency AS urgency, r.description AS description
"""

CASES: LiteralString = """
UNWIND $ids AS id
MATCH (c:Case {id: id})
OPTIONAL MATCH (c)-[:CONCERNS]->(child:Person)
OPTIONAL MATCH (c)-[:ASSIGNED_TO]->(worker:Person)
OPTIONAL MATCH (c)-[:FROM_REPORT]->(report:Report)
RETURN c.id AS id, child.id AS child, c.openedOn AS openedOn, c.stage AS stage,
       worker.id AS worker, report.id AS report
"""

REFERRALS: LiteralString = """
UNWIND $ids AS id
MATCH (f:Referral {id: id})
OPTIONAL MATCH (c:Case)-[:REFERRED]->(f)
OPTIONAL MATCH (f)-[:TO]->(i:Institution)
RETURN f.id AS id, c.id AS case, i.id AS institution, f.service AS service, f.on AS on,
       f.dueOn AS dueOn, f.status AS status, f.reason AS reason
"""

# Relationship type -> (kind, field of the start node, field of the end node).
LINK_KINDS: Final = {
    "PARENT_OF": ("parent", "parent", "child"),
    "GUARDIAN_OF": ("guardian", "guardian", "child"),
    "CARES_FOR": ("care", "caregiver", "child"),
    "ENROLLED_IN": ("enrollment", "child", "institution"),
    "PLACED_IN": ("placement", "child", "institution"),
    "PAIRED_WITH": ("pairing", "volunteer", "child"),
    "SERVES": ("staff", "person", None),
    "CONTACTED": ("contact", "from", "child"),
    "VISITED": ("visit", "visitor", "child"),
}
# Node-keyed interval type -> (kind, field naming the person).
NODE_INTERVAL_KINDS: Final = {
    "AWAY": ("away", "person"),
    "HAS_CONDITION": ("condition", "person"),
    "REGISTERED": ("registration", "child"),
}


def _native(value: Any) -> Any:
    # Neo4j's own Date and DateTime become Python's, which orjson writes as ISO 8601.
    to_native = getattr(value, "to_native", None)
    return value if to_native is None else to_native()


def encode(kind: str, values: dict[str, Any]) -> str:
    """One bundle line: `kind` first, then the kind's fields in the spec's order, absent omitted."""
    line: dict[str, Any] = {"kind": kind}
    for spec in KINDS[kind].fields:
        value = values.get(spec.name)
        if value is not None:
            line[spec.name] = _native(value)
    return orjson.dumps(line).decode()


class _Export:
    """The records of one export, gathered by kind, and the keys they refer to."""

    def __init__(self) -> None:
        self.lines: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.persons: set[str] = set()
        self.institutions: set[str] = set()
        self.households: set[str] = set()
        self.regions: set[str] = set()

    def add(self, kind: str, values: dict[str, Any]) -> None:
        self.lines[kind].add(encode(kind, values))
        for spec in KINDS[kind].fields:
            value = values.get(spec.name)
            if value is None or not spec.refs:
                continue
            target = spec.refs[0] if len(spec.refs) == 1 else values.get("_target", spec.refs[0])
            {"person": self.persons, "institution": self.institutions, "household": self.households,
             "region": self.regions}.get(target, set()).add(value)  # fmt: skip


async def _ids(graph: Graph, query: LiteralString, **parameters: Any) -> set[str]:
    return {row[0] for row in await graph.read(query, parameters)}


async def _rows(graph: Graph, query: LiteralString, key: str, values: Iterable[str]) -> list[dict[str, Any]]:
    return [row.data() for row in await graph.read(query, {key: sorted(values)})]


async def export_region(graph: Graph, code: str) -> AsyncIterator[str]:
    """The NDJSON lines (without newlines) of the region subtree of `code`; none when the region
    does not exist."""
    if not await graph.read(REGIONS, {"codes": [code]}):
        return
    prefix = scope_prefix(code)
    out = _Export()
    out.regions |= await _ids(graph, SUBTREE_REGIONS, prefix=prefix)
    out.households |= await _ids(graph, SUBTREE_HOUSEHOLDS, prefix=prefix)
    out.persons |= await _ids(graph, SUBTREE_PERSONS, prefix=prefix)
    out.institutions |= await _ids(graph, SUBTREE_INSTITUTIONS, prefix=prefix)

    for link in await graph.read(TOUCHING_LINKS, {"prefix": prefix}):
        kind, start_field, end_field = LINK_KINDS[link["type"]]
        values = dict(link["props"])
        values[start_field] = link["start"]
        if end_field is not None:
            values[end_field] = link["end"]
        if kind == "staff":
            values["region"], values["institution"] = values.pop("regionCode", None), values.pop("institutionId", None)
        if kind == "guardian" and link["startIsInstitution"]:
            values["_target"] = "institution"
        out.add(kind, values)

    cases = await _ids(graph, TOUCHING_CASES, prefix=prefix)
    referrals = await _rows(
        graph, REFERRALS, "ids", await _ids(graph, TOUCHING_REFERRALS, prefix=prefix, cases=sorted(cases))
    )
    cases |= {row["case"] for row in referrals if row["case"] is not None}
    case_rows = await _rows(graph, CASES, "ids", cases)
    reports = await _ids(graph, TOUCHING_REPORTS, prefix=prefix)
    reports |= {row["report"] for row in case_rows if row["report"] is not None}
    for kind, rows in (
        ("referral", referrals),
        ("case", case_rows),
        ("report", await _rows(graph, REPORTS, "ids", reports)),
    ):
        for values in rows:
            out.add(kind, values)

    # Persons are complete now: nothing below refers to a person.
    for interval in await _rows(graph, NODE_INTERVALS, "ids", out.persons):
        kind, person_field = NODE_INTERVAL_KINDS[interval["type"]]
        out.add(kind, {**interval["props"], person_field: interval["person"]})
    for values in await _rows(graph, PERSONS, "ids", out.persons):
        out.add("person", values)
    for values in await _rows(graph, HOUSEHOLDS, "ids", out.households):
        out.add("household", values)
    for values in await _rows(graph, INSTITUTIONS, "ids", out.institutions):
        out.add("institution", values)
    for values in await _rows(graph, REGIONS, "codes", out.regions):
        out.add("region", values)

    for kind in KIND_ORDER:
        for line in sorted(out.lines[kind]):
            yield line


__all__ = ["encode", "export_region"]
