"""Small typed factories that build test graphs in a line or two, exactly as `graph/MODEL.md`
stores them. Links (relationships, intervals, events) are written by `record`, through the
import's own write for their kind, so a kind added to `graph.bundle.records` has a factory
already: `await factories.record(g, "placement", child="C1", institution="I1", since=day)`.
Each writes one record through the `Graph` handle; referenced nodes must exist (regions are
created on demand by `region_tree`/`household`).

    await factories.household(g, "H1", "360732100201")
    await factories.person(g, "C1", date(2015, 3, 1), household="H1")
    await factories.parent(g, "P1", "C1"); await factories.away(g, "P1", date(2025, 1, 1))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, LiteralString

from graph.bundle.records import KINDS
from graph.driver import Graph
from graph.regions import LEVELS, SIGNIFICANT_DIGITS


def region_chain(code: str) -> list[tuple[str, str]]:
    """(code, level) from the province down to `code`, a 12-digit region code."""
    chain = []
    for level in LEVELS:
        ancestor = code[: SIGNIFICANT_DIGITS[level]].ljust(12, "0")
        chain.append((ancestor, level))
        if ancestor == code:
            break
    return chain


async def region_tree(graph: Graph, code: str) -> None:
    """The region `code` and all its ancestors, each `PART_OF` its parent."""
    chain = region_chain(code)
    rows = [{"code": c, "level": level, "parent": chain[i - 1][0] if i else None} for i, (c, level) in enumerate(chain)]
    await graph.write(
        """
        UNWIND $rows AS row
        MERGE (r:Region {code: row.code})
          ON CREATE SET r.name = 'Region ' + row.code, r.level = row.level
        WITH r, row WHERE row.parent IS NOT NULL
        MATCH (p:Region {code: row.parent})
        MERGE (r)-[:PART_OF]->(p)
        """,
        {"rows": rows},
    )


async def household(
    graph: Graph, id: str, region: str, *, low_income: Sequence[str] = (), address: str | None = None
) -> None:
    await region_tree(graph, region)
    await graph.write(
        """
        MATCH (v:Region {code: $region})
        CREATE (h:Household {id: $id, regionCode: $region, lowIncome: $lowIncome, address: $address,
                             updatedAt: datetime()})
        CREATE (h)-[:LOCATED_IN]->(v)
        """,
        {"id": id, "region": region, "lowIncome": list(low_income), "address": address},
    )


async def person(
    graph: Graph,
    id: str,
    birth_date: dt.date,
    *,
    household: str | None = None,
    name: str | None = None,
    gender: str = "F",
    deceased_on: dt.date | None = None,
    id_number: str | None = None,
    phone: str | None = None,
) -> None:
    """A person; with `household` they are its member and take its village as `regionCode`."""
    await graph.write(
        """
        CREATE (p:Person {id: $id, name: $name, gender: $gender, birthDate: $birthDate,
                          deceasedOn: $deceasedOn, idNumber: $idNumber, phone: $phone,
                          updatedAt: datetime()})
        WITH p
        OPTIONAL MATCH (h:Household {id: $household})
        FOREACH (_ IN CASE WHEN h IS NULL THEN [] ELSE [1] END |
          SET p.regionCode = h.regionCode
          CREATE (p)-[:MEMBER_OF]->(h))
        """,
        {
            "id": id,
            "name": name or f"人{id}",
            "gender": gender,
            "birthDate": birth_date,
            "deceasedOn": deceased_on,
            "idNumber": id_number,
            "phone": phone,
            "household": household,
        },
    )


async def institution(
    graph: Graph,
    id: str,
    type: str,
    region: str,
    *,
    services: Sequence[str] = (),
    capacity: int | None = None,
    name: str | None = None,
) -> None:
    await region_tree(graph, region)
    await graph.write(
        """
        MATCH (r:Region {code: $region})
        CREATE (i:Institution {id: $id, name: $name, type: $type, services: $services,
                               capacity: $capacity, regionCode: $region, updatedAt: datetime()})
        CREATE (i)-[:LOCATED_IN]->(r)
        """,
        {
            "id": id,
            "name": name or f"机构{id}",
            "type": type,
            "services": list(services),
            "capacity": capacity,
            "region": region,
        },
    )


async def _relate(graph: Graph, query: LiteralString, **params: Any) -> None:
    records = await graph.write(query + "\nRETURN count(*) AS made", params)
    assert records and records[0]["made"] == 1, f"a referenced node is missing: {params}"


async def record(graph: Graph, kind: str, **fields: Any) -> None:
    """One relationship, interval or event of `kind` from its bundle fields (dates as dates),
    written by the import's own write for that kind (`graph.bundle.records`), so a test graph
    is stored exactly as an imported one; every node it names must exist."""
    store = KINDS[kind].store
    assert store is not None and store.shape != "node", f"{kind} is not a link kind"
    row = {name: value for name, value in fields.items() if value is not None}
    key = store.node_key(row)
    if key is not None:
        row["key"] = key
    await _relate(graph, store.write, batch={"rows": [row]}, at=dt.datetime.now(dt.UTC))


async def parent(graph: Graph, parent: str, child: str, *, type: str = "biological") -> None:
    await record(graph, "parent", parent=parent, child=child, type=type)


async def guardian(
    graph: Graph,
    guardian: str,
    child: str,
    since: dt.date,
    *,
    until: dt.date | None = None,
    basis: str = "parent",
) -> None:
    """`guardian` is a person id or an institution id."""
    await record(graph, "guardian", guardian=guardian, child=child, since=since, until=until, basis=basis)


async def care(
    graph: Graph,
    caregiver: str,
    child: str,
    since: dt.date,
    *,
    until: dt.date | None = None,
    agreement_signed_on: dt.date | None = None,
    entrusted_by: str | None = None,
) -> None:
    await record(
        graph,
        "care",
        caregiver=caregiver,
        child=child,
        since=since,
        until=until,
        agreementSignedOn=agreement_signed_on,
        entrustedBy=entrusted_by,
    )


async def away(
    graph: Graph,
    person: str,
    since: dt.date,
    *,
    until: dt.date | None = None,
    destination: str = "广东东莞",
    destination_region: str | None = None,
) -> None:
    await record(
        graph,
        "away",
        person=person,
        since=since,
        until=until,
        destination=destination,
        destinationRegion=destination_region,
    )


async def condition(graph: Graph, person: str, type: str, since: dt.date, *, until: dt.date | None = None) -> None:
    await record(graph, "condition", person=person, type=type, since=since, until=until)


async def registration(
    graph: Graph, child: str, category: str, since: dt.date, *, until: dt.date | None = None
) -> None:
    await record(graph, "registration", child=child, category=category, since=since, until=until)


async def enrollment(
    graph: Graph,
    child: str,
    institution: str,
    since: dt.date,
    *,
    until: dt.date | None = None,
    grade: str | None = None,
    boarding: bool | None = None,
) -> None:
    await record(
        graph,
        "enrollment",
        child=child,
        institution=institution,
        since=since,
        until=until,
        grade=grade,
        boarding=boarding,
    )


async def placement(
    graph: Graph, child: str, institution: str, since: dt.date, *, until: dt.date | None = None
) -> None:
    await record(graph, "placement", child=child, institution=institution, since=since, until=until)


async def pairing(graph: Graph, volunteer: str, child: str, since: dt.date, *, until: dt.date | None = None) -> None:
    await record(graph, "pairing", volunteer=volunteer, child=child, since=since, until=until)


async def staff(
    graph: Graph,
    person: str,
    role: str,
    since: dt.date,
    *,
    region: str | None = None,
    institution: str | None = None,
    until: dt.date | None = None,
) -> None:
    """`SERVES` the institution when given, else the region."""
    await record(
        graph, "staff", person=person, role=role, since=since, until=until, region=region, institution=institution
    )


async def contact(graph: Graph, from_: str, child: str, on: dt.date, *, channel: str = "phone") -> None:
    await record(graph, "contact", **{"from": from_, "child": child, "on": on, "channel": channel})


async def visit(
    graph: Graph, visitor: str, child: str, on: dt.date, *, type: str = "home_visit", notes: str | None = None
) -> None:
    await record(graph, "visit", visitor=visitor, child=child, on=on, type=type, notes=notes)


async def report(
    graph: Graph,
    id: str,
    child: str,
    at: dt.datetime,
    *,
    urgency: str = "normal",
    category: str = "neglect",
    reporter_role: str = "teacher",
    description: str = "报告",
    reporter: str | None = None,
) -> None:
    """A report made at `at` (timezone-aware: stored as a DATETIME with its offset)."""
    assert at.tzinfo is not None, "a report's `at` carries an offset"
    await _relate(
        graph,
        """
        MATCH (c:Person {id: $child})
        CREATE (r:Report {id: $id, at: $at, reporterRole: $role, category: $category,
                          urgency: $urgency, description: $description})-[:ABOUT]->(c)
        WITH r
        OPTIONAL MATCH (who:Person {id: $reporter})
        FOREACH (_ IN CASE WHEN who IS NULL THEN [] ELSE [1] END | CREATE (who)-[:REPORTED]->(r))
        """,
        id=id,
        child=child,
        at=at,
        role=reporter_role,
        category=category,
        urgency=urgency,
        description=description,
        reporter=reporter,
    )


async def case(
    graph: Graph,
    id: str,
    child: str,
    opened_on: dt.date,
    *,
    stage: str = "reported",
    worker: str | None = None,
    report: str | None = None,
) -> None:
    await _relate(
        graph,
        """
        MATCH (c:Person {id: $child})
        CREATE (k:Case {id: $id, openedOn: $openedOn, stage: $stage, updatedAt: datetime()})-[:CONCERNS]->(c)
        WITH k
        OPTIONAL MATCH (w:Person {id: $worker})
        OPTIONAL MATCH (r:Report {id: $report})
        FOREACH (_ IN CASE WHEN w IS NULL THEN [] ELSE [1] END | CREATE (k)-[:ASSIGNED_TO]->(w))
        FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END | CREATE (k)-[:FROM_REPORT]->(r))
        """,
        id=id,
        child=child,
        openedOn=opened_on,
        stage=stage,
        worker=worker,
        report=report,
    )


async def referral(
    graph: Graph,
    id: str,
    case: str,
    institution: str,
    service: str,
    on: dt.date,
    due_on: dt.date,
    *,
    status: str = "pending",
    reason: str | None = None,
) -> None:
    await _relate(
        graph,
        """
        MATCH (k:Case {id: $case}), (i:Institution {id: $institution})
        CREATE (k)-[:REFERRED]->(x:Referral {id: $id, service: $service, on: $on, dueOn: $dueOn,
                 status: $status, reason: $reason, updatedAt: datetime()})-[:TO]->(i)
        """,
        id=id,
        case=case,
        institution=institution,
        service=service,
        on=on,
        dueOn=due_on,
        status=status,
        reason=reason,
    )


async def status_change(
    graph: Graph, referral: str, status: str, at: dt.datetime, *, by: str = "tester", note: str | None = None
) -> None:
    """A referral's status history entry (the referral's own `status` is left as it is)."""
    await _relate(
        graph,
        """
        MATCH (x:Referral {id: $referral})
        CREATE (x)-[:HAD_STATUS]->(:StatusChange {status: $status, at: $at, by: $by, note: $note})
        """,
        referral=referral,
        status=status,
        at=at,
        by=by,
        note=note,
    )
