"""Reports of concern (强制报告): a teacher, doctor or neighbour reports a child who may need help."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction

from graph import writes
from graph.driver import Graph
from graph.writes import Actor, Outcome

RETURN_REPORT: LiteralString = """
RETURN r.id AS id, r.at AS at, r.reporterRole AS reporterRole, r.category AS category,
       r.urgency AS urgency, r.description AS description, r.recordedBy AS recordedBy,
       [(r)-[:ABOUT]->(c:Person) | c.id][0] AS childId,
       [(p:Person)-[:REPORTED]->(r) | p.id][0] AS reporterId
"""

CREATE_REPORT: LiteralString = (
    """
MATCH (c:Person {id: $child})
CREATE (r:Report {id: $id, at: $at, reporterRole: $reporterRole, category: $category, urgency: $urgency,
                  description: $description, recordedBy: $by, recordedAt: datetime()})-[:ABOUT]->(c)
WITH r
CALL (r) {
  MATCH (p:Person {id: $reporter})
  CREATE (p)-[:REPORTED]->(r)
}
"""
    + RETURN_REPORT
)

GET_REPORT: LiteralString = "MATCH (r:Report {id: $id})" + RETURN_REPORT


@dataclass(frozen=True, slots=True)
class ReportRecord:
    id: str
    at: datetime
    child_id: str
    reporter_id: str | None
    reporter_role: str
    category: str
    urgency: str
    description: str
    recorded_by: str | None


def report_record(row: dict[str, Any]) -> ReportRecord:
    return ReportRecord(
        id=row["id"],
        at=row["at"].to_native(),
        child_id=row["childId"],
        reporter_id=row["reporterId"],
        reporter_role=row["reporterRole"],
        category=row["category"],
        urgency=row["urgency"],
        description=row["description"],
        recorded_by=row["recordedBy"],
    )


async def get_report_in(tx: AsyncManagedTransaction, report_id: str) -> ReportRecord:
    found = await writes.rows(tx, GET_REPORT, {"id": report_id})
    return report_record(found[0])


async def report_concern(
    graph: Graph,
    actor: Actor,
    *,
    child: str,
    reporter_role: str,
    category: str,
    urgency: str,
    description: str,
    reporter: str | None = None,
    at: datetime | None = None,
    now: datetime,
    key: str | None = None,
) -> ReportRecord:
    """Record a report about `child`; `at` (when the concern was raised) defaults to now."""
    fields = {
        "child": child,
        "reporter": reporter,
        "reporterRole": reporter_role,
        "at": at,
        "category": category,
        "urgency": urgency,
        "description": description,
    }

    async def work(tx: AsyncManagedTransaction) -> Outcome[ReportRecord]:
        data = writes.validate_as("report", fields | {"id": "new", "at": at or now}, today=now.date())
        region = await writes.person_in_scope(tx, actor, child)
        if reporter is not None:
            await writes.person_reference(tx, actor, reporter, "reporter")
        await writes.not_before_birth(tx, child, data["at"].date(), "at")
        report_id = str(uuid.uuid4())
        params = {k: v for k, v in data.items() if k != "id"} | {"id": report_id, "by": actor.sub}
        created = report_record((await writes.rows(tx, CREATE_REPORT, params))[0])
        return Outcome(created, created.id, [created.id, child], region)

    return await writes.perform(
        graph, actor, "reportConcern", inputs=fields, work=work, replay=get_report_in, key=key, ids=[child]
    )
