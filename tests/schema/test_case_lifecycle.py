"""A case from report to closure through the API, every transition the lifecycle forbids, the race
of two workers, and retries with an idempotency key."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import (
    ADVANCE,
    CASE,
    COORDINATOR,
    OPEN,
    REFER,
    REPORT,
    RESPOND,
    WORKER,
    build,
    count,
    data,
    error,
    report_and_open,
    staff_of,
    today,
)


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    await build(clean_graph)
    return clean_graph


async def test_a_report_becomes_a_case_that_goes_through_every_stage_two_referrals_and_closure(
    county: Graph, gql: GraphQLClient
) -> None:
    report_id, case_id = await report_and_open(gql, urgency="high")
    opened = data(await gql.execute(CASE, {"id": case_id}, **WORKER))["case"]
    assert opened["stage"] == "reported" and opened["workerId"] == "W1"
    assert opened["child"] == {"id": "C1", "name": "小红"}

    for stage in ("emergency_response", "assessment", "intervention"):
        moved = data(await gql.execute(ADVANCE, {"id": case_id, "stage": stage, "note": f"to {stage}"}, **WORKER))
        assert moved["advanceCase"]["stage"] == stage

    # The report was urgent (high): the due date defaults to three days after the referral.
    first = data(
        await gql.execute(
            REFER,
            {
                "input": {
                    "caseId": case_id,
                    "institutionId": "WS1",
                    "service": "psychological_support",
                    "reason": "情绪低落",
                }
            },
            **WORKER,
        )
    )["referCase"]
    assert first["status"] == "pending" and first["caseId"] == case_id
    assert dt.date.fromisoformat(first["dueOn"]) - dt.date.fromisoformat(first["on"]) == dt.timedelta(days=3)
    second = data(
        await gql.execute(
            REFER,
            {
                "input": {
                    "caseId": case_id,
                    "institutionId": "MPC",
                    "service": "temporary_guardianship",
                    "urgency": "immediate",
                }
            },
            **WORKER,
        )
    )["referCase"]
    assert dt.date.fromisoformat(second["dueOn"]) == today() + dt.timedelta(days=1)

    declined = data(
        await gql.execute(
            RESPOND, {"id": first["id"], "decision": "decline", "note": "满员"}, **staff_of("WS1", "S-WS1")
        )
    )["respondToReferral"]
    assert declined["status"] == "declined"
    mpc = staff_of("MPC", "S-MPC")
    assert data(await gql.execute(RESPOND, {"id": second["id"], "decision": "accept"}, **mpc))
    completed = data(await gql.execute(RESPOND, {"id": second["id"], "decision": "complete", "note": "已安置"}, **mpc))
    assert completed["respondToReferral"]["history"] == [
        {"status": "pending", "by": "W1", "note": None},
        {"status": "accepted", "by": "S-MPC", "note": None},
        {"status": "completed", "by": "S-MPC", "note": "已安置"},
    ]

    closed = data(await gql.execute(ADVANCE, {"id": case_id, "stage": "closed", "note": "结案"}, **WORKER))
    assert closed["advanceCase"]["stage"] == "closed"

    final = data(await gql.execute(CASE, {"id": case_id}, **COORDINATOR))["case"]
    assert final["history"] == [
        {"stage": "reported", "by": "W1", "note": None},
        {"stage": "emergency_response", "by": "W1", "note": "to emergency_response"},
        {"stage": "assessment", "by": "W1", "note": "to assessment"},
        {"stage": "intervention", "by": "W1", "note": "to intervention"},
        {"stage": "closed", "by": "W1", "note": "结案"},
    ]
    answered = {r["institutionId"]: r for r in final["referrals"]}
    assert {k: r["status"] for k, r in answered.items()} == {"WS1": "declined", "MPC": "completed"}
    assert answered["WS1"]["history"][-1] == {"status": "declined", "by": "S-WS1", "note": "满员"}

    # Every write committed with its audit event.
    operations = await county.read(
        "MATCH (e:AuditEvent {outcome: 'ok'}) RETURN e.operation AS operation, count(*) AS n ORDER BY operation"
    )
    counted = {row["operation"]: row["n"] for row in operations}
    assert {
        k: counted.get(k) for k in ("reportConcern", "openCase", "advanceCase", "referCase", "respondToReferral")
    } == {"reportConcern": 1, "openCase": 1, "advanceCase": 4, "referCase": 2, "respondToReferral": 3}
    assert report_id


async def _state(g: Graph, case_id: str) -> tuple[str, int]:
    rows = await g.read(
        "MATCH (k:Case {id: $id}) RETURN k.stage AS stage, COUNT { (k)-[:HAD_STAGE]->() } AS changes", {"id": case_id}
    )
    return rows[0]["stage"], rows[0]["changes"]


async def test_every_forbidden_stage_move_is_a_conflict_and_changes_nothing(county: Graph, gql: GraphQLClient) -> None:
    _, case_id = await report_and_open(gql)
    forbidden = {
        "reported": ["reported", "intervention"],
        "emergency_response": ["reported", "emergency_response", "intervention"],
        "assessment": ["reported", "emergency_response", "assessment"],
        "intervention": ["reported", "emergency_response", "assessment", "intervention"],
        "closed": ["reported", "emergency_response", "assessment", "intervention", "closed"],
    }
    path = ["emergency_response", "assessment", "intervention", "closed"]
    for stage, targets in forbidden.items():
        before = await _state(county, case_id)
        assert before[0] == stage
        for target in targets:
            body = await gql.execute(ADVANCE, {"id": case_id, "stage": target}, **WORKER)
            assert error(body)["code"] == "CONFLICT", (stage, target)
            assert await _state(county, case_id) == before
        if path:
            data(await gql.execute(ADVANCE, {"id": case_id, "stage": path.pop(0)}, **WORKER))
    assert error(await gql.execute(ADVANCE, {"id": case_id, "stage": "done"}, **WORKER)) == {
        "code": "BAD_USER_INPUT",
        "field": "stage",
    }
    assert error(await gql.execute(ADVANCE, {"id": "nope", "stage": "closed"}, **WORKER)) == {
        "code": "FORBIDDEN",
        "field": "caseId",
    }
    # A closed case takes no referral.
    refused = await gql.execute(
        REFER, {"input": {"caseId": case_id, "institutionId": "WS1", "service": "family_guidance"}}, **WORKER
    )
    assert error(refused)["code"] == "CONFLICT"


async def test_emergency_response_may_be_skipped_and_any_stage_may_close(county: Graph, gql: GraphQLClient) -> None:
    _, case_id = await report_and_open(gql)
    assert data(await gql.execute(ADVANCE, {"id": case_id, "stage": "assessment"}, **WORKER))
    assert data(await gql.execute(ADVANCE, {"id": case_id, "stage": "closed"}, **WORKER))
    # With the first case closed, the child may have a new one, which may close at once.
    again = data(await gql.execute(OPEN, {"input": {"childId": "C1"}}, **WORKER))["openCase"]
    assert data(await gql.execute(ADVANCE, {"id": again["id"], "stage": "closed"}, **WORKER))
    # A second open case for one child is a duplicate.
    data(await gql.execute(OPEN, {"input": {"childId": "C1"}}, **WORKER))
    assert error(await gql.execute(OPEN, {"input": {"childId": "C1"}}, **WORKER))["code"] == "CONFLICT"


async def _referral(g: Graph, status: str, n: int) -> str:
    await factories.referral(g, f"R{n}", "K", "WS1", "family_guidance", today(), today(), status=status)
    return f"R{n}"


async def test_every_forbidden_referral_answer_is_a_conflict_and_changes_nothing(
    county: Graph, gql: GraphQLClient
) -> None:
    await factories.case(county, "K", "C1", today(), stage="intervention", worker="W1")
    staff = staff_of("WS1")
    allowed = {
        "pending": {"accept", "decline", "withdraw"},
        "accepted": {"complete", "withdraw"},
        "declined": set(),
        "completed": set(),
        "withdrawn": set(),
    }
    n = 0
    for status, ok in allowed.items():
        for decision in ("accept", "decline", "complete", "withdraw"):
            n += 1
            referral = await _referral(county, status, n)
            caller = WORKER if decision == "withdraw" else staff
            body = await gql.execute(RESPOND, {"id": referral, "decision": decision}, **caller)
            rows = await county.read(
                "MATCH (f:Referral {id: $id}) RETURN f.status AS status, COUNT { (f)-[:HAD_STATUS]->() } AS n",
                {"id": referral},
            )
            if decision in ok:
                assert data(body)["respondToReferral"]["status"] == rows[0]["status"] != status
                assert rows[0]["n"] == 1
            else:
                assert error(body)["code"] == "CONFLICT", (status, decision)
                assert (rows[0]["status"], rows[0]["n"]) == (status, 0)
    body = await gql.execute(RESPOND, {"id": "R1", "decision": "approve"}, **staff)
    assert error(body) == {"code": "BAD_USER_INPUT", "field": "decision"}


async def test_a_referral_goes_only_to_an_institution_offering_the_service(county: Graph, gql: GraphQLClient) -> None:
    _, case_id = await report_and_open(gql)
    body = await gql.execute(
        REFER, {"input": {"caseId": case_id, "institutionId": "SCH", "service": "psychological_support"}}, **WORKER
    )
    assert error(body) == {"code": "BAD_USER_INPUT", "field": "service"}
    body = await gql.execute(
        REFER, {"input": {"caseId": case_id, "institutionId": "WS1", "service": "massage"}}, **WORKER
    )
    assert error(body) == {"code": "BAD_USER_INPUT", "field": "service"}
    body = await gql.execute(
        REFER, {"input": {"caseId": case_id, "institutionId": "NOPE", "service": "medical"}}, **WORKER
    )
    assert error(body) == {"code": "FORBIDDEN", "field": "institutionId"}
    body = await gql.execute(
        REFER,
        {
            "input": {
                "caseId": case_id,
                "institutionId": "WS1",
                "service": "family_guidance",
                "on": today().isoformat(),
                "dueOn": (today() - dt.timedelta(days=1)).isoformat(),
            }
        },
        **WORKER,
    )
    assert error(body) == {"code": "BAD_USER_INPUT", "field": "dueOn"}
    assert await count(county, "MATCH (f:Referral) RETURN count(f) AS n") == 0
    # Without a report urgency or an explicit one, the due date is a week after the referral.
    await factories.case(county, "K2", "C3", today(), worker="W1")
    made = data(
        await gql.execute(
            REFER, {"input": {"caseId": "K2", "institutionId": "MPC", "service": "emergency_shelter"}}, **COORDINATOR
        )
    )
    assert dt.date.fromisoformat(made["referCase"]["dueOn"]) == today() + dt.timedelta(days=7)


async def test_an_institution_at_capacity_takes_no_more_referrals(county: Graph, gql: GraphQLClient) -> None:
    await factories.institution(county, "TINY", "ngo", "360732100000", services=["family_guidance"], capacity=1)
    await factories.case(county, "K1", "C1", today(), worker="W1")
    await factories.case(county, "K3", "C3", today(), worker="W1")
    refer = {"institutionId": "TINY", "service": "family_guidance"}
    first = data(await gql.execute(REFER, {"input": {**refer, "caseId": "K1"}}, **COORDINATOR))["referCase"]
    assert error(await gql.execute(REFER, {"input": {**refer, "caseId": "K3"}}, **COORDINATOR))["code"] == "CONFLICT"
    # Declined, the place is free again.
    data(await gql.execute(RESPOND, {"id": first["id"], "decision": "decline"}, **staff_of("TINY")))
    assert data(await gql.execute(REFER, {"input": {**refer, "caseId": "K3"}}, **COORDINATOR))


RACE_ROUNDS = 8


async def test_two_workers_advancing_one_case_at_once_exactly_one_wins(county: Graph, gql: GraphQLClient) -> None:
    other = {**WORKER, "sub": "W9"}
    for round_ in range(RACE_ROUNDS):
        await factories.case(county, f"RACE{round_}", "C1", today(), stage="reported", worker="W1")
        bodies = await asyncio.gather(
            gql.execute(ADVANCE, {"id": f"RACE{round_}", "stage": "emergency_response"}, **WORKER),
            gql.execute(ADVANCE, {"id": f"RACE{round_}", "stage": "emergency_response"}, **other),
        )
        outcomes = sorted("ok" if "errors" not in body else body["errors"][0]["extensions"]["code"] for body in bodies)
        assert outcomes == ["CONFLICT", "ok"], bodies
        assert await _state(county, f"RACE{round_}") == ("emergency_response", 1)
        data(await gql.execute(ADVANCE, {"id": f"RACE{round_}", "stage": "closed"}, **WORKER))


async def test_two_answers_to_one_referral_at_once_exactly_one_wins(county: Graph, gql: GraphQLClient) -> None:
    await factories.case(county, "K", "C1", today(), stage="intervention", worker="W1")
    staff, colleague = staff_of("WS1", "S1"), staff_of("WS1", "S2")
    for round_ in range(RACE_ROUNDS):
        referral = await _referral(county, "pending", round_)
        bodies = await asyncio.gather(
            gql.execute(RESPOND, {"id": referral, "decision": "accept"}, **staff),
            gql.execute(RESPOND, {"id": referral, "decision": "decline"}, **colleague),
        )
        winners = [body["data"]["respondToReferral"]["status"] for body in bodies if "errors" not in body]
        losers = [body["errors"][0]["extensions"]["code"] for body in bodies if "errors" in body]
        assert len(winners) == 1 and losers == ["CONFLICT"], bodies
        rows = await county.read(
            "MATCH (f:Referral {id: $id}) RETURN f.status AS status, COUNT { (f)-[:HAD_STATUS]->() } AS n",
            {"id": referral},
        )
        assert (rows[0]["status"], rows[0]["n"]) == (winners[0], 1)


async def test_two_workers_opening_a_case_for_one_child_at_once_open_one(county: Graph, gql: GraphQLClient) -> None:
    for _ in range(RACE_ROUNDS // 2):
        bodies = await asyncio.gather(
            gql.execute(OPEN, {"input": {"childId": "C1"}}, **WORKER),
            gql.execute(OPEN, {"input": {"childId": "C1"}}, **{**WORKER, "sub": "W9"}),
        )
        outcomes = sorted("ok" if "errors" not in body else body["errors"][0]["extensions"]["code"] for body in bodies)
        assert outcomes == ["CONFLICT", "ok"], bodies
        assert await count(county, "MATCH (k:Case) WHERE k.stage <> 'closed' RETURN count(k) AS n") == 1
        opened = next(body for body in bodies if "errors" not in body)["data"]["openCase"]["id"]
        data(await gql.execute(ADVANCE, {"id": opened, "stage": "closed"}, **WORKER))
    assert await count(county, "MATCH (k:Case) RETURN count(k) AS n") == RACE_ROUNDS // 2


async def _post(client: Any, settings: Any, query: str, variables: dict[str, Any], key: str, **who: Any) -> Any:
    from tests.conftest import make_token

    token = make_token(settings, who.pop("role"), **who)
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    return response.json()


async def test_a_retried_mutation_returns_its_first_result_and_writes_nothing_again(
    county: Graph, gql: GraphQLClient, client: Any, settings: Any
) -> None:
    report = {
        "childId": "C1",
        "reporterRole": "neighbor",
        "category": "unsupervised",
        "urgency": "normal",
        "description": "夜里独自在家",
        "clientMutationId": "retry-1",
    }
    first = data(await gql.execute(REPORT, {"input": report}, **WORKER))["reportConcern"]
    again = data(await gql.execute(REPORT, {"input": report}, **WORKER))["reportConcern"]
    assert first == again
    assert await count(county, "MATCH (r:Report) RETURN count(r) AS n") == 1
    # The same key for a different request is refused, and writes nothing.
    changed = {**report, "urgency": "high"}
    assert error(await gql.execute(REPORT, {"input": changed}, **WORKER))["code"] == "CONFLICT"
    # Another caller's key is their own.
    assert data(await gql.execute(REPORT, {"input": report}, **{**WORKER, "sub": "W7"}))
    assert await count(county, "MATCH (r:Report) RETURN count(r) AS n") == 2

    # The header works as well, and two retries racing each other still write once.
    opened = await asyncio.gather(
        *(_post(client, settings, OPEN, {"input": {"childId": "C1"}}, "open-1", **WORKER) for _ in range(3))
    )
    assert len({data(body)["openCase"]["id"] for body in opened}) == 1
    assert await count(county, "MATCH (k:Case) RETURN count(k) AS n") == 1
    case_id = data(opened[0])["openCase"]["id"]

    # A retried move answers with the case instead of a conflict, and moves it once.
    moves = [
        await gql.execute(ADVANCE, {"id": case_id, "stage": "assessment", "key": "move-1"}, **WORKER) for _ in range(2)
    ]
    assert data(moves[0]) == data(moves[1])
    assert await _state(county, case_id) == ("assessment", 2)
    assert await count(county, "MATCH (k:IdempotencyKey) RETURN count(k) AS n") == 4
