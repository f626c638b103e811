"""A small county for the case-work tests, the operations they send, and helpers to send them.

Township 1 (360732100) has villages V1 and V2; township 2 (360732101) has V3. Child C1 lives
in V1 with grandmother G1 caring for her (no written agreement); her parents F1 and M1 are
away for work, so she is left-behind. W1 is a case worker of township 1, D1 the children's
director of V1. Institutions: WS1, the township-1 workstation (psychological support, family
guidance; capacity 5); MPC, the county protection centre (shelter, temporary guardianship,
psychological support); SCH, the village school.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient

V1 = "360732100201"
V2 = "360732100202"
V3 = "360732101201"
TOWNSHIP = "360732100000"
TOWNSHIP2 = "360732101000"
COUNTY = "360732000000"

WORKER = {"role": "case_worker", "region": TOWNSHIP, "sub": "W1"}
OTHER_WORKER = {"role": "case_worker", "region": TOWNSHIP2, "sub": "W2"}
DIRECTOR = {"role": "children_director", "region": V1, "sub": "D1"}
COORDINATOR = {"role": "coordinator", "region": COUNTY, "sub": "K1"}


def today() -> dt.date:
    """The server's today (Asia/Shanghai unless configured), as the app computes it."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def staff_of(institution: str, sub: str = "S1") -> dict[str, Any]:
    return {"role": "institution_staff", "institution": institution, "sub": sub}


async def build(g: Graph) -> None:
    day = today()
    await factories.household(g, "H1", V1)
    await factories.household(g, "H2", V2)
    await factories.household(g, "H3", V3)
    await factories.person(
        g, "C1", day.replace(year=day.year - 10) - dt.timedelta(days=40), household="H1", name="小红"
    )
    await factories.person(g, "F1", dt.date(1985, 1, 1), household="H1", gender="M", name="父亲")
    await factories.person(g, "M1", dt.date(1987, 1, 1), household="H1", name="母亲")
    await factories.person(g, "G1", dt.date(1958, 1, 1), household="H1", name="奶奶")
    await factories.person(g, "C3", dt.date(2015, 1, 1), household="H3", name="小明")
    await factories.person(g, "W1", dt.date(1990, 1, 1), name="社工")
    await factories.person(g, "D1", dt.date(1980, 1, 1), household="H1", name="儿童主任")
    for parent in ("F1", "M1"):
        await factories.parent(g, parent, "C1")
        await factories.away(g, parent, dt.date(2024, 2, 20))
        await factories.guardian(g, parent, "C1", dt.date(2016, 1, 1))
    await factories.care(g, "G1", "C1", dt.date(2024, 2, 20))
    await factories.institution(
        g,
        "WS1",
        "minor_protection_workstation",
        TOWNSHIP,
        services=["psychological_support", "family_guidance"],
        capacity=5,
    )
    await factories.institution(
        g,
        "MPC",
        "minor_protection_center",
        COUNTY,
        services=["emergency_shelter", "temporary_guardianship", "psychological_support"],
    )
    await factories.institution(g, "SCH", "school", V1, services=["education"])


REPORT = """
mutation($input: ReportInput!) {
  reportConcern(input: $input) { id childId reporterRole category urgency description recordedBy }
}"""
OPEN = """
mutation($input: OpenCaseInput!) {
  openCase(input: $input) { id childId stage workerId reportId openedOn history { stage by note } }
}"""
ADVANCE = """
mutation($id: ID!, $stage: String!, $note: String, $key: String) {
  advanceCase(caseId: $id, stage: $stage, note: $note, clientMutationId: $key) {
    id stage history { stage by note }
  }
}"""
REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { id caseId institutionId service on dueOn status reason history { status by note } }
}"""
RESPOND = """
mutation($id: ID!, $decision: String!, $note: String) {
  respondToReferral(referralId: $id, decision: $decision, note: $note) {
    id status history { status by note }
  }
}"""
VISIT = """
mutation($input: VisitInput!) {
  recordVisit(input: $input) { id visitorId childId on type notes recordedBy }
}"""
CONTACT = """
mutation($input: ContactInput!) {
  recordContact(input: $input) { id fromId childId on channel recordedBy }
}"""
CASE = """
query($id: ID!) {
  case(id: $id) {
    id stage workerId history { stage by note }
    child { id name }
    referrals { id status institutionId history { status by note } }
  }
}"""


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body["errors"]
    return body["data"]


def error(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a refused operation; its data (non-null result) is null."""
    assert body.get("data") is None, body
    errors = body["errors"]
    assert len(errors) == 1, errors
    extensions: dict[str, Any] = errors[0]["extensions"]
    return extensions


async def report_and_open(gql: GraphQLClient, child: str = "C1", urgency: str = "high") -> tuple[str, str]:
    """A report by the director, then a case opened from it by W1; (report id, case id)."""
    report = data(
        await gql.execute(
            REPORT,
            {
                "input": {
                    "childId": child,
                    "reporterRole": "teacher",
                    "category": "neglect",
                    "urgency": urgency,
                    "description": "孩子常独自在家",
                }
            },
            **DIRECTOR,
        )
    )["reportConcern"]
    case = data(await gql.execute(OPEN, {"input": {"childId": child, "reportId": report["id"]}}, **WORKER))
    return report["id"], case["openCase"]["id"]


async def count(g: Graph, query: str, **params: Any) -> int:
    rows = await g.read(query, params)
    return int(rows[0]["n"])
