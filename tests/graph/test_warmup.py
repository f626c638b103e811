"""The warm-up plans the slots of Neo4j's plan cache that requests read: each top-level string
and list parameter keeps its size bucket, and nothing of its content."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from graph import warmup
from graph.warmup import PlanWarmer

QUERY = "MATCH (p:Person) WHERE p.id IN $ids AND p.regionCode STARTS WITH $scope RETURN p"
OTHER = "MATCH (h:Household {id: $id}) RETURN h"


def neo4j_bucket(size: int) -> int:
    """Neo4j's SizeBucket.computeBucket: exact for 0 and 1, else the next power of ten."""
    return size if size <= 1 else int(math.pow(10, math.ceil(math.log10(size))))


def test_a_string_or_a_list_keeps_its_size_bucket_and_none_of_its_content() -> None:
    for size in (0, 1, 2, 7, 10, 11, 12, 99, 100, 101, 999, 1000, 1001, 4321):
        text = "乡" * size
        ids = [f"P{i:09d}" for i in range(size)]
        shaped_text, shaped_ids = warmup.sized(text), warmup.sized(ids)
        assert isinstance(shaped_text, str) and isinstance(shaped_ids, list)
        assert neo4j_bucket(len(shaped_text)) == neo4j_bucket(size), size
        assert neo4j_bucket(len(shaped_ids)) == neo4j_bucket(size), size
        assert "乡" not in shaped_text and not set(ids) & set(shaped_ids)
        assert all(item == "" for item in shaped_ids)


def test_what_is_nested_keeps_its_types_only() -> None:
    parameters: dict[str, Any] = {
        "named": {"person": ["a", "b", "c"], "household": []},
        "rows": [{"id": "x", "n": 3, "on": dt.date(2026, 6, 1), "tags": ["p", "q"]}] * 12,
        "asOf": dt.date(2026, 6, 15),
        "first": 50,
        "flag": True,
    }
    shaped = {name: warmup.sized(value) for name, value in parameters.items()}
    assert shaped["named"] == {"person": [""], "household": []}
    assert len(shaped["rows"]) == 11  # the bucket of 12: up to 100
    assert shaped["rows"][0] == {"id": "", "n": 0, "on": dt.date(2000, 1, 1), "tags": [""]}
    assert (shaped["asOf"], shaped["first"], shaped["flag"]) == (dt.date(2000, 1, 1), 0, True)


def test_a_query_seen_in_several_slots_is_warmed_in_each() -> None:
    warmer = PlanWarmer()
    scopes = ["522622", "522622100", ""]
    for use in range(warmup.SAMPLE_EVERY * 12):
        # One id, then three: each slot is sampled, whatever the order of the uses.
        warmer.saw(QUERY, {"ids": ["a"] * (1 if (use // warmup.SAMPLE_EVERY) % 2 else 3), "scope": scopes[use % 3]})
    for _ in range(10):
        warmer.saw(OTHER, {"id": "h1"})
    hottest = warmer.hottest(10)
    assert [query for query, _ in hottest[:-1]] == [QUERY] * (len(hottest) - 1) and hottest[-1][0] == OTHER
    slots = {warmup.slot(parameters) for query, parameters in hottest if query == QUERY}
    assert {(("ids", 1), ("scope", 10)), (("ids", 10), ("scope", 10))} <= slots
    assert len(slots) <= warmup.SLOTS_PER_QUERY
    assert hottest[-1][1] == {"id": "00"}  # an id of 2: bucket 10, as "h1" is


def test_a_query_keeps_at_most_its_few_first_slots() -> None:
    warmer = PlanWarmer()
    for power in range(7):  # seven buckets of the scope's size
        for _ in range(warmup.SAMPLE_EVERY):
            warmer.saw(QUERY, {"ids": ["a"], "scope": "5" * 10**power})
    slots = [warmup.slot(parameters) for _, parameters in warmer.hottest(100)]
    assert sorted(slots) == sorted((("ids", 1), ("scope", 10**power)) for power in range(warmup.SLOTS_PER_QUERY))
