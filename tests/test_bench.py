"""The API benchmark's three systems stay about the same graph and the same questions.

Fast checks without a database or Node: the peer's type definitions and the floor's Cypher
name only labels and relationship types of graph/MODEL.md; the peer's visit statement is
Shouhu's; the GraphQL documents the benchmark sends Shouhu are valid against schema.graphql.
Nothing here times anything (`make bench` does).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from bench import floor, queries
from graph import visits

ROOT = Path(__file__).resolve().parent.parent
PEER_SCHEMA = (ROOT / "bench" / "peer" / "schema.graphql").read_text(encoding="utf-8")
MODEL = (ROOT / "graph" / "MODEL.md").read_text(encoding="utf-8")
FLOOR_CYPHER = [floor.CHILD_FILE, floor.TOWNSHIP_LIST, floor.DISCOVER[6], floor.RECORD_VISIT]


def _model_names() -> set[str]:
    """Every `:Name` graph/MODEL.md writes in backticks, and every label standing alone in
    them (a table's label column): its labels and relationship types."""
    quoted = re.findall(r"`([^`]+)`", MODEL)
    labels = {text for text in quoted if re.fullmatch(r"[A-Z][A-Za-z]*", text)}
    return labels | set(re.findall(r":([A-Z][A-Za-z_]*)", " ".join(quoted)))


def _peer_names() -> set[str]:
    labels = re.findall(r'@node\(labels: \["(\w+)"\]\)', PEER_SCHEMA)
    types = re.findall(r'@relationship\(type: "(\w+)"', PEER_SCHEMA)
    return set(labels) | set(types)


def _cypher_names(statement: str) -> set[str]:
    return set(re.findall(r"[(\[]\w*:(\w+)", statement))


def test_the_peer_maps_only_what_the_model_stores() -> None:
    names = _peer_names()
    assert {"Person", "Household", "PARENT_OF", "GUARDIAN_OF", "CARES_FOR", "MEMBER_OF", "RISK_OF"} <= names
    assert sorted(names - _model_names()) == []


@pytest.mark.parametrize("statement", FLOOR_CYPHER, ids=["child_file", "township_list", "discover", "record_visit"])
def test_the_floor_reads_only_what_the_model_stores(statement: str) -> None:
    names = _cypher_names(statement)
    assert names, "the pattern found no label in the statement"
    assert sorted(names - _model_names()) == []


def _squashed(text: str) -> str:
    return " ".join(text.split())


def test_the_peer_and_the_floor_record_a_visit_with_shouhus_statement() -> None:
    head = _squashed(visits.RECORD_VISIT.removesuffix(visits.RETURN_VISIT))
    peer = re.search(r'recordVisit\(.*?statement: """(.*?)"""', PEER_SCHEMA, re.DOTALL)
    assert peer is not None, "the peer's recordVisit has no @cypher statement"
    assert _squashed(peer.group(1)).startswith(head)
    assert head in _squashed(floor.RECORD_VISIT)


@pytest.mark.parametrize(
    "document",
    [
        queries.SHOUHU_CHILD_FILE,
        queries.SHOUHU_TOWNSHIP_LIST,
        queries.SHOUHU_DISCOVER,
        queries.SHOUHU_RECORD_VISIT,
    ],
    ids=["child_file", "township_list", "discover", "record_visit"],
)
def test_what_the_benchmark_asks_shouhu_is_valid(document: str) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    assert [error.message for error in validate(schema, parse(document))] == []


def test_the_peers_answer_takes_shouhus_shape() -> None:
    """A peer answer converted is what Shouhu answers: nesting, names, the guardians' order."""
    household = [{"id": "H1", "lowIncome": [], "members": [{"id": "P1"}]}]
    peer = {
        "people": [
            {
                "id": "C1",
                "name": "c",
                "age": 9,
                "idNumber": "x",
                "household": household,
                "parentsConnection": {
                    "edges": [
                        {
                            "properties": {"type": "biological"},
                            "node": {
                                "id": "P1",
                                "name": "p",
                                "household": [{"id": "H1", "lowIncome": []}],
                                "dead": False,
                                "lacksCapacity": False,
                                "awayAt": [{"destination": "广东", "since": "2026-01-01"}],
                            },
                        }
                    ]
                },
                "guardiansConnection": {
                    "edges": [
                        {
                            "properties": {"basis": "state", "since": "2026-02-01"},
                            "node": {"__typename": "Institution", "id": "I1", "name": "i"},
                        },
                        {
                            "properties": {"basis": "parent", "since": "2026-01-01"},
                            "node": {"__typename": "Person", "id": "P1", "name": "p", "household": []},
                        },
                    ]
                },
                "caregiversConnection": {"edges": []},
            }
        ]
    }
    child = queries.to_shouhu("child_file", peer)["child"]
    assert child["household"] == household[0]
    assert child["parents"] == [
        {
            "relation": "biological",
            "parent": {"id": "P1", "name": "p", "person": {"id": "P1", "household": {"id": "H1", "lowIncome": []}}},
            "status": {"dead": False, "lacksCapacity": False, "away": {"destination": "广东", "since": "2026-01-01"}},
        }
    ]
    assert [(g["id"], g["kind"], g["person"]) for g in child["guardians"]] == [
        ("P1", "person", {"id": "P1", "household": None}),
        ("I1", "institution", None),
    ]
    assert queries.to_shouhu("child_file", {"people": []}) == {"child": None}
