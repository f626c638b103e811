"""Case follow-through through the API with each role's token: stage deadlines and overdue cases,
closing only with every referral answered, reopening, reassignment, transfer, assessment and plan."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from graph import followup
from graph.driver import Graph
from graph.followup import StageDeadlines
from graph.writes import Actor
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import (
    ADVANCE,
    CASE,
    COORDINATOR,
    COUNTY,
    DIRECTOR,
    OPEN,
    OTHER_WORKER,
    REFER,
    REPORT,
    RESPOND,
    TOWNSHIP,
    V1,
    WORKER,
    build,
    count,
    data,
    error,
    report_and_open,
    today,
)

ZONE = ZoneInfo("Asia/Shanghai")
OTHER_COUNTY = "360733000000"
CITY_COORDINATOR = {"role": "coordinator", "region": "360700000000", "sub": "K0"}

CASES = """
query($region: String!, $stage: String, $overdue: Boolean, $now: DateTime, $first: Int, $after: String) {
  cases(region: $region, stage: $stage, overdue: $overdue, now: $now, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id stage urgency dueAt overdue(now: $now) childId } }
  }
}"""
REOPEN = """
mutation($id: ID!, $reason: String!, $stage: String) {
  reopenCase(caseId: $id, reason: $reason, stage: $stage) { id stage history { stage by note } }
}"""
REASSIGN = """
mutation($id: ID!, $worker: ID!, $note: String!) {
  reassignCase(caseId: $id, workerId: $worker, note: $note) {
    id workerId changes { change by note fromWorkerId toWorkerId }
  }
}"""
TRANSFER = """
mutation($id: ID!, $county: String!, $note: String!, $worker: ID) {
  transferCase(caseId: $id, county: $county, note: $note, workerId: $worker) {
    id heldBy workerId changes { change fromCounty toCounty toWorkerId note }
  }
}"""
ASSESS = """
mutation($input: AssessmentInput!) {
  recordAssessment(input: $input) { id caseId needs summary assessedBy assessedOn recordedBy }
}"""
PLAN = """
mutation($input: CasePlanInput!) {
  setCasePlan(input: $input) { id version goals services reviewOn recordedBy }
}"""
FOLLOW = """
query($id: ID!) {
  case(id: $id) {
    stage dueAt
    assessments { needs assessedBy }
    plan { version goals }
    plans { version }
  }
}"""


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    await build(clean_graph)
    await factories.person(clean_graph, "W3", dt.date(1992, 1, 1), name="另一社工")
    await factories.staff(clean_graph, "W3", "case_worker", dt.date(2024, 1, 1), region=TOWNSHIP)
    await factories.region_tree(clean_graph, "360733100201")
    await factories.person(clean_graph, "W9", dt.date(1991, 1, 1), name="外县社工")
    await factories.staff(clean_graph, "W9", "case_worker", dt.date(2024, 1, 1), region=OTHER_COUNTY)
    return clean_graph


def _at(moment: dt.datetime) -> str:
    return moment.isoformat()


async def _cases(gql: GraphQLClient, who: dict[str, Any], **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = data(await gql.execute(CASES, {"region": COUNTY} | variables, **who))["cases"]
    return found


async def test_an_immediate_reports_case_is_overdue_24_hours_after_the_report(
    county: Graph, gql: GraphQLClient
) -> None:
    made = dt.datetime.now(ZONE).replace(microsecond=0) - dt.timedelta(hours=2)
    report = data(
        await gql.execute(
            REPORT,
            {
                "input": {
                    "childId": "C1",
                    "reporterRole": "teacher",
                    "category": "unsupervised",
                    "urgency": "immediate",
                    "description": "多日无人接送，放学后独自在家",
                    "at": _at(made),
                }
            },
            **DIRECTOR,
        )
    )["reportConcern"]
    case_id = data(await gql.execute(OPEN, {"input": {"childId": "C1", "reportId": report["id"]}}, **WORKER))[
        "openCase"
    ]["id"]

    before = await _cases(gql, COORDINATOR, now=_at(made + dt.timedelta(hours=23, minutes=59)))
    assert before["totalCount"] == 1
    (node,) = [e["node"] for e in before["edges"]]
    assert node["urgency"] == "immediate" and node["overdue"] is False
    assert dt.datetime.fromisoformat(node["dueAt"]) == made + dt.timedelta(hours=24)
    assert (await _cases(gql, COORDINATOR, overdue=True, now=_at(made + dt.timedelta(hours=23))))["totalCount"] == 0

    late = await _cases(gql, COORDINATOR, overdue=True, now=_at(made + dt.timedelta(hours=24, minutes=1)))
    assert [(e["node"]["id"], e["node"]["overdue"]) for e in late["edges"]] == [(case_id, True)]
    assert late["totalCount"] == 1
    # The worklist reads the same from the repository.
    coordinator = Actor("K1", "coordinator", "360732")
    work = await followup.overdue_work(
        county, coordinator, COUNTY, now=made + dt.timedelta(hours=25), rules=StageDeadlines(), zone="Asia/Shanghai"
    )
    assert [(record.id, due) for record, due in work.cases] == [(case_id, made + dt.timedelta(hours=24))]
    assert work.referrals == []
    # The case worker of the township sees it too; the next township's worker does not, nor by stage.
    assert (await _cases(gql, WORKER, overdue=True, now=_at(made + dt.timedelta(days=2))))["totalCount"] == 1
    assert (await _cases(gql, OTHER_WORKER, now=_at(made + dt.timedelta(days=2))))["totalCount"] == 0
    assert (await _cases(gql, COORDINATOR, stage="assessment"))["totalCount"] == 0
    assert error(await gql.execute(CASES, {"region": COUNTY}, **DIRECTOR))["code"] == "FORBIDDEN"
    assert error(await gql.execute(CASES, {"region": COUNTY, "stage": "done"}, **COORDINATOR))["field"] == "stage"

    # Emergency response given: the next stage has its own 72 hours, from now.
    data(await gql.execute(ADVANCE, {"id": case_id, "stage": "emergency_response"}, **WORKER))
    moved = await _cases(gql, COORDINATOR, now=_at(made + dt.timedelta(hours=25)))
    assert moved["edges"][0]["node"]["overdue"] is False
    due = dt.datetime.fromisoformat(moved["edges"][0]["node"]["dueAt"])
    assert dt.timedelta(hours=71) < due - dt.datetime.now(ZONE) <= dt.timedelta(hours=72)


async def test_a_case_list_pages_oldest_first_without_repeats(county: Graph, gql: GraphQLClient) -> None:
    for i in range(3):
        await factories.person(county, f"K{i}", dt.date(2016, 1, 1), household="H1")
        await factories.case(county, f"CASE{i}", f"K{i}", dt.date(2026, 1, 1 + i))
    first = await _cases(gql, COORDINATOR, first=2)
    assert [e["node"]["id"] for e in first["edges"]] == ["CASE0", "CASE1"]
    assert first["pageInfo"]["hasNextPage"] is True and first["totalCount"] == 3
    rest = await _cases(gql, COORDINATOR, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == ["CASE2"] and rest["pageInfo"]["hasNextPage"] is False
    # An imported case without a report is normal: a week at `reported`, from the day it opened.
    assert first["edges"][0]["node"]["urgency"] == "normal" and first["edges"][0]["node"]["overdue"] is True


async def test_a_case_with_an_open_referral_cannot_close_and_only_a_coordinator_reopens_it(
    county: Graph, gql: GraphQLClient
) -> None:
    _, case_id = await report_and_open(gql)
    referral = data(
        await gql.execute(
            REFER, {"input": {"caseId": case_id, "institutionId": "WS1", "service": "family_guidance"}}, **WORKER
        )
    )["referCase"]
    refused = await gql.execute(ADVANCE, {"id": case_id, "stage": "closed"}, **WORKER)
    assert error(refused)["code"] == "CONFLICT"
    assert referral["id"] in refused["errors"][0]["message"]
    assert data(await gql.execute(CASE, {"id": case_id}, **WORKER))["case"]["stage"] == "reported"

    data(await gql.execute(RESPOND, {"id": referral["id"], "decision": "withdraw", "note": "家长已返乡"}, **WORKER))
    data(await gql.execute(ADVANCE, {"id": case_id, "stage": "closed", "note": "结案"}, **WORKER))
    closed = await _cases(gql, COORDINATOR, stage="closed")
    assert closed["totalCount"] == 1 and closed["edges"][0]["node"]["dueAt"] is None

    reason: dict[str, object] = {"id": case_id, "reason": "孩子再次独自在家"}
    assert error(await gql.execute(REOPEN, reason, **WORKER))["code"] == "FORBIDDEN"
    assert error(await gql.execute(REOPEN, reason | {"reason": " "}, **COORDINATOR))["field"] == "reason"
    assert error(await gql.execute(REOPEN, reason | {"stage": "closed"}, **COORDINATOR))["field"] == "stage"
    reopened = data(await gql.execute(REOPEN, reason, **COORDINATOR))["reopenCase"]
    assert reopened["stage"] == "assessment"
    assert reopened["history"][-2:] == [
        {"stage": "closed", "by": "W1", "note": "结案"},
        {"stage": "assessment", "by": "K1", "note": "孩子再次独自在家"},
    ]
    assert error(await gql.execute(REOPEN, reason, **COORDINATOR))["code"] == "CONFLICT"
    # An absent case reads as one out of reach.
    assert error(await gql.execute(REOPEN, reason | {"id": "nope"}, **COORDINATOR))["code"] == "FORBIDDEN"
    outcomes = await county.read(
        "MATCH (e:AuditEvent {operation: 'reopenCase'}) RETURN e.outcome AS outcome ORDER BY outcome"
    )
    assert [row["outcome"] for row in outcomes] == [
        "BAD_USER_INPUT",
        "BAD_USER_INPUT",
        "CONFLICT",
        "FORBIDDEN",
        "FORBIDDEN",
        "ok",
    ]


async def test_reassignment_transfer_assessment_and_plan_keep_their_history(county: Graph, gql: GraphQLClient) -> None:
    _, case_id = await report_and_open(gql)
    move: dict[str, object] = {"id": case_id, "worker": "W3", "note": "W1 休假"}
    assert error(await gql.execute(REASSIGN, move, **DIRECTOR))["code"] == "FORBIDDEN"
    # A worker of another county and no one at all read the same.
    for stranger in ("W9", "nobody"):
        refused = error(await gql.execute(REASSIGN, move | {"worker": stranger}, **WORKER))
        assert (refused["code"], refused["field"]) == ("FORBIDDEN", "workerId")
    assert error(await gql.execute(REASSIGN, move | {"worker": "W1"}, **WORKER))["code"] == "CONFLICT"
    moved = data(await gql.execute(REASSIGN, move, **WORKER))["reassignCase"]
    assert moved["workerId"] == "W3"
    assert moved["changes"] == [
        {"change": "reassigned", "by": "W1", "note": "W1 休假", "fromWorkerId": "W1", "toWorkerId": "W3"}
    ]

    needs = {"caseId": case_id, "needs": ["safety", "daily_care"], "summary": "无人看护"}
    assert error(await gql.execute(ASSESS, {"input": needs | {"needs": ["wealth"]}}, **WORKER))["field"] == "needs"
    assessed = data(await gql.execute(ASSESS, {"input": needs}, **WORKER))["recordAssessment"]
    assert assessed["needs"] == ["safety", "daily_care"] and assessed["assessedBy"] == "W1"
    review = today() + dt.timedelta(days=30)
    plan = {"caseId": case_id, "goals": ["落实委托照护"], "services": ["family_guidance"], "reviewOn": str(review)}
    bad = plan | {"services": ["magic"]}
    assert error(await gql.execute(PLAN, {"input": bad}, **WORKER))["field"] == "services"
    past = plan | {"reviewOn": str(today() - dt.timedelta(days=1))}
    assert error(await gql.execute(PLAN, {"input": past}, **WORKER))["field"] == "reviewOn"
    assert data(await gql.execute(PLAN, {"input": plan}, **WORKER))["setCasePlan"]["version"] == 1
    second = data(await gql.execute(PLAN, {"input": plan | {"goals": ["落实委托照护", "每周联系父母"]}}, **WORKER))
    assert second["setCasePlan"]["version"] == 2
    for stage in ("assessment", "intervention"):
        data(await gql.execute(ADVANCE, {"id": case_id, "stage": stage}, **WORKER))
    followed = data(await gql.execute(FOLLOW, {"id": case_id}, **WORKER))["case"]
    assert followed["assessments"] == [{"needs": ["safety", "daily_care"], "assessedBy": "W1"}]
    assert followed["plan"] == {"version": 2, "goals": ["落实委托照护", "每周联系父母"]}
    assert followed["plans"] == [{"version": 2}, {"version": 1}]
    # At intervention with a plan, the case is due when the plan is to be reviewed.
    due = dt.datetime.fromisoformat(followed["dueAt"])
    assert due == dt.datetime.combine(review + dt.timedelta(days=1), dt.time(), ZONE)

    hand: dict[str, object] = {"id": case_id, "county": OTHER_COUNTY, "note": "随父母迁居", "worker": "W9"}
    assert error(await gql.execute(TRANSFER, hand, **WORKER))["code"] == "FORBIDDEN"
    assert error(await gql.execute(TRANSFER, hand, **COORDINATOR))["code"] == "FORBIDDEN"
    assert error(await gql.execute(TRANSFER, hand | {"county": V1}, **CITY_COORDINATOR))["field"] == "county"
    assert error(await gql.execute(TRANSFER, hand | {"worker": "W3"}, **CITY_COORDINATOR))["code"] == "FORBIDDEN"
    sent = data(await gql.execute(TRANSFER, hand, **CITY_COORDINATOR))["transferCase"]
    assert sent["heldBy"] == OTHER_COUNTY and sent["workerId"] == "W9"
    assert sent["changes"][-1] == {
        "change": "transferred",
        "fromCounty": COUNTY,
        "toCounty": OTHER_COUNTY,
        "toWorkerId": "W9",
        "note": "随父母迁居",
    }
    receiving = {"role": "coordinator", "region": OTHER_COUNTY, "sub": "K9"}
    listed = data(await gql.execute(CASES, {"region": OTHER_COUNTY}, **receiving))["cases"]
    assert [e["node"]["id"] for e in listed["edges"]] == [case_id]
    assert error(await gql.execute(TRANSFER, hand, **CITY_COORDINATOR))["code"] == "CONFLICT"
    assert await count(county, "MATCH (:Case)-[:HAD_CHANGE]->(x:CaseChange) RETURN count(x) AS n") == 2


WORKLIST = """
query { worklist(first: 50) { edges { node { child { id } level action steps { action level reason } } } } }"""


def _late_case_steps(body: dict[str, Any]) -> dict[str, list[str]]:
    items = data(body)["worklist"]["edges"]
    return {
        e["node"]["child"]["id"]: [s["reason"] for s in e["node"]["steps"] if s["action"] == "FOLLOW_UP_CASE"]
        for e in items
    }


async def test_a_late_case_is_red_work_in_the_worklists_of_its_scope(county: Graph, gql: GraphQLClient) -> None:
    made = dt.datetime.now(ZONE).replace(microsecond=0) - dt.timedelta(hours=30)
    report = data(
        await gql.execute(
            REPORT,
            {
                "input": {
                    "childId": "C1",
                    "reporterRole": "teacher",
                    "category": "unsupervised",
                    "urgency": "immediate",
                    "description": "放学后独自在家",
                    "at": _at(made),
                }
            },
            **DIRECTOR,
        )
    )["reportConcern"]
    case_id = data(await gql.execute(OPEN, {"input": {"childId": "C1", "reportId": report["id"]}}, **WORKER))[
        "openCase"
    ]["id"]

    for who in (WORKER, DIRECTOR, COORDINATOR):
        late = _late_case_steps(await gql.execute(WORKLIST, **who))
        assert len(late.get("C1", [])) == 1, who
        assert case_id in late["C1"][0] and "发现报告" in late["C1"][0]
    body = await gql.execute(WORKLIST, **WORKER)
    first = data(body)["worklist"]["edges"][0]["node"]
    assert first["child"]["id"] == "C1" and first["action"] == "FOLLOW_UP_CASE"
    assert "C1" not in _late_case_steps(await gql.execute(WORKLIST, **OTHER_WORKER))

    # Emergency response given: the new stage has time left, so the step is gone.
    data(await gql.execute(ADVANCE, {"id": case_id, "stage": "emergency_response"}, **WORKER))
    assert _late_case_steps(await gql.execute(WORKLIST, **WORKER)).get("C1", []) == []
