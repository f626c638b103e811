"""The audit trail in GraphQL: reads of a child's full record are appended once per request
and record, and auditors (and coordinators, admins) read the trail of their region.

A field that reveals a child's full record (ID number, guardianship chain, case history,
timeline, risk profile) calls `Loaders.note_full_record_read` or `note_read`; when the
operation has run, `AuditFullRecordReads` appends their events in one write transaction (shared
with the requests running at the same time, `graph.audit.AuditLog`), each with the child's
village as its scope so the auditors of that region see it. A child's file read while no
shared transaction is under way appends its event in the statement that reads it
(`graph.child_file.audited_child_files`), and only the events not filed so are appended here.

The events are committed before the response is written, never queued for later: a response
that shows a full record is never sent without its event. If the write fails (either
one) the response carries no data, only the error, with its code (`DATABASE_UNAVAILABLE`, or
`INTERNAL`).
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
        loaders = context._loaders
        if loaders.audit_failure is not None:
            # A read that was to append its own event failed: answered as a failed append is.
            self._withhold(loaders.audit_failure)
            return
        reads = loaders.full_record_reads
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
                scope=filed,
            )
            for (operation, ids), region_code in sorted(reads.items())
            # An event its reading statement appended already, with the same scope, is filed.
            if loaders.filed_reads.get((operation, ids)) != (filed := region_code or caller.scope)
        ]
        reads.clear()
        if not entries:
            return
        try:
            if context.audit_log is None:
                await audit.append_many(context.graph, entries)
            else:
                await context.audit_log.append(entries)
        except Exception as error:
            self._withhold(error)

    def _withhold(self, error: Exception) -> None:
        """Withhold what was read, and let `ErrorCodes` give the failure its code: raised from
        here it would escape the error mapping and reach the client as the driver wrote it."""
        result = self.execution_context.result
        if not isinstance(result, GraphQLExecutionResult):
            raise error
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
