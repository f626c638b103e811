"""Keeping the file in the village (一人一档): create and correct persons and households, link a
parent to a child, correct or end that link, and move a person to another household.

Each write runs through `graph.writes.perform` (role, one transaction, audit, idempotency by
`clientMutationId`) and checks its input as the bundle line it amounts to (`person`,
`household`, `parent`). A correction keeps what it replaced: a `FileCorrection` node
`-[:CORRECTS]->` the record, with who, when, the operation, a note and the values before and
after (as JSON), so the file's history is never overwritten; the timeline shows it.

Scope: every household, village and person a write names must lie in the caller's scope
before and after the write, so a move never takes a person (or a household) out of it. New
persons and households get an id of the server's (`P-`/`H-` and a UUID): an id chosen by the
caller could tell it whether that id exists elsewhere. ID numbers are not written here (a
clash with a person elsewhere would answer a look-up by full ID number); bundles carry them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, LiteralString

import orjson
from neo4j import AsyncManagedTransaction

from graph import writes
from graph.bundle.records import MIN_PARENT_AGE
from graph.dates import age_at
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, OutOfReach
from graph.writes import Actor, Outcome

HOUSEHOLD_TARGET: LiteralString = """
OPTIONAL MATCH (h:Household {id: $id})
RETURN h.regionCode AS region,
       h IS NOT NULL AND ($scope = '' OR coalesce(h.regionCode STARTS WITH $scope, false)) AS inScope
"""
VILLAGE_TARGET: LiteralString = """
OPTIONAL MATCH (v:Region {code: $code, level: 'village'})
RETURN v IS NOT NULL AND ($scope = '' OR v.code STARTS WITH $scope) AS inScope
"""
HOUSEHOLD_VALUES: LiteralString = """
MATCH (h:Household {id: $id})
RETURN {id: h.id, region: h.regionCode, address: h.address, lowIncome: h.lowIncome} AS values
"""
PERSON_VALUES: LiteralString = """
MATCH (p:Person {id: $id})
RETURN {id: p.id, name: p.name, gender: p.gender, birthDate: toString(p.birthDate), phone: p.phone,
        deceasedOn: toString(p.deceasedOn), household: [(p)-[:MEMBER_OF]->(h) | h.id][0]} AS values
"""
CREATE_HOUSEHOLD: LiteralString = """
MATCH (v:Region {code: $region})
CREATE (h:Household {id: 'H-' + randomUUID(), regionCode: $region, address: $address, lowIncome: $lowIncome,
                     updatedAt: datetime(), recordedBy: $by})-[:LOCATED_IN]->(v)
RETURN h.id AS id
"""
# A household's village moves its members with it, as an import's household line does.
CORRECT_HOUSEHOLD: LiteralString = """
MATCH (h:Household {id: $id})
SET h.address = $address, h.lowIncome = $lowIncome, h.regionCode = $region, h.updatedAt = datetime()
WITH h
CALL (h) { MATCH (h)-[old:LOCATED_IN]->(r) WHERE r.code <> $region DELETE old }
MATCH (v:Region {code: $region})
MERGE (h)-[:LOCATED_IN]->(v)
WITH h
CALL (h) { MATCH (p:Person)-[:MEMBER_OF]->(h) SET p.regionCode = h.regionCode }
RETURN h.id AS id
"""
CREATE_PERSON: LiteralString = """
MATCH (h:Household {id: $household})
CREATE (p:Person {id: 'P-' + randomUUID(), name: $name, gender: $gender, birthDate: $birthDate, phone: $phone,
                  deceasedOn: $deceasedOn, regionCode: h.regionCode, updatedAt: datetime(), recordedBy: $by})
CREATE (p)-[:MEMBER_OF]->(h)
RETURN p.id AS id
"""
CORRECT_PERSON: LiteralString = """
MATCH (p:Person {id: $id})
SET p.name = $name, p.gender = $gender, p.birthDate = $birthDate, p.phone = $phone, p.deceasedOn = $deceasedOn,
    p.updatedAt = datetime()
RETURN p.id AS id
"""
MOVE_PERSON: LiteralString = """
MATCH (p:Person {id: $id}), (h:Household {id: $household})
CALL (p) { MATCH (p)-[old:MEMBER_OF]->() DELETE old }
CREATE (p)-[:MEMBER_OF]->(h)
SET p.regionCode = h.regionCode, p.updatedAt = datetime()
RETURN p.id AS id
"""
PARENT_LINK: LiteralString = """
MATCH (parent:Person {id: $parent}), (child:Person {id: $child})
OPTIONAL MATCH (parent)-[link:PARENT_OF]->(child)
RETURN parent.birthDate AS parentBorn, child.birthDate AS childBorn, link.type AS type,
       EXISTS { (child)-[:PARENT_OF*1..]->(parent) } AS cycle
"""
LINK_PARENT: LiteralString = """
MATCH (parent:Person {id: $parent}), (child:Person {id: $child})
MERGE (parent)-[link:PARENT_OF]->(child)
SET link.type = $type, link.recordedBy = $by, link.recordedAt = datetime()
RETURN child.id AS id
"""
END_PARENT_LINK: LiteralString = """
MATCH (:Person {id: $parent})-[link:PARENT_OF]->(child:Person {id: $child})
DELETE link
RETURN child.id AS id
"""
RECORD_CORRECTION: LiteralString = """
MATCH (n) WHERE (n:Person OR n:Household) AND n.id = $target
CREATE (c:FileCorrection {id: randomUUID(), at: datetime(), by: $by, operation: $operation, note: $note,
                          before: $before, after: $after})-[:CORRECTS]->(n)
"""


async def _single(tx: AsyncManagedTransaction, query: LiteralString, params: dict[str, Any]) -> dict[str, Any]:
    return (await writes.rows(tx, query, params))[0]


async def household_in_scope(tx: AsyncManagedTransaction, actor: Actor, household: str, field: str) -> str | None:
    row = await _single(tx, HOUSEHOLD_TARGET, {"id": household, "scope": actor.scope})
    if not row["inScope"]:
        raise OutOfReach(field)
    region: str | None = row["region"]
    return region


async def village_in_scope(tx: AsyncManagedTransaction, actor: Actor, code: str, field: str) -> None:
    if not (await _single(tx, VILLAGE_TARGET, {"code": code, "scope": actor.scope}))["inScope"]:
        raise OutOfReach(field)


async def _correction(
    tx: AsyncManagedTransaction, actor: Actor, operation: str, target: str, before: Any, after: Any, note: str | None
) -> None:
    values = {"before": orjson.dumps(before).decode(), "after": orjson.dumps(after).decode()}
    await writes.rows(tx, RECORD_CORRECTION, {"target": target, "by": actor.sub, "operation": operation,
                                               "note": note} | values)  # fmt: skip


async def _corrected(
    tx: AsyncManagedTransaction, actor: Actor, operation: str, target: str, values: LiteralString,
    write: LiteralString, params: dict[str, Any], note: str | None,
) -> None:  # fmt: skip
    """Run `write` on `target`, keeping its values before and after (read by `values`)."""
    before = (await _single(tx, values, {"id": target}))["values"]
    await writes.rows(tx, write, params)
    after = (await _single(tx, values, {"id": target}))["values"]
    await _correction(tx, actor, operation, target, before, after, note)


async def _id(_: AsyncManagedTransaction, result: str) -> str:
    return result


def _household_line(inputs: dict[str, Any], today: date) -> dict[str, Any]:
    return writes.validate_as("household", {"id": "new"} | inputs, today=today)


async def create_household(
    graph: Graph, actor: Actor, *, region: str, address: str | None, low_income: list[str], today: date,
    key: str | None = None,
) -> str:  # fmt: skip
    """A new household in a village of the caller's scope; its id."""
    inputs = {"region": region, "address": address, "lowIncome": low_income}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        data = _household_line(inputs, today)
        await village_in_scope(tx, actor, region, "region")
        found = (await _single(tx, CREATE_HOUSEHOLD, data | {"by": actor.sub}))["id"]
        return Outcome(found, found, [found], region)

    return await writes.perform(graph, actor, "createHousehold", inputs=inputs, work=work, replay=_id, key=key)


async def correct_household(
    graph: Graph, actor: Actor, household: str, *, region: str, address: str | None, low_income: list[str],
    note: str | None, today: date, key: str | None = None,
) -> str:  # fmt: skip
    """Replace a household's fields (its village too: the members move with it, within scope)."""
    inputs = {"id": household, "region": region, "address": address, "lowIncome": low_income, "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        data = _household_line({k: v for k, v in inputs.items() if k not in ("id", "note")}, today)
        before_region = await household_in_scope(tx, actor, household, "id")
        await village_in_scope(tx, actor, region, "region")
        params = data | {"id": household}
        await _corrected(tx, actor, "correctHousehold", household, HOUSEHOLD_VALUES, CORRECT_HOUSEHOLD, params, note)
        return Outcome(household, household, [household], before_region)

    return await writes.perform(
        graph, actor, "correctHousehold", inputs=inputs, work=work, replay=_id, key=key, ids=[household]
    )


def _person_line(fields: dict[str, Any], today: date) -> dict[str, Any]:
    data = writes.validate_as("person", {"id": "new"} | fields, today=today)
    return {"phone": None, "deceasedOn": None} | data


async def create_person(
    graph: Graph, actor: Actor, *, household: str, fields: dict[str, Any], today: date, key: str | None = None
) -> str:
    """A new person in a household of the caller's scope (name, gender, birthDate, phone, deceasedOn)."""
    inputs = fields | {"household": household}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        data = _person_line(inputs, today)
        region = await household_in_scope(tx, actor, household, "householdId")
        found = (await _single(tx, CREATE_PERSON, data | {"by": actor.sub}))["id"]
        return Outcome(found, found, [found, household], region)

    return await writes.perform(graph, actor, "createPerson", inputs=inputs, work=work, replay=_id, key=key)


async def correct_person(
    graph: Graph, actor: Actor, person: str, *, fields: dict[str, Any], note: str | None, today: date,
    key: str | None = None,
) -> str:  # fmt: skip
    """Replace a person's own fields (absent optional ones are removed, as an import's line does)."""
    inputs = fields | {"id": person, "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        data = _person_line(fields, today)
        region = await writes.person_in_scope(tx, actor, person, "id")
        await _corrected(tx, actor, "correctPerson", person, PERSON_VALUES, CORRECT_PERSON, data | {"id": person}, note)
        return Outcome(person, person, [person], region)

    return await writes.perform(
        graph, actor, "correctPerson", inputs=inputs, work=work, replay=_id, key=key, ids=[person]
    )


async def move_person(
    graph: Graph, actor: Actor, person: str, *, household: str, note: str | None, key: str | None = None
) -> str:
    """Move a person of the caller's scope to another household of it."""
    inputs = {"id": person, "household": household, "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        region = await writes.person_in_scope(tx, actor, person, "personId")
        await household_in_scope(tx, actor, household, "householdId")
        params = {"id": person, "household": household}
        await _corrected(tx, actor, "movePerson", person, PERSON_VALUES, MOVE_PERSON, params, note)
        return Outcome(person, person, [person, household], region)

    return await writes.perform(
        graph, actor, "movePerson", inputs=inputs, work=work, replay=_id, key=key, ids=[person, household]
    )


async def _link(
    tx: AsyncManagedTransaction, actor: Actor, parent: str, child: str
) -> tuple[str | None, dict[str, Any]]:
    region = await writes.person_in_scope(tx, actor, child, "childId")
    await writes.person_reference(tx, actor, parent, "parentId")
    return region, await _single(tx, PARENT_LINK, {"parent": parent, "child": child})


async def link_parent(
    graph: Graph, actor: Actor, *, parent: str, child: str, type: str, today: date, key: str | None = None
) -> str:
    """Record `parent` as a parent of `child` (or correct the link's type); the child's id."""
    inputs = {"parent": parent, "child": child, "type": type}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        writes.validate_as("parent", inputs, today=today)
        region, link = await _link(tx, actor, parent, child)
        if link["cycle"]:
            raise InvalidInput("parentId", "would make a cycle of parents")
        born, child_born = link["parentBorn"], link["childBorn"]
        if (
            born is not None
            and child_born is not None
            and age_at(born.to_native(), child_born.to_native()) < MIN_PARENT_AGE
        ):
            raise InvalidInput("parentId", f"is less than {MIN_PARENT_AGE} years older than the child")
        await writes.rows(tx, LINK_PARENT, inputs | {"by": actor.sub})
        if link["type"] is not None and link["type"] != type:
            await _correction(tx, actor, "linkParent", child, {"parent": parent, "type": link["type"]},
                              {"parent": parent, "type": type}, None)  # fmt: skip
        return Outcome(child, child, [child, parent], region)

    return await writes.perform(graph, actor, "linkParent", inputs=inputs, work=work, replay=_id, key=key, ids=[child])


async def end_parent_link(
    graph: Graph, actor: Actor, *, parent: str, child: str, note: str | None, key: str | None = None
) -> str:
    """Remove a parent link recorded in error; the removed link is kept as a correction."""
    inputs = {"parent": parent, "child": child, "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[str]:
        region, link = await _link(tx, actor, parent, child)
        if link["type"] is None:
            raise Conflict("no such parent link is recorded (or it was ended already)")
        await writes.rows(tx, END_PARENT_LINK, {"parent": parent, "child": child})
        await _correction(tx, actor, "endParentLink", child, {"parent": parent, "type": link["type"]}, None, note)
        return Outcome(child, child, [child, parent], region)

    return await writes.perform(
        graph, actor, "endParentLink", inputs=inputs, work=work, replay=_id, key=key, ids=[child]
    )
