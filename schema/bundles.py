"""Bundles over GraphQL: `importBundle` for small bundles, `exportBundle` for small regions.

Large bundles go through `shouhu import` / `shouhu export`, which stream. Who may use these
is the access table's (`graph.access`: integrators within their region, and admins); a role
without `fullIdNumber` never receives ID numbers or phone numbers.
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
from graph.bundle import runs
from graph.bundle.exporter import export_region
from graph.bundle.importer import import_bundle
from graph.bundle.scope import first_out_of_scope, without_masked_fields
from graph.bundle.validation import Rejection as RejectionRecord
from graph.errors import Forbidden, LimitExceeded, NotFound
from graph.regions import level_of

#: Lines `exportBundle` returns at most; larger regions use `shouhu export`.
MAX_EXPORT_LINES = 100_000


@strawberry.enum(description="How an import treats invalid lines.")
class ImportMode(Enum):
    ALL_OR_NOTHING = "ALL_OR_NOTHING"
    SKIP_INVALID = "SKIP_INVALID"


@strawberry.type(description="A line the import refused, with the field and the reason.")
class Rejection:
    line: int
    field: str | None
    reason: str

    @classmethod
    def from_record(cls, record: RejectionRecord) -> Self:
        return cls(line=record.line, field=record.field, reason=record.reason)


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
        if size > limit:
            raise LimitExceeded(
                f"ndjson: the bundle has {size} bytes, over the limit of {limit} for importBundle; "
                "use `shouhu import FILE` for larger bundles"
            )
        # Not splitlines(): it also breaks at characters a JSON string may hold, shifting line numbers.
        lines = ndjson.split("\n")
        outside = first_out_of_scope(lines, context.caller.scope)
        if outside is not None:
            line, field, code = outside
            raise Forbidden(f"line {line}: {field} {code} is outside the caller's region")
        with tempfile.TemporaryDirectory(prefix="shouhu-import-") as workdir:
            result = await import_bundle(
                context.graph, lines, mode=mode.value, today=context.today, workdir=Path(workdir)
            )
        return ImportReport(
            ok=result.ok, written=result.written, rejected=[Rejection.from_record(r) for r in result.rejected]
        )


@strawberry.type
class BundleQueries:
    @strawberry.field(description="Every record of a small region's subtree as NDJSON; larger: `shouhu export`.")
    async def export_bundle(self, info: Info, region: str) -> str:
        context = info.context
        level_of(region)
        if not region.startswith(context.caller.scope):
            raise NotFound(f"region {region} does not exist")
        lines: list[str] = []
        async for line in export_region(context.graph, region):
            lines.append(line)
            if len(lines) > MAX_EXPORT_LINES:
                raise LimitExceeded(
                    f"region: more than {MAX_EXPORT_LINES} lines; use `shouhu export --region {region}`"
                )
        if not lines:
            raise NotFound(f"region {region} does not exist")
        if not access.allowed(context.caller.role, "fullIdNumber"):
            lines = list(without_masked_fields(lines))
        return "".join(f"{line}\n" for line in lines)

    @strawberry.field(
        description="Bundle imports, newest first; `complete: false` ones can be resumed by importing again."
    )
    async def import_runs(self, info: Info) -> list[ImportRun]:
        return [ImportRun.from_record(record) for record in await runs.import_runs(info.context.graph)]
