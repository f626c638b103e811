"""Regions: the statistical division tree, and the code prefixes that scope every read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, LiteralString

from graph.driver import Graph
from graph.errors import InvalidInput

#: The levels of the division tree, top down; everything that names levels reads them here.
LEVELS: Final = ("province", "city", "county", "township", "village")
#: Significant digits of a 12-digit code at each level; the rest are zeros, and a code starts
#: with its parent's significant digits (docs/domain.md), so a scope is a prefix this long.
SIGNIFICANT_DIGITS: Final = dict(zip(LEVELS, (2, 4, 6, 9, 12), strict=True))
LEVEL_RANK: Final = {level: rank for rank, level in enumerate(LEVELS)}
CODE = re.compile(r"[0-9]{12}")


def level_of(code: str) -> str:
    """The level a 12-digit code denotes, read from its trailing zeros by level width."""
    if not CODE.fullmatch(code):
        raise InvalidInput("region", f"{code!r} is not a 12-digit region code")
    for level in LEVELS[:-1]:
        if code[SIGNIFICANT_DIGITS[level] :].strip("0") == "":
            return level
    return "village"


def scope_prefix(code: str) -> str:
    """The prefix every code in `code`'s subtree starts with."""
    return code[: SIGNIFICANT_DIGITS[level_of(code)]]


@dataclass(frozen=True, slots=True)
class RegionRecord:
    code: str
    name: str
    level: str
    parent_code: str | None


GET_REGION: LiteralString = """
MATCH (r:Region {code: $code})
WHERE r.code STARTS WITH $scope
OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
RETURN r.code AS code, r.name AS name, r.level AS level, parent.code AS parentCode
"""

GET_REGIONS: LiteralString = """
UNWIND $codes AS code
MATCH (r:Region {code: code})
WHERE r.code STARTS WITH $scope
OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
RETURN r.code AS code, r.name AS name, r.level AS level, parent.code AS parentCode
"""

CHILD_REGIONS: LiteralString = """
UNWIND $codes AS code
MATCH (child:Region)-[:PART_OF]->(:Region {code: code})
WHERE child.code STARTS WITH $scope
RETURN code AS parent, child.code AS code, child.name AS name, child.level AS level
ORDER BY child.code
"""


def _record(row: dict[str, object]) -> RegionRecord:
    return RegionRecord(
        code=str(row["code"]),
        name=str(row["name"]),
        level=str(row["level"]),
        parent_code=None if row.get("parentCode") is None else str(row["parentCode"]),
    )


async def get_region(graph: Graph, code: str, *, scope: str) -> RegionRecord | None:
    """The region with `code` when it lies in `scope`; None when absent or out of scope."""
    level_of(code)
    rows = await graph.read(GET_REGION, {"code": code, "scope": scope})
    return _record(rows[0].data()) if rows else None


async def get_regions(graph: Graph, codes: list[str], *, scope: str) -> dict[str, RegionRecord]:
    rows = await graph.read(GET_REGIONS, {"codes": codes, "scope": scope})
    return {row["code"]: _record(row.data()) for row in rows}


async def child_regions(graph: Graph, codes: list[str], *, scope: str) -> dict[str, list[RegionRecord]]:
    rows = await graph.read(CHILD_REGIONS, {"codes": codes, "scope": scope})
    children: dict[str, list[RegionRecord]] = {code: [] for code in codes}
    for row in rows:
        children[row["parent"]].append(
            RegionRecord(code=row["code"], name=row["name"], level=row["level"], parent_code=row["parent"])
        )
    return children
