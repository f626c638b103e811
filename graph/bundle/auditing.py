"""Audit events for bundle imports and exports, filed where the records they touch lie.

One event per region touched (docs/access.md, Audit): the auditor of a village sees every import
that wrote, or tried to write, its records and every export that carried them, whoever made
it. An event's `ids` start with a summary (`lines=`, `written=`, `rejected=`, `run=` for an
import; `lines=`, `idNumbers=` for an export) and go on with the ids touched in that region,
at most `MAX_IDS` of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

import orjson

from graph import audit
from graph.audit import AuditEntry
from graph.bundle.records import KINDS, LINKED_PERSON
from graph.bundle.scope import anchor, target_kind
from graph.callers import Caller
from graph.driver import AsyncManagedTransaction, Graph
from graph.errors import LimitExceeded
from graph.persons import ID_LOOKUP, IdLookup, id_lookups_used

IMPORT: Final = "importBundle"
EXPORT: Final = "exportBundle"
#: Ids listed per event; the summary says how many records there were.
MAX_IDS: Final = 200
#: The most serious code first: it is an event's outcome when lines were refused.
SEVERITY: Final = ("FORBIDDEN", "CONFLICT", "BAD_USER_INPUT")


def outcome(codes: Iterable[str]) -> str:
    """`ok`, or the most serious code among the rejections."""
    present = set(codes)
    return next((code for code in SEVERITY if code in present), "ok" if not present else sorted(present)[0])


def entries(
    caller: Caller,
    operation: str,
    touched: Mapping[str, Iterable[str]],
    summary: list[str],
    result: str,
) -> list[AuditEntry]:
    """One entry per touched region (one under the caller's own when nothing was touched)."""
    regions = dict(touched) or {caller.region or "": ()}
    return [
        AuditEntry(caller.sub, caller.role.value, operation, [*summary, *sorted(ids)[:MAX_IDS]], result, region)
        for region, ids in sorted(regions.items())
    ]


async def append_in(tx: AsyncManagedTransaction, events: Iterable[AuditEntry]) -> None:
    # One statement for all: an import touching a county files an event in each of its villages.
    await audit.append_many_in(tx, list(events))


async def append(graph: Graph, events: list[AuditEntry]) -> None:
    await audit.append_many(graph, events)


async def charge_id_lookups(graph: Graph, lookup: IdLookup, holders: Mapping[str, Iterable[str]]) -> None:
    """Charge an import's ID numbers that other persons hold as look-ups by a full ID number.

    Refused with one reason whoever holds it, such a line still tells a caller who may not
    see numbers that someone holds that number: a look-up. Each counts against the caller's
    look-ups (`graph.persons.search_by_id_number`'s quota, counted from the audit trail) and is
    audited as one under the holder's region. More than one in a request, or one over the
    quota, refuses the whole import as LIMIT_EXCEEDED, naming no line.
    """
    found = {region: sorted(ids) for region, ids in holders.items() if ids}
    hits = sum(len(ids) for ids in found.values())
    if not hits:
        return

    async def transaction(tx: AsyncManagedTransaction) -> bool:
        minute, day = await id_lookups_used(tx, lookup.sub)
        over = hits > 1 or minute + hits > lookup.per_minute or day + hits > lookup.per_day
        for region, ids in found.items():
            outcome = "LIMIT_EXCEEDED" if over else "ok"
            await audit.append_in(tx, AuditEntry(lookup.sub, lookup.role, ID_LOOKUP, ids, outcome, region))
        return over

    if await graph.write_transaction(transaction):
        raise LimitExceeded(
            "idNumber: this bundle names ID numbers held by other persons; each is a look-up by ID number, "
            f"at most one a request, {lookup.per_minute} a minute and {lookup.per_day} a day"
        )


@dataclass(slots=True)
class ExportTally:
    """What an export carried, by region, counted line by line as it goes out."""

    lines: int = 0
    households: dict[str, str] = field(default_factory=dict)
    persons: dict[str, str] = field(default_factory=dict)
    touched: dict[str, set[str]] = field(default_factory=dict)
    id_numbers: dict[str, int] = field(default_factory=dict)

    def add(self, line: str) -> None:
        self.lines += 1
        record = orjson.loads(line)
        kind = record["kind"]
        region: str | None = None
        if kind == "household":
            region = self.households[record["id"]] = record["region"]
        elif kind == "person":
            region = self.households.get(record.get("household") or "")
            if region is not None:
                self.persons[record["id"]] = region
                if record.get("idNumber"):
                    self.id_numbers[region] = self.id_numbers.get(region, 0) + 1
        elif kind in KINDS and kind != LINKED_PERSON:
            where = anchor(kind, record)
            if where is not None and target_kind(kind, where[0]) == "person":
                region = self.persons.get(where[1])
        if region is not None:
            key = record.get("id") or f"{kind}:{record.get('child', '')}"
            self.touched.setdefault(region, set()).add(key)

    def events(self, caller: Caller, code: str) -> list[AuditEntry]:
        """One event per village the export carried records of, and one under `code` itself."""
        touched = dict(self.touched)
        touched.setdefault(code, set())
        numbers = dict(self.id_numbers)
        numbers[code] = sum(self.id_numbers.values())
        return [
            AuditEntry(
                caller.sub,
                caller.role.value,
                EXPORT,
                [f"lines={self.lines}", f"idNumbers={numbers.get(region, 0)}", *sorted(ids)[:MAX_IDS]],
                "ok",
                region,
            )
            for region, ids in sorted(touched.items())
        ]
