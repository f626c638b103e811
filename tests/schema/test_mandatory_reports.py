"""Mandatory reports (强制报告) through the API: a school files about a child it names and learns
nothing but a receipt; the county's intake and case workers see it, the director does not see
who filed it, and an unmatched report waits for intake to match it by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from graph.driver import Graph
from tests import factories
from tests.conftest import GraphQLClient
from tests.schema.casework import COORDINATOR, COUNTY, DIRECTOR, TOWNSHIP, V1, WORKER, build, data, error, staff_of

FILE = """
mutation($input: MandatoryReportInput!) {
  fileMandatoryReport(input: $input) { receiptId receivedAt }
}"""
REPORTS = """
query($region: String!, $matched: Boolean) {
  reports(region: $region, matched: $matched) {
    totalCount
    edges { node {
      id childId mandatory reporterRole urgency reporterId recordedBy institutionId intakeRegion
      named { name birthDate idNumber }
    } }
  }
}"""
MATCH = """
mutation($report: ID!, $child: ID!) {
  matchReport(reportId: $report, childId: $child, note: "核实为同一人") { id childId matchedBy }
}"""
TIMELINE = 'query { timeline(childId: "C1") { kind subjectId actor } }'
PROFILE = 'query { riskProfile(childId: "C1") { findings { rule level } } }'
EXPORT = "query($region: String!) { exportBundle(region: $region) }"
ID_NUMBER = "360732201503010027"
SCHOOL = staff_of("SCH", "T1")


@pytest.fixture
async def county(clean_graph: Graph) -> Graph:
    await build(clean_graph)
    await factories.person(clean_graph, "T1", dt.date(1988, 8, 8), household="H1", name="班主任")
    await factories.staff(clean_graph, "T1", "institution_staff", dt.date(2020, 9, 1), institution="SCH")
    await factories.person(clean_graph, "C7", dt.date(2015, 3, 1), household="H3", name="刘七", id_number=ID_NUMBER)
    return clean_graph


async def _child_birth(g: Graph, child: str) -> str:
    rows = await g.read("MATCH (c:Person {id: $id}) RETURN toString(c.birthDate) AS born", {"id": child})
    return str(rows[0]["born"])


def _report(**named: Any) -> dict[str, Any]:
    made = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) - dt.timedelta(days=2)
    return {
        "input": {
            "category": "unsupervised",
            "urgency": "immediate",
            "description": "多日无人接送，放学后独自在家",
            "at": made.isoformat(),
            **named,
        }
    }


async def test_a_school_files_a_report_and_learns_only_that_it_was_received(county: Graph, gql: GraphQLClient) -> None:
    born = await _child_birth(county, "C1")
    matched = data(await gql.execute(FILE, _report(childName="小红", birthDate=born), **SCHOOL))
    nobody = data(await gql.execute(FILE, _report(childName="小刚", birthDate="2014-02-02"), **SCHOOL))
    by_number = data(await gql.execute(FILE, _report(idNumber=ID_NUMBER), **SCHOOL))
    # The three answers have the same shape whether or not the child is on file, or where.
    for answer in (matched, nobody, by_number):
        receipt = answer["fileMandatoryReport"]
        assert set(receipt) == {"receiptId", "receivedAt"} and receipt["receiptId"]

    assert error(await gql.execute(FILE, _report(), **SCHOOL))["field"] == "childName"
    assert error(await gql.execute(FILE, _report(childName="小红"), **SCHOOL))["field"] == "birthDate"
    assert error(await gql.execute(FILE, _report(idNumber="36073220150301002X"), **SCHOOL))["field"] == "idNumber"
    assert error(await gql.execute(FILE, _report(childName="小红", birthDate=born), **DIRECTOR))["code"] == "FORBIDDEN"

    # The township's case worker sees the report about C1, and who filed it.
    seen = data(await gql.execute(REPORTS, {"region": TOWNSHIP}, **WORKER))["reports"]
    (node,) = [e["node"] for e in seen["edges"]]
    assert node | {"id": None} == {
        "id": None,
        "childId": "C1",
        "mandatory": True,
        "reporterRole": "teacher",
        "urgency": "immediate",
        "reporterId": "T1",
        "recordedBy": "T1",
        "institutionId": "SCH",
        "intakeRegion": COUNTY,
        "named": {"name": "小红", "birthDate": born, "idNumber": None},
    }
    assert node["id"] == matched["fileMandatoryReport"]["receiptId"]
    # It reaches the child's discovery: an immediate report with no case after a day is red.
    profile = data(await gql.execute(PROFILE, {}, **WORKER))["riskProfile"]
    assert {"rule": "REPORT_UNHANDLED", "level": "RED"} in profile["findings"]
    # The director sees the report in the child's file, never who filed it.
    events = data(await gql.execute(TIMELINE, {}, **DIRECTOR))["timeline"]
    assert {"kind": "report", "subjectId": node["id"], "actor": None} in events
    seen_by_worker = data(await gql.execute(TIMELINE, {}, **WORKER))["timeline"]
    assert {"kind": "report", "subjectId": node["id"], "actor": "T1"} in seen_by_worker
    assert error(await gql.execute(REPORTS, {"region": V1}, **DIRECTOR))["code"] == "FORBIDDEN"

    # The county's intake holds the one that matched nobody, as it was named.
    waiting = data(await gql.execute(REPORTS, {"region": COUNTY, "matched": False}, **COORDINATOR))["reports"]
    assert [e["node"]["named"] for e in waiting["edges"]] == [
        {"name": "小刚", "birthDate": "2014-02-02", "idNumber": None}
    ]
    assert [e["node"]["childId"] for e in waiting["edges"]] == [None]
    everything = data(await gql.execute(REPORTS, {"region": COUNTY}, **COORDINATOR))["reports"]
    assert everything["totalCount"] == 3
    number = [e["node"] for e in everything["edges"] if e["node"]["childId"] == "C7"]
    assert [n["named"]["idNumber"] for n in number] == [ID_NUMBER]

    report_id = nobody["fileMandatoryReport"]["receiptId"]
    # The township's worker reaches no county intake: that report reads as absent.
    assert error(await gql.execute(MATCH, {"report": report_id, "child": "C1"}, **WORKER))["code"] == "FORBIDDEN"
    linked = data(await gql.execute(MATCH, {"report": report_id, "child": "C1"}, **COORDINATOR))["matchReport"]
    assert linked == {"id": report_id, "childId": "C1", "matchedBy": "K1"}
    assert error(await gql.execute(MATCH, {"report": report_id, "child": "C1"}, **COORDINATOR))["code"] == "CONFLICT"
    assert (
        data(await gql.execute(REPORTS, {"region": COUNTY, "matched": False}, **COORDINATOR))["reports"]["totalCount"]
        == 0
    )

    outcomes = await county.read(
        "MATCH (e:AuditEvent {operation: 'fileMandatoryReport'}) RETURN e.outcome AS outcome, e.scope AS scope"
    )
    assert sorted(row["outcome"] for row in outcomes) == ["BAD_USER_INPUT"] * 3 + ["FORBIDDEN"] + ["ok"] * 3


async def test_an_integrators_export_leaves_out_who_filed_a_report(county: Graph, gql: GraphQLClient) -> None:
    born = await _child_birth(county, "C1")
    data(await gql.execute(FILE, _report(childName="小红", birthDate=born), **SCHOOL))
    data(await gql.execute(FILE, _report(childName="小刚", birthDate="2014-02-02"), **SCHOOL))

    def report_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
        lines = [orjson.loads(line) for line in data(body)["exportBundle"].splitlines()]
        return [line for line in lines if line["kind"] == "report"]

    integrator = {"role": "integrator", "region": V1, "sub": "I-1"}
    exported = report_lines(await gql.execute(EXPORT, {"region": V1}, **integrator))
    # Only the matched report is a line (the format has no report without a child), without its reporter.
    assert [(line["child"], "reporter" in line) for line in exported] == [("C1", False)]
    assert [line["reporter"] for line in report_lines(await gql.execute(EXPORT, {"region": V1}))] == ["T1"]
