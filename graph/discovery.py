"""Proactive discovery (主动发现): which children need help, as of a date, and why.

The rules themselves are Cypher in `graph.discovery_rules`; this module validates input,
computes the parameters (thresholds, birth-date cutoffs) and turns rows into typed records.
Everything is evaluated in the database in one query per call; nothing is judged child by
child in Python.

Choices the rules leave open, made here:

- A report's date is the calendar date of its `at` in `Thresholds.timezone` (the server's
  zone, Asia/Shanghai by default), not in the offset it was written with, so every date in
  one evaluation is read on the same calendar as D.
- A referral's status at D is the status of its latest `StatusChange` dated on or before D;
  with none, the status as recorded.
- "De facto unsupported" needs at least two recorded parents, every one lacking capacity,
  and fewer than two of them dead: the glossary's "both parents in the incapacity set, or
  one dead or missing and the other in it" excludes orphans (both dead), as 民发〔2019〕62号
  does.
- A household's `lowIncome` statuses carry no dates; the current ones count at every D.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final, LiteralString, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from neo4j import AsyncManagedTransaction, Record

from graph import discovery_rules as cypher
from graph import risk_index
from graph.bundle.records import DISQUALIFYING, INCAPACITY
from graph.dates import birth_cutoff, native_date, native_datetime
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.persons import PersonRecord, person_record
from graph.regions import SIGNIFICANT_DIGITS

RULES: tuple[str, ...] = tuple(cypher.RULES)


class Level(enum.StrEnum):
    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"
    GREEN = "green"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def from_rank(cls, rank: int) -> Level:
        return _LEVELS[rank]


_RANKS = {Level.RED: 3, Level.YELLOW: 2, Level.BLUE: 1, Level.GREEN: 0}
_LEVELS = {rank: level for level, rank in _RANKS.items()}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The configurable numbers of the rules (docs/discovery.md), with their defaults."""

    contact_blue_days: int = 7
    contact_yellow_days: int = 30
    visit_blue_days: int = 31
    visit_yellow_days: int = 92
    caregiver_age: int = 70
    overload_children: int = 4
    report_immediate_days: int = 1
    report_high_days: int = 3
    report_normal_days: int = 7
    timezone: str = "Asia/Shanghai"

    def validate(self) -> None:
        for name, value in asdict(self).items():
            if name != "timezone" and (not isinstance(value, int) or value < 0):
                raise InvalidInput(name, "must be a whole number, 0 or more")
        if self.contact_blue_days > self.contact_yellow_days:
            raise InvalidInput("contact_yellow_days", "must not be below contact_blue_days")
        if self.visit_blue_days > self.visit_yellow_days:
            raise InvalidInput("visit_yellow_days", "must not be below visit_blue_days")
        if self.overload_children < 1:
            raise InvalidInput("overload_children", "must be at least 1")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InvalidInput("timezone", f"unknown time zone {self.timezone!r}") from error

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


#: The query parameter each threshold is passed as (`graph.discovery_rules` names them);
#: `caregiver_age` goes as `bornOld`, the latest birth date of someone that old at D.
THRESHOLD_PARAMETERS: Final = {
    "contact_blue_days": "contactBlue",
    "contact_yellow_days": "contactYellow",
    "visit_blue_days": "visitBlue",
    "visit_yellow_days": "visitYellow",
    "caregiver_age": "bornOld",
    "overload_children": "overload",
    "report_immediate_days": "reportImmediate",
    "report_high_days": "reportHigh",
    "report_normal_days": "reportNormal",
    "timezone": "zone",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One record that made a finding true; `kind` says which fields are set.

    kinds: `parent` (id), `birth` (person_id, on), `death` (person_id, on), `away` (key, person_id, since),
    `condition` (key, type, person_id, since), `registration` (key, category, since),
    `caregiver` (id, on = birth date, count for overload), `care` (caregiver_id, since),
    `contact` / `visit` (person_id, on, days = gap to D), `report` (id, at, on, urgency),
    `referral` (id, due_on, status, case_id), `enrollment` (id = institution, since, until),
    `household` (id, values = low-income statuses).
    """

    kind: str
    id: str | None = None
    key: str | None = None
    person_id: str | None = None
    caregiver_id: str | None = None
    case_id: str | None = None
    type: str | None = None
    category: str | None = None
    urgency: str | None = None
    status: str | None = None
    on: dt.date | None = None
    at: dt.datetime | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    due_on: dt.date | None = None
    days: int | None = None
    count: int | None = None
    values: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, JSON-ready (dates as ISO strings)."""
        out: dict[str, Any] = {}
        # Not `asdict`: its deep copy was most of a sweep's Python time; every field is flat.
        for name in _EVIDENCE_FIELDS:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            if isinstance(value, dt.date | dt.datetime):
                value = value.isoformat()
            out[name] = list(value) if isinstance(value, tuple) else value
        return out


_EVIDENCE_FIELDS: Final = tuple(f.name for f in fields(Evidence))


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    level: Level
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class ChildRisk:
    child_id: str
    name: str | None
    region_code: str | None
    level: Level
    findings: tuple[Finding, ...]

    @property
    def cursor(self) -> str:
        return encode_cursor(self.level, self.child_id)


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    """Every child at `as_of` in the region subtree and the caller's scope, most severe first."""

    region_prefix: str
    scope_prefix: str
    as_of: dt.date
    thresholds: Thresholds
    rules: tuple[str, ...]
    children: tuple[ChildRisk, ...]

    def counts(self) -> dict[Level, int]:
        totals = dict.fromkeys(Level, 0)
        for child in self.children:
            totals[child.level] += 1
        return totals


@dataclass(frozen=True, slots=True)
class DiscoveryPage:
    """One page of `discover`, keyset-paged by (level, child id); `total_count` on request."""

    items: tuple[ChildRisk, ...]
    has_next_page: bool
    total_count: int | None
    as_of: dt.date
    thresholds: Thresholds
    rules: tuple[str, ...]
    min_level: Level = Level.BLUE
    end_cursor: str | None = field(default=None)


class StoredFinding(TypedDict):
    """A finding as a risk node keeps it: `level` by name, each evidence as the fields that are
    set, by name (`Evidence.as_dict`), read back with dates as dates and `values` a list."""

    rule: str
    level: str
    evidence: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class StoredChild:
    """A child of today's page as its risk node keeps it, before any record is built from it:
    the API answers from these fields as they are (`record` builds what an evaluation gives)."""

    child_id: str
    name: str | None
    region_code: str | None
    level: Level
    #: the findings of the rules asked for, most severe first
    findings: list[StoredFinding]
    #: the child's own record, when asked for and in the scope it was asked in
    person: PersonRecord | None

    @property
    def cursor(self) -> str:
        return encode_cursor(self.level, self.child_id)

    def record(self) -> ChildRisk:
        return ChildRisk(
            child_id=self.child_id,
            name=self.name,
            region_code=self.region_code,
            level=self.level,
            findings=tuple(
                Finding(f["rule"], Level(f["level"]), tuple(_evidence_record(e) for e in f["evidence"]))
                for f in self.findings
            ),
        )


@dataclass(frozen=True, slots=True)
class StoredPage:
    """One page of today's `discover` read from the risk nodes (`stored_page`)."""

    items: tuple[StoredChild, ...]
    has_next_page: bool
    total_count: int | None


def validate_prefix(field_name: str, prefix: str) -> str:
    if not (prefix == "" or (prefix.isascii() and prefix.isdigit() and len(prefix) in SIGNIFICANT_DIGITS.values())):
        raise InvalidInput(field_name, "must be a region-code prefix of 2, 4, 6, 9 or 12 digits, or empty")
    return prefix


def validate_rules(rules: Sequence[str] | None) -> tuple[str, ...]:
    if rules is None:
        return RULES
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise InvalidInput("rules", f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    return tuple(rule for rule in RULES if rule in set(rules))


def parameters(
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Validate the input and build the parameters every discovery query takes.

    See `graph.discovery_rules` for their meaning; `rules` None means every rule.
    """
    validate_prefix("region", region_prefix)
    validate_prefix("scope", scope_prefix)
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise InvalidInput("asOf", "must be a date")
    thresholds.validate()
    # Both prefixes are tested in the query; when the scope lies inside the region, seeking
    # the index by the scope reads only what the caller may see.
    seek = scope_prefix if scope_prefix.startswith(region_prefix) else region_prefix
    values: dict[str, Any] = thresholds.as_dict() | {"caregiver_age": birth_cutoff(as_of, thresholds.caregiver_age)}
    return {
        "region": seek,
        "scope": scope_prefix,
        "asOf": as_of,
        "rules": list(validate_rules(rules)),
        "incapacity": list(INCAPACITY),
        "disqualifying": list(DISQUALIFYING),
        "born6": birth_cutoff(as_of, 6),
        "born16": birth_cutoff(as_of, 16),
        "born18": birth_cutoff(as_of, 18),
    } | {THRESHOLD_PARAMETERS[name]: value for name, value in values.items()}


async def discover(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
    materialised: bool = False,
    evidence: bool = True,
) -> DiscoveryResult:
    """Every child at `as_of` in the region subtree within the caller's scope, green included.

    `materialised`: for today, read the children's risk nodes when they can be trusted
    (`graph.risk_index`) instead of evaluating; read so, `evidence=False` leaves the findings'
    evidence out (a count needs none)."""
    params = parameters(
        region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
    )
    seek = await _index_seek(graph, params, region_prefix, scope_prefix, thresholds, materialised)
    if seek is not None:
        rows = await risk_index.all_rows(graph, seek=seek, region=region_prefix, scope=scope_prefix, evidence=evidence)
        children = sorted((_stored(row, params["rules"]) for row in rows), key=lambda c: (-c.level.rank, c.child_id))
        return DiscoveryResult(region_prefix, scope_prefix, as_of, thresholds, tuple(params["rules"]), tuple(children))
    children = sorted(
        _villages(await _in_parts(graph, cypher.DISCOVER, params)), key=lambda c: (-c.level.rank, c.child_id)
    )
    return DiscoveryResult(region_prefix, scope_prefix, as_of, thresholds, tuple(params["rules"]), tuple(children))


async def discover_villages(
    graph: Graph,
    villages: Sequence[str],
    *,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
) -> tuple[ChildRisk, ...]:
    """Every child at `as_of` whose household lies in one of `villages` (region codes) within
    the caller's scope, green included, most severe first: `discover` of several villages at
    once, in one evaluation (a sweep's batch)."""
    for village in villages:
        validate_prefix("villages", village)
    params = parameters(
        region_prefix="", scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
    ) | {"villages": list(villages)}
    children = _villages(await _in_parts(graph, cypher.DISCOVER_VILLAGES, params))
    return tuple(sorted(children, key=lambda c: (-c.level.rank, c.child_id)))


async def discover_page(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
    min_level: Level = Level.BLUE,
    first: int = 50,
    after: str | None = None,
    with_total: bool = True,
    materialised: bool = False,
) -> DiscoveryPage:
    """One page of the children at `min_level` or above, most severe first then by id.

    `after` is a cursor from an earlier page (`ChildRisk.cursor`). The page query sorts only
    `first + 1` rows in the database; `total_count` costs a second evaluation, so callers
    that do not show it pass `with_total=False`. `materialised`: for today, the page as
    `stored_page` reads it when the risk nodes can be trusted.
    """
    params = parameters(
        region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
    )
    if first < 0:
        raise InvalidInput("first", "must be 0 or more")
    after_level, after_id = decode_cursor(after) if after is not None else (None, None)
    if materialised:
        stored = await stored_page(
            graph, region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds,
            rules=rules, min_level=min_level, first=first, after=after, with_total=with_total,
        )  # fmt: skip
        if stored is not None:
            items = tuple(child.record() for child in stored.items)
            return DiscoveryPage(
                items=items,
                has_next_page=stored.has_next_page,
                total_count=stored.total_count,
                as_of=as_of,
                thresholds=thresholds,
                rules=tuple(params["rules"]),
                min_level=min_level,
                end_cursor=items[-1].cursor if items else None,
            )
    page_params = params | {
        "minRank": min_level.rank,
        "afterRank": after_level.rank if after_level is not None else None,
        "afterId": after_id,
        "limit": first + 1,
    }
    parts = await _in_parts(graph, cypher.DISCOVER_PAGE, page_params)
    ranked = sorted((_child(record) for part in parts for record in part), key=lambda c: (-c.level.rank, c.child_id))
    page = tuple(ranked[:first])
    return DiscoveryPage(
        items=page,
        has_next_page=len(ranked) > first,
        total_count=await _count(graph, params, min_level) if with_total else None,
        as_of=as_of,
        thresholds=thresholds,
        rules=tuple(params["rules"]),
        min_level=min_level,
        end_cursor=page[-1].cursor if page else None,
    )


async def stored_page(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
    min_level: Level = Level.BLUE,
    first: int = 50,
    after: str | None = None,
    with_total: bool = True,
    person_scope: str | None = None,
) -> StoredPage | None:
    """`discover_page` for today read from the risk nodes (`graph.risk_index`), in one round trip:
    their trust, the page, `with_total` the count over all pages, and with `person_scope` the
    records of the page's children in that scope (as `graph.persons.get_persons` reads them).
    None when `as_of` is not today or the nodes cannot be trusted: then only an evaluation
    (`discover_page`) answers."""
    params = parameters(
        region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
    )
    if first < 0:
        raise InvalidInput("first", "must be 0 or more")
    after_level, after_id = decode_cursor(after) if after is not None else (None, None)
    seek = _today_seek(params, region_prefix, scope_prefix, thresholds)
    if seek is None:
        return None
    every = _every_rule(params)
    position = None if after_level is None or after_id is None else (after_level.rank, after_id)
    found = await risk_index.stored_page(
        graph, seek=seek, region=region_prefix, scope=scope_prefix, as_of=params["asOf"],
        thresholds=risk_index.thresholds_key(thresholds.as_dict()), rules=None if every else params["rules"],
        min_rank=min_level.rank, after=position, limit=first + 1, with_total=with_total, person_scope=person_scope,
    )  # fmt: skip
    if not found.trusted:
        return None
    chosen = None if every else frozenset(params["rules"])
    items = [_stored_child(row, chosen) for row in found.rows]
    return StoredPage(items=tuple(items[:first]), has_next_page=len(items) > first, total_count=found.total)


async def discover_count(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
    min_level: Level = Level.BLUE,
    materialised: bool = False,
) -> int:
    """How many children `discover_page` would list over all its pages (one full evaluation,
    or for today, `materialised`, an index count with the nodes' trust, when they have it)."""
    params = parameters(
        region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
    )
    seek = _today_seek(params, region_prefix, scope_prefix, thresholds) if materialised else None
    if seek is not None:
        counted = await risk_index.stored_count(
            graph, seek=seek, region=region_prefix, scope=scope_prefix, as_of=params["asOf"],
            thresholds=risk_index.thresholds_key(thresholds.as_dict()),
            rules=None if _every_rule(params) else params["rules"], min_rank=min_level.rank,
        )  # fmt: skip
        if counted is not None:
            return counted
    return await _count(graph, params, min_level)


async def discover_findings(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
) -> list[tuple[str, str, Level]]:
    """(child id, rule, level) of every finding in the region: `discover` without green
    children and without evidence, small enough for a province's sweep."""
    params = parameters(
        region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules
    )
    parts = await _in_parts(graph, cypher.DISCOVER_FINDINGS, params)
    return sorted(
        (record["id"], rule, Level(level))
        for records in parts
        for record in records
        for rule, level in record["findings"]
    )


def today(thresholds: Thresholds) -> dt.date:
    """The calendar date now in the thresholds' zone: the day whose risk is materialised."""
    return dt.datetime.now(ZoneInfo(thresholds.timezone)).date()


def _today_seek(params: Mapping[str, Any], region_prefix: str, scope_prefix: str, thresholds: Thresholds) -> str | None:
    """The prefix to read today's risk nodes by (`risk_index.seek_prefix`); None when `asOf` is
    another day, or the region and the scope do not meet: the rules are evaluated then."""
    if params["asOf"] != today(thresholds):
        return None
    return risk_index.seek_prefix(region_prefix, scope_prefix)


async def _index_seek(
    graph: Graph,
    params: Mapping[str, Any],
    region_prefix: str,
    scope_prefix: str,
    thresholds: Thresholds,
    materialised: bool,
) -> str | None:
    """The prefix to read today's risk nodes by, or None when the rules must be evaluated."""
    seek = _today_seek(params, region_prefix, scope_prefix, thresholds) if materialised else None
    if seek is None:
        return None
    key = risk_index.thresholds_key(thresholds.as_dict())
    return seek if await risk_index.trusted(graph, seek=seek, as_of=params["asOf"], thresholds=key) else None


def _every_rule(params: Mapping[str, Any]) -> bool:
    return tuple(params["rules"]) == RULES


async def _count(graph: Graph, params: dict[str, Any], min_level: Level) -> int:
    parts = await _in_parts(graph, cypher.DISCOVER_COUNT, params | {"minRank": min_level.rank})
    return sum(int(records[0]["total"]) for records in parts)


#: Queries run at once over one region, each on its own share of the villages: Neo4j runs a
#: query on one core, so a region's evaluation uses as many cores as it has parts.
PARTS = 2


async def _in_parts(graph: Graph, query: LiteralString, params: dict[str, Any]) -> list[list[Record]]:
    return list(
        await asyncio.gather(*(graph.read(query, params | {"part": part, "parts": PARTS}) for part in range(PARTS)))
    )


async def risk_profile(
    graph: Graph,
    child_id: str,
    *,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    rules: Sequence[str] | None = None,
) -> ChildRisk | None:
    """One child's level and findings; None when absent, not a child at `as_of`, or out of scope."""
    params = parameters(region_prefix="", scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds, rules=rules)
    records = await graph.read(cypher.RISK_PROFILE, params | {"childId": child_id})
    return _child(records[0]) if records else None


async def children_risk_in(
    tx: AsyncManagedTransaction,
    child_ids: Sequence[str],
    *,
    as_of: dt.date,
    thresholds: Thresholds,
) -> list[ChildRisk]:
    """The level and findings of each of `child_ids` that is a child at `as_of` (any region),
    with evidence; ids of persons who are not children at `as_of` are left out. Read inside the
    caller's transaction: a re-evaluation writes what it judged in the same one."""
    params = parameters(region_prefix="", scope_prefix="", as_of=as_of, thresholds=thresholds)
    result = await tx.run(cypher.CHILDREN_RISK, params | {"childIds": list(child_ids)})
    found = _villages([[record async for record in result]])
    return sorted(found, key=lambda c: (-c.level.rank, c.child_id))


def encode_cursor(level: Level, child_id: str) -> str:
    return base64.urlsafe_b64encode(f"{level.rank}:{child_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[Level, str]:
    try:
        rank, child_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)
        return Level.from_rank(int(rank)), child_id
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput("after", "not a cursor from this connection") from error


def _villages(parts: Sequence[Sequence[Record]]) -> list[ChildRisk]:
    """The children of rows grouped by village (`regionCode`, `children`)."""
    return [
        _child(child, record["regionCode"]) for records in parts for record in records for child in record["children"]
    ]


def _child(record: Mapping[str, Any], region_code: str | None = None) -> ChildRisk:
    findings = tuple(
        Finding(
            rule=item["rule"],
            level=Level(item["level"]),
            evidence=tuple(_evidence(e) for e in item["evidence"]),
        )
        for item in sorted(record["findings"], key=lambda x: (-Level(x["level"]).rank, RULES.index(x["rule"])))
    )
    return ChildRisk(
        child_id=record["id"],
        name=record["name"],
        region_code=record["regionCode"] if region_code is None else region_code,
        level=Level.from_rank(int(record["rank"])),
        findings=findings,
    )


def _stored(row: Mapping[str, Any], rules: Sequence[str]) -> ChildRisk:
    """A child as its risk node keeps it, with the findings of `rules` only (as an evaluation
    of those rules gives); without `findings` in the row, findings carry no evidence."""
    if row.get("findings") is not None:
        return _stored_child(row, frozenset(rules)).record()
    chosen = set(rules)
    stored = [
        Finding(rule, Level.from_rank(int(rank)), ()) for rule, rank in zip(row["rules"], row["ranks"], strict=True)
    ]
    findings = tuple(
        sorted((f for f in stored if f.rule in chosen), key=lambda f: (-f.level.rank, RULES.index(f.rule)))
    )
    return ChildRisk(
        child_id=row["id"],
        name=row["name"],
        region_code=row["regionCode"],
        level=Level.from_rank(max((f.level.rank for f in findings), default=0)),
        findings=findings,
    )


_RULE_ORDER: Final = {rule: index for index, rule in enumerate(RULES)}
_LEVEL_RANKS: Final = {level.value: rank for level, rank in _RANKS.items()}


def _finding_order(finding: StoredFinding) -> tuple[int, int]:
    """Most severe first, then in the rules' order: as `_child` orders an evaluation's findings."""
    return -_LEVEL_RANKS[finding["level"]], _RULE_ORDER[finding["rule"]]


def _stored_child(row: Mapping[str, Any], chosen: frozenset[str] | None) -> StoredChild:
    """A row of a page read from the risk nodes, with the findings of `chosen` only (None: every
    rule), as an evaluation of those rules gives them: ranked by them alone."""
    findings: list[StoredFinding] = orjson.loads(row["findings"])
    if chosen is not None:
        findings = [f for f in findings if f["rule"] in chosen]
    findings.sort(key=_finding_order)
    for finding in findings:
        for item in finding["evidence"]:
            _read_dates(item)
    person = row.get("person")
    return StoredChild(
        child_id=row["id"],
        name=row["name"],
        region_code=row["regionCode"],
        level=Level.from_rank(max((_LEVEL_RANKS[f["level"]] for f in findings), default=0)),
        findings=findings,
        person=None if person is None else person_record(person),
    )


_STORED_DATES: Final = ("on", "since", "until", "due_on")


def _read_dates(item: dict[str, Any]) -> None:
    """Stored evidence (`Evidence.as_dict`) with its dates, ISO text in the JSON, as dates again:
    in place, the item being fresh from the JSON."""
    for name in _STORED_DATES:
        value = item.get(name)
        if value is not None:
            item[name] = dt.date.fromisoformat(value)
    at = item.get("at")
    if at is not None:
        item["at"] = dt.datetime.fromisoformat(at)


def _evidence_record(fields: Mapping[str, Any]) -> Evidence:
    """The evidence record of stored evidence's fields (`_read_dates`)."""
    values = fields.get("values")
    return Evidence(**fields) if values is None else Evidence(**{**fields, "values": tuple(values)})


def _evidence(item: Mapping[str, Any]) -> Evidence:
    return Evidence(
        kind=item["kind"],
        id=item.get("id"),
        key=item.get("key"),
        person_id=item.get("personId"),
        caregiver_id=item.get("caregiverId"),
        case_id=item.get("caseId"),
        type=item.get("type"),
        category=item.get("category"),
        urgency=item.get("urgency"),
        status=item.get("status"),
        on=native_date(item.get("on")),
        at=native_datetime(item.get("at")),
        since=native_date(item.get("since")),
        until=native_date(item.get("until")),
        due_on=native_date(item.get("dueOn")),
        days=item.get("days"),
        count=item.get("count"),
        values=tuple(item.get("values") or ()),
    )
