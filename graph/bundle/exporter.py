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

With `linked` (every caller but an admin), an export carries nothing about a record outside
the region beyond what a record inside it needs (docs/access.md: id, name, relation, status):

- only the records that lie inside (`graph.bundle.scope.anchor`: a relationship, interval,
  report or case with its child, an away episode or condition with its person, a referral
  with its case, a staff post where it serves);
- a person outside whom such a record names as a `linked_person` line (id and name), not as
  a person: no birth date, ID number, phone, household or registration, and none of their own
  away episodes or conditions; the relation and its status are the link's own line;
- the institutions such records name, and the regions above everything exported, in full:
  they are public facts, and the caller's import accepts them back unchanged.

Exporting the import of an export gives the same lines: what is included depends only on
the subtree and on records that are themselves exported. Lines come kind by kind (regions
first, entities before what refers to them), each kind sorted, keys in the format's order and
absent optional fields omitted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Final, LiteralString

import orjson

from graph.bundle.records import ENTITY_ORDER, KINDS, LINKED_PERSON, Kind
from graph.bundle.scope import anchor, target_kind
from graph.dates import native
from graph.driver import Graph
from graph.regions import scope_prefix

KIND_ORDER: Final = (*ENTITY_ORDER, *(kind for kind in KINDS if kind not in ENTITY_ORDER))
REFERENCES: Final = {kind: tuple(spec for spec in KINDS[kind].fields if spec.refs) for kind in KINDS}


def _read(kind: str) -> LiteralString:
    store = KINDS[kind].store
    assert store is not None and store.read is not None, f"{kind} has no export read"
    return store.read


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

# The stored links of the table, by relationship type: edges, and the nodes hanging off a
# person (by the type that links them); and the kind of each entity label.
EDGES: Final = {k.store.label: k for k in KINDS.values() if k.store and k.store.shape == "edge"}
INTERVAL_NODES: Final = {k.store.via: k for k in KINDS.values() if k.store and k.store.via}
LABELS: Final = {k.store.label: name for name, k in KINDS.items() if k.store and k.store.shape == "node"}


def _types(kinds: Iterable[Kind], label: LiteralString | None = None) -> LiteralString:
    """The relationship types of `kinds` (those with an end labelled `label`), as `A|B|C`."""
    types: list[LiteralString] = []
    for kind in kinds:
        store = kind.store
        assert store is not None and store.start is not None
        labels = store.start.labels + (store.end.labels if store.end else ())
        if label is None or label in labels:
            types.append(store.via or store.label)
    return "|".join(types)


_LINK: LiteralString = """
WITH DISTINCT r
RETURN collect({type: type(r), start: startNode(r).id, startLabels: labels(startNode(r)),
                end: coalesce(endNode(r).id, endNode(r).code), endLabels: labels(endNode(r)),
                props: properties(r)}) AS rows
"""

# Relationship records touching a subtree person or institution, or (staff) a subtree region.
LINKS_OF_PERSONS: Final = (
    "UNWIND $keys AS id\nMATCH (:Person {id: id})-[r:" + _types(EDGES.values(), "Person") + "]-()" + _LINK
)
LINKS_OF_INSTITUTIONS: Final = (
    "UNWIND $keys AS id\nMATCH (:Institution {id: id})-[r:" + _types(EDGES.values(), "Institution") + "]-()" + _LINK
)
STAFF_OF_REGIONS: Final = (
    "MATCH (x:Region) WHERE x.code STARTS WITH $prefix\nMATCH ()-[r:"
    + _types(EDGES.values(), "Region")
    + "]->(x)"
    + _LINK
)

NODE_INTERVALS: Final = (
    "UNWIND $keys AS id\nMATCH (p:Person {id: id})-[rel:"
    + _types(INTERVAL_NODES.values())
    + "]->(n)\nRETURN collect({person: p.id, type: type(rel), props: properties(n)}) AS rows\n"
)

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

REGIONS: Final = _read("region")
HOUSEHOLDS: Final = _read("household")
PERSONS: Final = _read("person")
INSTITUTIONS: Final = _read("institution")
REPORTS: Final = _read("report")
CASES: Final = _read("case")
REFERRALS: Final = _read("referral")


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

    def add(self, kind: str, values: dict[str, Any], targets: Mapping[str, str] | None = None) -> None:
        """Add a record; `targets` says which kind a reference that may be of several is."""
        self.lines[kind].add(encode(kind, values))
        for spec in REFERENCES[kind]:
            value = values.get(spec.name)
            if value is None:
                continue
            target = spec.refs[0] if len(spec.refs) == 1 or targets is None else targets[spec.name]
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


class _Inside:
    """Which records lie inside the exported region (all of them, unless `linked`)."""

    def __init__(self, prefix: str, persons: set[str], institutions: set[str], *, linked: bool) -> None:
        self.prefix = prefix
        self.linked = linked
        self.keys: dict[str, set[str]] = {"person": set(persons), "institution": set(institutions), "case": set()}

    def __call__(self, kind: str, values: dict[str, Any], targets: Mapping[str, str] | None = None) -> bool:
        if not self.linked:
            return True
        where = anchor(kind, values)
        if where is None:
            return False
        name, value = where
        target = (targets or {}).get(name) or target_kind(kind, name)
        if target == "region":
            return bool(value.startswith(self.prefix))
        return value in self.keys.get(target, set())


async def export_region(graph: Graph, code: str, *, linked: bool = False, reporters: bool = True) -> AsyncIterator[str]:
    """The NDJSON lines (without newlines) of the region subtree of `code`; none when the region
    does not exist. With `linked`, records outside the region are carried only as far as the
    records inside need them (see the module docstring). Without `reporters` (a reader who may
    not know who filed a report), report lines leave out their `reporter`. A mandatory report
    not yet matched to a child is no line: the format has no report without a child."""
    if not await _rows(graph, REGIONS, [code]):
        return
    prefix = scope_prefix(code)
    out = _Export()
    out.regions |= await _keys(graph, SUBTREE_REGIONS, prefix=prefix)
    out.households |= await _keys(graph, SUBTREE_HOUSEHOLDS, prefix=prefix)
    out.persons |= await _keys(graph, SUBTREE_PERSONS, prefix=prefix)
    out.institutions |= await _keys(graph, SUBTREE_INSTITUTIONS, prefix=prefix)
    inside = _Inside(prefix, out.persons, out.institutions, linked=linked)

    links = await _rows(graph, LINKS_OF_PERSONS, out.persons)
    links += await _rows(graph, LINKS_OF_INSTITUTIONS, out.institutions)
    links += (await graph.read(STAFF_OF_REGIONS, {"prefix": prefix}))[0]["rows"]
    for link in links:
        edge = EDGES[link["type"]]
        store = edge.store
        assert store is not None and store.start is not None and store.end is not None
        values = dict(link["props"])
        for name, stored in store.stored_as.items():
            values[name] = values.pop(stored, None)
        # A guardian is a person or an institution: the node's label says which.
        targets: dict[str, str] = {}
        for end, key, labels in (
            (store.start, link["start"], link["startLabels"]),
            (store.end, link["end"], link["endLabels"]),
        ):
            if end.field is not None:
                values[end.field] = key
                targets[end.field] = next(LABELS[label] for label in labels if label in LABELS)
        if inside(edge.name, values, targets):
            out.add(edge.name, values, targets)

    cases = await _keys(graph, TOUCHING_CASES, prefix=prefix)
    referrals = await _rows(
        graph, REFERRALS, await _keys(graph, TOUCHING_REFERRALS, prefix=prefix, cases=sorted(cases))
    )
    cases |= {row["case"] for row in referrals if row["case"] is not None}
    case_rows = [row for row in await _rows(graph, CASES, cases) if inside("case", row)]
    inside.keys["case"] = {row["id"] for row in case_rows}
    reports = await _keys(graph, TOUCHING_REPORTS, prefix=prefix)
    reports |= {row["report"] for row in case_rows if row["report"] is not None}
    report_rows = [row for row in await _rows(graph, REPORTS, reports) if row["child"] is not None]
    if not reporters:
        report_rows = [{k: v for k, v in row.items() if k != "reporter"} for row in report_rows]
    for kind, rows in (("referral", referrals), ("case", case_rows), ("report", report_rows)):
        for values in rows:
            if inside(kind, values):
                out.add(kind, values)

    # Persons are complete now: nothing below refers to a person.
    region_persons = inside.keys["person"]
    for interval in await _rows(graph, NODE_INTERVALS, region_persons if linked else out.persons):
        node = INTERVAL_NODES[interval["type"]]
        assert node.store is not None and node.store.start is not None and node.store.start.field is not None
        out.add(node.name, {**interval["props"], node.store.start.field: interval["person"]})
    for values in await _rows(graph, PERSONS, out.persons):
        if linked and values["id"] not in region_persons:
            out.add(LINKED_PERSON, {"id": values["id"], "name": values["name"]})
        else:
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
