"""Which bundle lines a caller with a region may import, and where each record lies.

An import by a caller with a region (an integrator) may only write records that lie in its
scope before the write and after it (docs/access.md, "Out of scope means absent, everywhere"):

- A record lies where its anchor lies (`anchor_fields`): a household or institution in its
  region, a person with their household, a report, case or relationship with the child it is
  about (an away episode or condition with its person), a referral with its case, a staff post
  where it serves. A region line may only create or rename a region strictly below the
  caller's own, compared by the line's level (a township `430524100000` is `430524100`, not
  `4305241`).
- An entity line whose key the database holds outside the scope is refused, so no line can
  move a household, person or institution into or out of the region or rewrite another
  region's case. Every reference a line makes must be to a record of the bundle that is
  itself accepted, or to a database record in scope.
- What an export gave the caller may come back: a refused line that equals a line of the
  caller's own export (an ancestor region, an institution outside, a link to a parent away in
  another village) is accepted as unchanged and not written; it changes nothing the caller
  could not already read.
- A refusal reads the same whether the record is elsewhere or nowhere, and quotes nothing but
  the caller's own line: `FORBIDDEN_REFERENCE`.

For every caller, admins included, a case or referral already in the database changes only as
the mutations allow (`graph.cases.NEXT`, `graph.referrals.NEXT`) and a case keeps its
`openedOn`. Which region each line touches is gathered on the way, for the audit.

The database's regions are read only to file audit events; whether a record is in scope is
decided in the Cypher text, and nothing read about a record outside the scope reaches a
message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, LiteralString

import orjson

from graph.bundle.records import ENTITY_ORDER, KINDS, LINKED_PERSON
from graph.dates import native_date
from graph.driver import Graph
from graph.regions import SIGNIFICANT_DIGITS

#: Fields an integrator never receives: they are masked for that role (docs/access.md), and a
#: masked value would not be a valid bundle field, so they are left out.
MASKED_FIELDS = ("idNumber", "phone")

FORBIDDEN: Final = "FORBIDDEN"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
CONFLICT: Final = "CONFLICT"

#: The one reason for a reference to a record outside the scope or to none at all.
FORBIDDEN_REFERENCE: Final = "{field}: {value} is not in this bundle or in your region"
#: An entity line whose key a record outside the scope holds.
KEY_HELD_OUTSIDE: Final = "{field}: {value} is in use outside your region: choose another id"
REGION_NOT_BELOW: Final = "code: {value} is not below your region: only the regions inside it may be written"
PERSON_WITHOUT_HOUSEHOLD: Final = "household: missing: a person you import needs a household in your region"

#: Keys per database round trip.
BATCH: Final = 5000


def anchor_fields(kind: str) -> tuple[str, ...]:
    """The fields whose record decides where a line's record lies, the first present one."""
    names = KINDS[kind].names
    if kind == "region":
        return ("code",)
    if kind in {"household", "institution"}:
        return ("region",)
    if kind == "person":
        return ("household",)
    if kind == "staff":
        return ("institution", "region")
    if kind == "referral":
        return ("case",)
    if "child" in names:
        return ("child",)
    if "person" in names:
        return ("person",)
    return ()


def anchor(kind: str, data: dict[str, Any]) -> tuple[str, str] | None:
    """(field, value) of the record a line's record lies with; None when it names none."""
    for name in anchor_fields(kind):
        value = data.get(name)
        if value is not None:
            return name, value
    return None


def target_kind(kind: str, name: str) -> str:
    """The kind a field of `kind` refers to (a guardian's is decided by the data, not here)."""
    if kind == "region" and name == "code":
        return "region"
    refs = next(spec.refs for spec in KINDS[kind].fields if spec.name == name)
    return refs[0]


# --- the database's side ----------------------------------------------------------------------
# Per entity kind: its region (only for the audit), whether it is in scope, and the state an
# import may not rewrite. A report, case or referral is in scope with its child (a referral
# also with its institution).

# Households, institutions and persons carry their own regionCode.
_PLACED: LiteralString = """
    UNWIND $keys AS key
    OPTIONAL MATCH (h:Household {id: key}) WHERE $kind = 'household'
    OPTIONAL MATCH (i:Institution {id: key}) WHERE $kind = 'institution'
    OPTIONAL MATCH (p:Person {id: key}) WHERE $kind = 'person'
    WITH coalesce(h, i, p) AS n WHERE n IS NOT NULL
    RETURN collect([n.id, n.regionCode, $scope = '' OR coalesce(n.regionCode STARTS WITH $scope, false),
                    null, null, null]) AS rows"""

STATES: Final[dict[str, LiteralString]] = {
    "household": _PLACED,
    "institution": _PLACED,
    "person": _PLACED,
    "report": """
        UNWIND $keys AS key MATCH (n:Report {id: key})
        OPTIONAL MATCH (n)-[:ABOUT]->(c:Person)
        RETURN collect([n.id, c.regionCode, $scope = '' OR coalesce(c.regionCode STARTS WITH $scope, false),
                        null, null, c.id]) AS rows""",
    "case": """
        UNWIND $keys AS key MATCH (n:Case {id: key})
        OPTIONAL MATCH (n)-[:CONCERNS]->(c:Person)
        RETURN collect([n.id, c.regionCode, $scope = '' OR coalesce(c.regionCode STARTS WITH $scope, false),
                        n.stage, n.openedOn, c.id]) AS rows""",
    "referral": """
        UNWIND $keys AS key MATCH (n:Referral {id: key})
        OPTIONAL MATCH (k:Case)-[:REFERRED]->(n)
        OPTIONAL MATCH (k)-[:CONCERNS]->(c:Person)
        OPTIONAL MATCH (n)-[:TO]->(i:Institution)
        RETURN collect([n.id, c.regionCode,
                        $scope = '' OR (coalesce(c.regionCode STARTS WITH $scope, false)
                                        AND coalesce(i.regionCode STARTS WITH $scope, false)),
                        n.status, null, c.id]) AS rows""",
}


@dataclass(frozen=True, slots=True)
class Stored:
    """A record the database holds, as far as an import needs it."""

    region: str | None
    in_scope: bool
    state: str | None
    opened_on: date | None
    #: the child a report, case or referral is about before the import (it may move it)
    child: str | None = None


@dataclass(frozen=True, slots=True)
class Kept:
    """A line that passed the per-line checks, kept for the scope checks."""

    line: int
    kind: str
    data: dict[str, Any]
    text: str


@dataclass(frozen=True, slots=True)
class Verdict:
    line: int
    field: str | None
    reason: str
    code: str


@dataclass(slots=True)
class Sealed:
    #: Lines refused, with the reason and its code (FORBIDDEN, BAD_USER_INPUT, CONFLICT).
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    #: Lines accepted and not written: a linked person, or a line equal to the caller's export.
    unchanged: set[int] = field(default_factory=set)
    #: Region code -> the ids of the records the bundle touches there (for the audit).
    touched: dict[str, set[str]] = field(default_factory=dict)
    #: (kind, key) -> the child a report, case or referral the database holds is about now: an
    #: import that moves it to another child changes the findings of both.
    children_before: dict[tuple[str, str], str] = field(default_factory=dict)


#: A line's canonical text (as an export writes it) and the caller's own export.
Canonical = Callable[[str, dict[str, Any]], str]
Exported = Callable[[], Awaitable[frozenset[str]]]


async def _stored(graph: Graph, keys: dict[str, set[str]], scope: str) -> dict[tuple[str, str], Stored]:
    found: dict[tuple[str, str], Stored] = {}
    for kind, wanted in keys.items():
        ordered = sorted(wanted)
        for start in range(0, len(ordered), BATCH):
            parameters = {"keys": ordered[start : start + BATCH], "scope": scope, "kind": kind}
            records = await graph.read(STATES[kind], parameters)
            # One row per batch, the driver's cost being per row: [key, region, inScope, state, openedOn, child].
            for key, region, in_scope, state, opened_on, child in records[0]["rows"] if records else []:
                found[kind, key] = Stored(region, bool(in_scope), state, native_date(opened_on), child)
    return found


def _ordered(kept: Iterable[Kept]) -> list[Kept]:
    """Entities before what refers to them, then the rest, each in line order."""
    rank = {kind: number for number, kind in enumerate(ENTITY_ORDER)}
    return sorted(kept, key=lambda record: (rank.get(record.kind, len(rank)), record.line))


def _references(record: Kept) -> Iterator[tuple[str, tuple[str, ...], str]]:
    for spec in KINDS[record.kind].fields:
        value = record.data.get(spec.name)
        if spec.refs and value is not None:
            yield spec.name, spec.refs, value


class _Pass:
    """One bundle's scope and lifecycle checks, kind by kind."""

    def __init__(
        self,
        kept: Sequence[Kept],
        defined: dict[tuple[str, str], list[int]],
        rejected: frozenset[int],
        stored: dict[tuple[str, str], Stored],
        scope: str,
        home: str,
    ) -> None:
        self.kept = kept
        self.defined = defined
        self.stored = stored
        self.scope = scope
        self.home = home
        self.status: dict[int, str] = {line: "refused" for line in rejected}
        #: Where each accepted entity lies after the write.
        self.after: dict[tuple[str, str], str | None] = {}
        self.out = Sealed()

    def accepted(self, line: int) -> None:
        self.status.setdefault(line, "ok")

    def refuse(self, verdict: Verdict) -> None:
        self.out.verdicts[verdict.line] = verdict
        self.status[verdict.line] = "refused"

    # Where records lie -----------------------------------------------------------------

    def region_of(self, kind: str, key: str) -> str | None:
        if kind == "region":
            return key
        for line in self.defined.get((kind, key), ()):
            if self.status.get(line) == "ok" and (kind, key) in self.after:
                return self.after[kind, key]
        stored = self.stored.get((kind, key))
        return stored.region if stored is not None else None

    def placed(self, record: Kept) -> str | None:
        """The region a line's record lies in after the write (or would, were it accepted)."""
        where = anchor(record.kind, record.data)
        if where is None:
            return None
        name, value = where
        return self.region_of(target_kind(record.kind, name), value)

    def touch(self, record: Kept) -> None:
        spec = KINDS[record.kind]
        key = record.data.get(spec.key) if spec.key else None
        region: str | None
        if key is not None and self.status.get(record.line) != "ok" and (record.kind, key) in self.stored:
            region = self.stored[record.kind, key].region  # a refusal is filed where its target lies
        else:
            region = self.placed(record)
        ids = {key} if key is not None else set()
        ids |= {value for name, _, value in _references(record) if target_kind(record.kind, name) != "region"}
        self.out.touched.setdefault(region or self.home, set()).update(ids or {record.kind})

    # Judging a line --------------------------------------------------------------------

    def reference(self, record: Kept, name: str, targets: tuple[str, ...], value: str) -> Verdict | None:
        rejected_on: int | None = None
        for target in targets:
            if target == "region":
                return None if value.startswith(self.scope) else self._forbidden(record, name, value)
            lines = self.defined.get((target, value), [])
            states = {self.status.get(line) for line in lines}
            if "ok" in states:
                return None
            if lines and "unchanged" not in states:
                # A key the bundle defines but refuses does not fall back to the database.
                first = min(lines)
                rejected_on = first if rejected_on is None else min(rejected_on, first)
                continue
            stored = self.stored.get((target, value))
            if stored is not None and stored.in_scope:
                return None
        if rejected_on is not None:
            return Verdict(record.line, name, f"{name}: {value} is rejected on line {rejected_on}", BAD_USER_INPUT)
        return self._forbidden(record, name, value)

    @staticmethod
    def _forbidden(record: Kept, name: str, value: str) -> Verdict:
        return Verdict(record.line, name, FORBIDDEN_REFERENCE.format(field=name, value=value), FORBIDDEN)

    def judge(self, record: Kept) -> Verdict | None:
        """The first scope problem of a line, a refusal before a cascade; None when in scope."""
        kind, data = record.kind, record.data
        if kind == "region":
            code = data["code"]
            if code.startswith(self.scope) and SIGNIFICANT_DIGITS[data["level"]] > len(self.scope):
                return None
            return Verdict(record.line, "code", REGION_NOT_BELOW.format(value=code), FORBIDDEN)
        key_name = KINDS[kind].key
        if key_name is not None:
            stored = self.stored.get((kind, data[key_name]))
            if stored is not None and not stored.in_scope:
                reason = KEY_HELD_OUTSIDE.format(field=key_name, value=data[key_name])
                return Verdict(record.line, key_name, reason, FORBIDDEN)
        if kind == "person" and data["household"] is None:
            return Verdict(record.line, "household", PERSON_WITHOUT_HOUSEHOLD, FORBIDDEN)
        cascade: Verdict | None = None
        for name, targets, value in _references(record):
            verdict = self.reference(record, name, targets, value)
            if verdict is not None and verdict.code == FORBIDDEN:
                return verdict
            cascade = cascade or verdict
        return cascade

    def lifecycle(self, record: Kept) -> Verdict | None:
        """A case or referral the database holds changes only as the mutations would change it."""
        from graph import cases, referrals  # they import the validator: import them late

        if record.kind not in {"case", "referral"}:
            return None
        key = record.data["id"]
        stored = self.stored.get((record.kind, key))
        if stored is None or stored.state is None:
            return None
        if record.kind == "case":
            opened = record.data["openedOn"]
            if stored.opened_on is not None and opened != stored.opened_on:
                reason = f"openedOn: case {key} was opened on {stored.opened_on.isoformat()}; that cannot change"
                return Verdict(record.line, "openedOn", reason, CONFLICT)
            stage = record.data["stage"]
            if stage != stored.state and stage not in cases.NEXT.get(stored.state, frozenset()):
                reason = f"stage: case {key} is {stored.state}: it cannot move to {stage}"
                return Verdict(record.line, "stage", reason, CONFLICT)
            return None
        status = record.data["status"]
        if status != stored.state and status not in referrals.NEXT.get(stored.state, frozenset()):
            reason = f"status: referral {key} is {stored.state}: it cannot move to {status}"
            return Verdict(record.line, "status", reason, CONFLICT)
        return None

    def record_after(self, record: Kept) -> None:
        key_name = KINDS[record.kind].key
        if key_name is not None and record.kind != "region":
            self.after[record.kind, record.data[key_name]] = self.placed(record)


async def seal(
    graph: Graph,
    kept: Sequence[Kept],
    *,
    rejected: frozenset[int],
    rejected_keys: Iterable[tuple[int, str, str]] = (),
    scope: str,
    home: str,
    canonical: Canonical,
    exported: Exported,
    references: bool = True,
) -> Sealed:
    """Check the kept lines of a validated bundle (see the module docstring).

    `rejected` are the lines validation refused, `rejected_keys` the (line, kind, key) of
    entity lines refused before they could be kept. `home` is where the audit files what lies
    nowhere. With `references` false (an admin's bundle too large to keep whole), only the
    lifecycle of the kept cases and referrals is checked.
    """
    defined: dict[tuple[str, str], list[int]] = {}
    wanted: dict[str, set[str]] = {kind: set() for kind in STATES}
    for line, kind, key in rejected_keys:
        defined.setdefault((kind, key), []).append(line)
    for record in kept:
        spec = KINDS[record.kind]
        if spec.key is not None:
            defined.setdefault((record.kind, record.data[spec.key]), []).append(record.line)
            if record.kind in wanted:
                wanted[record.kind].add(record.data[spec.key])
        for _, targets, value in _references(record):
            for target in targets:
                if target in wanted:
                    wanted[target].add(value)
    stored = await _stored(graph, {kind: keys for kind, keys in wanted.items() if keys}, scope)
    checks = _Pass(kept, defined, rejected, stored, scope, home)
    checks.out.children_before = {key: held.child for key, held in stored.items() if held.child is not None}
    export: frozenset[str] | None = None
    for record in _ordered(kept):
        if record.kind == LINKED_PERSON:
            checks.out.unchanged.add(record.line)
            checks.status.setdefault(record.line, "unchanged")
            continue
        verdict = checks.judge(record) if references and scope else None
        if verdict is not None and verdict.code == FORBIDDEN and record.line not in rejected:
            if export is None:
                export = await exported()
            if canonical(record.kind, record.data) in export:
                checks.out.unchanged.add(record.line)
                checks.status[record.line] = "unchanged"
                checks.touch(record)
                continue
        if verdict is None and record.line not in rejected:
            verdict = checks.lifecycle(record)
        if verdict is not None:
            checks.refuse(verdict)
        else:
            checks.accepted(record.line)
            checks.record_after(record)
        checks.touch(record)
    return checks.out


def without_masked_fields(lines: Iterable[str]) -> Iterator[str]:
    """Person lines without the fields masked for the caller; other lines unchanged."""
    for text in lines:
        if '"kind":"person"' not in text.replace(" ", ""):
            yield text
            continue
        yield orjson.dumps(masked(orjson.loads(text))).decode()


def masked(person: dict[str, Any]) -> dict[str, Any]:
    """A person's fields without those masked for the caller."""
    return {name: value for name, value in person.items() if name not in MASKED_FIELDS}
