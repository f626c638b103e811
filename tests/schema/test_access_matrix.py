"""The access matrix: every role x every query, mutation and subscription x a target in scope,
out of scope and absent, generated from the access table (`graph.access`) and run against one
shared graph built once.

What each cell expects follows from the table alone:

- a role the table refuses gets FORBIDDEN from the table itself, whatever the target;
- a query reads its target in scope, and answers out of scope exactly as for an absent one
  (null, empty, zero or NOT_FOUND), except for admins, whose scope is everything;
- a mutation passes the access checks on a target in scope (it succeeds, or meets a CONFLICT
  of state left by an earlier cell: conflicts are checked after access), and is FORBIDDEN on
  a target out of scope (admins pass) and on an absent one, with the same message for both.

A root field the schema gains without a row in the table, or without a probe here, fails
`test_every_root_field_has_a_row_and_a_probe`: the matrix cannot silently skip it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.websockets import WebSocket

from api.context import Context
from api.settings import Settings
from graph import access, alerts
from graph.callers import Caller, Role
from graph.discovery import Level
from graph.driver import Graph
from graph.errors import GraphError
from schema.alerts import AlertHub
from schema.schema import build_schema
from tests import factories
from tests.conftest import GraphQLClient, wipe

COUNTY = "360732000000"
TOWNSHIP = "360732100000"
V1 = "360732100201"
VX = "360733100201"  # another county: out of every scope but admin's
NO_VILLAGE = "360732100299"  # well formed, in the county's subtree, and absent
SUB = "W1"  # every token's subject: a worker living in V1, so "the caller" is in every scope

#: Each role's token: its region (or institution).
TOKENS: dict[Role, dict[str, str]] = {
    Role.CHILDREN_DIRECTOR: {"region": V1},
    Role.CHILDREN_SUPERVISOR: {"region": TOWNSHIP},
    Role.CASE_WORKER: {"region": TOWNSHIP},
    Role.COORDINATOR: {"region": COUNTY},
    Role.INSTITUTION_STAFF: {"institution": "SCH"},
    Role.INTEGRATOR: {"region": COUNTY},
    Role.AUDITOR: {"region": COUNTY},
    Role.ADMIN: {},
}

#: The records a probe names, by target. `out` lies in another county; `absent` exists nowhere.
TARGETS: dict[str, dict[str, str]] = {
    "in": {"child": "C1", "adult": "F1", "caregiver": "G1", "volunteer": SUB, "household": "H1",
           "institution": "SCH", "case": "K1", "referral": "RF1", "alert": "A1", "region": V1,
           "name": "张小一"},
    "out": {"child": "CX", "adult": "FX", "caregiver": "GX", "volunteer": "WX", "household": "HX",
            "institution": "IX", "case": "KX", "referral": "RFX", "alert": "AX", "region": VX,
            "name": "王外甥"},
    "absent": {"child": "C404", "adult": "F404", "caregiver": "G404", "volunteer": "W404", "household": "H404",
               "institution": "I404", "case": "K404", "referral": "RF404", "alert": "A404",
               "region": NO_VILLAGE, "name": "无此人"},
}  # fmt: skip
CARE_SINCE = dt.date(2024, 2, 20)
AWAY_SINCE = dt.date(2024, 2, 20)
LATER = "2026-01-05"  # a date every new interval record starts on
ENROLLED_SINCE = dt.date(2022, 9, 1)


@dataclass(frozen=True)
class Probe:
    """How to call one root field on a target: its document and the variables for a target."""

    document: str
    variables: Callable[[dict[str, str], Role], dict[str, Any]] = field(default=lambda t, r: {})
    targets: tuple[str, ...] = ("in", "out", "absent")
    #: for a query: whether its in-scope answer has something to see (False: only access is checked)
    visible: bool = True


def _input(**names: str) -> Callable[[dict[str, str], Role], dict[str, Any]]:
    """Variables `{"input": {...}}` whose values name targets (`child`) or are literals (`=text`)."""

    def variables(target: dict[str, str], _: Role) -> dict[str, Any]:
        return {"input": {k: v[1:] if v.startswith("=") else target[v] for k, v in names.items()}}

    return variables


def _vars(**names: str) -> Callable[[dict[str, str], Role], dict[str, Any]]:
    def variables(target: dict[str, str], role: Role) -> dict[str, Any]:
        found: dict[str, Any] = _input(**names)(target, role)["input"]
        return found

    return variables


def _decision(target: dict[str, str], role: Role) -> dict[str, Any]:
    answer = "accept" if access.allowed(role, "answerReferral") else "withdraw"
    return {"referral": target["referral"], "decision": answer}


def _bundle(target: dict[str, str], _: Role) -> dict[str, Any]:
    line = f'{{"kind": "household", "id": "{target["household"]}", "region": "{target["region"]}", "lowIncome": []}}'
    return {"ndjson": line}


INTERVAL = "{ kind since }"
PROBES: dict[str, Probe] = {
    # --- queries
    "me": Probe("{ me { sub role } }", targets=("in",)),
    "region": Probe("query($region: String!) { region(code: $region) { code } }", _vars(region="region")),
    "child": Probe("query($child: ID!) { child(id: $child) { id } }", _vars(child="child")),
    "person": Probe("query($adult: ID!) { person(id: $adult) { id } }", _vars(adult="adult")),
    "children": Probe("query($region: String!) { children(region: $region) { totalCount } }", _vars(region="region")),
    "searchPersons": Probe("query($name: String!) { searchPersons(name: $name) { id } }", _vars(name="name")),
    "duplicateCandidates": Probe(
        "query($region: String!) { duplicateCandidates(region: $region) { reasons } }", _vars(region="region")
    ),
    "household": Probe("query($household: ID!) { household(id: $household) { id } }", _vars(household="household")),
    "households": Probe(
        "query($region: String!) { households(region: $region) { totalCount } }", _vars(region="region")
    ),
    "institution": Probe(
        "query($institution: ID!) { institution(id: $institution) { id } }", _vars(institution="institution")
    ),
    "institutions": Probe(
        "query($region: String!) { institutions(region: $region) { totalCount } }", _vars(region="region")
    ),
    "timeline": Probe("query($child: ID!) { timeline(childId: $child) { kind } }", _vars(child="child")),
    "case": Probe("query($case: ID!) { case(id: $case) { id } }", _vars(case="case")),
    "cases": Probe("query($region: String!) { cases(region: $region) { totalCount } }", _vars(region="region")),
    "reports": Probe("query($region: String!) { reports(region: $region) { totalCount } }", _vars(region="region")),
    # No write in this world went over a capacity: only who may read the flags is checked here.
    "capacityOverrides": Probe(
        "query($region: String!) { capacityOverrides(region: $region) { kind } }", _vars(region="region"), visible=False
    ),
    "myCaseload": Probe("{ myCaseload { id } }", targets=("in",)),
    "guardianship": Probe(
        "query($child: ID!) { guardianship(childId: $child) { child { id } } }", _vars(child="child")
    ),
    "caregiverNetwork": Probe(
        "query($caregiver: ID!) { caregiverNetwork(personId: $caregiver) { children { child { id } } } }",
        _vars(caregiver="caregiver"),
    ),
    "pathBetween": Probe(
        "query($child: ID!, $adult: ID!) { pathBetween(a: $child, b: $adult) { length } }",
        _vars(child="child", adult="adult"),
    ),
    "discover": Probe(
        "query($region: String!) { discover(region: $region, minLevel: GREEN) { totalCount } }", _vars(region="region")
    ),
    "riskProfile": Probe("query($child: ID!) { riskProfile(childId: $child) { level } }", _vars(child="child")),
    "alerts": Probe("query($region: String!) { alerts(region: $region) { id } }", _vars(region="region")),
    "alertChanges": Probe(
        "query($region: String!) { alertChanges(region: $region) { sweepId } }", _vars(region="region")
    ),
    "worklist": Probe("{ worklist { totalCount } }", targets=("in",)),
    "visitCoverage": Probe(
        'query($region: String!) { visitCoverage(region: $region, month: "2026-01") { village } }',
        _vars(region="region"),
    ),
    "referral": Probe("query($referral: ID!) { referral(id: $referral) { id } }", _vars(referral="referral")),
    "referralInbox": Probe(
        "query($institution: ID!) { referralInbox(institutionId: $institution) { id } }",
        _vars(institution="institution"),
    ),
    "overdueReferrals": Probe(
        "query($region: String!) { overdueReferrals(region: $region) { id } }", _vars(region="region")
    ),
    "recommendInstitutions": Probe(
        'query($child: ID!) { recommendInstitutions(childId: $child, service: "education") { institutionId } }',
        _vars(child="child"),
    ),
    "recommendVolunteers": Probe(
        "query($child: ID!) { recommendVolunteers(childId: $child) { personId } }", _vars(child="child")
    ),
    "statistics": Probe("query($region: String!) { statistics(region: $region) { children } }", _vars(region="region")),
    "statisticsChildren": Probe(
        'query($region: String!) { statisticsChildren(region: $region, key: "children") { id } }',
        _vars(region="region"),
    ),
    "auditEvents": Probe("{ auditEvents { id } }", targets=("in",)),
    "exportBundle": Probe("query($region: String!) { exportBundle(region: $region) }", _vars(region="region")),
    # Import runs are bookkeeping of the whole database: only who may read them is checked here.
    "importRuns": Probe("{ importRuns { id } }", targets=("in",), visible=False),
    # --- subscriptions (driven through the schema's own subscribe, see `_subscribe`)
    "alertRaised": Probe(
        "subscription($region: String!) { alertRaised(region: $region) { id } }", _vars(region="region")
    ),
    # --- mutations
    "importBundle": Probe(
        "mutation($ndjson: String!) { importBundle(ndjson: $ndjson) { ok } }", _bundle, targets=("in", "out")
    ),
    "reportConcern": Probe(
        "mutation($input: ReportInput!) { reportConcern(input: $input) { id } }",
        _input(childId="child", reporterRole="=teacher", category="=neglect", urgency="=normal", description="=见"),
    ),
    "createHousehold": Probe(
        "mutation($input: HouseholdInput!) { createHousehold(input: $input) { id } }", _input(region="region")
    ),
    "correctHousehold": Probe(
        "mutation($id: ID!, $region: String!) { correctHousehold(id: $id, input: {region: $region}) { id } }",
        _vars(id="household", region="region"),
    ),
    "createPerson": Probe(
        'mutation($household: ID!) { createPerson(householdId: $household, input: {name: "新", gender: "F", '
        'birthDate: "2019-01-01"}) { id } }',
        _vars(household="household"),
    ),
    "correctPerson": Probe(
        'mutation($id: ID!) { correctPerson(id: $id, input: {name: "祖母", gender: "F", birthDate: "1955-01-01"}) '
        "{ id } }",
        _vars(id="caregiver"),
    ),
    "movePerson": Probe(
        "mutation($person: ID!, $household: ID!) { movePerson(personId: $person, householdId: $household) { id } }",
        _vars(person="caregiver", household="household"),
    ),
    "linkParent": Probe(
        'mutation($parent: ID!, $child: ID!) { linkParent(parentId: $parent, childId: $child, type: "biological") '
        "{ id } }",
        _vars(parent="adult", child="child"),
    ),
    "endParentLink": Probe(
        "mutation($parent: ID!, $child: ID!) { endParentLink(parentId: $parent, childId: $child) { id } }",
        _vars(parent="adult", child="child"),
    ),
    "recordVisit": Probe(
        "mutation($input: VisitInput!) { recordVisit(input: $input) { id } }",
        _input(childId="child", type="=home_visit", on="=2026-01-02"),
    ),
    "recordContact": Probe(
        "mutation($input: ContactInput!) { recordContact(input: $input) { id } }",
        _input(childId="child", fromId="adult", channel="=video", on="=2026-01-02"),
    ),
    "recordAway": Probe(
        "mutation($input: AwayInput!) { recordAway(input: $input) " + INTERVAL + " }",
        _input(personId="adult", since="=" + LATER, destination="=深圳"),
    ),
    "endAway": Probe(
        'mutation($adult: ID!) { endAway(personId: $adult, since: "' + AWAY_SINCE.isoformat() + '") { until } }',
        _vars(adult="adult"),
    ),
    "signCareAgreement": Probe(
        "mutation($caregiver: ID!, $child: ID!) { signCareAgreement(caregiverId: $caregiver, childId: $child, "
        'since: "' + CARE_SINCE.isoformat() + '") { agreementSignedOn } }',
        _vars(caregiver="caregiver", child="child"),
    ),
    "acknowledgeAlert": Probe(
        'mutation($alert: ID!) { acknowledgeAlert(alertId: $alert, note: "看过") { id } }', _vars(alert="alert")
    ),
    "reassignAlert": Probe(
        'mutation($alert: ID!, $owner: ID!) { reassignAlert(alertId: $alert, ownerId: $owner, note: "转交") { id } }',
        _vars(alert="alert", owner="volunteer"),
    ),
    "openCase": Probe("mutation($input: OpenCaseInput!) { openCase(input: $input) { id } }", _input(childId="child")),
    "advanceCase": Probe(
        'mutation($case: ID!) { advanceCase(caseId: $case, stage: "assessment") { id } }', _vars(case="case")
    ),
    "referCase": Probe(
        "mutation($input: ReferCaseInput!) { referCase(input: $input) { id } }",
        _input(caseId="case", institutionId="institution", service="=education"),
    ),
    "respondToReferral": Probe(
        "mutation($referral: ID!, $decision: String!) { respondToReferral(referralId: $referral, decision: $decision) "
        "{ id } }",
        _decision,
    ),
    "recordCare": Probe(
        "mutation($input: CareInput!) { recordCare(input: $input) " + INTERVAL + " }",
        _input(caregiverId="caregiver", childId="child", since="=" + LATER),
    ),
    "endCare": Probe(
        "mutation($caregiver: ID!, $child: ID!) { endCare(caregiverId: $caregiver, childId: $child, "
        'since: "' + CARE_SINCE.isoformat() + '") ' + INTERVAL + " }",
        _vars(caregiver="caregiver", child="child"),
    ),
    "setGuardian": Probe(
        "mutation($input: GuardianInput!) { setGuardian(input: $input) " + INTERVAL + " }",
        _input(guardianId="caregiver", childId="child", since="=" + LATER, basis="=relative"),
    ),
    "endGuardian": Probe(
        "mutation($adult: ID!, $child: ID!) { endGuardian(guardianId: $adult, childId: $child, "
        'since: "2016-01-01") ' + INTERVAL + " }",
        _vars(adult="adult", child="child"),
    ),
    "recordCondition": Probe(
        "mutation($input: ConditionInput!) { recordCondition(input: $input) " + INTERVAL + " }",
        _input(personId="adult", type="=serious_illness", since="=" + LATER),
    ),
    "endCondition": Probe(
        'mutation($adult: ID!) { endCondition(personId: $adult, type: "imprisoned", since: "2025-01-01") '
        + INTERVAL
        + " }",
        _vars(adult="adult"),
    ),
    "registerChild": Probe(
        "mutation($input: RegistrationInput!) { registerChild(input: $input) " + INTERVAL + " }",
        _input(childId="child", category="=in_difficulty", since="=" + LATER),
    ),
    "deregisterChild": Probe(
        'mutation($child: ID!) { deregisterChild(childId: $child, category: "left_behind", since: "2024-03-01") '
        + INTERVAL
        + " }",
        _vars(child="child"),
    ),
    "pairVolunteer": Probe(
        "mutation($input: PairingInput!) { pairVolunteer(input: $input) " + INTERVAL + " }",
        _input(volunteerId="volunteer", childId="child", since="=" + LATER),
    ),
    "unpairVolunteer": Probe(
        "mutation($volunteer: ID!, $child: ID!) { unpairVolunteer(volunteerId: $volunteer, childId: $child, "
        'since: "2025-01-01") ' + INTERVAL + " }",
        _vars(volunteer="volunteer", child="child"),
    ),
    "enrolChild": Probe(
        "mutation($input: EnrollmentInput!) { enrolChild(input: $input) " + INTERVAL + " }",
        _input(childId="child", institutionId="institution", since="=" + LATER),
    ),
    "endEnrollment": Probe(
        "mutation($child: ID!, $institution: ID!) { endEnrollment(childId: $child, institutionId: $institution, "
        'since: "' + ENROLLED_SINCE.isoformat() + '") ' + INTERVAL + " }",
        _vars(child="child", institution="institution"),
    ),
    "sweep": Probe(
        "mutation($region: String!) { sweep(region: $region) { id } }", _vars(region="region"), targets=("in", "out")
    ),
    "placeChild": Probe(
        "mutation($input: PlacementInput!) { placeChild(input: $input) { kind since } }",
        _input(childId="child", institutionId="institution", kind="=foster_care", since="=" + LATER),
    ),
    "endPlacement": Probe(
        "mutation($child: ID!, $institution: ID!) { endPlacement(childId: $child, institutionId: $institution, "
        'since: "' + LATER + '") { until } }',
        _vars(child="child", institution="institution"),
    ),
    "reassignCase": Probe(
        'mutation($case: ID!, $volunteer: ID!) { reassignCase(caseId: $case, workerId: $volunteer, note: "休假") '
        "{ id } }",
        _vars(case="case", volunteer="volunteer"),
    ),
    # To the county that holds the case already (a CONFLICT): a transfer must not carry a case
    # of one side into the other's reach for the cells that follow.
    "transferCase": Probe(
        'mutation($case: ID!, $county: String!) { transferCase(caseId: $case, county: $county, note: "迁居") { id } }',
        lambda t, _: {"case": t["case"], "county": COUNTY if t["region"] == V1 else "360733000000"},
    ),
    "reopenCase": Probe(
        'mutation($case: ID!) { reopenCase(caseId: $case, reason: "再次独自在家") { id } }', _vars(case="case")
    ),
    "recordAssessment": Probe(
        "mutation($input: AssessmentInput!) { recordAssessment(input: $input) { id } }",
        lambda t, _: {"input": {"caseId": t["case"], "needs": ["safety"]}},
    ),
    "setCasePlan": Probe(
        "mutation($input: CasePlanInput!) { setCasePlan(input: $input) { id } }",
        lambda t, _: {
            "input": {
                "caseId": t["case"],
                "goals": ["落实照护"],
                "services": ["family_guidance"],
                "reviewOn": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            }
        },
    ),
    # Whom a mandatory report names is never checked against a scope: the answer is a receipt.
    "fileMandatoryReport": Probe(
        "mutation($input: MandatoryReportInput!) { fileMandatoryReport(input: $input) { receiptId } }",
        _input(childName="name", birthDate="=2015-03-01", category="=neglect", urgency="=high", description="=见"),
        targets=("in",),
    ),
    "matchReport": Probe(
        "mutation($report: ID!, $child: ID!) { matchReport(reportId: $report, childId: $child) { id } }",
        lambda t, _: {"report": {V1: "R1", VX: "RX"}.get(t["region"], "R404"), "child": t["child"]},
    ),
}


async def _side(g: Graph, suffix: str, village: str) -> None:
    """One village's world: child C, parent F (away, guardian, imprisoned), grandmother G who
    cares for C, worker W (living there, serving the village) and a cadre, a school, a case with a
    report and an overdue referral, an open alert, a sweep, and a look-alike of C."""
    s = suffix
    institution = "SCH" if s == "1" else "IX"
    await factories.household(g, f"H{s}" if s == "1" else "HX", village)
    household = "H1" if s == "1" else "HX"
    child, adult, grandmother, worker = ("C1", "F1", "G1", SUB) if s == "1" else ("CX", "FX", "GX", "WX")
    name = TARGETS["in" if s == "1" else "out"]["name"]
    await factories.person(g, child, dt.date(2015, 3, 1), household=household, name=name,
                           id_number=f"36073{s}201503010027", phone="13912345678")  # fmt: skip
    await factories.person(g, f"{child}-twin", dt.date(2015, 3, 1), household=household, name=name)
    await factories.person(g, adult, dt.date(1985, 1, 1), household=household, gender="M")
    await factories.person(g, grandmother, dt.date(1955, 1, 1), household=household)
    await factories.person(g, worker, dt.date(1990, 1, 1), household=household)
    await factories.staff(g, worker, "children_director", dt.date(2020, 1, 1), region=village)
    await factories.person(g, f"{worker}-cadre", dt.date(1988, 1, 1), household=household)
    await factories.staff(g, f"{worker}-cadre", "children_supervisor", dt.date(2020, 1, 1), region=village)
    await factories.institution(g, institution, "school", village, services=["education"])
    await factories.parent(g, adult, child)
    await factories.guardian(g, adult, child, dt.date(2016, 1, 1))
    await factories.away(g, adult, AWAY_SINCE)
    await factories.condition(g, adult, "imprisoned", dt.date(2025, 1, 1))
    await factories.care(g, grandmother, child, CARE_SINCE)
    await factories.registration(g, child, "left_behind", dt.date(2024, 3, 1))
    await factories.pairing(g, worker, child, dt.date(2025, 1, 1))
    await factories.enrollment(g, child, institution, ENROLLED_SINCE)
    await factories.visit(g, worker, child, dt.date(2025, 12, 1))
    await factories.report(g, f"R{s}", child, dt.datetime(2025, 12, 20, 9, tzinfo=dt.UTC))
    case = "K1" if s == "1" else "KX"
    await factories.case(g, case, child, dt.date(2025, 12, 21), worker=worker, report=f"R{s}")
    referral = "RF1" if s == "1" else "RFX"
    await factories.referral(g, referral, case, institution, "education", dt.date(2026, 1, 1), dt.date(2026, 1, 8))
    alert = "A1" if s == "1" else "AX"
    await g.write(
        """
        MATCH (c:Person {id: $child})
        CREATE (:Alert {id: $alert, childId: $child, rule: 'CONTACT_LAPSE', level: 'yellow', rank: 2,
                        status: 'open', raisedOn: date('2026-01-01'), regionCode: c.regionCode,
                        updatedAt: datetime()})-[:RAISED_FOR]->(c)
        CREATE (:Sweep {id: 'S' + $alert, regionPrefix: $village, scopePrefix: '', asOf: date('2026-01-01'),
                        at: datetime(), by: 'test', raised: [$alert], escalated: [], lowered: [], resolved: []})
        CREATE (:AuditEvent {id: 'E' + $alert, at: datetime(), sub: 'x', role: 'admin', operation: 'seed',
                             ids: [$child], outcome: 'ok', scope: $village})
        """,
        {"child": child, "alert": alert, "village": village},
    )


@pytest.fixture(scope="module")
async def shared(graph: Graph) -> AsyncIterator[Graph]:
    await wipe(graph)
    await _side(graph, "1", V1)
    await _side(graph, "X", VX)
    yield graph
    await wipe(graph)


def _cells() -> list[Any]:
    order = [*sorted(access.operations(access.Kind.QUERY), key=list(access.RULES).index),
             *access.operations(access.Kind.SUBSCRIPTION),
             *sorted(access.operations(access.Kind.MUTATION), key=list(access.RULES).index)]  # fmt: skip
    return [
        pytest.param(operation, role, target, id=f"{operation}-{role.value}-{target}")
        for operation in order
        if operation in PROBES
        for role in access.COLUMNS
        for target in PROBES[operation].targets
    ]


CELLS = _cells()


def _seen(value: Any) -> bool:
    """Whether an answer shows something: a record, a non-empty list or string, a count above 0."""
    if value is None or value == "" or value == []:
        return False
    if isinstance(value, dict):
        if "totalCount" in value:
            return bool(value["totalCount"])
        if "sweepId" in value:
            return value["sweepId"] is not None
        if "children" in value:  # statistics: a count of the children it can see
            return bool(value["children"])
    return True


def _outcome(body: dict[str, Any], operation: str) -> tuple[str, str]:
    """(FORBIDDEN | NOT_FOUND | CONFLICT | ... | SEEN | EMPTY, message) of one root field's answer."""
    errors = body.get("errors") or []
    if errors:
        assert len(errors) == 1, errors
        return errors[0]["extensions"]["code"], errors[0]["message"]
    return ("SEEN" if _seen(body["data"][operation]) else "EMPTY"), ""


async def _subscribe(settings: Settings, graph: Graph, role: Role, region: str) -> tuple[str, str]:
    """Subscribe as `role`, publish a red alert in V1 and one in VX, and see what arrives."""
    app = Starlette()
    app.state.alert_hub = AlertHub()

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(_: Any) -> None:
        return None

    request = WebSocket({"type": "websocket", "app": app, "headers": [], "path": "/graphql"}, nothing, ignore)
    claims = TOKENS[role]
    caller = Caller(SUB, role, claims.get("region"), claims.get("institution"))
    context = Context(request=request, response=None, graph=graph, settings=settings, caller=caller)
    stream = await build_schema().subscribe(PROBES["alertRaised"].document, {"region": region}, context)
    if not isinstance(stream, AsyncGenerator):
        return _stream_error(stream.errors or [])
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)  # let the resolver reach the hub
    red = [
        alerts.Alert(f"live-{code}", "C", "R", Level.RED, "open", dt.date(2026, 1, 1), None, code, ())
        for code in (V1, VX)
    ]
    app.state.alert_hub.publish(red)
    try:
        result = await asyncio.wait_for(first, timeout=0.5)
    except TimeoutError:
        return "EMPTY", ""
    finally:
        await stream.aclose()
    if result.errors:
        return _stream_error(result.errors)
    return ("SEEN" if result.data and result.data["alertRaised"]["id"] == f"live-{region}" else "EMPTY"), ""


def _stream_error(errors: list[GraphQLError]) -> tuple[str, str]:
    assert len(errors) == 1, errors
    original = errors[0].original_error
    code = original.code if isinstance(original, GraphError) else (errors[0].extensions or {}).get("code", "?")
    return str(code), errors[0].message


def _expected(operation: str, role: Role, target: str) -> set[str]:
    rule = access.RULES[operation]
    if role not in rule.roles:
        return {"FORBIDDEN"}
    reaches = target == "in" or (target == "out" and role is Role.ADMIN)
    if rule.kind is access.Kind.MUTATION:
        return {"SEEN", "EMPTY", "CONFLICT"} if reaches else {"FORBIDDEN"}
    if not PROBES[operation].visible:
        return {"SEEN", "EMPTY"}
    return {"SEEN"} if reaches else {"EMPTY", "NOT_FOUND"}


#: Messages of refused mutations by (operation, role), to check that out of scope and absent read alike.
REFUSALS: dict[tuple[str, Role], dict[str, str]] = {}


@pytest.mark.parametrize(("operation", "role", "target"), CELLS)
async def test_the_access_matrix(
    shared: Graph, gql: GraphQLClient, settings: Settings, operation: str, role: Role, target: str
) -> None:
    probe = PROBES[operation]
    variables = probe.variables(TARGETS[target], role)
    if access.RULES[operation].kind is access.Kind.SUBSCRIPTION:
        outcome, message = await _subscribe(settings, shared, role, variables["region"])
    else:
        body = await gql.execute(probe.document, variables, role=role.value, sub=SUB, **TOKENS[role])
        outcome, message = _outcome(body, operation)
    assert outcome in _expected(operation, role, target), message
    if outcome == "FORBIDDEN" and not access.allowed(role, operation):
        assert message == f"the role {role.value} may not use {operation}"
    elif outcome == "FORBIDDEN":
        # Out of scope and absent: the same text, quoting no value of the record.
        REFUSALS.setdefault((operation, role), {})[target] = message
        assert len(set(REFUSALS[(operation, role)].values())) == 1, REFUSALS[(operation, role)]


def test_every_root_field_has_a_row_and_a_probe() -> None:
    schema = build_schema()._schema
    roots = {
        access.Kind.QUERY: schema.query_type,
        access.Kind.MUTATION: schema.mutation_type,
        access.Kind.SUBSCRIPTION: schema.subscription_type,
    }
    for kind, root in roots.items():
        fields = set(root.fields) if root is not None else set()
        assert fields == access.operations(kind), f"{kind}: give graph/access.py a row for each root field"
        assert fields <= set(PROBES), (
            f"{kind}: give tests/schema/test_access_matrix.py a probe for {fields - set(PROBES)}"
        )
    assert set(PROBES) <= set(access.RULES)
    assert len(CELLS) >= len(PROBES) * len(access.COLUMNS)


def test_respond_to_referral_is_the_union_of_its_decisions() -> None:
    union = access.RULES["answerReferral"].roles | access.RULES["withdrawReferral"].roles
    assert access.RULES["respondToReferral"].roles == union
