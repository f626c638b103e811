"""`GET /reports/statistics`: the console's download is the `statistics` query's numbers as the
file `shouhu report` writes, for the roles the access table grants `statistics`, in their scope."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import load_workbook

from api.report import LEVEL_NAMES
from api.settings import Settings
from graph.driver import Graph
from tests.conftest import SAMPLE_AS_OF, SAMPLE_COUNTY, GraphQLClient, make_token

TOWNSHIP = "522622100000"
STATISTICS = "query($region: String!, $asOf: Date) { statistics(region: $region, asOf: $asOf) { children byLevel { level count } } }"  # noqa: E501
LEVELS = {name.upper(): label for name, label in LEVEL_NAMES.items()}


async def _download(
    client: httpx.AsyncClient, settings: Settings, role: str, scope: str, **params: str
) -> httpx.Response:
    """The download by a caller of `role` whose token's region is `scope` (and, unless told, of it)."""
    token = make_token(settings, role, region=scope)
    query = {"region": scope, "asOf": SAMPLE_AS_OF.isoformat(), **params}
    return await client.get("/reports/statistics", params=query, headers={"Authorization": f"Bearer {token}"})


def _sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's tables by sheet name: a name line, the rows, an empty line."""
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = None
        elif current is None:
            current = tables.setdefault(row[0], [])
        else:
            current.append(row)
    return tables


async def _levels(gql: GraphQLClient, role: str, region: str) -> tuple[int, dict[str, int]]:
    body = await gql.execute(STATISTICS, {"region": region, "asOf": SAMPLE_AS_OF.isoformat()}, role=role, region=region)
    figures: dict[str, Any] = body["data"]["statistics"]
    return figures["children"], {LEVELS[f["level"]]: f["count"] for f in figures["byLevel"]}


async def test_a_coordinator_downloads_the_countys_statistics_as_csv_with_the_querys_numbers(
    sample_county: Graph, client: httpx.AsyncClient, settings: Settings, gql: GraphQLClient
) -> None:
    response = await _download(client, settings, "coordinator", SAMPLE_COUNTY, format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    disposition = f'attachment; filename="statistics-{SAMPLE_COUNTY}-{SAMPLE_AS_OF.isoformat()}.csv"'
    assert response.headers["content-disposition"] == disposition
    assert response.content.startswith("\ufeff".encode())  # spreadsheet programs read it as UTF-8
    tables = _sections(response.content.decode("utf-8-sig"))
    children, levels = await _levels(gql, "coordinator", SAMPLE_COUNTY)
    assert children > 20
    overview = {row[0]: row[1] for row in tables["概况"][1:]}
    assert overview["地区代码"] == SAMPLE_COUNTY and overview["统计日期"] == SAMPLE_AS_OF.isoformat()
    assert int(overview["儿童总数"]) == children
    assert {row[0]: int(row[1]) for row in tables["按风险等级"][1:]} == levels


async def test_the_workbook_is_the_same_report_and_a_supervisor_counts_only_her_township(
    sample_county: Graph, client: httpx.AsyncClient, settings: Settings, gql: GraphQLClient
) -> None:
    response = await _download(client, settings, "children_supervisor", TOWNSHIP)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    children, levels = await _levels(gql, "children_supervisor", TOWNSHIP)
    county_children, _ = await _levels(gql, "coordinator", SAMPLE_COUNTY)
    assert overview["儿童总数"] == children and 0 < children < county_children
    assert {row[0]: row[1] for row in book["按风险等级"].iter_rows(min_row=2, values_only=True)} == levels
    # Asking for the county counts only what lies in her scope: the township again.
    wider = await _download(client, settings, "children_supervisor", TOWNSHIP, region=SAMPLE_COUNTY, format="csv")
    wider_overview = {row[0]: row[1] for row in _sections(wider.content.decode("utf-8-sig"))["概况"][1:]}
    assert int(wider_overview["儿童总数"]) == children


async def test_refusals_say_why_in_the_apis_error_shape(
    sample_county: Graph, client: httpx.AsyncClient, settings: Settings
) -> None:
    anonymous = await client.get("/reports/statistics", params={"region": SAMPLE_COUNTY})
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # The access table grants `statistics` to supervisors and coordinators, not to a director.
    director = await _download(client, settings, "children_director", "522622100201")
    assert director.status_code == 403
    assert director.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    bad = [({"format": "pdf"}, "format"), ({"asOf": "28.02.2026"}, "asOf"), ({"region": "5226"}, "region")]
    for params, field in bad:
        refused = await _download(client, settings, "coordinator", SAMPLE_COUNTY, **params)
        assert refused.status_code == 400, params
        error = refused.json()["errors"][0]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
        assert error["message"].startswith(f"{field}: ")
