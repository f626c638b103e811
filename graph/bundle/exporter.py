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
first, entities before what refers to them), each kind sorted, keys in the format's order and
absent optional fields omitted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Final, LiteralString

import orjson

from graph.bundle.records import ENTITY_ORDER, KINDS
from graph.dates import native
from graph.driver import Graph
from graph.regions import scope_prefix

KIND_ORDER: Final = (*ENTITY_ORDER, *(kind for kind in KINDS if kind not in ENTITY_ORDER))
REFERENCES: Final = {kind: tuple(spec for spec in KINDS[kind].fields if spec.refs) for kind in KINDS}

# Every query answers with one record holding a list: the async driver reads one large
# message far faster than thousands of small ones. By-key queries run in chunks of `CHUNK`.
CHUNK: Final = 5_000

SUBTREE_REGIONS: LiteralString = "MATCH (r:Region) WHERE r.code STARTS WITH $prefix RETURN collect(r.code) AS keys"
SUBTREE_HOUSEHOLDS: LiteralString = (
    "MATCH (h:Household) WHERE h.regionCode STARTS WITH $prefix RETURN collect(h.id) AS keys"
)
SUBTREE_PERSONS: LiteralString = "MATCH (p:Person) WHERE p.regionCode STARTS WITH $prefix RETURN collect(p.id) AS keys"
SUBTREE_INSTITUTIONS: LiteralString = (
    "MATCH (i:Institution) WHERE i.regionCode STARTS WITH $prefix RETURN collect(i.id) AS keys"
)

# Relationship records touching a subtree person or institution, or (staff) a subtree region.
LINKS_OF_PERSONS: LiteralString = """
UNWIND $keys AS id
MATCH (:Person {id: id})-[r:PARENT_OF|GUARDIAN_OF|CARES_FOR|ENROLLED_IN|PLACED_IN|PAIRED_WITH|SERVES|
                           CONTACTED|VISITED]-()
WITH DISTINCT r
RETURN collect({type: type(r), start: startNode(r).id, startIsInstitution: startNode(r):Institution,
                end: endNode(r).id, props: properties(r)}) AS rows
"""

LINKS_OF_INSTITUTIONS: LiteralString = """
UNWIND $keys AS id
MATCH (:Institution {id: id})-[r:GUARDIAN_OF|ENROLLED_IN|PLACED_IN|SERVES]-()
WITH DISTINCT r
RETURN collect({type: type(r), start: startNode(r).id, startIsInstitution: startNode(r):Institution,
                end: endNode(r).id, props: properties(r)}) AS rows
"""

STAFF_OF_REGIONS: LiteralString = """
MATCH (x:Region) WHERE x.code STARTS WITH $prefix
MATCH ()-[r:SERVES]->(x)
RETURN collect({type: type(r), start: startNode(r).id, startIsInstitution: false,
                end: x.code, props: properties(r)}) AS rows
"""

NODE_INTERVALS: LiteralString = """
UNWIND $keys AS id
MATCH (p:Person {id: id})-[rel:AWAY|HAS_CONDITION|REGISTERED]->(n)
RETURN collect({person: p.id, type: type(rel), props: properties(n)}) AS rows
"""

TOUCHING_REPORTS: LiteralString = """
MATCH (x:Person) WHERE x.regionCode STARTS WITH $prefix
CALL (x) {
    MATCH (r:Report)-[:ABOUT]->(x) RETURN r
    UNION
    MATCH (x)-[:REPORTED]->(r:Report) RETURN r
}
RETURN collect(DISTINCT r.id) AS keys
"""

TOUCHING_CASES: LiteralString = """
MATCH (x:Person) WHERE x.regionCode STARTS WITH $prefix
CALL (x) {
    MATCH (c:Case)-[:CONCERNS]->(x) RETURN c
    UNION
    MATCH (c:Case)-[:ASSIGNED_TO]->(x) RETURN c
}
RETURN collect(DISTINCT c.id) AS keys
"""

TOUCHING_REFERRALS: LiteralString = """
CALL () {
    UNWIND $cases AS id
    MATCH (:Case {id: id})-[:REFERRED]->(f:Referral) RETURN f
    UNION
    MATCH (i:Institution) WHERE i.regionCode STARTS WITH $prefix
    MATCH (f:Referral)-[:TO]->(i) RETURN f
}
RETURN collect(DISTINCT f.id) AS keys
"""

REGIONS: LiteralString = """
UNWIND $keys AS code
MATCH (:Region {code: code})-[:PART_OF*0..]->(r:Region)
WITH DISTINCT r
OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
RETURN collect({code: r.code, name: r.name, level: r.level, parent: parent.code}) AS rows
"""

HOUSEHOLDS: LiteralString = """
UNWIND $keys AS id
MATCH (h:Household {id: id})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(r:Region)
RETURN collect({id: h.id, region: coalesce(r.code, h.regionCode), address: h.address,
                lowIncome: h.lowIncome}) AS rows
"""

PERSONS: LiteralString = """
UNWIND $keys AS id
MATCH (p:Person {id: id})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household)
RETURN collect({id: p.id, name: p.name, gender: p.gender, birthDate: p.birthDate, idNumber: p.idNumber,
                household: h.id, phone: p.phone, deceasedOn: p.deceasedOn}) AS rows
"""

INSTITUTIONS: LiteralString = """
UNWIND $keys AS id
MATCH (i:Institution {id: id})
OPTIONAL MATCH (i)-[:LOCATED_IN]->(r:Region)
RETURN collect({id: i.id, name: i.name, type: i.type, region: coalesce(r.code, i.regionCode),
                services: i.services, capacity: i.capacity}) AS rows
"""

REPORTS: LiteralString = """
UNWIND $keys AS id
MATCH (r:Report {id: id})
OPTIONAL MATCH (r)-[:ABOUT]->(child:Person)
OPTIONAL MATCH (reporter:Person)-[:REPORTED]->(r)
RETURN collect({id: r.id, child: child.id, reporter: reporter.id, reporterRole: r.reporterRole, at: r.at,
                category: r.category, urgency: r.urgency, description: r.description}) AS rows
"""

CASES: LiteralString = """
UNWIND $keys AS id
MATCH (c:Case {id: id})
OPTIONAL MATCH (c)-[:CONCERNS]->(child:Person)
OPTIONAL MATCH (c)-[:ASSIGNED_TO]->(worker:Person)
OPTIONAL MATCH (c)-[:FROM_REPORT]->(report:Report)
RETURN collect({id: c.id, child: child.id, openedOn: c.openedOn, stage: c.stage, worker: worker.id,
                report: report.id}) AS rows
"""

REFERRALS: LiteralString = """
UNWIND $keys AS id
MATCH (f:Referral {id: id})
OPTIONAL MATCH (c:Case)-[:REFERRED]->(f)
OPTIONAL MATCH (f)-[:TO]->(i:Institution)
RETURN collect({id: f.id, `case`: c.id, institution: i.id, service: f.service, `on`: f.on, dueOn: f.dueOn,
                status: f.status, reason: f.reason}) AS rows
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


def encode(kind: str, values: dict[str, Any]) -> str:
    """One bundle line: `kind` first, then the kind's fields in the format's order, absent omitted."""
    line: dict[str, Any] = {"kind": kind}
    for spec in KINDS[kind].fields:
        value = values.get(spec.name)
        if value is not None:
            line[spec.name] = native(value)  # orjson writes Python's dates as ISO 8601
    return orjson.dumps(line).decode()


class _Export:
    """The records of one export, gathered by kind, and the keys they refer to."""

    def __init__(self) -> None:
        self.lines: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.persons: set[str] = set()
        self.institutions: set[str] = set()
        self.households: set[str] = set()
        self.regions: set[str] = set()
        self.keys = {
            "person": self.persons,
            "institution": self.institutions,
            "household": self.households,
            "region": self.regions,
        }

    def add(self, kind: str, values: dict[str, Any]) -> None:
        self.lines[kind].add(encode(kind, values))
        for spec in REFERENCES[kind]:
            value = values.get(spec.name)
            if value is None:
                continue
            # A guardian is a person or an institution: the query says which.
            target = spec.refs[0] if len(spec.refs) == 1 else values.get("_target", spec.refs[0])
            keys = self.keys.get(target)
            if keys is not None:
                keys.add(value)


async def _keys(graph: Graph, query: LiteralString, **parameters: Any) -> set[str]:
    return set((await graph.read(query, parameters))[0]["keys"])


async def _rows(graph: Graph, query: LiteralString, keys: Iterable[str]) -> list[dict[str, Any]]:
    ordered = sorted(keys)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ordered), CHUNK):
        rows.extend((await graph.read(query, {"keys": ordered[start : start + CHUNK]}))[0]["rows"])
    return rows


async def export_region(graph: Graph, code: str) -> AsyncIterator[str]:
    """The NDJSON lines (without newlines) of the region subtree of `code`; none when the region
    does not exist."""
    if not await _rows(graph, REGIONS, [code]):
        return
    prefix = scope_prefix(code)
    out = _Export()
    out.regions |= await _keys(graph, SUBTREE_REGIONS, prefix=prefix)
    out.households |= await _keys(graph, SUBTREE_HOUSEHOLDS, prefix=prefix)
    out.persons |= await _keys(graph, SUBTREE_PERSONS, prefix=prefix)
    out.institutions |= await _keys(graph, SUBTREE_INSTITUTIONS, prefix=prefix)

    links = await _rows(graph, LINKS_OF_PERSONS, out.persons)
    links += await _rows(graph, LINKS_OF_INSTITUTIONS, out.institutions)
    links += (await graph.read(STAFF_OF_REGIONS, {"prefix": prefix}))[0]["rows"]
    for link in links:
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

    cases = await _keys(graph, TOUCHING_CASES, prefix=prefix)
    referrals = await _rows(
        graph, REFERRALS, await _keys(graph, TOUCHING_REFERRALS, prefix=prefix, cases=sorted(cases))
    )
    cases |= {row["case"] for row in referrals if row["case"] is not None}
    case_rows = await _rows(graph, CASES, cases)
    reports = await _keys(graph, TOUCHING_REPORTS, prefix=prefix)
    reports |= {row["report"] for row in case_rows if row["report"] is not None}
    for kind, rows in (("referral", referrals), ("case", case_rows), ("report", await _rows(graph, REPORTS, reports))):
        for values in rows:
            out.add(kind, values)

    # Persons are complete now: nothing below refers to a person.
    for interval in await _rows(graph, NODE_INTERVALS, out.persons):
        kind, person_field = NODE_INTERVAL_KINDS[interval["type"]]
        out.add(kind, {**interval["props"], person_field: interval["person"]})
    for values in await _rows(graph, PERSONS, out.persons):
        out.add("person", values)
    for values in await _rows(graph, HOUSEHOLDS, out.households):
        out.add("household", values)
    for values in await _rows(graph, INSTITUTIONS, out.institutions):
        out.add("institution", values)
    for values in await _rows(graph, REGIONS, out.regions):
        out.add("region", values)

    for kind in KIND_ORDER:
        for line in sorted(out.lines[kind]):
            yield line


__all__ = ["encode", "export_region"]
