"""Today's discovery read from the materialised risk nodes, and when that may be done.

Every child's level and findings as of today are kept on its `ChildRisk` node (`graph.risk`).
A page of today's `discover`, its `totalCount` and the colour counts of the statistics read
that node through an index by region and rank instead of evaluating the fourteen rules again,
but only when the materialised state is exactly what an evaluation would give now. It is
trusted for a region on day D with thresholds T when both hold:

- every region of the subtree carries the stamp (D, T) (`Region.riskAsOf`, `riskThresholds`):
  a complete sweep as of D with T judged every child there and forgot every node of a person
  who was no longer a child there; a re-evaluation with other thresholds takes the stamp of
  the child's village away;
- no write is waiting for its re-evaluation: every write that can change findings leaves a
  `RiskPending` marker in its own transaction (a mutation) or before it writes (an import),
  removed only once the children it reached have been judged again. A marker left behind (a
  re-evaluation that failed, a process that died, data loaded without one) keeps every read
  live until a full sweep removes the markers that existed when it began.

Otherwise the rules are evaluated, as for any other date: yesterday's colours are never
served as today's, and a child without a node never drops out of "GREEN lists every child".

A node is only ever replaced by a judgement that read the graph later (`evaluatedAt`) and as
of the same day or later (`asOf`), so a sweep that read a village before a write never
overwrites what the write's re-evaluation found, and a sweep of a past date never moves
today's nodes back.

    (:ChildRisk {..., rank, rules, ranks, regionCode, inProvince, inCity, inCounty, inTownship})
    (:RiskPending {token, at})
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final, LiteralString

from graph.driver import AsyncManagedTransaction, Graph

#: The node property holding a child's region-code prefix of each length (12: the village).
PREFIX_PROPERTIES: Final[dict[int, LiteralString]] = {
    2: "inProvince",
    4: "inCity",
    6: "inCounty",
    9: "inTownship",
    12: "regionCode",
}

OPEN_PENDING: LiteralString = """
MERGE (p:RiskPending {token: $token})
ON CREATE SET p.at = $at
"""

CLOSE_PENDING: LiteralString = """
UNWIND $tokens AS token
MATCH (p:RiskPending {token: token})
DELETE p
"""

PENDING: LiteralString = "MATCH (p:RiskPending) RETURN collect(p.token) AS tokens"

#: Whether the region's materialised risk holds for (`$asOf`, `$thresholds`): no write awaits
#: its re-evaluation and every region of `$seek` is stamped (every level: a household may lie
#: in a township).
TRUSTED: LiteralString = """
CALL () { MATCH (p:RiskPending) RETURN count(p) AS pending }
CALL () {
  MATCH (v:Region)
  WHERE v.code STARTS WITH $seek
    AND NOT coalesce(v.riskAsOf = $asOf AND v.riskThresholds = $thresholds, false)
  RETURN count(v) AS unstamped
}
RETURN pending = 0 AND unstamped = 0 AS trusted
"""

#: A complete sweep of `$region` within `$scope` as of `$asOf` has judged every child there:
#: its regions are stamped (never back to an earlier day).
STAMP: LiteralString = """
MATCH (v:Region)
WHERE v.code STARTS WITH $region AND v.code STARTS WITH $scope
  AND (v.riskAsOf IS NULL OR v.riskAsOf <= $asOf)
SET v.riskAsOf = $asOf, v.riskThresholds = $thresholds
"""


# Every read below seeks one index on (prefix, rank, childId), named in a hint: the prefix
# `$seek` is the narrower of the region and the caller's scope, so the child's code starts with
# both exactly when `$seek` does (tested once, on the parameters), and the index order is the
# page's order within a rank.


def _match(prefix: LiteralString | None, rank: LiteralString) -> LiteralString:
    """`MATCH` of the risk nodes of the region with the predicate `rank` on their rank."""
    if prefix is None:
        return (
            """
  MATCH (k:ChildRisk)
  USING INDEX k:ChildRisk(rank, childId)
  WHERE """
            + rank
            + """ AND $seek STARTS WITH $region AND $seek STARTS WITH $scope"""
        )
    return (
        """
  MATCH (k:ChildRisk)
  USING INDEX k:ChildRisk("""
        + prefix
        + """, rank, childId)
  WHERE k."""
        + prefix
        + """ = $seek AND """
        + rank
        + """ AND $seek STARTS WITH $region AND $seek STARTS WITH $scope"""
    )


def _page(prefix: LiteralString | None) -> LiteralString:
    """The children of each rank band (`band.rank`, ids after `band.after`), read in index
    order, then the page across the bands."""
    order: LiteralString = "k.rank, k.childId" if prefix is None else "k." + prefix + ", k.rank, k.childId"
    return (
        """
UNWIND $bands AS band
CALL (band) {"""
        + _match(prefix, "k.rank = band.rank AND k.childId > band.after")
        + """
  RETURN k ORDER BY """
        + order
        + """ LIMIT $limit
}
WITH k ORDER BY k.rank DESC, k.childId LIMIT $limit
MATCH (k)-[:RISK_OF]->(c:Person)
RETURN k.childId AS id, c.name AS name, c.regionCode AS regionCode, k.rank AS rank, k.findings AS findings
ORDER BY rank DESC, id
"""
    )


def _count(prefix: LiteralString | None) -> LiteralString:
    return (
        """
UNWIND $ranks AS rank
CALL (rank) {"""
        + _match(prefix, "k.rank = rank AND k.childId IS NOT NULL")
        + """
  RETURN count(k) AS n
}
RETURN sum(n) AS total
"""
    )


def _all(prefix: LiteralString | None) -> LiteralString:
    """Every child of the region with its rank per rule, for a filter by rules or the whole
    list; `findings` only when `$evidence`."""
    return (
        _match(prefix, "k.rank IS NOT NULL AND k.childId IS NOT NULL")
        + """
MATCH (k)-[:RISK_OF]->(c:Person)
RETURN k.childId AS id, c.name AS name, c.regionCode AS regionCode, k.rank AS rank, k.rules AS rules,
       k.ranks AS ranks, CASE WHEN $evidence THEN k.findings END AS findings
"""
    )


def _ranks(prefix: LiteralString | None) -> LiteralString:
    """Every child of the region with each rule's rank, and nothing else: what ranking by a
    choice of rules reads."""
    return (
        _match(prefix, "k.rank IS NOT NULL AND k.childId IS NOT NULL")
        + """
RETURN k.childId AS id, k.rules AS rules, k.ranks AS ranks
"""
    )


#: The risk nodes of the children `$ids`, with their findings and evidence.
ROWS_OF: LiteralString = """
UNWIND $ids AS id
MATCH (k:ChildRisk {childId: id})-[:RISK_OF]->(c:Person)
RETURN k.childId AS id, c.name AS name, c.regionCode AS regionCode, k.rank AS rank, k.rules AS rules,
       k.ranks AS ranks, k.findings AS findings
"""


PAGE: Final[dict[int, LiteralString]] = {0: _page(None)} | {n: _page(p) for n, p in PREFIX_PROPERTIES.items()}
COUNT: Final[dict[int, LiteralString]] = {0: _count(None)} | {n: _count(p) for n, p in PREFIX_PROPERTIES.items()}
ALL: Final[dict[int, LiteralString]] = {0: _all(None)} | {n: _all(p) for n, p in PREFIX_PROPERTIES.items()}
RANKS: Final[dict[int, LiteralString]] = {0: _ranks(None)} | {n: _ranks(p) for n, p in PREFIX_PROPERTIES.items()}

#: Indexes the reads above seek (applied by `graph.migrations`): one per prefix length, and
#: one by rank alone for a caller without a region.
INDEXES: Final[tuple[tuple[str, LiteralString], ...]] = (
    (
        "child_risk_rank",
        "CREATE INDEX child_risk_rank IF NOT EXISTS FOR (k:ChildRisk) ON (k.rank, k.childId)",
    ),
    (
        "child_risk_province",
        "CREATE INDEX child_risk_province IF NOT EXISTS FOR (k:ChildRisk) ON (k.inProvince, k.rank, k.childId)",
    ),
    (
        "child_risk_city",
        "CREATE INDEX child_risk_city IF NOT EXISTS FOR (k:ChildRisk) ON (k.inCity, k.rank, k.childId)",
    ),
    (
        "child_risk_county",
        "CREATE INDEX child_risk_county IF NOT EXISTS FOR (k:ChildRisk) ON (k.inCounty, k.rank, k.childId)",
    ),
    (
        "child_risk_township",
        "CREATE INDEX child_risk_township IF NOT EXISTS FOR (k:ChildRisk) ON (k.inTownship, k.rank, k.childId)",
    ),
    (
        "child_risk_village",
        "CREATE INDEX child_risk_village IF NOT EXISTS FOR (k:ChildRisk) ON (k.regionCode, k.rank, k.childId)",
    ),
    (
        "risk_pending_token",
        "CREATE CONSTRAINT risk_pending_token IF NOT EXISTS FOR (p:RiskPending) REQUIRE p.token IS UNIQUE",
    ),
)


def new_token() -> str:
    return str(uuid.uuid4())


async def open_pending_in(tx: AsyncManagedTransaction, token: str) -> None:
    """Mark, inside a write's own transaction, that its re-evaluation is yet to come."""
    await tx.run(OPEN_PENDING, {"token": token, "at": dt.datetime.now(dt.UTC)})


async def open_pending(graph: Graph, token: str) -> None:
    """The same before a write that spans several transactions (a batched import)."""
    await graph.write(OPEN_PENDING, {"token": token, "at": dt.datetime.now(dt.UTC)})


async def close_pending(graph: Graph, tokens: Sequence[str]) -> None:
    """The writes `tokens` have been re-evaluated (or a full sweep read after they committed)."""
    if tokens:
        await graph.write(CLOSE_PENDING, {"tokens": list(tokens)})


async def pending(graph: Graph) -> list[str]:
    records = await graph.read(PENDING)
    return list(records[0]["tokens"]) if records else []


def thresholds_key(thresholds: Mapping[str, Any]) -> str:
    """How thresholds are stored on a risk node and a stamp, so that they compare as text."""
    return json.dumps(dict(thresholds))


def seek_prefix(region_prefix: str, scope_prefix: str) -> str | None:
    """The narrower of the region asked for and the caller's scope; None when they do not meet."""
    if region_prefix.startswith(scope_prefix):
        return region_prefix
    if scope_prefix.startswith(region_prefix):
        return scope_prefix
    return None


async def trusted(graph: Graph, *, seek: str, as_of: dt.date, thresholds: str) -> bool:
    """Whether the region `seek` may be read from its risk nodes for `as_of` (see the module)."""
    records = await graph.read(TRUSTED, {"seek": seek, "asOf": as_of, "thresholds": thresholds})
    return bool(records and records[0]["trusted"])


def bands(min_rank: int, after: tuple[int, str] | None) -> list[dict[str, Any]]:
    """The rank bands a page reads, most severe first: all of each rank from `min_rank` up,
    or, after a cursor, the rest of the cursor's rank and every lower one."""
    found = []
    for rank in range(3, min_rank - 1, -1):
        if after is not None and rank > after[0]:
            continue
        found.append({"rank": rank, "after": after[1] if after is not None and rank == after[0] else ""})
    return found


async def page_rows(
    graph: Graph, *, seek: str, region: str, scope: str, min_rank: int, after: tuple[int, str] | None, limit: int
) -> list[Any]:
    params = {
        "seek": seek,
        "region": region,
        "scope": scope,
        "bands": bands(min_rank, after),
        "limit": limit,
    }
    return await graph.read(PAGE[len(seek)], params)


async def count(graph: Graph, *, seek: str, region: str, scope: str, min_rank: int) -> int:
    params = {"seek": seek, "region": region, "scope": scope, "ranks": list(range(min_rank, 4))}
    records = await graph.read(COUNT[len(seek)], params)
    return int(records[0]["total"]) if records else 0


async def rank_rows(graph: Graph, *, seek: str, region: str, scope: str) -> list[Any]:
    return await graph.read(RANKS[len(seek)], {"seek": seek, "region": region, "scope": scope})


async def all_rows(graph: Graph, *, seek: str, region: str, scope: str, evidence: bool) -> list[Any]:
    params = {"seek": seek, "region": region, "scope": scope, "evidence": evidence}
    return await graph.read(ALL[len(seek)], params)


async def rows_of(graph: Graph, child_ids: Sequence[str]) -> list[Any]:
    return await graph.read(ROWS_OF, {"ids": list(child_ids)}) if child_ids else []
