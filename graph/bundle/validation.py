"""Validation of NDJSON bundles (docs/bundle-format.md): per line, then across lines.

`parse_line` checks one line on its own and returns a `ValidRecord` (typed values) or a
`Rejection`. `validate_bundle` streams a whole bundle through `parse_line` into an on-disk
index (`graph.bundle.index`) and then runs the cross-line checks against it and the database.
Memory stays flat in the number of lines; it grows only with the number of rejections.

What "exists" means for a reference: a line of the right kind in the bundle that is itself
valid in the end (before or after the referring line), or, when no line of the bundle defines
that key at all, a node already in the database. A key whose lines in the bundle were all
rejected does not fall back to the database: the referring line is rejected too ("child: P1
is rejected on line 12"), so skip-invalid never writes a record that points at nothing or at
data its own bundle meant to change, and the reject file holds both lines to fix together.
Rejection cascades: a rejected region rejects its households, their persons, those persons'
relationships and events, and so on.

Choices the format leaves open, made here:

- One rejection per line: the first failing check, in field order, per-line checks first.
- `lines` counts record lines (not blank, not `#` comments); line numbers count every line.
- A second line defining the same entity key (person id, region code...) is rejected; the
  first valid one stands. Interval records with the same identity are not (the last wins).
- Two persons with one `idNumber`: the later line is rejected. A number held in the database
  by a person with another id is rejected too, even if the bundle also moves that number away
  from its holder: the writer could not order those writes safely.
- `idNumber` may end in lower-case `x`; it is stored upper-case (`graph.bundle.idnumber`).
- A region code has zeros after its level's significant digits (2/4/6/9/12) and starts with
  its parent's significant digits, so scoping by code prefix is sound; a household's region
  must be a village (the format's "village code").
- `away.destinationRegion` is a well-formed code, not a reference: it is usually elsewhere.
- A datetime (`report.at`) is in the future when its own calendar date is after `today`.
- Parent cycles: a parent must be at least 12 years older than the child (completed years,
  the age rule of docs/domain.md), so accepted parent edges can never close a cycle. An edge whose
  parent is not older than the child is checked for a cycle (through the bundle's edges, or
  through the database's) to say so in the reason; either way it is rejected.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, LiteralString

import orjson

from graph import access
from graph.bundle import exporter, idnumber
from graph.bundle.index import LAYOUTS, BundleIndex
from graph.bundle.records import (
    ENTITY_KINDS,
    ENTITY_ORDER,
    KINDS,
    MIN_PARENT_AGE,
    Field,
    Kind,
)
from graph.bundle.scope import BAD_USER_INPUT, FORBIDDEN, Kept, masked, seal, without_masked_fields
from graph.callers import Caller, Role
from graph.driver import Graph
from graph.regions import LEVEL_RANK, LEVELS, SIGNIFICANT_DIGITS

#: Keys per database round trip.
BATCH: Final = 5000
#: An admin's bundle up to this many lines is kept in memory for the checks of
#: `graph.bundle.scope` (and the audit of every region it touches); a larger one keeps only
#: what the lifecycle checks and the audit's regions need.
KEEP_ALL_LINES: Final = 20_000
KEPT_WHEN_LARGE: Final = frozenset({"region", "household", "institution", "case", "referral"})
#: Who acts when no caller is named: an operator with database access, as admin.
OPERATOR: Final = Caller(sub="operator", role=Role.ADMIN)
#: What a caller who may not see whose number it is reads about a number the database holds.
ID_NUMBER_REFUSED: Final = "idNumber: cannot be accepted: check it against the person's documents"


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int  #: 1-based line number in the bundle
    field: str | None  #: the offending field; None for bad JSON and whole-line problems
    reason: str  #: starts with the field, e.g. "birthDate: 2031-01-01 is in the future"
    text: str  #: the original line, for the reject file
    #: FORBIDDEN (outside the caller's scope, or nowhere), CONFLICT (a case or referral
    #: moving as no mutation could) or BAD_USER_INPUT (everything else).
    code: str = BAD_USER_INPUT


@dataclass(frozen=True, slots=True)
class ValidRecord:
    line: int
    kind: str
    #: Every field of the kind (not `kind`); absent optional fields are None; dates are
    #: `date`, datetimes aware `datetime`, lists `list[str]`, booleans `bool`, counts `int`.
    data: dict[str, Any]


@dataclass(slots=True)
class ValidationReport:
    #: One rejection per rejected line (its first reason), sorted by line.
    rejections: list[Rejection]
    #: Record lines read (blank and comment lines are not counted).
    lines: int
    valid: int
    #: Valid lines per kind.
    counts: dict[str, int] = field(default_factory=dict)
    #: Valid lines the import does not write: they would change nothing (`graph.bundle.scope`).
    unchanged: frozenset[int] = frozenset()
    #: Region code -> ids of the records the bundle touches there, refused ones included.
    touched: dict[str, set[str]] = field(default_factory=dict)
    #: Region code -> persons holding an ID number the bundle gives someone else, when the
    #: caller may not be told whose it is (each is a look-up by ID number).
    id_number_holders: dict[str, set[str]] = field(default_factory=dict)
    #: The children the bundle's valid report, case and referral lines are about in the
    #: database before the import: a line that moves one to another child changes both.
    children_before: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.rejections

    def rejected_lines(self) -> frozenset[int]:
        return frozenset(rejection.line for rejection in self.rejections)

    @property
    def forbidden(self) -> list[Rejection]:
        return [rejection for rejection in self.rejections if rejection.code == FORBIDDEN]


def numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of the record lines: blank lines and `#` comments are skipped but
    counted. Split a string with `text.split("\\n")`, not `splitlines()`, which also breaks
    at characters JSON strings may hold (U+2028...) and would shift the numbers."""
    for number, raw in enumerate(lines, 1):
        text = raw.rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")
        stripped = text.lstrip()
        if stripped and not stripped.startswith("#"):
            yield number, text


def records(lines: Iterable[str], *, today: date, skip: frozenset[int] = frozenset()) -> Iterator[ValidRecord]:
    """The valid records of a bundle already validated, leaving out the lines in `skip`."""
    for number, text in numbered(lines):
        if number not in skip:
            record = parse_line(number, text, today=today)
            if isinstance(record, ValidRecord):
                yield record


# Per-line checks ---------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = f"{field}: {reason}" if field else reason


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _string(spec: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(spec.name, f"must be a string, not {_json_type(value)}")
    return value


def _id(spec: Field, value: Any) -> str:
    if type(value) is str and value and not value.isspace():
        return value
    if not _string(spec, value).strip():
        raise _Bad(spec.name, "must not be empty")
    return str(value)


def _text(spec: Field, value: Any) -> str:
    text = _string(spec, value)
    if spec.required and not text.strip():
        raise _Bad(spec.name, "must not be empty")
    return text


def _code(spec: Field, value: Any) -> str:
    code = _string(spec, value)
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        raise _Bad(spec.name, f"{code!r} is not a 12-digit region code")
    return code


def _date(spec: Field, value: Any) -> date:
    text = _string(spec, value)
    if len(text) == 10 and text.isascii() and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise _Bad(spec.name, f"{text!r} is not a date (YYYY-MM-DD)")


_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def _datetime(spec: Field, value: Any) -> datetime:
    text = _string(spec, value)
    if _DATETIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise _Bad(spec.name, f"{text!r} is not a datetime with an offset (YYYY-MM-DDThh:mm:ss+08:00)")


def _bool(spec: Field, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(spec.name, f"must be true or false, not {_json_type(value)}")
    return value


def _count(spec: Field, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(spec.name, f"must be a whole number, not {_json_type(value)}")
    if not 0 <= value < 2**63:
        raise _Bad(spec.name, f"{value} is {'negative' if value < 0 else 'too large'}")
    return value


def _choices(spec: Field) -> str:
    return ", ".join(sorted(spec.values))


def _enum(spec: Field, value: Any) -> str:
    text = _string(spec, value)
    if text not in spec.values:
        raise _Bad(spec.name, f"{text!r} is not one of {_choices(spec)}")
    return text


def _enums(spec: Field, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _Bad(spec.name, f"must be a list, not {_json_type(value)}")
    for item in value:
        if not isinstance(item, str) or item not in spec.values:
            raise _Bad(spec.name, f"{item!r} is not one of {_choices(spec)}")
    return list(value)


def _id_number(spec: Field, value: Any) -> str:
    number = idnumber.normalize(_string(spec, value))
    if problem := idnumber.problem(number):
        raise _Bad(spec.name, problem)
    return number


CONVERTERS: Final[dict[str, Callable[[Field, Any], Any]]] = {
    "id": _id,
    "text": _text,
    "code": _code,
    "date": _date,
    "datetime": _datetime,
    "bool": _bool,
    "count": _count,
    "enum": _enum,
    "enums": _enums,
    "id_number": _id_number,
}


def _check_region(data: dict[str, Any]) -> None:
    code, level, parent = data["code"], data["level"], data["parent"]
    if level == "province":
        if parent is not None:
            raise _Bad("parent", f"a province has no parent, but {parent} is given")
    elif parent is None:
        raise _Bad("parent", f"missing: a {level} needs its parent's code")
    digits = SIGNIFICANT_DIGITS[level]
    if code[digits:].strip("0"):
        raise _Bad("code", f"{code} is not a {level} code: digits after the first {digits} must be 0")


def _check_person(data: dict[str, Any]) -> None:
    born, died, number = data["birthDate"], data["deceasedOn"], data["idNumber"]
    if died is not None and died < born:
        raise _Bad("deceasedOn", f"{died.isoformat()} is before birthDate {born.isoformat()}")
    if number is not None and (problem := idnumber.disagreement(number, born, data["gender"])):
        raise _Bad("idNumber", problem)


def _check_interval(data: dict[str, Any]) -> None:
    if data["until"] is not None and data["until"] < data["since"]:
        raise _Bad("until", f"{data['until'].isoformat()} is before since {data['since'].isoformat()}")


def _not_self(role: str, what: str) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        if data[role] == data["child"]:
            raise _Bad(role, f"{data[role]} cannot be their own {what}")

    return check


def _check_staff(data: dict[str, Any]) -> None:
    if data["region"] is None and data["institution"] is None:
        raise _Bad("region", "missing: staff need a region or an institution (or both)")


LINE_CHECKS: Final[dict[str, tuple[Callable[[dict[str, Any]], None], ...]]] = {
    "region": (_check_region,),
    "person": (_check_person,),
    "parent": (_not_self("parent", "parent"),),
    "guardian": (_not_self("guardian", "guardian"),),
    "care": (_not_self("caregiver", "caregiver"),),
    "staff": (_check_staff,),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """A kind's per-line checks, laid out once for the hot loop."""

    kind: Kind
    allowed: frozenset[str]
    fields: tuple[tuple[str, bool, Callable[[Field, Any], Any], bool, Field], ...]
    checks: tuple[Callable[[dict[str, Any]], None], ...]


PLANS: Final = {
    name: _Plan(
        kind,
        kind.names | {"kind"},
        tuple((spec.name, spec.required, CONVERTERS[spec.type], spec.no_future, spec) for spec in kind.fields),
        ((_check_interval,) if kind.interval else ()) + LINE_CHECKS.get(name, ()),
    )
    for name, kind in KINDS.items()
}


def _check(plan: _Plan, obj: dict[str, Any], today: date) -> dict[str, Any]:
    if not plan.allowed.issuperset(obj):
        unknown = next(name for name in obj if name not in plan.allowed)
        raise _Bad(unknown, f"unknown field for a {plan.kind.name}")
    data: dict[str, Any] = {}
    for name, required, convert, no_future, spec in plan.fields:
        value = obj.get(name)
        if value is None:
            if required:
                raise _Bad(name, "missing (required)")
            data[name] = None
            continue
        converted = convert(spec, value)
        if no_future and (converted.date() if isinstance(converted, datetime) else converted) > today:
            raise _Bad(name, f"{value} is in the future")
        data[name] = converted
    for check in plan.checks:
        check(data)
    return data


def _parse(line_no: int, text: str, today: date) -> tuple[ValidRecord | Rejection, str | None, str | None]:
    """The outcome, plus the kind and key when they could be read (for rejected lines too)."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return Rejection(line_no, None, f"bad JSON: {error}", text), None, None
    if not isinstance(obj, dict):
        return Rejection(line_no, None, f"not a JSON object but {_json_type(obj)}", text), None, None
    name = obj.get("kind")
    plan = PLANS.get(name) if isinstance(name, str) else None
    if plan is None:
        reason = "kind: missing" if name is None else f"kind: {name!r} is not a known kind"
        return Rejection(line_no, "kind", reason, text), None, None
    kind = plan.kind
    key = obj.get(kind.key) if kind.key else None
    key = key if isinstance(key, str) and key else None
    try:
        data = _check(plan, obj, today)
    except _Bad as bad:
        return Rejection(line_no, bad.field, bad.reason, text), kind.name, key
    return ValidRecord(line_no, kind.name, data), kind.name, key


def parse_line(line_no: int, text: str, *, today: date) -> ValidRecord | Rejection:
    """Check one line on its own: JSON, kind, required and unknown fields, types, dates,
    future dates, intervals, codes, enumerations, ID numbers and self-references."""
    return _parse(line_no, text, today)[0]


# Cross-line checks -------------------------------------------------------------------------


#: (line, field, reason) of a line the cross-line checks reject.
Problem = tuple[int, str | None, str]
#: (line, parent, child) of a parent edge whose parent is not older than the child.
Candidate = tuple[int, str, str]

# One lookup per entity label (labels cannot be parameters); `attr` as `index.ATTRIBUTES` (a
# birth date as its `day_number`). One row per batch: the driver's cost is per row, and a batch
# is thousands of keys.
LOOKUPS: Final[dict[str, LiteralString]] = {
    "region": "UNWIND $keys AS key MATCH (n:Region {code: key}) RETURN collect([n.code, n.level]) AS found",
    "household": "UNWIND $keys AS key MATCH (n:Household {id: key}) RETURN collect([n.id, null]) AS found",
    "person": "UNWIND $keys AS key MATCH (n:Person {id: key}) WITH n, n.birthDate AS born"
    " RETURN collect([n.id, born.year * 10000 + born.month * 100 + born.day]) AS found",
    "institution": "UNWIND $keys AS key MATCH (n:Institution {id: key}) RETURN collect([n.id, n.services]) AS found",
    "report": "UNWIND $keys AS key MATCH (n:Report {id: key}) RETURN collect([n.id, null]) AS found",
    "case": "UNWIND $keys AS key MATCH (n:Case {id: key}) RETURN collect([n.id, null]) AS found",
    "referral": "UNWIND $keys AS key MATCH (n:Referral {id: key}) RETURN collect([n.id, null]) AS found",
}
ID_NUMBER_HOLDERS: Final[LiteralString] = """
UNWIND $numbers AS number MATCH (p:Person {idNumber: number})
RETURN collect([p.idNumber, p.id, p.regionCode]) AS holders
"""
DATABASE_CYCLES: Final[LiteralString] = """
UNWIND $edges AS edge
MATCH (child:Person {id: edge.child})
WHERE EXISTS { (child)-[:PARENT_OF*1..32]->(:Person {id: edge.parent}) }
RETURN edge.line AS line
"""


@dataclass(slots=True)
class _Loaded:
    rejections: list[Rejection]
    count: int = 0
    #: Lines kept for `graph.bundle.scope`, and the (line, kind, key) of refused entity lines.
    kept: list[Kept] = field(default_factory=list)
    rejected_keys: list[tuple[int, str, str]] = field(default_factory=list)
    whole: bool = True


#: Called with (line, kind, typed fields) of every line that passes the per-line checks, in
#: bundle order, from the validation's worker thread; it must not change the fields.
Sink = Callable[[int, str, dict[str, Any]], None]


def _load(index: BundleIndex, lines: Iterable[str], today: date, *, keep_all: bool, sink: Sink | None) -> _Loaded:
    loaded = _Loaded([])
    for number, text in numbered(lines):
        loaded.count += 1
        if loaded.whole and not keep_all and loaded.count > KEEP_ALL_LINES:
            loaded.whole = False
            loaded.kept = [record for record in loaded.kept if record.kind in KEPT_WHEN_LARGE]
        outcome, kind, key = _parse(number, text, today)
        if isinstance(outcome, ValidRecord):
            index.add(number, outcome.kind, outcome.data, text)
            if sink is not None:
                sink(number, outcome.kind, outcome.data)
            if loaded.whole or outcome.kind in KEPT_WHEN_LARGE:
                loaded.kept.append(Kept(number, outcome.kind, outcome.data, text))
        else:
            loaded.rejections.append(outcome)
            if kind is not None and key is not None:
                index.add_rejected(number, kind, key)
                loaded.rejected_keys.append((number, kind, key))
    index.finish_loading()
    return loaded


def _database_attribute(kind: str, value: Any) -> Any:
    """A node property as `index.ATTRIBUTES` stores it for a bundle line."""
    if value is None:
        return None
    if kind == "region":
        return LEVEL_RANK.get(value)
    if kind == "person":
        return value  # its day_number, worked out in the lookup
    if kind == "institution":
        return ",".join(value)
    return None


async def _look_up_database(index: BundleIndex, graph: Graph) -> None:
    """Find in the database the keys that no line of the bundle defines."""
    batches = index.pending_keys(BATCH)
    while batch := await index.in_thread(next, batches, None):
        kind, keys = batch
        records = await graph.read(LOOKUPS[kind], {"keys": keys})
        found = records[0]["found"] if records else []
        if found:
            rows = [(kind, key, _database_attribute(kind, attr)) for key, attr in found]
            await index.in_thread(index.add_database_entities, rows)


def _check_kind(index: BundleIndex, kind: str, level: int | None = None) -> tuple[list[Problem], list[Candidate]]:
    """Check the references of every still-valid line of `kind`; return the problems, and the
    parent edges whose parent is not older than the child (possible cycles)."""
    problems: list[Problem] = []
    candidates: list[Candidate] = []
    refs = LAYOUTS[kind].refs
    for row in index.references(kind, level):
        problem = _check_references(kind, refs, row, candidates)
        if problem is not None:
            problems.append(problem)
    return problems, candidates


def _check_references(
    kind: str, refs: tuple[tuple[str, tuple[str, ...]], ...], row: tuple[Any, ...], candidates: list[Candidate]
) -> Problem | None:
    line, own_key, own_attr = row[0], row[1], row[2]
    values: dict[str, str] = {}
    #: What each present reference points at: its `attr` in the bundle or the database.
    attrs: dict[str, Any] = {}
    column = 3
    for name, targets in refs:
        value = row[column]
        column += 1
        if value is None:  # an optional reference left out
            column += 5 * len(targets)
            continue
        values[name] = value
        rejected_on: int | None = None
        for _ in targets:
            good_line, good_attr, in_database, database_attr, bad_line = row[column : column + 5]
            column += 5
            if name in attrs:
                continue
            if good_line is not None:
                attrs[name] = good_attr
            elif in_database:
                attrs[name] = database_attr
            elif bad_line is not None:
                rejected_on = bad_line if rejected_on is None else min(rejected_on, bad_line)
        if name not in attrs:
            if rejected_on is not None:
                return line, name, f"{name}: {value} is rejected on line {rejected_on}"
            what = " or ".join(targets)
            return line, name, f"{name}: {value} exists nowhere: no {what} with that key in the bundle or the database"

    if kind == "region" and "parent" in attrs:
        return _check_region_parent(line, own_key, own_attr, values["parent"], attrs["parent"])
    if kind == "household":
        level = attrs["region"]
        if level is not None and level != LEVEL_RANK["village"]:
            return line, "region", f"region: {values['region']} is a {LEVELS[level]}, not a village"
    if kind == "referral":
        offered = [service for service in (attrs["institution"] or "").split(",") if service]
        if own_attr not in offered:
            listed = ", ".join(offered) or "nothing"
            reason = f"service: institution {values['institution']} does not offer {own_attr} (it offers {listed})"
            return line, "service", reason
    if kind == "parent":
        parent, child = attrs["parent"], attrs["child"]
        if parent is not None and child is not None and child - parent < MIN_PARENT_AGE * 10000:
            if parent >= child:
                candidates.append((line, values["parent"], values["child"]))
            reason = (
                f"parent: {values['parent']} (born {_day(parent)}) is not at least "
                f"{MIN_PARENT_AGE} years older than {values['child']} (born {_day(child)})"
            )
            return line, "parent", reason
    return None


def _day(number: int) -> str:
    """A `day_number` as YYYY-MM-DD."""
    return f"{number // 10000:04d}-{number // 100 % 100:02d}-{number % 100:02d}"


def _check_region_parent(line: int, code: str, rank: int, parent: str, parent_rank: int | None) -> Problem | None:
    if parent_rank is None:
        return None
    expected = LEVELS[rank - 1]
    if parent_rank != rank - 1:
        reason = f"parent: {parent} is a {LEVELS[parent_rank]}; the parent of a {LEVELS[rank]} must be a {expected}"
        return line, "parent", reason
    prefix = parent[: SIGNIFICANT_DIGITS[expected]]
    if not code.startswith(prefix):
        return line, "parent", f"parent: {code} does not start with {prefix}, the code prefix of its parent {parent}"
    return None


async def _cycles(index: BundleIndex, graph: Graph, candidates: list[Candidate]) -> set[int]:
    """The candidate parent edges that close a cycle through the bundle's or the database's edges."""
    cyclic = {line for line, parent, child in candidates if await index.in_thread(index.is_ancestor, child, parent)}
    rest = [
        {"line": line, "parent": parent, "child": child} for line, parent, child in candidates if line not in cyclic
    ]
    for start in range(0, len(rest), BATCH):
        records = await graph.read(DATABASE_CYCLES, {"edges": rest[start : start + BATCH]})
        cyclic.update(record["line"] for record in records)
    return cyclic


async def _check_id_numbers(
    index: BundleIndex, graph: Graph, *, disclose: bool, probes: dict[str, set[str]]
) -> list[Problem]:
    """Two valid persons of the bundle with one number, or a number a database person holds.

    Unless `disclose`, the second reads the same whoever holds the number, in scope or not,
    and names no one: a caller who may not see numbers must not confirm one by importing it.
    Each such holder goes into `probes` (region -> ids) so the audit files the attempt where
    the holder lives.
    """
    problems: list[Problem] = [
        (line, "idNumber", f"idNumber: {number} is already used by {holder} on line {first}")
        for line, number, first, holder in await index.in_thread(index.duplicate_id_numbers)
    ]
    await index.in_thread(index.reject, "person", [line for line, _, _ in problems])
    held: list[Problem] = []
    batches = index.id_numbers(BATCH)
    while batch := await index.in_thread(next, batches, None):
        mine = {number: (line, key) for line, key, number in batch}
        records = await graph.read(ID_NUMBER_HOLDERS, {"numbers": list(mine)})
        for number, holder, region in records[0]["holders"] if records else []:
            line, key = mine[number]
            if holder != key:
                reason = f"idNumber: {number} is already used by {holder} in the database"
                held.append((line, "idNumber", reason if disclose else ID_NUMBER_REFUSED))
                if not disclose:
                    probes.setdefault(region or "", set()).add(holder)
    await index.in_thread(index.reject, "person", [line for line, _, _ in held])
    return problems + held


async def _cross_check(
    index: BundleIndex, graph: Graph, *, disclose: bool, probes: dict[str, set[str]]
) -> list[Problem]:
    problems: list[Problem] = []

    async def check(kind: str, level: int | None = None) -> None:
        found, candidates = await index.in_thread(_check_kind, index, kind, level)
        if candidates:
            cyclic = await _cycles(index, graph, candidates)
            edges = {line: (parent, child) for line, parent, child in candidates if line in cyclic}
            found = [
                (line, name, f"parent: {edges[line][0]} descends from {edges[line][1]}: this would make a parent cycle")
                if line in edges
                else (line, name, reason)
                for line, name, reason in found
            ]
        await index.in_thread(index.reject, kind, [line for line, _, _ in found])
        problems.extend(found)

    for kind in ENTITY_ORDER:
        name = KINDS[kind].key
        duplicates = await index.in_thread(index.duplicate_keys, kind)
        problems.extend(
            (line, name, f"{name}: {key} is already defined on line {first}") for line, key, first in duplicates
        )
        await index.in_thread(index.reject, kind, [line for line, _, _ in duplicates])
    await _look_up_database(index, graph)

    # A region refers to the level above it: checking level by level settles each region's
    # parent before its children are checked.
    for rank in range(1, len(LEVELS)):
        await check("region", rank)
    for kind in ENTITY_ORDER[1:]:
        await check(kind)
        if kind == "person":
            problems.extend(await _check_id_numbers(index, graph, disclose=disclose, probes=probes))
    for kind in KINDS:
        if kind not in ENTITY_KINDS:
            await check(kind)
    return problems


async def validate_bundle(
    lines: Iterable[str],
    graph: Graph,
    *,
    today: date,
    workdir: Path,
    caller: Caller = OPERATOR,
    sink: Sink | None = None,
) -> ValidationReport:
    """Validate a whole bundle: every line on its own, then every reference and cross-line
    rule against the bundle itself and the database, then what `caller` may write
    (`graph.bundle.scope`). Nothing is written to the database. `sink`, when given, sees
    every line that passed the per-line checks as it is read (the offline load writes its
    files in the same pass): whether the bundle is valid is only known at the end."""
    scope = caller.scope
    index = BundleIndex(workdir)
    probes: dict[str, set[str]] = {}
    try:
        loaded = await index.in_thread(functools.partial(_load, index, lines, today, keep_all=scope != "", sink=sink))
        problems = await _cross_check(index, graph, disclose=scope == "", probes=probes)
        texts = await index.in_thread(lambda: [index.text(line) for line, _, _ in problems])
        counts = await index.in_thread(index.counts)
    finally:
        # Cancelled, a worker thread may still be using the index: close after it, off the loop.
        await asyncio.shield(asyncio.to_thread(index.close))
    found = {rejection.line: rejection for rejection in loaded.rejections}
    for (line, name, reason), text in zip(problems, texts, strict=True):
        found[line] = Rejection(line, name, reason, text)
    sealed = await seal(
        graph,
        loaded.kept,
        rejected=frozenset(found),
        rejected_keys=loaded.rejected_keys,
        scope=scope,
        home=caller.region or "",
        canonical=functools.partial(_canonical, caller),
        exported=functools.partial(_exported, graph, caller),
        references=loaded.whole,
    )
    kept = {record.line: record for record in loaded.kept}
    for line, verdict in sealed.verdicts.items():
        # A refusal for scope replaces any other reason: that one may quote what lies outside.
        if line not in found or verdict.code == FORBIDDEN:
            if line not in found:
                counts[kept[line].kind] -= 1
            found[line] = Rejection(line, verdict.field, verdict.reason, kept[line].text, verdict.code)
    for region, ids in probes.items():
        sealed.touched.setdefault(region or caller.region or "", set()).update(ids)
    rejections = sorted(found.values(), key=lambda rejection: rejection.line)
    counts = {kind: count for kind, count in counts.items() if count}
    before = sealed.children_before
    children_before = frozenset(
        child
        for record in loaded.kept
        if record.line not in found
        and (key := KINDS[record.kind].key) is not None
        and (child := before.get((record.kind, record.data[key]))) is not None
    )
    return ValidationReport(
        rejections,
        loaded.count,
        sum(counts.values()),
        counts,
        unchanged=frozenset(sealed.unchanged) - frozenset(found),
        touched=sealed.touched,
        id_number_holders={region or caller.region or "": ids for region, ids in probes.items()},
        children_before=children_before,
    )


def _canonical(caller: Caller, kind: str, data: dict[str, Any]) -> str:
    """A line as the caller's export would write it."""
    if kind == "person" and not access.allowed(caller.role, "fullIdNumber"):
        data = masked(data)
    return exporter.encode(kind, data)


async def _exported(graph: Graph, caller: Caller) -> frozenset[str]:
    """The caller's own export of its region: what it may import back unchanged."""
    if caller.region is None:
        return frozenset()
    lines = [line async for line in exporter.export_region(graph, caller.region, linked=True)]
    if not access.allowed(caller.role, "fullIdNumber"):
        lines = list(without_masked_fields(lines))
    return frozenset(lines)
