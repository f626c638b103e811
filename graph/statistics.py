"""The county's statistics as of a date, built on discovery (docs/statistics.md).

One discovery evaluation gives the children of the region subtree in the caller's scope and
their levels and findings; the other figures are read for exactly those children, so every
count agrees with `discover` for the same region and date. Every figure keeps the ids of the
children it counts (`Figure.children`), so a client can list them by the figure's key.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final, LiteralString

from graph import discovery
from graph.bundle.records import CATEGORIES
from graph.dates import birth_cutoff
from graph.discovery import Level, Thresholds
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.regions import SIGNIFICANT_DIGITS, scope_prefix

#: The findings that say a child's guardianship duty (监护职责) is not carried out.
GUARDIANSHIP_RULES: Final = ("NO_CAREGIVER", "CAREGIVER_UNFIT", "CAREGIVER_INCAPABLE", "NO_WRITTEN_AGREEMENT")

# What discovery does not return, for the children it found: their current registrations, a
# home visit within `visitBlue` days, a parent's or current guardian's contact within
# `contactBlue` days, compulsory-school age (6 to 15, as OUT_OF_SCHOOL reads it), and their
# current care records with or without a signed agreement.
CHILD_FACTS: LiteralString = """
UNWIND $ids AS id
MATCH (c:Person {id: id})
RETURN c.id AS id, c.regionCode AS region,
       [(c)-[:REGISTERED]->(r:Registration) WHERE r.since <= $asOf AND (r.until IS NULL OR r.until >= $asOf)
        | r.category] AS categories,
       EXISTS { (:Person)-[v:VISITED]->(c) WHERE v.type = 'home_visit' AND v.on <= $asOf
                AND duration.inDays(v.on, $asOf).days <= $visitBlue } AS visited,
       EXISTS {
         (p:Person)-[e:CONTACTED]->(c)
         WHERE e.on <= $asOf AND duration.inDays(e.on, $asOf).days <= $contactBlue
           AND (EXISTS { (p)-[:PARENT_OF]->(c) }
                OR EXISTS { (p)-[g:GUARDIAN_OF]->(c)
                            WHERE g.since <= $asOf AND (g.until IS NULL OR g.until >= $asOf) })
       } AS contacted,
       c.birthDate <= $born6 AND c.birthDate > $born16 AS schoolAge,
       [(:Person)-[k:CARES_FOR]->(c) WHERE k.since <= $asOf AND (k.until IS NULL OR k.until >= $asOf)
        | k.agreementSignedOn IS NOT NULL AND k.agreementSignedOn <= $asOf] AS agreements
"""

# Townships of the region subtree in scope, with their institutions and workstations at the time.
TOWNSHIPS: LiteralString = """
MATCH (t:Region {level: 'township'})
WHERE t.code STARTS WITH $region AND t.code STARTS WITH $scope
RETURN t.code AS code, t.name AS name,
       COUNT { MATCH (i:Institution) WHERE i.regionCode STARTS WITH left(t.code, $townshipDigits) } AS institutions,
       COUNT { MATCH (i:Institution {type: 'minor_protection_workstation'})
               WHERE i.regionCode STARTS WITH left(t.code, $townshipDigits) } AS workstations
ORDER BY code
"""

# Villages of the region subtree in scope, with the children's directors serving each at `asOf`.
VILLAGES: LiteralString = """
MATCH (v:Region {level: 'village'})
WHERE v.code STARTS WITH $region AND v.code STARTS WITH $scope
RETURN v.code AS code, v.name AS name,
       [(p:Person)-[s:SERVES {role: 'children_director'}]->(v)
        WHERE s.since <= $asOf AND (s.until IS NULL OR s.until >= $asOf) | p.id] AS directors
ORDER BY code
"""


@dataclass(frozen=True, slots=True)
class Figure:
    """A count and the children it counts; `key` names it for `statisticsChildren`."""

    key: str
    label: str
    children: frozenset[str]

    @property
    def count(self) -> int:
        return len(self.children)


@dataclass(frozen=True, slots=True)
class Rate:
    """Those `covered` among `population`; the rate is None when no child is concerned."""

    key: str
    population: Figure
    covered: Figure

    @property
    def rate(self) -> float | None:
        total = self.population.count
        return None if total == 0 else self.covered.count / total

    @property
    def uncovered(self) -> Figure:
        return Figure(f"{self.key}:uncovered", self.population.label, self.population.children - self.covered.children)


@dataclass(frozen=True, slots=True)
class Township:
    code: str
    name: str
    institutions: int
    workstations: int


@dataclass(frozen=True, slots=True)
class Village:
    code: str
    name: str
    directors: tuple[str, ...]
    children: Figure
    registered: Figure

    @property
    def load(self) -> float | None:
        """Registered children per serving director; None when none serves."""
        return None if not self.directors else self.registered.count / len(self.directors)


@dataclass(frozen=True, slots=True)
class Statistics:
    region: str
    as_of: dt.date
    thresholds: Thresholds
    children: Figure
    by_level: tuple[Figure, ...]
    by_rule: tuple[Figure, ...]
    by_category: tuple[Figure, ...]
    visit_coverage: Rate
    contact_coverage: Rate
    agreements_current: int
    agreements_signed: int
    education: Rate
    guardianship: Rate
    townships: tuple[Township, ...]
    villages: tuple[Village, ...]

    def figures(self) -> dict[str, Figure]:
        """Every figure that counts children, by key."""
        found = [self.children, *self.by_level, *self.by_rule, *self.by_category]
        for rate in (self.visit_coverage, self.contact_coverage, self.education, self.guardianship):
            found += [rate.population, rate.covered, rate.uncovered]
        for village in self.villages:
            found += [village.children, village.registered]
        return {figure.key: figure for figure in found}

    def figure(self, key: str) -> Figure:
        try:
            return self.figures()[key]
        except KeyError:
            raise InvalidInput("key", "names no figure of these statistics") from None


def _rate(key: str, label: str, population: set[str], covered: set[str]) -> Rate:
    return Rate(
        key,
        Figure(f"{key}:population", label, frozenset(population)),
        Figure(f"{key}:covered", label, frozenset(covered)),
    )


async def statistics(
    graph: Graph, *, region: str, scope: str, as_of: dt.date, thresholds: Thresholds, materialised: bool = False
) -> Statistics:
    """The statistics of the region subtree `region` (a code) within the caller's `scope`;
    `materialised`: today's levels and findings from the risk nodes when they can be trusted
    (`graph.discovery.discover`)."""
    prefix = scope_prefix(region)
    found = await discovery.discover(
        graph,
        region_prefix=prefix,
        scope_prefix=scope,
        as_of=as_of,
        thresholds=thresholds,
        materialised=materialised,
        evidence=False,
    )
    ids = [child.child_id for child in found.children]
    level_of = {child.child_id: child.level for child in found.children}
    rules_of = {child.child_id: {finding.rule for finding in child.findings} for child in found.children}
    params = {
        "ids": ids,
        "asOf": as_of,
        "visitBlue": thresholds.visit_blue_days,
        "contactBlue": thresholds.contact_blue_days,
        "born6": birth_cutoff(as_of, 6),
        "born16": birth_cutoff(as_of, 16),
    }
    facts = await graph.read(CHILD_FACTS, params)
    place = {"region": prefix, "scope": scope, "asOf": as_of, "townshipDigits": SIGNIFICANT_DIGITS["township"]}
    townships = await graph.read(TOWNSHIPS, place)
    villages = await graph.read(VILLAGES, place)

    categories: dict[str, set[str]] = defaultdict(set)
    registered: set[str] = set()
    visited: set[str] = set()
    left_behind: set[str] = set()
    contacted: set[str] = set()
    school_age: set[str] = set()
    by_village: dict[str, set[str]] = defaultdict(set)
    current = signed = 0
    for row in facts:
        child = row["id"]
        by_village[row["region"]].add(child)
        for category in row["categories"]:
            categories[category].add(child)
        if row["categories"]:
            registered.add(child)
        if row["visited"]:
            visited.add(child)
        if "left_behind" in row["categories"]:
            left_behind.add(child)
        if row["contacted"]:
            contacted.add(child)
        if row["schoolAge"]:
            school_age.add(child)
        current += len(row["agreements"])
        signed += sum(1 for agreement in row["agreements"] if agreement)

    out_of_school = {child for child in school_age if "OUT_OF_SCHOOL" in rules_of[child]}
    duty_kept = {child for child in registered if not rules_of[child] & set(GUARDIANSHIP_RULES)}
    return Statistics(
        region=region,
        as_of=as_of,
        thresholds=thresholds,
        children=Figure("children", "children", frozenset(ids)),
        by_level=tuple(
            Figure(f"level:{level.value}", level.value, frozenset(c for c in ids if level_of[c] is level))
            for level in (Level.RED, Level.YELLOW, Level.BLUE, Level.GREEN)
        ),
        by_rule=tuple(
            Figure(f"rule:{rule}", rule, frozenset(c for c in ids if rule in rules_of[c])) for rule in discovery.RULES
        ),
        by_category=tuple(
            Figure(f"category:{category}", category, frozenset(categories[category])) for category in sorted(CATEGORIES)
        ),
        visit_coverage=_rate("visits", "registered children", registered, registered & visited),
        contact_coverage=_rate("contacts", "registered left-behind children", left_behind, left_behind & contacted),
        agreements_current=current,
        agreements_signed=signed,
        education=_rate("education", "children aged 6 to 15", school_age, school_age - out_of_school),
        guardianship=_rate("guardianship", "registered children", registered, duty_kept),
        townships=tuple(Township(r["code"], r["name"], r["institutions"], r["workstations"]) for r in townships),
        villages=tuple(
            Village(
                r["code"],
                r["name"],
                tuple(sorted(r["directors"])),
                Figure(f"village:{r['code']}", r["name"], frozenset(by_village[r["code"]])),
                Figure(f"village:{r['code']}:registered", r["name"], frozenset(by_village[r["code"]] & registered)),
            )
            for r in villages
        ),
    )
