"""Keyset pages of several lists in one round trip.

A page query takes `$requests` (one map per list, each with a `key`), `$scope` and `$cap`
(the largest page asked for, plus one to tell whether more follow) and returns one row per
request: `key` and `page` (the items in order). A count query returns `key` and `total`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, LiteralString, TypeVar

from neo4j import Record

from graph.driver import Graph

T = TypeVar("T")


async def pages(
    graph: Graph,
    query: LiteralString,
    requests: Sequence[tuple[Mapping[str, Any], int]],
    convert: Callable[[Any], T],
    *,
    scope: str,
    extra: Mapping[str, Any] | None = None,
) -> list[tuple[list[T], bool]]:
    """For each (parameters, first): the first `first` items and whether more follow."""
    rows = await page_rows(graph, query, requests, scope=scope, extra=extra)
    out = []
    for row, (_, first) in zip(rows, requests, strict=True):
        items = [] if row is None else [convert(item) for item in row["page"]]
        out.append((items[:first], len(items) > first))
    return out


async def page_rows(
    graph: Graph,
    query: LiteralString,
    requests: Sequence[tuple[Mapping[str, Any], int]],
    *,
    scope: str,
    extra: Mapping[str, Any] | None = None,
) -> list[Record | None]:
    """The row of each (parameters, first), in order; None where the query returned none."""
    if not requests:
        return []
    rows = await graph.read(
        query,
        {
            "requests": [{**parameters, "key": i} for i, (parameters, _) in enumerate(requests)],
            "scope": scope,
            "cap": max(first for _, first in requests) + 1,
            **(extra or {}),
        },
    )
    found = {row["key"]: row for row in rows}
    return [found.get(i) for i in range(len(requests))]


async def counts(
    graph: Graph,
    query: LiteralString,
    requests: Sequence[Mapping[str, Any]],
    *,
    scope: str,
    extra: Mapping[str, Any] | None = None,
) -> list[int]:
    if not requests:
        return []
    rows = await graph.read(
        query,
        {
            "requests": [{**parameters, "key": i} for i, parameters in enumerate(requests)],
            "scope": scope,
            **(extra or {}),
        },
    )
    totals = {row["key"]: int(row["total"]) for row in rows}
    return [totals.get(i, 0) for i in range(len(requests))]
