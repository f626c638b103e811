"""Reports of concern (强制报告): a teacher, doctor or neighbour reports a child who may need help.

Two ways in. `report_concern`: a village or case worker records a report about a child in
their scope. `file_mandatory_report`: an institution's staff (a school, a hospital) files the
mandatory report about a child they name, by name and birth date or by ID number, whether or
not the child is theirs; the answer is a receipt (the report's id and when it was received),
the same whether the child was found or not, and nothing else: no error, message or timing
path tells the staff whether or where the child exists.

Matching: an ID number names one person anywhere (and must agree with the name and birth date
when those are given too); a name with a birth date matches a person of the institution's
city, when exactly one person there has both. A child who matches gets the report `ABOUT` them
at once, so it reaches their case workers and discovery (`REPORT_UNHANDLED`) like any other.
A report that matches nobody, or more than one person, or an adult, is kept unmatched with
what was named, for the intake of the institution's county (`intakeRegion`) to match by hand
(`match_report`), which links it then.

The reporter's identity (the staff person, the institution, who recorded it) is stored with
the report and shown only to the roles that may see it (docs/access.md, Masking).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph import writes
from graph.bundle import idnumber
from graph.bundle.records import REPORT_CATEGORIES, URGENCIES
from graph.dates import birth_cutoff, fixed_offset, native_date, native_datetime
from graph.driver import Graph
from graph.errors import Conflict, Forbidden, InvalidInput, OutOfReach
from graph.regions import scope_prefix
from graph.writes import Actor, Outcome

RETURN_REPORT: LiteralString = """
RETURN r.id AS id, r.at AS at, r.reporterRole AS reporterRole, r.category AS category,
       r.urgency AS urgency, r.description AS description, r.recordedBy AS recordedBy,
       r.recordedAt AS recordedAt, coalesce(r.mandatory, false) AS mandatory,
       r.namedName AS namedName, r.namedBirthDate AS namedBirthDate, r.namedIdNumber AS namedIdNumber,
       r.intakeRegion AS intakeRegion, r.matchedBy AS matchedBy, r.matchedAt AS matchedAt,
       [(r)-[:ABOUT]->(c:Person) | c.id][0] AS childId,
       [(r)-[:ABOUT]->(c:Person) | c.regionCode][0] AS region,
       [(i:Institution)-[:FILED]->(r) | i.id][0] AS institutionId,
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
class NamedChild:
    """Whom a mandatory report names, as the reporter wrote it."""

    name: str | None
    birth_date: date | None
    id_number: str | None


@dataclass(frozen=True, slots=True)
class ReportRecord:
    id: str
    at: datetime
    #: None for a mandatory report that matched nobody yet.
    child_id: str | None
    reporter_id: str | None
    reporter_role: str
    category: str
    urgency: str
    description: str
    recorded_by: str | None
    recorded_at: datetime | None = None
    mandatory: bool = False
    named: NamedChild | None = None
    intake_region: str | None = None
    institution_id: str | None = None
    matched_by: str | None = None
    matched_at: datetime | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """All an institution learns from filing a mandatory report."""

    id: str
    received_at: datetime


def report_record(row: Mapping[str, Any]) -> ReportRecord:
    mandatory = bool(row.get("mandatory"))
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
        recorded_at=native_datetime(row.get("recordedAt")),
        mandatory=mandatory,
        named=NamedChild(row["namedName"], native_date(row["namedBirthDate"]), row["namedIdNumber"])
        if mandatory
        else None,
        intake_region=row.get("intakeRegion"),
        institution_id=row.get("institutionId"),
        matched_by=row.get("matchedBy"),
        matched_at=native_datetime(row.get("matchedAt")),
        region=row.get("region"),
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


# --- mandatory reports (强制报告) from institutions ---------------------------------------------

#: An institution's type -> what its staff are as reporters; other types file as `other`.
REPORTER_OF_TYPE: Final = {
    "school": "teacher",
    "kindergarten": "teacher",
    "hospital": "doctor",
    "police_station": "police",
    "village_committee": "village_committee",
}

FILING_INSTITUTION: LiteralString = """
OPTIONAL MATCH (i:Institution {id: $institution})
RETURN i IS NOT NULL AS found, i.type AS type, i.regionCode AS region
"""

# An ID number names one person anywhere; a name with a birth date, one person of the city.
# The match is kept only when exactly one child (under 18, with a household) fits.
MATCH_NAMED: LiteralString = """
CALL () {
  MATCH (p:Person {idNumber: $idNumber})
  RETURN p
  UNION
  MATCH (p:Person {name: $name})
  WHERE $idNumber IS NULL AND p.birthDate = $birthDate AND p.regionCode STARTS WITH $city
  RETURN p
}
WITH p WHERE ($name IS NULL OR p.name = $name) AND ($birthDate IS NULL OR p.birthDate = $birthDate)
WITH collect(p) AS found
RETURN CASE WHEN size(found) = 1 AND found[0].birthDate > $born18 AND found[0].birthDate <= $day
                 AND found[0].regionCode IS NOT NULL
            THEN found[0].id END AS childId,
       CASE WHEN size(found) = 1 THEN found[0].regionCode END AS region
"""

CREATE_MANDATORY: LiteralString = """
MATCH (i:Institution {id: $institution})
CREATE (i)-[:FILED]->(r:Report {id: $id, at: $at, reporterRole: $reporterRole, category: $category,
                                urgency: $urgency, description: $description, recordedBy: $by,
                                recordedAt: datetime(), mandatory: true, namedName: $name,
                                namedBirthDate: $birthDate, namedIdNumber: $idNumber, intakeRegion: $intake})
WITH r
CALL (r) {
  MATCH (c:Person {id: $child})
  CREATE (r)-[:ABOUT]->(c)
}
CALL (r) {
  MATCH (p:Person {id: $by})
  CREATE (p)-[:REPORTED]->(r)
}
RETURN r.id AS id, r.recordedAt AS receivedAt
"""

GET_RECEIPT: LiteralString = "MATCH (r:Report {id: $id}) RETURN r.id AS id, r.recordedAt AS receivedAt"

# The reports a county's intake and case workers read: those about children of the region in
# scope, and the mandatory ones not yet matched whose intake lies in the region and scope.
_REPORTS_OF_REGION: LiteralString = """
CALL () {
  MATCH (c:Person)
  WHERE c.regionCode STARTS WITH $region AND ($scope = '' OR c.regionCode STARTS WITH $scope)
  MATCH (r:Report)-[:ABOUT]->(c)
  RETURN r
  UNION
  MATCH (r:Report {mandatory: true})
  WHERE r.intakeRegion STARTS WITH $region AND ($scope = '' OR r.intakeRegion STARTS WITH $scope)
    AND NOT EXISTS { (r)-[:ABOUT]->() }
  RETURN r
}
WITH r WHERE ($matched IS NULL OR EXISTS { (r)-[:ABOUT]->() } = $matched)
"""

LIST_REPORTS: LiteralString = (
    _REPORTS_OF_REGION
    + """
  AND ($afterId IS NULL OR r.at < $afterAt OR (r.at = $afterAt AND r.id > $afterId))
WITH r ORDER BY r.at DESC, r.id LIMIT $limit
"""
    + RETURN_REPORT
)

COUNT_REPORTS: LiteralString = _REPORTS_OF_REGION + "RETURN count(r) AS total\n"

REPORT_TO_MATCH: LiteralString = """
MATCH (r:Report {id: $id})
SET r._lock = true REMOVE r._lock
RETURN coalesce(r.mandatory, false) AS mandatory, EXISTS { (r)-[:ABOUT]->() } AS matched,
       $scope = '' OR coalesce(r.intakeRegion STARTS WITH $scope, false)
       OR EXISTS { (r)-[:ABOUT]->(c:Person) WHERE c.regionCode STARTS WITH $scope } AS inScope
"""

LINK_REPORT: LiteralString = (
    """
MATCH (r:Report {id: $id}), (c:Person {id: $child})
CREATE (r)-[:ABOUT]->(c)
SET r.matchedBy = $by, r.matchedAt = datetime(), r.matchNote = $note
WITH r
"""
    + RETURN_REPORT
)


@dataclass(frozen=True, slots=True)
class ReportListRequest:
    region: str
    matched: bool | None = None


async def get_receipt_in(tx: AsyncManagedTransaction, report_id: str) -> Receipt:
    row = (await writes.rows(tx, GET_RECEIPT, {"id": report_id}))[0]
    return Receipt(row["id"], row["receivedAt"].to_native())


def _named(name: str | None, birth_date: date | None, id_number: str | None, today: date) -> dict[str, Any]:
    """Whom the report names, checked as input only (never against the file)."""
    name = None if name is None or not name.strip() else name.strip()
    number = None
    if id_number is not None and id_number.strip():
        number = idnumber.normalize(id_number)
        if problem := idnumber.problem(number):
            raise InvalidInput("idNumber", problem)
    if number is None and name is None:
        raise InvalidInput("childName", "name the child: a name with a birth date, or an ID number")
    if number is None and birth_date is None:
        raise InvalidInput("birthDate", "required with the name unless an ID number is given")
    if birth_date is not None and birth_date > today:
        raise InvalidInput("birthDate", "is in the future")
    return {"name": name, "birthDate": birth_date, "idNumber": number}


async def file_mandatory_report(
    graph: Graph,
    actor: Actor,
    *,
    category: str,
    urgency: str,
    description: str,
    now: datetime,
    name: str | None = None,
    birth_date: date | None = None,
    id_number: str | None = None,
    at: datetime | None = None,
    key: str | None = None,
) -> Receipt:
    """File an institution's mandatory report about the child it names; see the module."""
    inputs = {
        "childName": name,
        "birthDate": birth_date,
        "idNumber": id_number,
        "category": category,
        "urgency": urgency,
        "description": description,
        "at": at,
    }

    async def work(tx: AsyncManagedTransaction) -> Outcome[Receipt]:
        named = _named(name, birth_date, id_number, now.date())
        if category not in REPORT_CATEGORIES:
            raise InvalidInput("category", f"{category!r} is not one of {', '.join(sorted(REPORT_CATEGORIES))}")
        if urgency not in URGENCIES:
            raise InvalidInput("urgency", f"{urgency!r} is not one of {', '.join(sorted(URGENCIES))}")
        if not description.strip():
            raise InvalidInput("description", "is empty")
        when = at or now
        if when > now:
            raise InvalidInput("at", "is in the future")
        filing = (await writes.rows(tx, FILING_INSTITUTION, {"institution": actor.institution}))[0]
        if not filing["found"]:
            raise Forbidden("your token names no institution on file")
        city = scope_prefix(filing["region"])[:4]
        params = named | {"city": city, "born18": birth_cutoff(when.date(), 18), "day": when.date()}
        match = (await writes.rows(tx, MATCH_NAMED, params))[0]
        report_id = str(uuid.uuid4())
        intake = filing["region"][:6] + "000000"
        created = await writes.rows(
            tx,
            CREATE_MANDATORY,
            named
            | {
                "institution": actor.institution,
                "id": report_id,
                "at": fixed_offset(when),
                "reporterRole": REPORTER_OF_TYPE.get(filing["type"], "other"),
                "category": category,
                "urgency": urgency,
                "description": description.strip(),
                "by": actor.sub,
                "intake": intake,
                "child": match["childId"],
            },
        )
        receipt = Receipt(created[0]["id"], created[0]["receivedAt"].to_native())
        child = match["childId"]
        ids = [report_id] + ([child] if child else [])
        return Outcome(receipt, report_id, ids, match["region"] if child else intake)

    return await writes.perform(
        graph, actor, "fileMandatoryReport", inputs=inputs, work=work, replay=get_receipt_in, key=key
    )


def _list_parameters(request: ReportListRequest, scope: str) -> dict[str, Any]:
    return {"region": scope_prefix(request.region), "scope": scope, "matched": request.matched}


async def list_reports(
    graph: Graph,
    request: ReportListRequest,
    *,
    scope: str,
    first: int,
    after: tuple[datetime, str] | None = None,
) -> tuple[list[ReportRecord], bool]:
    """One page of the region's reports in scope, newest first (see `_REPORTS_OF_REGION`)."""
    params = _list_parameters(request, scope) | {
        "afterAt": None if after is None else after[0],
        "afterId": None if after is None else after[1],
        "limit": first + 1,
    }
    rows = await graph.read(LIST_REPORTS, params)
    return [report_record(row.data()) for row in rows[:first]], len(rows) > first


async def count_reports(graph: Graph, request: ReportListRequest, *, scope: str) -> int:
    return int((await graph.read(COUNT_REPORTS, _list_parameters(request, scope)))[0]["total"])


async def match_report(
    graph: Graph, actor: Actor, report_id: str, child: str, *, note: str | None = None, key: str | None = None
) -> ReportRecord:
    """Link a mandatory report that matched nobody to the child intake found it is about."""

    async def work(tx: AsyncManagedTransaction) -> Outcome[ReportRecord]:
        found = await writes.rows(tx, REPORT_TO_MATCH, {"id": report_id, "scope": actor.scope})
        if not found or not found[0]["inScope"]:
            raise OutOfReach("report")
        state = found[0]
        if not state["mandatory"]:
            raise Conflict(f"report {report_id} was recorded about its child: only a mandatory report is matched")
        if state["matched"]:
            raise Conflict(f"report {report_id} is already matched")
        region = await writes.person_in_scope(tx, actor, child)
        params = {"id": report_id, "child": child, "by": actor.sub, "note": note}
        linked = report_record((await writes.rows(tx, LINK_REPORT, params))[0])
        return Outcome(linked, report_id, [report_id, child], region)

    return await writes.perform(
        graph,
        actor,
        "matchReport",
        inputs={"reportId": report_id, "childId": child, "note": note},
        work=work,
        replay=get_report_in,
        key=key,
        ids=[report_id, child],
    )
