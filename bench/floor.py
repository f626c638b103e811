"""The floor: what answering the benchmark's queries costs at the least, through Python.

A bare ASGI app (no framework, no GraphQL): each operation the benchmark sends is one
hand-written Cypher statement through the official async driver, whose single row is already
the response's JSON shape (Shouhu's), serialised with orjson. It reads the operation from the
request body's `operationName` and ignores the query text, so the load tool sends the three
systems the same bodies. It checks nothing a real API must (no token, no limits, no audit):
it is the cost of the database round trip plus Python's least, not a rival.

    NEO4J_URI=bolt://127.0.0.1:7745 NEO4J_PASSWORD=... uvicorn bench.floor:app --port 8043

Settings come from the environment: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, FLOOR_TODAY (the
date `child(id)` reads "under 18" at; default today in Asia/Shanghai). A request's `x-scope`
header is the region-code prefix its statement keeps to, as a coordinator's token would.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Final, LiteralString
from zoneinfo import ZoneInfo

import orjson
from neo4j import AsyncDriver, AsyncGraphDatabase
from neo4j.time import Date, DateTime

from graph import visits
from graph.bundle.records import INCAPACITY
from graph.dates import birth_cutoff
from graph.regions import scope_prefix
from graph.risk_index import PREFIX_PROPERTIES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: A person's household as the child file shows it, bound from `p`.
_HOUSEHOLD_OF_P: LiteralString = (
    "[(p)-[:MEMBER_OF]->(ph:Household) | ph {.id, lowIncome: coalesce(ph.lowIncome, [])}][0]"
)

#: Members of the household `h`, eldest first, then by id (Shouhu's order).
_MEMBERS_OF_H: LiteralString = (
    "COLLECT { MATCH (m:Person)-[:MEMBER_OF]->(h) WITH m ORDER BY m.birthDate, m.id RETURN m {.id} }"
)

#: An interval relationship `r` holding at `$asOf`.
_HOLDS: LiteralString = "r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)"

#: The guardians `p` (a person or an institution) of `c` holding at `$asOf`, in Shouhu's order.
_GUARDIANS: LiteralString = (
    """
    MATCH (p)-[r:GUARDIAN_OF]->(c)
    WHERE """
    + _HOLDS
    + """
    WITH p, r ORDER BY r.since, p.id
"""
)

#: The caregivers `p` of `c` holding at `$asOf`, in Shouhu's order.
_CAREGIVERS: LiteralString = (
    """
    MATCH (p:Person)-[r:CARES_FOR]->(c)
    WHERE """
    + _HOLDS
    + """
    WITH p, r ORDER BY r.since, p.id
"""
)

_KIND_OF_P: LiteralString = "CASE WHEN p:Person THEN 'person' ELSE 'institution' END"
_HOUSEHOLD_ID_OF_P: LiteralString = "[(p)-[:MEMBER_OF]->(ph:Household) | ph {.id}][0]"

CHILD_FILE: Final[LiteralString] = (
    """
MATCH (c:Person {id: $id})
WHERE coalesce(c.regionCode, '') STARTS WITH $scope AND c.birthDate > $born18 AND c.birthDate <= $today
RETURN c {
  .id, .name, .idNumber,
  age: CASE WHEN c.birthDate > $asOf THEN null ELSE duration.inMonths(c.birthDate, $asOf).years END,
  household: [(c)-[:MEMBER_OF]->(h:Household) | h {.id, lowIncome: coalesce(h.lowIncome, []), members: """
    + _MEMBERS_OF_H
    + """}][0],
  parents: COLLECT {
    MATCH (p:Person)-[r:PARENT_OF]->(c)
    WITH p, r, coalesce(p.deceasedOn <= $asOf, false) AS dead
    ORDER BY p.id
    RETURN {
      relation: r.type,
      parent: {id: p.id, name: p.name, person: p {.id, household: """
    + _HOUSEHOLD_OF_P
    + """}},
      status: {
        dead: dead,
        lacksCapacity: dead OR EXISTS {
          MATCH (p)-[:HAS_CONDITION]->(x:Condition)
          WHERE x.type IN $incapacity AND x.since <= $asOf AND (x.until IS NULL OR x.until >= $asOf)
        },
        away: CASE WHEN dead THEN null ELSE COLLECT {
          MATCH (p)-[:AWAY]->(a:AwayEpisode)
          WHERE a.since <= $asOf AND (a.until IS NULL OR a.until >= $asOf)
          WITH a ORDER BY a.since
          RETURN a {.destination, .since}
        }[0] END
      }
    }
  },
  guardians: COLLECT {"""
    + _GUARDIANS
    + """    RETURN {
      id: p.id, name: p.name, kind: """
    + _KIND_OF_P
    + """, basis: r.basis, since: r.since,
      person: CASE WHEN p:Person THEN p {.id, household: """
    + _HOUSEHOLD_ID_OF_P
    + """} END
    }
  },
  caregivers: COLLECT {"""
    + _CAREGIVERS
    + """    RETURN {
      since: r.since, agreementSignedOn: r.agreementSignedOn,
      caregiver: {id: p.id, name: p.name, person: p {
        .id,
        age: CASE WHEN p.birthDate > $asOf THEN null ELSE duration.inMonths(p.birthDate, $asOf).years END,
        household: [(p)-[:MEMBER_OF]->(h:Household) | h {.id, members: """
    + _MEMBERS_OF_H
    + """}][0]
      }}
    }
  }
} AS child
"""
)

#: The first 50 living children under 18 at `$asOf` of a region, in id order, with the
#: households of their parents, guardians and caregivers.
TOWNSHIP_LIST: Final[LiteralString] = (
    """
MATCH (c:Person)
WHERE c.regionCode STARTS WITH $region AND c.regionCode STARTS WITH $scope
  AND c.birthDate <= $asOf AND c.birthDate > $born18
  AND (c.deceasedOn IS NULL OR c.deceasedOn > $asOf)
WITH c ORDER BY c.id LIMIT $first
RETURN collect({node: c {
  .id, .name,
  parents: COLLECT {
    MATCH (p:Person)-[r:PARENT_OF]->(c)
    WITH p, r ORDER BY p.id
    RETURN {relation: r.type, parent: {id: p.id, name: p.name, person: {household: """
    + _HOUSEHOLD_ID_OF_P
    + """}}}
  },
  guardians: COLLECT {"""
    + _GUARDIANS
    + """    RETURN {
      id: p.id, kind: """
    + _KIND_OF_P
    + """,
      person: CASE WHEN p:Person THEN {household: """
    + _HOUSEHOLD_ID_OF_P
    + """} END
    }
  },
  caregivers: COLLECT {"""
    + _CAREGIVERS
    + """    RETURN {since: r.since, caregiver: {id: p.id, person: {household: """
    + _HOUSEHOLD_ID_OF_P
    + """}}}
  }
}}) AS edges
"""
)


def _discover(prefix: LiteralString) -> LiteralString:
    """Today's first page of discovery for a region whose code prefix is held in the risk
    node's property `prefix` (graph/risk.py), through its index on (prefix, rank, childId):
    the first children of each colour band from red down to `$minRank` in id order, then the
    most severe first, then by child id. Like Shouhu, it trusts the nodes because a complete
    sweep stamped the region today (the benchmark checks that before it runs)."""
    return (
        """
UNWIND range(3, $minRank, -1) AS rank
CALL (rank) {
  MATCH (k:ChildRisk)
  WHERE k."""
        + prefix
        + """ = $region AND k.rank = rank AND k.childId > '' AND k.regionCode STARTS WITH $scope
  RETURN k ORDER BY k.childId LIMIT $first
}
WITH k ORDER BY k.rank DESC, k.childId LIMIT $first
MATCH (k)-[:RISK_OF]->(c:Person)
RETURN collect({level: k.level, findings: k.findings, child: c {.id, .name}}) AS nodes
"""
    )


#: By the length of the region's code prefix (2 a province ... 12 a village).
DISCOVER: Final[Mapping[int, LiteralString]] = {n: _discover(p) for n, p in PREFIX_PROPERTIES.items()}

#: Shouhu's own visit statement (the child's write lock, the duplicate check, the stamp),
#: then the one row as the response's map; Shouhu checks the scope beforehand, as here.
RECORD_VISIT: Final = (
    "MATCH (c:Person {id: $child}) WHERE c.regionCode STARTS WITH $scope WITH c LIMIT 1\n"
    + visits.RECORD_VISIT.removesuffix(visits.RETURN_VISIT)
    + "RETURN {childId: c.id, visitorId: v.id, on: e.on, type: e.type, notes: e.notes} AS visit\n"
)

_RANKS: Final = {"red": 3, "yellow": 2, "blue": 1, "green": 0}


def _json(value: Any) -> Any:
    if isinstance(value, Date | DateTime):
        return value.iso_format()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


#: The evidence fields the benchmark's `discover` selects.
EVIDENCE_FIELDS: Final = ("kind", "id", "personId", "since", "on")


def _evidence(item: Mapping[str, Any]) -> dict[str, Any]:
    given = {_camel(key): value for key, value in item.items()}
    return {name: given.get(name) for name in EVIDENCE_FIELDS}


class Floor:
    """The app: one driver made at start-up, one statement per request."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        given = environ.get("FLOOR_TODAY")
        self.today = dt.date.fromisoformat(given) if given else dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        self.driver: AsyncDriver | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = orjson.loads(body)
        headers = dict(scope.get("headers", []))
        within = headers.get(b"x-scope", b"").decode()
        data = await self.answer(request.get("operationName", ""), request.get("variables") or {}, within)
        payload = orjson.dumps({"data": data}, default=_json)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.driver = AsyncGraphDatabase.driver(
                    self.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"),
                    auth=(self.environ.get("NEO4J_USER", "neo4j"), self.environ.get("NEO4J_PASSWORD", "")),
                )
                await self.driver.verify_connectivity()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.driver is not None:
                    await self.driver.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _row(self, query: LiteralString, parameters: dict[str, Any], *, write: bool = False) -> Any:
        assert self.driver is not None
        records, _, _ = await self.driver.execute_query(query, parameters, routing_="w" if write else "r")
        return records[0][0] if records else None

    async def answer(self, operation: str, variables: Mapping[str, Any], scope: str) -> dict[str, Any]:
        """The answer to one operation, reading only within `scope` (a region-code prefix)."""
        if operation == "ChildFile":
            as_of = dt.date.fromisoformat(variables["asOf"])
            child = await self._row(
                CHILD_FILE,
                {
                    "scope": scope,
                    "id": variables["id"],
                    "asOf": as_of,
                    "today": self.today,
                    "born18": birth_cutoff(self.today, 18),
                    "incapacity": list(INCAPACITY),
                },
            )
            return {"child": child}
        if operation == "TownshipList":
            as_of = dt.date.fromisoformat(variables["asOf"])
            edges = await self._row(
                TOWNSHIP_LIST,
                {
                    "scope": scope,
                    "region": scope_prefix(variables["region"]),
                    "asOf": as_of,
                    "born18": birth_cutoff(as_of, 18),
                    "first": 50,
                },
            )
            return {"children": {"edges": edges}}
        if operation == "Discover":
            region = scope_prefix(variables["region"])
            nodes = await self._row(
                DISCOVER[len(region)],
                {
                    "scope": scope,
                    "region": region,
                    "asOf": dt.date.fromisoformat(variables["asOf"]),
                    "minRank": _RANKS["blue"],
                    "first": 50,
                },
            )
            edges = [
                {
                    "node": {
                        "level": node["level"].upper(),
                        "findings": [
                            {
                                "rule": finding["rule"],
                                "level": finding["level"].upper(),
                                "evidence": [_evidence(e) for e in finding["evidence"]],
                            }
                            for finding in orjson.loads(node["findings"])
                        ],
                        "child": node["child"],
                    }
                }
                for node in nodes
            ]
            return {"discover": {"edges": edges}}
        if operation == "RecordVisit":
            given = variables["input"]
            visit = await self._row(
                RECORD_VISIT,
                {
                    "scope": scope,
                    "visitor": given["visitorId"],
                    "child": given["childId"],
                    "on": dt.date.fromisoformat(given["on"]),
                    "type": given["type"],
                    "notes": given.get("notes"),
                    "by": given["visitorId"],
                },
                write=True,
            )
            return {"recordVisit": visit}
        raise ValueError(f"unknown operation {operation!r}")


app = Floor(os.environ)
