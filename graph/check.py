"""Discovery against an expected result: what `shouhu check` compares, child by child.

An expected result maps each child of a region to its verdict as of a date:
`{childId: {"level": "red", "findings": {"NO_CAREGIVER": "red", ...}}}`, every living child
under 18 of the region included, green ones with no findings. `differences` lists each child
whose verdict differs, is missing from discovery, or was found but not expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

from graph.discovery import DiscoveryResult, Level
from graph.driver import Graph

NODE_COUNT: LiteralString = "MATCH (n) RETURN count(n) AS nodes"
WIPE: LiteralString = """
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""
COUNTIES: LiteralString = "MATCH (r:Region) WHERE r.level = 'county' RETURN r.code AS code ORDER BY code"

_LEVELS = frozenset(level.value for level in Level)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A child's level and its findings' levels, rule by rule."""

    level: str
    findings: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        return f"{self.level} {{{', '.join(f'{rule}: {level}' for rule, level in self.findings)}}}"


@dataclass(frozen=True, slots=True)
class Difference:
    child_id: str
    expected: Verdict | None
    got: Verdict | None

    def __str__(self) -> str:
        expected = "absent" if self.expected is None else str(self.expected)
        got = "absent" if self.got is None else str(self.got)
        return f"{self.child_id}: expected {expected}, got {got}"


class ExpectedFileError(ValueError):
    """The expected result is not of the shape {childId: {level, findings: {rule: level}}}."""


def parse_expected(document: Any, rules: frozenset[str]) -> dict[str, Verdict]:
    """Read an expected result, naming the child and the field of the first thing wrong."""
    if not isinstance(document, Mapping):
        raise ExpectedFileError("must be an object mapping child ids to {level, findings}")
    parsed: dict[str, Verdict] = {}
    for child_id, entry in document.items():
        if not isinstance(entry, Mapping) or set(entry) != {"level", "findings"}:
            raise ExpectedFileError(f"{child_id}: must be an object with exactly `level` and `findings`")
        level, findings = entry["level"], entry["findings"]
        if level not in _LEVELS:
            raise ExpectedFileError(f"{child_id}: level {level!r} is not one of {', '.join(sorted(_LEVELS))}")
        if not isinstance(findings, Mapping):
            raise ExpectedFileError(f"{child_id}: findings must be an object of rule: level")
        for rule, rule_level in findings.items():
            if rule not in rules:
                raise ExpectedFileError(f"{child_id}: {rule!r} is not a discovery rule")
            if rule_level not in _LEVELS - {Level.GREEN.value}:
                raise ExpectedFileError(f"{child_id}: {rule} has level {rule_level!r}; red, yellow or blue")
        parsed[str(child_id)] = Verdict(level, tuple(sorted(findings.items())))
    return parsed


def verdicts(result: DiscoveryResult) -> dict[str, Verdict]:
    return {
        child.child_id: Verdict(
            child.level.value, tuple(sorted((finding.rule, finding.level.value) for finding in child.findings))
        )
        for child in result.children
    }


def differences(expected: Mapping[str, Verdict], got: Mapping[str, Verdict]) -> list[Difference]:
    """Every child on either side whose verdicts are not equal, by child id."""
    return [
        Difference(child_id, expected.get(child_id), got.get(child_id))
        for child_id in sorted(expected.keys() | got.keys())
        if expected.get(child_id) != got.get(child_id)
    ]


async def node_count(graph: Graph) -> int:
    return int((await graph.read(NODE_COUNT))[0]["nodes"])


async def wipe(graph: Graph) -> None:
    """Delete every node and relationship (constraints and indexes stay)."""
    await graph.autocommit(WIPE)


async def counties(graph: Graph) -> list[str]:
    return [str(row["code"]) for row in await graph.read(COUNTIES)]
