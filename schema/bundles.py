"""Bundles over GraphQL: `importBundle` for small bundles, `exportBundle` for small regions.

Large bundles go through `shouhu import` / `shouhu export`, which stream. Who may use these
is the access table's (`graph.access`: integrators within their region, and admins); a role
without `fullIdNumber` never receives ID numbers or phone numbers. What an integrator may
import and what its export carries of records outside its region: `graph.bundle.scope` and
`graph.bundle.exporter`. Every import and export, refused ones included, is audited where the
records it touches lie.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Self

import strawberry

from api.context import Info
from graph import access
from graph.audit import AuditEntry
from graph.bundle import auditing, runs
from graph.bundle.exporter import export_region
from graph.bundle.importer import import_bundle
from graph.bundle.scope import without_masked_fields
from graph.bundle.validation import Rejection as RejectionRecord
from graph.errors import Forbidden, GraphError, LimitExceeded, NotFound
from graph.persons import IdLookup
from graph.regions import CODE, level_of
from graph.risk import bundle_ids

#: Lines `exportBundle` returns at most; larger regions use `shouhu export`.
MAX_EXPORT_LINES = 100_000
#: Refused lines a FORBIDDEN import's message lists.
LISTED_REFUSALS = 20


@strawberry.enum(description="How an import treats invalid lines.")
class ImportMode(Enum):
    ALL_OR_NOTHING = "ALL_OR_NOTHING"
    SKIP_INVALID = "SKIP_INVALID"


@strawberry.type(description="A line the import refused, with the field and the reason.")
class Rejection:
    line: int
    field: str | None
    reason: str
    code: str = strawberry.field(
        description="FORBIDDEN: the line names or changes something outside your region, or nothing at all "
        "(the two read the same); CONFLICT: a case or referral moving as no mutation may; else BAD_USER_INPUT."
    )

    @classmethod
    def from_record(cls, record: RejectionRecord) -> Self:
        return cls(line=record.line, field=record.field, reason=record.reason, code=record.code)


@strawberry.type
class ImportReport:
    ok: bool
    written: int
    rejected: list[Rejection]


@strawberry.type(description="One import of one bundle (keyed by its sha256); incomplete ones can be resumed.")
class ImportRun:
    id: str
    source: str
    mode: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    lines: int
    written: int
    rejected: int
    complete: bool

    @classmethod
    def from_record(cls, record: runs.ImportRunRecord) -> Self:
        return cls(
            id=record.id, source=record.source, mode=record.mode, status=record.status,
            started_at=record.started_at, finished_at=record.finished_at, lines=record.lines,
            written=record.written, rejected=record.rejected, complete=record.complete,
        )  # fmt: skip


async def _audited_refusal(info: Info, operation: str, error: GraphError, region: str | None = None) -> None:
    """A refusal before any line was read: filed under the region asked for, else the caller's."""
    caller = info.context.caller
    where = region if region is not None and CODE.fullmatch(region) else caller.region or ""
    entry = AuditEntry(caller.sub, caller.role.value, operation, [], error.code, where)
    await auditing.append(info.context.graph, [entry])


def _refusal_message(rejected: list[RejectionRecord]) -> str:
    listed = "; ".join(f"line {r.line}: {r.reason}" for r in rejected[:LISTED_REFUSALS])
    more = len(rejected) - LISTED_REFUSALS
    tail = f"; and {more} more" if more > 0 else ""
    return f"{listed}{tail}; nothing was written"


@strawberry.type
class BundleMutations:
    @strawberry.mutation(
        description="Import a small NDJSON bundle (format: docs/bundle-format.md); larger ones: `shouhu import`."
    )
    async def import_bundle(
        self, info: Info, ndjson: str, mode: ImportMode = ImportMode.ALL_OR_NOTHING
    ) -> ImportReport:
        context = info.context
        limit = context.settings.limits.max_bundle_bytes
        size = len(ndjson.encode())
        try:
            if size > limit:
                raise LimitExceeded(
                    f"ndjson: the bundle has {size} bytes, over the limit of {limit} for importBundle; "
                    "use `shouhu import FILE` for larger bundles"
                )
        except GraphError as error:
            await _audited_refusal(info, auditing.IMPORT, error)
            raise
        # Not splitlines(): it also breaks at characters a JSON string may hold, shifting line numbers.
        lines = ndjson.split("\n")
        caller = context.caller
        lookups = None
        if not access.allowed(caller.role, "fullIdNumber"):
            limits = context.settings.limits
            lookups = IdLookup(caller.sub, caller.role.value, limits.id_lookups_per_minute, limits.id_lookups_per_day)
        with tempfile.TemporaryDirectory(prefix="shouhu-import-") as workdir:
            result = await import_bundle(
                context.graph, lines, mode=mode.value, today=context.today, workdir=Path(workdir),
                caller=caller, id_lookups=lookups,
            )  # fmt: skip
        # The import has audited itself. A line naming something outside the region (or
        # nothing) refuses an all-or-nothing import as FORBIDDEN, listing every bad line.
        if not result.ok and any(rejection.code == "FORBIDDEN" for rejection in result.rejected):
            raise Forbidden(_refusal_message(result.rejected))
        if result.written and context.graph.after_write is not None:
            # An import changes findings like any write: the children it names are judged again.
            await context.graph.after_write(context.graph, bundle_ids(lines), context.caller.sub, result.pending)
        return ImportReport(
            ok=result.ok, written=result.written, rejected=[Rejection.from_record(r) for r in result.rejected]
        )


@strawberry.type
class BundleQueries:
    @strawberry.field(description="Every record of a small region's subtree as NDJSON; larger: `shouhu export`.")
    async def export_bundle(self, info: Info, region: str) -> str:
        context = info.context
        caller = context.caller
        try:
            lines = await _export(info, region)
        except GraphError as error:
            await _audited_refusal(info, auditing.EXPORT, error, region)
            raise
        tally = auditing.ExportTally()
        for line in lines:
            tally.add(line)
        await auditing.append(context.graph, tally.events(caller, region))
        return "".join(f"{line}\n" for line in lines)

    @strawberry.field(
        description="Bundle imports, newest first; `complete: false` ones can be resumed by importing again."
    )
    async def import_runs(self, info: Info) -> list[ImportRun]:
        found = await runs.import_runs(info.context.graph, info.context.caller.scope)
        return [ImportRun.from_record(record) for record in found]


async def _export(info: Info, region: str) -> list[str]:
    caller = info.context.caller
    level_of(region)
    if not region.startswith(caller.scope):
        raise NotFound(f"region {region} does not exist")
    lines: list[str] = []
    reporters = access.allowed(caller.role, "reporterIdentity")
    async for line in export_region(info.context.graph, region, linked=caller.scope != "", reporters=reporters):
        lines.append(line)
        if len(lines) > MAX_EXPORT_LINES:
            raise LimitExceeded(f"region: more than {MAX_EXPORT_LINES} lines; use `shouhu export --region {region}`")
    if not lines:
        raise NotFound(f"region {region} does not exist")
    if not access.allowed(caller.role, "fullIdNumber"):
        lines = list(without_masked_fields(lines))
    return lines
