"""Keeping a child's file: visits, contacts, care and the other interval records, through the
API with the roles involved, and discovery seeing each write on its next evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import (
    ADVANCE,
    CONTACT,
    COORDINATOR,
    DIRECTOR,
    OPEN,
    OTHER_WORKER,
    REPORT,
    RESPOND,
    V2,
    VISIT,
    WORKER,
    build,
    count,
    data,
    error,
    staff_of,
    today,
)

INTERVAL = "kind id since until childId personId caregiverId guardianId agreementSignedOn recordedBy endedBy endNote"
RECORD_CARE = "mutation($input: CareInput!) { recordCare(input: $input) { " + INTERVAL + " } }"
END_CARE = (
    """
mutation($caregiver: ID!, $child: ID!, $since: Date!, $until: Date, $note: String) {
  endCare(caregiverId: $caregiver, childId: $child, since: $since, until: $until, note: $note) { """
    + INTERVAL
    + "} }"
)
SIGN = """
mutation($since: Date!) {
  signCareAgreement(caregiverId: "G1", childId: "C1", since: $since) { agreementSignedOn }
}"""
GUARDIAN = "mutation($input: GuardianInput!) { setGuardian(input: $input) { " + INTERVAL + " basis } }"
AWAY = "mutation($input: AwayInput!) { recordAway(input: $input) { " + INTERVAL + " destination } }"
END_AWAY = """
mutation($person: ID!, $since: Date!) { endAway(personId: $person, since: $since) { until endedBy } }"""
CONDITION = "mutation($input: ConditionInput!) { recordCondition(input: $input) { " + INTERVAL + " type } }"
REGISTER = "mutation($input: RegistrationInput!) { registerChild(input: $input) { " + INTERVAL + " category } }"
DEREGISTER = """
mutation($since: Date!) {
  deregisterChild(childId: "C1", category: "left_behind", since: $since) { until }
}"""
PAIR = "mutation($input: PairingInput!) { pairVolunteer(input: $input) { " + INTERVAL + " volunteerId } }"
UNPAIR = """
mutation($since: Date!) { unpairVolunteer(volunteerId: "W1", childId: "C1", since: $since) { until } }"""
ENROL = "mutation($input: EnrollmentInput!) { enrolChild(input: $input) { " + INTERVAL + " institutionId grade } }"
TIMELINE = "query($child: ID!) { timeline(childId: $child) { kind on at subjectId value detail actor note } }"
INBOX = """
query($status: String) {
  referralInbox(status: $status) { id status reason childName childAge childId caseId child { id } case { id } }
}"""
OVERDUE = "query($region: String!) { overdueReferrals(region: $region) { id dueOn status } }"
OVERDUE_AS_OF = """
query($region: String!, $asOf: Date) { overdueReferrals(region: $region, asOf: $asOf) { id status } }"""
CASELOAD = "{ myCaseload { id stage childId } }"
CARE_SINCE = dt.date(2024, 2, 20)


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    await build(clean_graph)
    return clean_graph


PROFILE = 'query { riskProfile(childId: "C1") { level findings { rule } } }'


async def _profile(gql: GraphQLClient) -> tuple[str, set[str]]:
    """C1's colour and rules on the next `riskProfile`: discovery reads the graph as it is now."""
    found = data(await gql.execute(PROFILE, {}, **WORKER))["riskProfile"]
    return found["level"].lower(), {finding["rule"] for finding in found["findings"]}


async def test_a_village_director_records_visits_and_contacts_and_the_childs_colour_changes(
    county: Graph, gql: GraphQLClient
) -> None:
    await factories.registration(county, "C1", "left_behind", dt.date(2024, 3, 1))
    await factories.person(county, "VOL", dt.date(1990, 5, 5), household="H1")
    await factories.pairing(county, "VOL", "C1", dt.date(2024, 3, 1))
    await factories.enrollment(county, "C1", "SCH", dt.date(2024, 9, 1))
    assert await _profile(gql) == ("yellow", {"CONTACT_LAPSE", "VISIT_OVERDUE", "NO_WRITTEN_AGREEMENT"})

    visit = data(
        await gql.execute(VISIT, {"input": {"childId": "C1", "type": "home_visit", "notes": "一切安好"}}, **DIRECTOR)
    )["recordVisit"]
    assert visit["visitorId"] == "D1" and visit["on"] == today().isoformat() and visit["recordedBy"] == "D1"
    assert await _profile(gql) == ("yellow", {"CONTACT_LAPSE", "NO_WRITTEN_AGREEMENT"})

    contact = data(
        await gql.execute(CONTACT, {"input": {"childId": "C1", "fromId": "F1", "channel": "video"}}, **DIRECTOR)
    )["recordContact"]
    assert contact["fromId"] == "F1" and contact["channel"] == "video"
    assert await _profile(gql) == ("blue", {"NO_WRITTEN_AGREEMENT"})

    signed = data(await gql.execute(SIGN, {"since": CARE_SINCE.isoformat()}, **WORKER))["signCareAgreement"]
    assert signed["agreementSignedOn"] == today().isoformat()
    assert await _profile(gql) == ("green", set())

    # An older visit is kept beside it.
    earlier = (today() - dt.timedelta(days=40)).isoformat()
    data(await gql.execute(VISIT, {"input": {"childId": "C1", "type": "home_visit", "on": earlier}}, **DIRECTOR))
    assert await count(county, "MATCH ()-[v:VISITED]->() RETURN count(v) AS n") == 2


async def test_two_visits_on_one_day_are_two_visits_and_only_a_retry_replays(county: Graph, gql: GraphQLClient) -> None:
    morning = {"childId": "C1", "type": "home_visit", "notes": "上午：奶奶在家", "clientMutationId": "v-1"}
    first = data(await gql.execute(VISIT, {"input": morning}, **DIRECTOR))["recordVisit"]
    # The retry of the same request (same clientMutationId) is the one replay: the first visit.
    assert data(await gql.execute(VISIT, {"input": morning}, **DIRECTOR))["recordVisit"] == first

    evening = morning | {"notes": "晚上：孩子独自在家", "clientMutationId": "v-2"}
    second = data(await gql.execute(VISIT, {"input": evening}, **DIRECTOR))["recordVisit"]
    assert second["id"] != first["id"] and second["notes"] == "晚上：孩子独自在家"
    assert second["on"] == first["on"] == today().isoformat()

    # The same visit again under a new key (or none) is neither stored twice nor answered with
    # the first as if new: the caller hears it is already kept.
    for retry in ({"clientMutationId": "v-3"}, {"clientMutationId": None}):
        again = await gql.execute(VISIT, {"input": morning | retry}, **DIRECTOR)
        assert error(again)["code"] == "CONFLICT"
    kept = "MATCH ()-[v:VISITED]->(:Person {id: 'C1'}) RETURN v.notes AS notes ORDER BY notes"
    assert [row["notes"] for row in await county.read(kept)] == ["上午：奶奶在家", "晚上：孩子独自在家"]
    outcomes = "MATCH (e:AuditEvent {operation: 'recordVisit'}) RETURN e.outcome AS outcome ORDER BY e.at"
    assert [row["outcome"] for row in await county.read(outcomes)] == ["ok", "replayed", "ok", "CONFLICT", "CONFLICT"]


async def test_visit_and_contact_input_follows_the_bundle_rules(county: Graph, gql: GraphQLClient) -> None:
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    refusals = [
        (VISIT, {"childId": "C1", "type": "home_visit", "on": tomorrow}, "on"),
        (VISIT, {"childId": "C1", "type": "house_call"}, "type"),
        (CONTACT, {"childId": "C1", "fromId": "F1", "channel": "pigeon"}, "channel"),
        # A caregiver is neither a parent nor a guardian: discovery would not count the contact.
        (CONTACT, {"childId": "C1", "fromId": "G1", "channel": "phone"}, "fromId"),
    ]
    for query, values, field in refusals:
        assert error(await gql.execute(query, {"input": values}, **DIRECTOR)) == {
            "code": "BAD_USER_INPUT",
            "field": field,
        }, values
    # A record named that does not exist reads as one outside the scope (no oracle over ids).
    for values, field in [
        ({"childId": "NOBODY", "type": "home_visit"}, "childId"),
        ({"childId": "C1", "type": "home_visit", "visitorId": "NOBODY"}, "visitorId"),
    ]:
        assert error(await gql.execute(VISIT, {"input": values}, **DIRECTOR)) == {"code": "FORBIDDEN", "field": field}
    assert await count(county, "MATCH ()-[e:VISITED|CONTACTED]->() RETURN count(e) AS n") == 0


async def test_an_answered_referral_leaves_the_overdue_findings_at_once(county: Graph, gql: GraphQLClient) -> None:
    await factories.case(county, "K", "C1", today() - dt.timedelta(days=10), stage="intervention", worker="W1")
    await factories.referral(
        county, "R1", "K", "WS1", "family_guidance", today() - dt.timedelta(days=10), today() - dt.timedelta(days=3)
    )
    assert "REFERRAL_OVERDUE" in (await _profile(gql))[1]
    data(await gql.execute(RESPOND, {"id": "R1", "decision": "decline", "note": "不在服务范围"}, **staff_of("WS1")))
    assert "REFERRAL_OVERDUE" not in (await _profile(gql))[1]


async def test_roles_and_scopes_that_may_not_write_are_refused_and_nothing_is_written(
    county: Graph, gql: GraphQLClient
) -> None:
    await factories.case(county, "K", "C1", today(), stage="assessment", worker="W1")
    await factories.referral(county, "R1", "K", "WS1", "family_guidance", today(), today())
    visit = {"input": {"childId": "C1", "type": "home_visit"}}
    report = {
        "input": {
            "childId": "C1",
            "reporterRole": "teacher",
            "category": "neglect",
            "urgency": "high",
            "description": "x",
        }
    }
    refusals: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        (VISIT, visit, {"role": "children_director", "region": V2, "sub": "D2"}),  # the next village's director
        (VISIT, visit, {"role": "auditor", "region": "360732000000"}),
        (VISIT, visit, staff_of("WS1")),
        (REPORT, report, {"role": "integrator", "region": "360732000000"}),
        (OPEN, {"input": {"childId": "C3"}}, DIRECTOR),
        (OPEN, {"input": {"childId": "C1"}}, OTHER_WORKER),
        (ADVANCE, {"id": "K", "stage": "intervention"}, OTHER_WORKER),
        (ADVANCE, {"id": "K", "stage": "intervention"}, staff_of("WS1")),
        (RESPOND, {"id": "R1", "decision": "accept"}, WORKER),  # accepting is the institution's
        (RESPOND, {"id": "R1", "decision": "withdraw"}, staff_of("WS1")),  # withdrawing the case worker's
        (RESPOND, {"id": "R1", "decision": "accept"}, staff_of("MPC")),  # not addressed to MPC
        (RESPOND, {"id": "R1", "decision": "withdraw"}, OTHER_WORKER),
        (REGISTER, {"input": {"childId": "C1", "category": "left_behind", "since": "2024-03-01"}}, WORKER),
        (CONDITION, {"input": {"personId": "G1", "type": "serious_illness", "since": "2025-01-01"}}, DIRECTOR),
    ]
    for query, variables, caller in refusals:
        assert error(await gql.execute(query, variables, **caller))["code"] == "FORBIDDEN", (query, caller)
    assert await count(county, "MATCH ()-[e:VISITED]->() RETURN count(e) AS n") == 0
    assert await count(county, "MATCH (r:Report) RETURN count(r) AS n") == 0
    assert await count(county, "MATCH (k:Case) RETURN count(k) AS n") == 1
    assert await count(county, "MATCH (k:Case {stage: 'assessment'}) RETURN count(k) AS n") == 1
    assert await count(county, "MATCH (f:Referral {status: 'pending'}) RETURN count(f) AS n") == 1
    assert await count(county, "MATCH (n:Registration|Condition) RETURN count(n) AS n") == 0
    # Each refusal is in the audit trail with its outcome.
    assert await count(county, "MATCH (e:AuditEvent {outcome: 'FORBIDDEN'}) RETURN count(e) AS n") == len(refusals)


async def test_care_and_the_other_interval_records_keep_their_history(county: Graph, gql: GraphQLClient) -> None:
    t = today()
    await factories.person(county, "A1", dt.date(1980, 4, 4), household="H1", name="姑姑")
    ended = data(
        await gql.execute(
            END_CARE,
            {
                "caregiver": "G1",
                "child": "C1",
                "since": CARE_SINCE.isoformat(),
                "until": t.isoformat(),
                "note": "奶奶住院",
            },
            **WORKER,
        )
    )["endCare"]
    assert (ended["until"], ended["endedBy"], ended["endNote"]) == (t.isoformat(), "W1", "奶奶住院")
    again = await gql.execute(END_CARE, {"caregiver": "G1", "child": "C1", "since": CARE_SINCE.isoformat()}, **WORKER)
    assert error(again)["code"] == "CONFLICT"
    unknown = await gql.execute(END_CARE, {"caregiver": "A1", "child": "C1", "since": "2020-01-01"}, **WORKER)
    assert error(unknown)["code"] == "NOT_FOUND"

    care = {
        "caregiverId": "A1",
        "childId": "C1",
        "since": t.isoformat(),
        "agreementSignedOn": t.isoformat(),
        "entrustedById": "F1",
    }
    made = data(await gql.execute(RECORD_CARE, {"input": care}, **WORKER))["recordCare"]
    assert (made["kind"], made["caregiverId"], made["recordedBy"], made["until"]) == ("care", "A1", "W1", None)
    assert data(await gql.execute(RECORD_CARE, {"input": care}, **WORKER))["recordCare"] == made
    assert (
        error(await gql.execute(RECORD_CARE, {"input": {**care, "agreementSignedOn": None}}, **WORKER))["code"]
        == "CONFLICT"
    )
    overlapping = {**care, "since": (t - dt.timedelta(days=5)).isoformat()}
    assert error(await gql.execute(RECORD_CARE, {"input": overlapping}, **WORKER))["code"] == "CONFLICT"
    bad = [
        ({**care, "caregiverId": "C1"}, "caregiverId"),  # nobody is their own caregiver
        ({**care, "until": (t - dt.timedelta(days=1)).isoformat()}, "until"),
    ]
    for values, field in bad:
        body = await gql.execute(RECORD_CARE, {"input": values}, **WORKER)
        assert error(body) == {"code": "BAD_USER_INPUT", "field": field}, values
    nobody = await gql.execute(RECORD_CARE, {"input": {**care, "entrustedById": "NOBODY"}}, **WORKER)
    assert error(nobody) == {"code": "FORBIDDEN", "field": "entrustedById"}
    assert await count(county, "MATCH ()-[k:CARES_FOR]->() RETURN count(k) AS n") == 2

    guardian = {"guardianId": "MPC", "childId": "C1", "since": t.isoformat(), "basis": "state"}
    assert data(await gql.execute(GUARDIAN, {"input": guardian}, **WORKER))["setGuardian"]["guardianId"] == "MPC"
    assert error(await gql.execute(GUARDIAN, {"input": {**guardian, "basis": "friend"}}, **WORKER)) == {
        "code": "BAD_USER_INPUT",
        "field": "basis",
    }

    # A director records a parent's return (an away episode is a person detail).
    assert (
        error(
            await gql.execute(
                AWAY, {"input": {"personId": "F1", "since": "2025-01-01", "destination": "深圳"}}, **DIRECTOR
            )
        )["code"]
        == "CONFLICT"
    )
    back = data(await gql.execute(END_AWAY, {"person": "F1", "since": "2024-02-20"}, **DIRECTOR))["endAway"]
    assert back == {"until": t.isoformat(), "endedBy": "D1"}

    condition = {"personId": "G1", "type": "serious_illness", "since": t.isoformat()}
    assert data(await gql.execute(CONDITION, {"input": condition}, **WORKER))["recordCondition"]["type"] == (
        "serious_illness"
    )
    registration = {"childId": "C1", "category": "left_behind", "since": "2024-03-01"}
    assert data(await gql.execute(REGISTER, {"input": registration}, **COORDINATOR))
    assert data(await gql.execute(DEREGISTER, {"since": "2024-03-01"}, **COORDINATOR))["deregisterChild"] == {
        "until": t.isoformat()
    }
    assert data(
        await gql.execute(PAIR, {"input": {"volunteerId": "W1", "childId": "C1", "since": "2025-01-01"}}, **WORKER)
    )
    assert data(await gql.execute(UNPAIR, {"since": "2025-01-01"}, **WORKER))["unpairVolunteer"]["until"]
    enrolled = data(
        await gql.execute(
            ENROL,
            {"input": {"childId": "C1", "institutionId": "SCH", "since": "2025-09-01", "grade": "四年级"}},
            **WORKER,
        )
    )
    assert enrolled["enrolChild"]["grade"] == "四年级"
    # Nothing was deleted: the ended records are all there, with their ends.
    assert (
        await count(county, "MATCH (:Person)-[:AWAY]->(a:AwayEpisode) WHERE a.until IS NOT NULL RETURN count(a) AS n")
        == 1
    )
    assert await count(county, "MATCH (r:Registration) WHERE r.until IS NOT NULL RETURN count(r) AS n") == 1

    events = data(await gql.execute(TIMELINE, {"child": "C1"}, **WORKER))["timeline"]
    kinds = [(event["kind"], event["subjectId"]) for event in events]
    for expected in [
        ("care_started", "G1"),
        ("care_ended", "G1"),
        ("care_started", "A1"),
        ("care_agreement_signed", "A1"),
        ("guardian_set", "MPC"),
        ("guardian_set", "F1"),
    ]:
        assert expected in kinds
    assert [event["on"] for event in events] == sorted(event["on"] for event in events)
    assert next(e for e in events if e["kind"] == "care_ended")["note"] == "奶奶住院"


async def test_the_timeline_holds_the_case_story_in_order(county: Graph, gql: GraphQLClient) -> None:
    from tests.schema.casework import REFER, report_and_open

    report_id, case_id = await report_and_open(gql)
    data(await gql.execute(ADVANCE, {"id": case_id, "stage": "assessment", "note": "评估"}, **WORKER))
    referral = data(
        await gql.execute(
            REFER, {"input": {"caseId": case_id, "institutionId": "WS1", "service": "family_guidance"}}, **WORKER
        )
    )
    referral_id = referral["referCase"]["id"]
    data(await gql.execute(RESPOND, {"id": referral_id, "decision": "accept"}, **staff_of("WS1")))
    data(await gql.execute(VISIT, {"input": {"childId": "C1", "type": "home_visit"}}, **DIRECTOR))
    # An alert raised by a sweep (graph.alerts stores it so), then acknowledged.
    await county.write(
        """
        MATCH (c:Person {id: 'C1'})
        CREATE (a:Alert {id: 'AL1', childId: 'C1', rule: 'VISIT_OVERDUE', level: 'yellow', status: 'acknowledged'})
               -[:RAISED_FOR]->(c)
        CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: 'open', level: 'yellow', at: datetime(), by: 'sweeper'})
        CREATE (a)-[:HAD_CHANGE]->(:AlertChange {status: 'acknowledged', level: 'yellow',
                                                 at: datetime() + duration('PT1S'), by: 'W1', note: '已知晓'})
        """
    )
    events = data(await gql.execute(TIMELINE, {"child": "C1"}, **WORKER))["timeline"]
    # Each write re-evaluates C1, so its own alerts are in the timeline too; the story follows AL1.
    story = [
        (e["kind"], e["subjectId"], e["value"])
        for e in events
        if e["at"] is not None and (e["kind"] != "alert" or e["subjectId"] == "AL1")
    ]
    assert story == [
        ("report", report_id, "neglect"),
        ("case_stage", case_id, "reported"),
        ("case_stage", case_id, "assessment"),
        ("referral_status", referral_id, "pending"),
        ("referral_status", referral_id, "accepted"),
        ("alert", "AL1", "open"),
        ("alert", "AL1", "acknowledged"),
    ]
    acknowledged = events[-1] if events[-1]["kind"] == "alert" else None
    assert acknowledged is not None
    assert (acknowledged["detail"], acknowledged["actor"], acknowledged["note"]) == (
        "VISIT_OVERDUE yellow",
        "W1",
        "已知晓",
    )
    assert ("visit", "D1", "home_visit") in [(e["kind"], e["subjectId"], e["value"]) for e in events]
    # Out of scope reads as nothing; a role that reads no files is refused.
    assert data(await gql.execute(TIMELINE, {"child": "C1"}, **OTHER_WORKER))["timeline"] == []
    assert error(await gql.execute(TIMELINE, {"child": "C1"}, **staff_of("WS1")))["code"] == "FORBIDDEN"


async def test_institution_inbox_overdue_referrals_and_caseload(county: Graph, gql: GraphQLClient) -> None:
    t = today()
    await factories.case(county, "K", "C1", t - dt.timedelta(days=9), stage="intervention", worker="W1")
    await factories.referral(
        county,
        "R1",
        "K",
        "WS1",
        "family_guidance",
        t - dt.timedelta(days=9),
        t - dt.timedelta(days=1),
        reason="家庭教育指导",
    )
    await factories.referral(
        county, "R2", "K", "WS1", "psychological_support", t, t + dt.timedelta(days=1), status="accepted"
    )
    await factories.referral(
        county, "R3", "K", "MPC", "emergency_shelter", t - dt.timedelta(days=9), t - dt.timedelta(days=2)
    )
    inbox = data(await gql.execute(INBOX, {}, **staff_of("WS1")))["referralInbox"]
    assert [item["id"] for item in inbox] == ["R1", "R2"]
    assert inbox[0] == {
        "id": "R1",
        "status": "pending",
        "reason": "家庭教育指导",
        "childName": "小红",
        "childAge": 10,
        "childId": None,
        "caseId": None,
        "child": None,
        "case": None,
    }
    assert [
        item["id"]
        for item in data(await gql.execute(INBOX, {"status": "accepted"}, **staff_of("WS1")))["referralInbox"]
    ] == ["R2"]
    assert error(await gql.execute(INBOX, {}, **DIRECTOR))["code"] == "FORBIDDEN"
    staff_read = await gql.execute('{ referral(id: "R3") { id } }', {}, **staff_of("WS1"))
    assert data(staff_read) == {"referral": None}

    overdue = data(await gql.execute(OVERDUE, {"region": "360732100000"}, **WORKER))["overdueReferrals"]
    assert [item["id"] for item in overdue] == ["R3", "R1"]
    assert data(await gql.execute(OVERDUE, {"region": "360732000000"}, **OTHER_WORKER))["overdueReferrals"] == []
    # As of an earlier day, a referral counts with the status it had then.
    await factories.referral(
        county,
        "R4",
        "K",
        "MPC",
        "emergency_shelter",
        t - dt.timedelta(days=9),
        t - dt.timedelta(days=5),
        status="completed",
    )
    zone = dt.timezone(dt.timedelta(hours=8))
    await factories.status_change(
        county, "R4", "pending", dt.datetime.combine(t - dt.timedelta(days=9), dt.time(9), zone)
    )
    await factories.status_change(county, "R4", "completed", dt.datetime.now(zone))
    then = await gql.execute(
        OVERDUE_AS_OF, {"region": "360732100000", "asOf": (t - dt.timedelta(days=1)).isoformat()}, **WORKER
    )
    assert [(item["id"], item["status"]) for item in data(then)["overdueReferrals"]] == [
        ("R4", "completed"),  # pending then, completed now
        ("R3", "pending"),
    ]  # R1 falls due that very day: not yet overdue
    assert error(await gql.execute(OVERDUE, {"region": "360732100000"}, **DIRECTOR))["code"] == "FORBIDDEN"

    assert data(await gql.execute(CASELOAD, {}, **WORKER))["myCaseload"] == [
        {"id": "K", "stage": "intervention", "childId": "C1"}
    ]
    assert data(await gql.execute(CASELOAD, {}, **OTHER_WORKER))["myCaseload"] == []
