"""The four operations the API benchmark asks of each system, and how their answers compare.

Each operation has one GraphQL document for Shouhu, one for the peer (the Neo4j GraphQL
Library's generated API over the same graph, `bench/peer/schema.graphql`) and an
`operationName` the floor (`bench.floor`) dispatches on. Shouhu's answer is the reference
shape: the floor builds it in Cypher; the peer's answer is converted to it (`to_shouhu`),
taking from the peer exactly what it returned, only renamed and nested alike. `same` compares
two answers as normalised JSON, so the benchmark refuses to time systems that disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

#: The operations, in the order the benchmark measures them (the write last: its visits
#: change what discovery finds).
OPERATIONS: Final = ("child_file", "township_list", "discover", "record_visit")

SHOUHU_CHILD_FILE: Final = """query ChildFile($id: ID!, $asOf: Date!) {
  child(id: $id) {
    id name age(asOf: $asOf) idNumber
    household { id lowIncome members { id } }
    parents {
      relation
      parent { id name person { id household { id lowIncome } } }
      status(asOf: $asOf) { dead lacksCapacity away { destination since } }
    }
    guardians(asOf: $asOf) { id name kind basis since person { id household { id } } }
    caregivers(asOf: $asOf) {
      since agreementSignedOn
      caregiver { id name person { id age(asOf: $asOf) household { id members { id } } } }
    }
  }
}"""

#: An interval relationship's properties holding at `$asOf`, as the library's filter.
_HOLDS: Final = "{since: {lte: $asOf}, OR: [{until: {eq: null}}, {until: {gte: $asOf}}]}"
_ORDERED: Final = "sort: [{birthDate: ASC}, {id: ASC}]"

PEER_CHILD_FILE: Final = f"""query ChildFile($id: ID!, $asOf: Date!) {{
  people(where: {{id: {{eq: $id}}}}) {{
    id name age(asOf: $asOf) idNumber
    household {{ id lowIncome members({_ORDERED}) {{ id }} }}
    parentsConnection(sort: [{{node: {{id: ASC}}}}]) {{
      edges {{
        properties {{ type }}
        node {{
          id name household {{ id lowIncome }}
          dead(asOf: $asOf) lacksCapacity(asOf: $asOf) awayAt(asOf: $asOf) {{ destination since }}
        }}
      }}
    }}
    guardiansConnection(
      where: {{Person: {{edge: {_HOLDS}}}, Institution: {{edge: {_HOLDS}}}}}
      sort: [{{edge: {{since: ASC}}}}]
    ) {{
      edges {{
        properties {{ basis since }}
        node {{ __typename ... on Person {{ id name household {{ id }} }} ... on Institution {{ id name }} }}
      }}
    }}
    caregiversConnection(where: {{edge: {_HOLDS}}}, sort: [{{edge: {{since: ASC}}}}, {{node: {{id: ASC}}}}]) {{
      edges {{
        properties {{ since agreementSignedOn }}
        node {{ id name age(asOf: $asOf) household {{ id members({_ORDERED}) {{ id }} }} }}
      }}
    }}
  }}
}}"""

SHOUHU_TOWNSHIP_LIST: Final = """query TownshipList($region: String!, $asOf: Date!) {
  children(region: $region, asOf: $asOf, first: 50) {
    edges {
      node {
        id name
        parents { relation parent { id name person { household { id } } } }
        guardians(asOf: $asOf) { id kind person { household { id } } }
        caregivers(asOf: $asOf) { since caregiver { id person { household { id } } } }
      }
    }
  }
}"""

PEER_TOWNSHIP_LIST: Final = f"""query TownshipList($prefix: String!, $asOf: Date!, $born18: Date!) {{
  people(
    where: {{
      regionCode: {{startsWith: $prefix}}
      birthDate: {{lte: $asOf, gt: $born18}}
      OR: [{{deceasedOn: {{eq: null}}}}, {{deceasedOn: {{gt: $asOf}}}}]
    }}
    sort: [{{id: ASC}}]
    limit: 50
  ) {{
    id name
    parentsConnection(sort: [{{node: {{id: ASC}}}}]) {{
      edges {{ properties {{ type }} node {{ id name household {{ id }} }} }}
    }}
    guardiansConnection(
      where: {{Person: {{edge: {_HOLDS}}}, Institution: {{edge: {_HOLDS}}}}}
      sort: [{{edge: {{since: ASC}}}}]
    ) {{
      edges {{
        properties {{ since }}
        node {{ __typename ... on Person {{ id household {{ id }} }} ... on Institution {{ id }} }}
      }}
    }}
    caregiversConnection(where: {{edge: {_HOLDS}}}, sort: [{{edge: {{since: ASC}}}}, {{node: {{id: ASC}}}}]) {{
      edges {{ properties {{ since }} node {{ id household {{ id }} }} }}
    }}
  }}
}}"""

SHOUHU_DISCOVER: Final = """query Discover($region: String!, $asOf: Date!) {
  discover(region: $region, asOf: $asOf, first: 50) {
    edges { node { level findings { rule level evidence { kind id personId since on } } child { id name } } }
  }
}"""


def peer_discover(prefix: str) -> str:
    """The peer's first page for a region: the risk nodes' property holding its code prefix."""
    from graph.risk_index import PREFIX_PROPERTIES

    return f"""query Discover($region: String!) {{
  childRisks(
    where: {{{PREFIX_PROPERTIES[len(prefix)]}: {{eq: $region}}, rank: {{gte: 1}}}}
    sort: [{{rank: DESC}}, {{childId: ASC}}]
    limit: 50
  ) {{ level findings child {{ id name }} }}
}}"""


SHOUHU_RECORD_VISIT: Final = """mutation RecordVisit($input: VisitInput!) {
  recordVisit(input: $input) { childId visitorId on type notes }
}"""

PEER_RECORD_VISIT: Final = """mutation RecordVisit(
  $visitor: ID!, $child: ID!, $on: Date!, $type: String!, $notes: String, $by: String!
) {
  recordVisit(visitor: $visitor, child: $child, on: $on, type: $type, notes: $notes, by: $by) {
    childId visitorId on type notes
  }
}"""

#: Shouhu's evidence fields the discover query selects (the floor and the peer keep these).
EVIDENCE_FIELDS: Final = ("kind", "id", "personId", "since", "on")

_OPERATION_NAMES: Final = {
    "child_file": "ChildFile",
    "township_list": "TownshipList",
    "discover": "Discover",
    "record_visit": "RecordVisit",
}


@dataclass(frozen=True, slots=True)
class Sample:
    """What the requests are about: drawn from the bench database before the run."""

    as_of: dt.date  #: the bundle's date: what the files and lists are read at
    today: dt.date  #: today in the deployment's zone: discovery's day, a visit's day
    region: str  #: the 12-digit code of the region the caller coordinates, which `discover` asks about
    township: str  #: a township's 12-digit code, with at least 50 children
    children: tuple[str, ...]  #: children under 18 today, with parents
    visitor: str  #: an adult in scope who visits
    visited: tuple[str, ...]  #: children in the visitor's village


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def evidence(item: Mapping[str, Any]) -> dict[str, Any]:
    """A materialised evidence record (snake_case, unset fields absent) as the query selects it."""
    given = {_camel(key): value for key, value in item.items()}
    return {name: given.get(name) for name in EVIDENCE_FIELDS}


def born18(day: dt.date) -> dt.date:
    from graph.dates import birth_cutoff

    return birth_cutoff(day, 18)


def _body(query: str, operation: str, variables: Mapping[str, Any]) -> str:
    return orjson.dumps({"query": query, "operationName": operation, "variables": variables}).decode()


def bodies(operation: str, system: str, sample: Sample, *, tag: str = "__SEQ__") -> list[str]:
    """The request bodies the load tool cycles through for one operation on one system.

    `tag` ends a visit's notes: the load tool replaces `__SEQ__` with a number unique to
    each request, so no two visits are the same visit (Shouhu refuses one as a CONFLICT).
    """
    name = _OPERATION_NAMES[operation]
    as_of = sample.as_of.isoformat()
    if operation == "child_file":
        query = PEER_CHILD_FILE if system == "peer" else SHOUHU_CHILD_FILE
        return [_body(query, name, {"id": child, "asOf": as_of}) for child in sample.children]
    if operation == "township_list":
        from graph.regions import scope_prefix

        if system == "peer":
            variables = {
                "prefix": scope_prefix(sample.township),
                "asOf": as_of,
                "born18": born18(sample.as_of).isoformat(),
            }
            return [_body(PEER_TOWNSHIP_LIST, name, variables)]
        return [_body(SHOUHU_TOWNSHIP_LIST, name, {"region": sample.township, "asOf": as_of})]
    if operation == "discover":
        from graph.regions import scope_prefix

        today = sample.today.isoformat()
        if system == "peer":
            prefix = scope_prefix(sample.region)
            return [_body(peer_discover(prefix), name, {"region": prefix})]
        return [_body(SHOUHU_DISCOVER, name, {"region": sample.region, "asOf": today})]
    if operation == "record_visit":
        out = []
        for child in sample.visited:
            visit = {
                "visitorId": sample.visitor,
                "childId": child,
                "on": sample.today.isoformat(),
                "type": "home_visit",
                "notes": f"bench {system} {tag}",
            }
            if system == "peer":
                peer = {
                    "visitor": sample.visitor,
                    "child": child,
                    "on": visit["on"],
                    "type": visit["type"],
                    "notes": visit["notes"],
                    "by": sample.visitor,
                }
                out.append(_body(PEER_RECORD_VISIT, name, peer))
            else:
                out.append(_body(SHOUHU_RECORD_VISIT, name, {"input": visit}))
        return out
    raise ValueError(f"unknown operation {operation!r}")


# --- the peer's answers in Shouhu's shape ----------------------------------------------------------


def _first(items: Sequence[Any] | None) -> Any:
    return items[0] if items else None


def _guardians(
    node: Mapping[str, Any], shape: Callable[[Mapping[str, Any], Mapping[str, Any], bool], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The guardians of a peer's person, each `shape(properties, guardian, is_person)`, in
    Shouhu's order (since, id): the library cannot sort a union's connection by the node's id."""
    edges = sorted(node["guardiansConnection"]["edges"], key=lambda e: (e["properties"]["since"], e["node"]["id"]))
    return [shape(e["properties"], e["node"], e["node"]["__typename"] == "Person") for e in edges]


def _peer_child(node: Mapping[str, Any]) -> dict[str, Any]:
    household = _first(node["household"])
    guardians = _guardians(
        node,
        lambda edge, g, person: {
            "id": g["id"],
            "name": g["name"],
            "kind": "person" if person else "institution",
            "basis": edge["basis"],
            "since": edge["since"],
            "person": {"id": g["id"], "household": _first(g["household"])} if person else None,
        },
    )
    return {
        "id": node["id"],
        "name": node["name"],
        "age": node["age"],
        "idNumber": node["idNumber"],
        "household": household,
        "parents": [
            {
                "relation": edge["properties"]["type"],
                "parent": {
                    "id": edge["node"]["id"],
                    "name": edge["node"]["name"],
                    "person": {"id": edge["node"]["id"], "household": _first(edge["node"]["household"])},
                },
                "status": {
                    "dead": edge["node"]["dead"],
                    "lacksCapacity": edge["node"]["lacksCapacity"],
                    "away": _first(edge["node"]["awayAt"]),
                },
            }
            for edge in node["parentsConnection"]["edges"]
        ],
        "guardians": guardians,
        "caregivers": [
            {
                "since": edge["properties"]["since"],
                "agreementSignedOn": edge["properties"]["agreementSignedOn"],
                "caregiver": {
                    "id": edge["node"]["id"],
                    "name": edge["node"]["name"],
                    "person": {
                        "id": edge["node"]["id"],
                        "age": edge["node"]["age"],
                        "household": _first(edge["node"]["household"]),
                    },
                },
            }
            for edge in node["caregiversConnection"]["edges"]
        ],
    }


def _peer_listed(node: Mapping[str, Any]) -> dict[str, Any]:
    guardians = _guardians(
        node,
        lambda _, g, person: {
            "id": g["id"],
            "kind": "person" if person else "institution",
            "person": {"household": _first(g["household"])} if person else None,
        },
    )
    return {
        "id": node["id"],
        "name": node["name"],
        "parents": [
            {
                "relation": edge["properties"]["type"],
                "parent": {
                    "id": edge["node"]["id"],
                    "name": edge["node"]["name"],
                    "person": {"household": _first(edge["node"]["household"])},
                },
            }
            for edge in node["parentsConnection"]["edges"]
        ],
        "guardians": guardians,
        "caregivers": [
            {
                "since": edge["properties"]["since"],
                "caregiver": {"id": edge["node"]["id"], "person": {"household": _first(edge["node"]["household"])}},
            }
            for edge in node["caregiversConnection"]["edges"]
        ],
    }


def _peer_risk(node: Mapping[str, Any]) -> dict[str, Any]:
    findings = orjson.loads(node["findings"])
    return {
        "node": {
            "level": str(node["level"]).upper(),
            "findings": [
                {
                    "rule": finding["rule"],
                    "level": str(finding["level"]).upper(),
                    "evidence": [evidence(e) for e in finding["evidence"]],
                }
                for finding in findings
            ],
            "child": _first(node["child"]),
        }
    }


def to_shouhu(operation: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The peer's `data` in the shape of Shouhu's answer to the same operation."""
    if operation == "child_file":
        return {"child": None if not data["people"] else _peer_child(data["people"][0])}
    if operation == "township_list":
        return {"children": {"edges": [{"node": _peer_listed(node)} for node in data["people"]]}}
    if operation == "discover":
        return {"discover": {"edges": [_peer_risk(node) for node in data["childRisks"]]}}
    if operation == "record_visit":
        return {"recordVisit": data["recordVisit"]}
    raise ValueError(f"unknown operation {operation!r}")


def answered(operation: str, data: Mapping[str, Any]) -> bool:
    """Whether an answer (in Shouhu's shape) holds anything: agreeing on nothing proves nothing."""
    value = data.get(_ROOT[operation])
    if operation in {"township_list", "discover"}:
        return bool(value and value["edges"])
    return value is not None


_ROOT: Final = {
    "child_file": "child",
    "township_list": "children",
    "discover": "discover",
    "record_visit": "recordVisit",
}


def normalised(operation: str, data: Mapping[str, Any]) -> bytes:
    """The answer as compared: sorted keys; a visit's notes without the system's name."""
    value: Any = data
    if operation == "record_visit" and data.get("recordVisit"):
        visit = dict(data["recordVisit"])
        visit["notes"] = " ".join(word for word in str(visit["notes"]).split() if word not in SYSTEM_TAGS)
        value = {"recordVisit": visit}
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


#: The systems, as named in a visit's notes.
SYSTEM_TAGS: Final = frozenset({"shouhu", "peer", "floor"})
