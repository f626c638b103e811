"""The audit trail in GraphQL: reads of a child's full record are appended once per request
and record, and auditors (and coordinators, admins) read the trail of their region.

A field that reveals a child's full record (ID number, guardianship chain, case history,
timeline, risk profile) calls `Loaders.note_full_record_read` or `note_read`; when the
operation has run, `AuditFullRecordReads` appends their events in one write transaction (shared
with the requests running at the same time, `graph.audit.AuditLog`), each with the child's
village as its scope so the auditors of that region see it.

The events are committed before the response is written, never queued for later: a response
that shows a full record is never sent without its event. If the write fails the response
carries no data, only the error, with its code (`DATABASE_UNAVAILABLE`, or `INTERNAL`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.context import Context, Info
from graph import audit
from schema.pagination import page_size


class AuditFullRecordReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context) or context._loaders is None:
            return
        reads = context._loaders.full_record_reads
        if not reads:
            return
        caller = context.caller
        entries = [
            audit.AuditEntry(
                sub=caller.sub,
                role=caller.role.value,
                operation=operation,
                ids=list(ids),
                outcome="ok",
                scope=region_code or caller.scope,
            )
            for (operation, ids), region_code in sorted(reads.items())
        ]
        reads.clear()
        try:
            if context.audit_log is None:
                await audit.append_many(context.graph, entries)
            else:
                await context.audit_log.append(entries)
        except Exception as error:
            # Withhold what was read, and let `ErrorCodes` give the failure its code: raised from
            # here it would escape the error mapping and reach the client as the driver wrote it.
            result = self.execution_context.result
            if not isinstance(result, GraphQLExecutionResult):
                raise
            result.data = None
            result.errors = [GraphQLError(str(error), original_error=error)]


@strawberry.type(description="One audit event: who did what to which records, when, and how it ended.")
class AuditEvent:
    id: strawberry.ID
    at: dt.datetime
    sub: str
    role: str
    operation: str
    ids: list[str]
    outcome: str


@strawberry.type
class AuditQueries:
    @strawberry.field(description="Audit events in the caller's region, newest first (auditors, coordinators, admins).")
    async def audit_events(
        self,
        info: Info,
        since: dt.datetime | None = None,
        operation: str | None = None,
        first: int | None = None,
    ) -> list[AuditEvent]:
        events = await audit.list_events(
            info.context.graph,
            scope=info.context.caller.scope,
            since=since,
            operation=operation,
            limit=page_size(first, info.context.settings.limits),
        )
        return [
            AuditEvent(
                id=strawberry.ID(e.id),
                at=e.at,
                sub=e.sub,
                role=e.role,
                operation=e.operation,
                ids=e.ids,
                outcome=e.outcome,
            )
            for e in events
        ]
