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
- no write is waiting for its re-evaluation in a village of the subtree: every write that can
  change findings leaves a `RiskPending` marker in its own transaction (a mutation) or before
  it writes (an import), removed only once the children it reached have been judged again. A
  mutation's marker names the villages it can change (`villages`: where each child it reaches
  lives now, and where that child's risk node still files it, for a child who moved), found in
  the same transaction after it wrote, so a write in one village leaves every region outside
  it trusted. An import's marker names none: it holds for every region. A marker left behind
  (a re-evaluation that failed, a process that died, data loaded without one) keeps the reads
  of its villages (of everything, for one without villages) live until a later write's
  re-evaluation judges the children it names (`children`, a mutation's) and removes it, or a
  complete sweep of a region holding all of its villages removes the markers that existed
  when it began.

Otherwise the rules are evaluated, as for any other date: yesterday's colours are never
served as today's, and a child without a node never drops out of "GREEN lists every child".

A node is only ever replaced by a judgement that read the graph later (`evaluatedAt`) and as
of the same day or later (`asOf`), so a sweep that read a village before a write never
overwrites what the write's re-evaluation found, and a sweep of a past date never moves
today's nodes back.

    (:ChildRisk {..., rank, rules, ranks, regionCode, inProvince, inCity, inCounty, inTownship})
    (:ChildRisk)-[:FLAGGED {childId, rule, rank, regionCode, inProvince, ...}]->(the same ChildRisk)
    (:RiskPending {token, at, villages, children})    villages null: every region (an import)

A page ranked by a choice of rules seeks the `FLAGGED` loops (one per finding) by region, rule
and rank, so it is an index read like any other page; a loop is a relationship, kept off the
child's own relationships (which every evaluation walks) and deleted with its node.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, LiteralString

from graph.driver import AsyncManagedTransaction, Graph
from graph.persons import PERSON_FIELDS

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

#: The markers a complete sweep of `$region` within `$scope` reads past: those whose villages
#: all lie there (all of them for a sweep of everything).
PENDING: LiteralString = """
MATCH (p:RiskPending)
WHERE $region = '' AND $scope = ''
   OR p.villages IS NOT NULL AND all(v IN p.villages WHERE v STARTS WITH $region AND v STARTS WITH $scope)
RETURN collect(p.token) AS tokens
"""

#: The markers a read of the subtree `$seek` must respect: one without villages holds for all.
_PENDING_UNDER: LiteralString = """
  MATCH (p:RiskPending)
  WHERE p.villages IS NULL OR any(v IN p.villages WHERE v STARTS WITH $seek)
"""

#: Whether the region's materialised risk holds for (`$asOf`, `$thresholds`), as `trusted`: no
#: write in it awaits its re-evaluation and every region of `$seek` is stamped (every level: a
#: household may lie in a township). The reads below start with it, so that a page and its trust
#: are one round trip and one statement.
_TRUST: LiteralString = (
    """
CALL () {"""
    + _PENDING_UNDER
    + """  RETURN count(p) AS pending
}
CALL () {
  MATCH (v:Region)
  WHERE v.code STARTS WITH $seek
    AND NOT coalesce(v.riskAsOf = $asOf AND v.riskThresholds = $thresholds, false)
  RETURN count(v) AS unstamped
}
WITH pending = 0 AND unstamped = 0 AS trusted
"""
)

TRUSTED: LiteralString = _TRUST + "RETURN trusted\n"

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


#: A page's children `k` at `rank` as one list (`rows`) in page order: one record for the driver
#: to read rather than one per child. Each carries the child's own record as
#: `graph.persons.GET_PERSONS` reads it when the child lies in `$personScope` (null: never), so
#: the page's `child` fields need no second round trip.
def _rows(rank: LiteralString) -> LiteralString:
    return (
        """
  MATCH (k)-[:RISK_OF]->(p:Person)
  WITH k, p, """
        + rank
        + """ AS rank ORDER BY rank DESC, k.childId
  RETURN collect({
    id: k.childId, name: p.name, regionCode: p.regionCode, rank: rank, findings: k.findings,
    person: CASE WHEN coalesce(p.regionCode, '') STARTS WITH $personScope THEN """
        + PERSON_FIELDS
        + """ END
  }) AS rows
"""
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
  WITH k ORDER BY k.rank DESC, k.childId LIMIT $limit"""
        + _rows("k.rank")
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


def _flagged(prefix: LiteralString | None, rank: LiteralString) -> LiteralString:
    """`MATCH` of the `FLAGGED` loops of the region for the rule `rule` with the predicate
    `rank` on their rank, and their risk node `k`."""
    key: LiteralString = "rule, rank, childId" if prefix is None else prefix + ", rule, rank, childId"
    where: LiteralString = "" if prefix is None else "f." + prefix + " = $seek AND "
    return (
        """
    MATCH (k:ChildRisk)-[f:FLAGGED]->(k)
    USING INDEX f:FLAGGED("""
        + key
        + """)
    WHERE """
        + where
        + """f.rule = rule AND """
        + rank
        + """ AND $seek STARTS WITH $region AND $seek STARTS WITH $scope"""
    )


def _rule_page(prefix: LiteralString | None) -> LiteralString:
    """A page ranked by the rules `$rules` alone: a child's rank is its highest among them.

    Each band of a rank r above green reads, per chosen rule, the loops of rank r in index order
    (after the cursor), keeping the children with no higher rank among the chosen rules, at most
    `$limit` each: the band's first `$limit` children are among them. The green band is the
    children with none of the rules, read the same way per overall rank from the risk nodes."""
    rule_order: LiteralString = "f.rule, f.rank, f.childId"
    if prefix is not None:
        rule_order = "f." + prefix + ", " + rule_order
    order: LiteralString = "k.rank, k.childId" if prefix is None else "k." + prefix + ", k.rank, k.childId"
    return (
        """
UNWIND $bands AS band
CALL (band) {
  WITH band WHERE band.rank > 0
  UNWIND $rules AS rule
  CALL (band, rule) {
    // Plain variables, not the map's fields: only so does the planner seek the index.
    WITH rule, band.rank AS rank, band.after AS after"""
        + _flagged(prefix, "f.rank = rank AND f.childId > after")
        + """
      AND none(i IN range(0, size(k.ranks) - 1) WHERE k.ranks[i] > rank AND k.rules[i] IN $rules)
    WITH k, f ORDER BY """
        + rule_order
        + """ LIMIT $limit
    RETURN k
  }
  RETURN band.rank AS rank, k
  UNION
  WITH band WHERE band.rank = 0
  UNWIND [3, 2, 1, 0] AS overall
  CALL (band, overall) {"""
        + _match(prefix, "k.rank = overall AND k.childId > band.after")
        + """
      AND none(rule IN k.rules WHERE rule IN $rules)
    RETURN k ORDER BY """
        + order
        + """ LIMIT $limit
  }
  RETURN 0 AS rank, k
}
WITH DISTINCT rank, k ORDER BY rank DESC, k.childId LIMIT $limit"""
        + _rows("rank")
    )


def _rule_count(prefix: LiteralString | None) -> LiteralString:
    """How many children of the region rank `$minRank` or above by the rules `$rules` alone
    (above green: the children with one of the rules at that rank or above)."""
    return (
        """
CALL () {
  WITH $minRank AS minRank WHERE minRank > 0
  UNWIND $rules AS rule
  CALL (rule) {"""
        + _flagged(prefix, "f.rank >= $minRank AND f.childId IS NOT NULL")
        + """
    RETURN f.childId AS id
  }
  RETURN count(DISTINCT id) AS total
  UNION
  WITH $minRank AS minRank WHERE minRank = 0
  UNWIND [3, 2, 1, 0] AS rank
  CALL (rank) {"""
        + _match(prefix, "k.rank = rank AND k.childId IS NOT NULL")
        + """
    RETURN count(k) AS n
  }
  RETURN sum(n) AS total
}
RETURN sum(total) AS total
"""
    )


def _trusted(page: LiteralString | None, count: LiteralString) -> LiteralString:
    """`page` (its `rows`) and `count` (its `total`, when `$withTotal`) read only when the region
    is `trusted`; one record either way. A page without `page`: the count alone."""
    body: LiteralString = (
        ""
        if page is None
        else """
CALL (trusted) {
  WITH trusted WHERE trusted"""
        + page
        + """}"""
    )
    rows: LiteralString = "" if page is None else "rows, "
    return (
        _TRUST
        + body
        + """
CALL (trusted) {
  WITH trusted WHERE trusted AND $withTotal"""
        + count
        + """}
RETURN trusted, """
        + rows
        + """total
"""
    )


def _by_prefix(build: Callable[[LiteralString | None], LiteralString]) -> dict[int, LiteralString]:
    """The statement for each length of `$seek` (0: everything)."""
    return {0: build(None)} | {n: build(p) for n, p in PREFIX_PROPERTIES.items()}


#: Today's page of every rule, ranked by the rules `$rules`, and how many children either lists
#: over all its pages, with the trust of the region: `None` in the key means the count alone.
PAGE: Final = _by_prefix(lambda p: _trusted(_page(p), _count(p)))
RULE_PAGE: Final = _by_prefix(lambda p: _trusted(_rule_page(p), _rule_count(p)))
COUNT: Final = _by_prefix(lambda p: _trusted(None, _count(p)))
RULE_COUNT: Final = _by_prefix(lambda p: _trusted(None, _rule_count(p)))
ALL: Final = _by_prefix(_all)

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
    # The `FLAGGED` loops (one per finding) a page filtered by rules seeks, likewise.
    (
        "child_risk_rule",
        "CREATE INDEX child_risk_rule IF NOT EXISTS FOR ()-[f:FLAGGED]-() ON (f.rule, f.rank, f.childId)",
    ),
    (
        "child_risk_rule_province",
        "CREATE INDEX child_risk_rule_province IF NOT EXISTS FOR ()-[f:FLAGGED]-()"
        " ON (f.inProvince, f.rule, f.rank, f.childId)",
    ),
    (
        "child_risk_rule_city",
        "CREATE INDEX child_risk_rule_city IF NOT EXISTS FOR ()-[f:FLAGGED]-()"
        " ON (f.inCity, f.rule, f.rank, f.childId)",
    ),
    (
        "child_risk_rule_county",
        "CREATE INDEX child_risk_rule_county IF NOT EXISTS FOR ()-[f:FLAGGED]-()"
        " ON (f.inCounty, f.rule, f.rank, f.childId)",
    ),
    (
        "child_risk_rule_township",
        "CREATE INDEX child_risk_rule_township IF NOT EXISTS FOR ()-[f:FLAGGED]-()"
        " ON (f.inTownship, f.rule, f.rank, f.childId)",
    ),
    (
        "child_risk_rule_village",
        "CREATE INDEX child_risk_rule_village IF NOT EXISTS FOR ()-[f:FLAGGED]-()"
        " ON (f.regionCode, f.rule, f.rank, f.childId)",
    ),
    (
        "risk_pending_token",
        "CREATE CONSTRAINT risk_pending_token IF NOT EXISTS FOR (p:RiskPending) REQUIRE p.token IS UNIQUE",
    ),
)


@dataclass(frozen=True, slots=True)
class Pending:
    """A write's marker, handed to its re-evaluation (`Graph.after_write`)."""

    token: str
    #: the children the write can change, found in its own transaction; None when the
    #: re-evaluation must find them (an import)
    children: tuple[str, ...] | None = None
    #: markers earlier writes left behind, whose children are among `children` (`graph.risk.MARK`)
    left: tuple[str, ...] = ()
    #: what an import wrote, by kind (`person`, `household`, `institution`, `report`, `case`,
    #: `referral` -> ids), for its re-evaluation to widen to the children (`graph.risk.AFFECTED`)
    named: Mapping[str, tuple[str, ...]] | None = None


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


async def pending(graph: Graph, *, region_prefix: str = "", scope_prefix: str = "") -> list[str]:
    """The markers a complete sweep of the region (within the scope) may remove once it is done."""
    records = await graph.read(PENDING, {"region": region_prefix, "scope": scope_prefix})
    return list(records[0]["tokens"]) if records else []


#: What the risk nodes hold, in the key of every stamp: a stamp written before the nodes held
#: what the reads here seek (the `FLAGGED` loops, since layout 2) never matches, so an upgraded
#: database evaluates until its next complete sweep instead of reading what is not there.
LAYOUT: Final = 2


def thresholds_key(thresholds: Mapping[str, Any]) -> str:
    """How thresholds are stored on a risk node and a stamp, so that they compare as text."""
    return json.dumps(dict(thresholds) | {"layout": LAYOUT})


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


@dataclass(frozen=True, slots=True)
class Stored:
    """What one read of the risk nodes found: nothing when they cannot be `trusted` (the rules
    must be evaluated instead)."""

    trusted: bool
    #: the page's children, most severe first: `id`, `name`, `regionCode`, `rank` (by the rules
    #: asked for), `findings` (the stored JSON) and `person` (see `_rows`)
    rows: list[dict[str, Any]]
    #: how many children the pages list in all, when asked for
    total: int | None


def _read_params(
    *, seek: str, region: str, scope: str, as_of: dt.date, thresholds: str, rules: Sequence[str] | None, min_rank: int
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "seek": seek,
        "region": region,
        "scope": scope,
        "asOf": as_of,
        "thresholds": thresholds,
        "ranks": list(range(min_rank, 4)),
        "minRank": min_rank,
    }
    if rules is not None:
        params["rules"] = list(rules)
    return params


async def stored_page(
    graph: Graph,
    *,
    seek: str,
    region: str,
    scope: str,
    as_of: dt.date,
    thresholds: str,
    rules: Sequence[str] | None,
    min_rank: int,
    after: tuple[int, str] | None,
    limit: int,
    with_total: bool,
    person_scope: str | None,
) -> Stored:
    """Up to `limit` children after `after` at `min_rank` or above, ranked by `rules` alone (None:
    every rule), with the children's records in `person_scope`, and `with_total` the count over
    all pages: in one statement with the trust of `seek` for (`as_of`, `thresholds`)."""
    params = _read_params(
        seek=seek, region=region, scope=scope, as_of=as_of, thresholds=thresholds, rules=rules, min_rank=min_rank
    ) | {"bands": bands(min_rank, after), "limit": limit, "withTotal": with_total, "personScope": person_scope}
    query = PAGE[len(seek)] if rules is None else RULE_PAGE[len(seek)]
    (record,) = await graph.read(query, params)
    if not record["trusted"]:
        return Stored(False, [], None)
    return Stored(True, record["rows"], int(record["total"]) if with_total else None)


async def stored_count(
    graph: Graph,
    *,
    seek: str,
    region: str,
    scope: str,
    as_of: dt.date,
    thresholds: str,
    rules: Sequence[str] | None,
    min_rank: int,
) -> int | None:
    """`stored_page`'s count alone; None when the risk nodes cannot be trusted."""
    params = _read_params(
        seek=seek, region=region, scope=scope, as_of=as_of, thresholds=thresholds, rules=rules, min_rank=min_rank
    ) | {"withTotal": True}
    query = COUNT[len(seek)] if rules is None else RULE_COUNT[len(seek)]
    (record,) = await graph.read(query, params)
    return int(record["total"]) if record["trusted"] else None


async def all_rows(graph: Graph, *, seek: str, region: str, scope: str, evidence: bool) -> list[Any]:
    params = {"seek": seek, "region": region, "scope": scope, "evidence": evidence}
    return await graph.read(ALL[len(seek)], params)
