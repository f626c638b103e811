"""Visits to a child and contacts from a parent or guardian: the events discovery reads.

A visit is `(:Person)-[:VISITED {on, type, notes}]->(:Person)`, a contact
`(:Person)-[:CONTACTED {on, channel}]->(:Person)` (MODEL.md). Who recorded it and when are
kept on the relationship (`recordedBy`, `recordedAt`).

A visit is identified by every field of its bundle line, notes included: two visits on one day
with different notes are two visits (a director may call in the morning and again at night),
and re-importing a bundle, whose visit lines carry no id, adds none. So a visit exactly like
one already kept is refused as a conflict rather than stored twice (its export line would
collapse into one) or silently answered with the first; only a retry under the same
`clientMutationId` replays. A contact holds nothing but its identity, so the same contact
twice is one contact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import writes
from graph.callers import Role
from graph.dates import native_datetime
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, OutOfReach
from graph.writes import Actor, Outcome

RETURN_VISIT: LiteralString = """
RETURN elementId(e) AS elementId, v.id AS visitorId, c.id AS childId, e.on AS on, e.type AS type,
       e.notes AS notes, e.recordedBy AS recordedBy, e.recordedAt AS recordedAt
"""

# Setting and removing a property takes the child's write lock, so two identical visits sent at
# once cannot both pass the check below: the second waits for the first and then sees it.
RECORD_VISIT: LiteralString = (
    """
MATCH (v:Person {id: $visitor}), (c:Person {id: $child})
SET c.visitLock = true
REMOVE c.visitLock
WITH v, c
WHERE NOT EXISTS {
  (v)-[same:VISITED {on: $on, type: $type}]->(c)
  WHERE coalesce(same.notes = $notes, same.notes IS NULL AND $notes IS NULL)
}
CREATE (v)-[e:VISITED {on: $on, type: $type}]->(c)
SET e.notes = $notes, e.recordedBy = $by, e.recordedAt = datetime()
"""
    + RETURN_VISIT
)


def _checked_visit(target: LiteralString) -> LiteralString:
    """`RECORD_VISIT` behind every check a visit makes, in one statement: the child a target
    (`target`, see `graph.writes`), the visitor someone the caller may name, the day not before
    the child's birth. The visit is written only when all hold; the flags say which failed."""
    return (
        """
OPTIONAL MATCH (p:Person {id: $child})
WITH p.regionCode AS region, p.birthDate AS born, """
        + target
        + """ AS childInScope
OPTIONAL MATCH (p:Person {id: $visitor})
WITH region, born, childInScope, """
        + writes.REFERENCE_IN_SCOPE
        + """ AS visitorInScope
WITH region, childInScope, visitorInScope, childInScope AND coalesce($on < born, false) AS beforeBirth
OPTIONAL CALL (childInScope, visitorInScope, beforeBirth) {
  WITH * WHERE childInScope AND visitorInScope AND NOT beforeBirth"""
        + RECORD_VISIT
        + """}
RETURN *
"""
    )


#: By whether the caller is institution staff (their targets are their institution's children).
CHECKED_VISIT: Final[dict[bool, LiteralString]] = {
    False: _checked_visit(writes.TARGET_IN_SCOPE),
    True: _checked_visit(writes.STAFF_TARGET_IN_SCOPE),
}

GET_VISIT: LiteralString = "MATCH (v:Person)-[e:VISITED]->(c:Person) WHERE elementId(e) = $id" + RETURN_VISIT

RETURN_CONTACT: LiteralString = """
RETURN elementId(e) AS elementId, p.id AS fromId, c.id AS childId, e.on AS on, e.channel AS channel,
       e.recordedBy AS recordedBy, e.recordedAt AS recordedAt
"""

RECORD_CONTACT: LiteralString = (
    """
MATCH (p:Person {id: $from}), (c:Person {id: $child})
MERGE (p)-[e:CONTACTED {on: $on, channel: $channel}]->(c)
ON CREATE SET e.recordedBy = $by, e.recordedAt = datetime()
"""
    + RETURN_CONTACT
)

GET_CONTACT: LiteralString = "MATCH (p:Person)-[e:CONTACTED]->(c:Person) WHERE elementId(e) = $id" + RETURN_CONTACT

# Discovery counts contacts from a child's parents and guardians (docs/discovery.md).
PARENT_OR_GUARDIAN: LiteralString = """
MATCH (c:Person {id: $child})
RETURN EXISTS { (:Person {id: $from})-[:PARENT_OF|GUARDIAN_OF]->(c) } AS linked
"""


@dataclass(frozen=True, slots=True)
class VisitRecord:
    visitor_id: str
    child_id: str
    on: date
    type: str
    notes: str | None
    recorded_by: str | None
    recorded_at: datetime | None

    @property
    def id(self) -> str:
        """Its bundle line's fields: visitor|child|on|type|a digest of the notes."""
        digest = hashlib.sha256((self.notes or "").encode()).hexdigest()[:12]
        return f"{self.visitor_id}|{self.child_id}|{self.on.isoformat()}|{self.type}|{digest}"


@dataclass(frozen=True, slots=True)
class ContactRecord:
    from_id: str
    child_id: str
    on: date
    channel: str
    recorded_by: str | None
    recorded_at: datetime | None

    @property
    def id(self) -> str:
        return f"{self.from_id}|{self.child_id}|{self.on.isoformat()}|{self.channel}"


def visit_record(row: dict[str, Any]) -> VisitRecord:
    return VisitRecord(
        row["visitorId"],
        row["childId"],
        row["on"].to_native(),
        row["type"],
        row["notes"],
        row["recordedBy"],
        native_datetime(row["recordedAt"]),
    )


def contact_record(row: dict[str, Any]) -> ContactRecord:
    return ContactRecord(
        row["fromId"],
        row["childId"],
        row["on"].to_native(),
        row["channel"],
        row["recordedBy"],
        native_datetime(row["recordedAt"]),
    )


async def _get_visit(tx: AsyncManagedTransaction, element_id: str) -> VisitRecord:
    return visit_record((await writes.rows(tx, GET_VISIT, {"id": element_id}))[0])


async def _get_contact(tx: AsyncManagedTransaction, element_id: str) -> ContactRecord:
    return contact_record((await writes.rows(tx, GET_CONTACT, {"id": element_id}))[0])


async def record_visit(
    graph: Graph,
    actor: Actor,
    *,
    child: str,
    type: str,
    today: date,
    visitor: str | None = None,
    on: date | None = None,
    notes: str | None = None,
    key: str | None = None,
) -> VisitRecord:
    """Record a visit to `child`; the visitor defaults to the caller, the day to today."""
    inputs = {"visitor": visitor, "child": child, "on": on, "type": type, "notes": notes}

    async def work(tx: AsyncManagedTransaction) -> Outcome[VisitRecord]:
        data = writes.validate_as("visit", inputs | {"visitor": visitor or actor.sub, "on": on or today}, today=today)
        staff = actor.role == Role.INSTITUTION_STAFF
        params = {"notes": None} | data | {"by": actor.sub, "sub": actor.sub, "scope": actor.scope}
        row = (await writes.rows(tx, CHECKED_VISIT[staff], params | {"institution": actor.institution}))[0]
        if not row["childInScope"]:
            raise OutOfReach("child")
        if not row["visitorInScope"]:
            raise OutOfReach("visitor")
        if row["beforeBirth"]:
            raise InvalidInput("on", f"{data['on'].isoformat()} is before the child's birth")
        if row["elementId"] is None:
            raise Conflict(
                "this visit, with these notes, is already recorded; a second visit says what differs in notes"
            )
        return Outcome(visit_record(row), row["elementId"], [child, data["visitor"]], row["region"])

    return await writes.perform(
        graph, actor, "recordVisit", inputs=inputs, work=work, replay=_get_visit, key=key, ids=[child]
    )


async def record_contact(
    graph: Graph,
    actor: Actor,
    *,
    child: str,
    sender: str,
    channel: str,
    today: date,
    on: date | None = None,
    key: str | None = None,
) -> ContactRecord:
    """Record that a parent or guardian (`sender`) was in touch with `child`."""
    inputs = {"from": sender, "child": child, "on": on, "channel": channel}

    async def work(tx: AsyncManagedTransaction) -> Outcome[ContactRecord]:
        data = writes.validate_as("contact", inputs | {"on": on or today}, today=today)
        region = await writes.person_in_scope(tx, actor, child)
        if not (await writes.rows(tx, PARENT_OR_GUARDIAN, {"from": sender, "child": child}))[0]["linked"]:
            # Only someone the caller may see can be told apart from no one at all.
            await writes.person_reference(tx, actor, sender, "from")
            raise InvalidInput("from", f"{sender} is neither a parent nor a guardian of {child}")
        await writes.not_before_birth(tx, child, data["on"], "on")
        row = (await writes.rows(tx, RECORD_CONTACT, data | {"by": actor.sub}))[0]
        return Outcome(contact_record(row), row["elementId"], [child, sender], region)

    return await writes.perform(
        graph, actor, "recordContact", inputs=inputs, work=work, replay=_get_contact, key=key, ids=[child]
    )
