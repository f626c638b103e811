"""The findings of the access audit, each tried as the insider who found it would.

Every test here failed on the code before the access table and the write checks: a case
worker reached a person in the next township through a care link, references in writes went
unchecked, the error for an absent id differed from the one for an id elsewhere, a sweep ran
outside the scope, institution staff read the case side's notes, and look-ups by full ID
number were unaudited and unbounded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import (
    COORDINATOR,
    DIRECTOR,
    OPEN,
    REPORT,
    RESPOND,
    TOWNSHIP,
    V1,
    V3,
    VISIT,
    WORKER,
    build,
    count,
    data,
    error,
    report_and_open,
    staff_of,
)

CARE = "mutation($input: CareInput!) { recordCare(input: $input) { id } }"
CONDITION = "mutation($input: ConditionInput!) { recordCondition(input: $input) { id } }"
AWAY = "mutation($input: AwayInput!) { recordAway(input: $input) { id } }"
ADVANCE = 'mutation($id: ID!) { advanceCase(caseId: $id, stage: "closed") { id } }'
RECENT_VISITS = 'query { child(id: "C1") { recentVisits { by { id name inScope } } } }'
SWEEP = "mutation($region: String!) { sweep(region: $region) { id } }"
ALERT_CHANGES = "query($region: String!) { alertChanges(region: $region) { sweepId changes { childId } } }"
ACKNOWLEDGE = 'mutation { acknowledgeAlert(alertId: "A3", note: "看过") { id } }'
TIMELINE = 'query { timeline(childId: "C1") { kind actor } }'
SEARCH = "query($n: String!) { searchPersons(idNumber: $n) { id idNumber } }"
INBOX = "{ referralInbox { id history { status note } } }"


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    """The case-work county, plus N3, an adult of township 2 (out of W1's and D1's scope)."""
    await build(clean_graph)
    await factories.person(clean_graph, "N3", dt.date(1960, 1, 1), household="H3", name="邻乡人")
    return clean_graph


async def events(g: Graph, operation: str) -> list[dict[str, Any]]:
    rows = await g.read(
        "MATCH (e:AuditEvent {operation: $operation}) RETURN e.outcome AS outcome, e.scope AS scope, e.ids AS ids "
        "ORDER BY e.at",
        {"operation": operation},
    )
    return [row.data() for row in rows]


async def test_a_care_link_never_brings_a_person_of_the_next_township_into_reach(
    county: Graph, gql: GraphQLClient
) -> None:
    care = {"caregiverId": "N3", "childId": "C1", "since": "2025-01-01"}
    assert error(await gql.execute(CARE, {"input": care}, **WORKER)) == {"code": "FORBIDDEN", "field": "caregiverId"}
    # Even with the link in place (made by someone whose scope covers both), N3 stays out of reach.
    await factories.care(county, "N3", "C1", dt.date(2025, 1, 1))
    condition = {"personId": "N3", "type": "serious_illness", "since": "2025-06-01"}
    assert error(await gql.execute(CONDITION, {"input": condition}, **WORKER)) == {
        "code": "FORBIDDEN",
        "field": "personId",
    }
    away = {"personId": "N3", "since": "2025-06-01", "destination": "广州"}
    assert error(await gql.execute(AWAY, {"input": away}, **DIRECTOR))["code"] == "FORBIDDEN"
    assert await count(county, "MATCH (:Person {id: 'N3'})-[:HAS_CONDITION|AWAY]->(x) RETURN count(x) AS n") == 0
    # The refusals are filed under N3's village, so its auditors see who tried.
    assert [(e["outcome"], e["scope"]) for e in await events(county, "recordCondition")] == [("FORBIDDEN", V3)]


@pytest.mark.parametrize(
    ("query", "values", "field"),
    [
        (OPEN, {"childId": "C1", "workerId": "N3"}, "workerId"),
        (REPORT, {"reporterId": "C3"}, "reporterId"),
        (VISIT, {"childId": "C1", "type": "home_visit", "visitorId": "N3"}, "visitorId"),
    ],
)
async def test_the_people_a_write_names_must_be_in_scope(
    county: Graph, gql: GraphQLClient, query: str, values: dict[str, Any], field: str
) -> None:
    if query is REPORT:
        values = {"childId": "C1", "reporterRole": "neighbor", "category": "neglect", "urgency": "normal",
                  "description": "邻居说", **values}  # fmt: skip
    who = WORKER if query is OPEN else DIRECTOR
    assert error(await gql.execute(query, {"input": values}, **who)) == {"code": "FORBIDDEN", "field": field}


async def test_an_absent_id_and_an_id_elsewhere_read_the_same_and_no_name_leaks(
    county: Graph, gql: GraphQLClient
) -> None:
    elsewhere = await gql.execute(
        VISIT, {"input": {"childId": "C1", "type": "home_visit", "visitorId": "N3"}}, **DIRECTOR
    )
    absent = await gql.execute(
        VISIT, {"input": {"childId": "C1", "type": "home_visit", "visitorId": "P999"}}, **DIRECTOR
    )
    assert elsewhere["errors"][0]["message"] == absent["errors"][0]["message"]
    assert elsewhere["errors"][0]["extensions"] == absent["errors"][0]["extensions"]
    assert "N3" not in str(elsewhere) and "邻乡人" not in str(data(await gql.execute(RECENT_VISITS, **DIRECTOR)))
    _, case_id = await report_and_open(gql)
    for case in (case_id, "no-such-case"):
        other = await gql.execute(ADVANCE, {"id": case}, role="case_worker", region="360732101000", sub="W2")
        assert error(other) == {"code": "FORBIDDEN", "field": "caseId"}


async def test_visits_and_reports_before_the_childs_birth_are_refused(county: Graph, gql: GraphQLClient) -> None:
    born = (await county.read("MATCH (c:Person {id: 'C1'}) RETURN c.birthDate AS b"))[0]["b"].to_native()
    before = (born - dt.timedelta(days=1)).isoformat()
    visit = {"childId": "C1", "type": "home_visit", "on": before}
    assert error(await gql.execute(VISIT, {"input": visit}, **DIRECTOR)) == {"code": "BAD_USER_INPUT", "field": "on"}
    report = {"childId": "C1", "reporterRole": "teacher", "category": "neglect", "urgency": "normal",
              "description": "早", "at": f"{before}T09:00:00+08:00"}  # fmt: skip
    assert error(await gql.execute(REPORT, {"input": report}, **DIRECTOR)) == {"code": "BAD_USER_INPUT", "field": "at"}


async def test_a_sweep_outside_the_scope_is_refused_audited_and_plants_nothing(
    county: Graph, gql: GraphQLClient
) -> None:
    township_coordinator = {"role": "coordinator", "region": TOWNSHIP, "sub": "K2"}
    assert error(await gql.execute(SWEEP, {"region": V3}, **township_coordinator))["code"] == "FORBIDDEN"
    assert await count(county, "MATCH (s:Sweep) RETURN count(s) AS n") == 0
    assert [(e["outcome"], e["scope"]) for e in await events(county, "sweep")] == [("FORBIDDEN", V3)]
    data(await gql.execute(SWEEP, {"region": V3}, **COORDINATOR))
    assert data(await gql.execute(ALERT_CHANGES, {"region": V3}, **township_coordinator))["alertChanges"] == {
        "sweepId": None,
        "changes": [],
    }
    assert data(await gql.execute(ALERT_CHANGES, {"region": V3}, **COORDINATOR))["alertChanges"]["sweepId"]


async def test_acknowledging_an_alert_elsewhere_is_refused_and_audited(county: Graph, gql: GraphQLClient) -> None:
    await county.write(
        "MATCH (c:Person {id: 'C3'}) CREATE (:Alert {id: 'A3', childId: 'C3', rule: 'R', level: 'RED', rank: 3, "
        "status: 'open', raisedOn: date(), regionCode: c.regionCode})-[:RAISED_FOR]->(c)"
    )
    elsewhere = await gql.execute(ACKNOWLEDGE, **DIRECTOR)
    assert error(elsewhere) == {"code": "FORBIDDEN", "field": "alertId"}
    assert error(await gql.execute(ACKNOWLEDGE, role="integrator", region=V3)) == {"code": "FORBIDDEN"}
    assert [(e["outcome"], e["scope"]) for e in await events(county, "acknowledgeAlert")] == [("FORBIDDEN", V3)] * 2


async def test_institution_staff_never_read_the_case_sides_notes(county: Graph, gql: GraphQLClient) -> None:
    _, case_id = await report_and_open(gql)
    refer = "mutation($input: ReferCaseInput!) { referCase(input: $input) { id } }"
    made = {"caseId": case_id, "institutionId": "WS1", "service": "family_guidance", "note": "母亲有精神病史"}
    referral = data(await gql.execute(refer, {"input": made}, **WORKER))["referCase"]["id"]
    data(await gql.execute(RESPOND, {"id": referral, "decision": "accept", "note": "已接"}, **staff_of("WS1")))
    inbox = data(await gql.execute(INBOX, **staff_of("WS1")))["referralInbox"]
    assert inbox == [{"id": referral, "history": [{"status": "pending", "note": None},
                                                 {"status": "accepted", "note": "已接"}]}]  # fmt: skip
    worker_view = data(await gql.execute("query($id: ID!) { referral(id: $id) { history { note } } }",
                                         {"id": referral}, **WORKER))  # fmt: skip
    assert [h["note"] for h in worker_view["referral"]["history"]] == ["母亲有精神病史", "已接"]


async def test_the_reporter_is_hidden_below_case_worker(county: Graph, gql: GraphQLClient) -> None:
    report = {"childId": "C1", "reporterId": "G1", "reporterRole": "neighbor", "category": "neglect",
              "urgency": "normal", "description": "奶奶说"}  # fmt: skip
    filed = data(
        await gql.execute(REPORT.replace("recordedBy", "recordedBy reporterId"), {"input": report}, **DIRECTOR)
    )
    assert (filed["reportConcern"]["reporterId"], filed["reportConcern"]["recordedBy"]) == (None, None)
    seen = {role: [e["actor"] for e in data(await gql.execute(TIMELINE, **who))["timeline"] if e["kind"] == "report"]
            for role, who in (("director", DIRECTOR), ("worker", WORKER))}  # fmt: skip
    assert seen == {"director": [None], "worker": ["G1"]}


async def test_full_record_reads_are_filed_under_the_childs_village(county: Graph, gql: GraphQLClient) -> None:
    data(await gql.execute(TIMELINE, **COORDINATOR))
    data(await gql.execute('query { riskProfile(childId: "C1") { level } }', **COORDINATOR))
    assert [(e["scope"], e["ids"]) for e in await events(county, "timeline")] == [(V1, ["C1"])]
    assert [(e["scope"], e["ids"]) for e in await events(county, "riskProfile")] == [(V1, ["C1"])]


async def test_a_replay_never_answers_another_callers_request(county: Graph, gql: GraphQLClient) -> None:
    visit = {"childId": "C1", "type": "home_visit", "notes": "家访", "clientMutationId": "k-1"}
    first = data(await gql.execute(VISIT, {"input": visit}, **DIRECTOR))["recordVisit"]
    assert data(await gql.execute(VISIT, {"input": visit}, **DIRECTOR))["recordVisit"] == first
    # The same subject with a token for another village: its key is not the first one's.
    moved = {**DIRECTOR, "region": V3}
    assert error(await gql.execute(VISIT, {"input": visit}, **moved)) == {"code": "FORBIDDEN", "field": "childId"}
    outcomes = [e["outcome"] for e in await events(county, "recordVisit")]
    assert outcomes == ["ok", "replayed", "FORBIDDEN"]


async def test_look_ups_by_id_number_are_audited_one_a_request_and_rate_limited(
    county: Graph, gql: GraphQLClient
) -> None:
    number = "36073220150301002X"
    await county.write("MATCH (c:Person {id: 'C1'}) SET c.idNumber = $n", {"n": number})
    found = data(await gql.execute(SEARCH, {"n": number}, **DIRECTOR))["searchPersons"]
    assert found == [{"id": "C1", "idNumber": "360732***********X"}]
    [event] = await events(county, "lookup:idNumber")
    assert (event["ids"], event["scope"], event["outcome"]) == (["C1"], V1, "ok")
    assert number not in str(await county.read("MATCH (e:AuditEvent) RETURN collect(properties(e)) AS all"))
    # Ten answered look-ups a minute, misses included; the next is refused and audited.
    for candidate in range(9):
        data(await gql.execute(SEARCH, {"n": f"3607322015030100{candidate}1"}, **DIRECTOR))
    over = await gql.execute(SEARCH, {"n": number}, **DIRECTOR)
    assert over["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED", over
    assert number not in str(over)
    outcomes = [e["outcome"] for e in await events(county, "lookup:idNumber")]
    assert outcomes.count("ok") == 10 and outcomes.count("LIMIT_EXCEEDED") == 1
    # Candidates as aliases of one request (another subject, with its own allowance): one is
    # answered, the other refused.
    aliased = "query { a: searchPersons(idNumber: \"360732201503010011\") { id } " + \
              "b: searchPersons(idNumber: \"36073220150301002X\") { id } }"  # fmt: skip
    body = await gql.execute(aliased, **{**DIRECTOR, "sub": "D2"})
    assert [e["message"] for e in body["errors"]] == ["idNumber: one look-up by ID number per request"]
    assert body["data"] is None


async def test_institution_staff_file_a_report_about_their_own_pupil_only(county: Graph, gql: GraphQLClient) -> None:
    await factories.enrollment(county, "C1", "SCH", dt.date(2022, 9, 1))
    report = {"reporterRole": "teacher", "category": "injury", "urgency": "high", "description": "手臂有伤"}
    school = staff_of("SCH", "T1")
    receipt = data(await gql.execute(REPORT, {"input": {**report, "childId": "C1"}}, **school))["reportConcern"]
    assert receipt["childId"] == "C1" and receipt["recordedBy"] is None
    assert error(await gql.execute(REPORT, {"input": {**report, "childId": "C3"}}, **school)) == {
        "code": "FORBIDDEN",
        "field": "childId",
    }
