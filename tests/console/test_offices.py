"""The console of the offices: institution staff answer their referrals in the inbox, and a
coordinator reads the county's dashboard and downloads its statistics."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from graph.driver import Graph
from tests.console.conftest import COUNTY, INSTITUTION, Console, FieldCounty, accessibility, screenshot

#: Referrals of the sample county to the social work station (tests/data/make_county.py).
TO_ACCEPT = "case-no-report.case1.referral1"
TO_DECLINE = "referral-due-d-1.case1.referral1"
HISTORY = """
MATCH (f:Referral {id: $id})-[:HAD_STATUS]->(s:StatusChange)
RETURN f.status AS status, s.status AS step, s.by AS by, s.note AS note ORDER BY s.at
"""
STATISTICS = "query($region: String!) { statistics(region: $region) { asOf children byLevel { level count } } }"


async def _history(graph: Graph, referral: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await graph.read(HISTORY, {"id": referral})]


async def test_institution_staff_accept_decline_with_a_reason_and_complete_their_referrals(
    console: Console, graph: Graph
) -> None:
    page = await console.page()
    await console.sign_in(page, console.token("institution_staff", institution=INSTITUTION, sub="station-staff"))
    await page.get_by_test_id("page-inbox").wait_for()
    accepting = page.locator(f'[data-testid="inbox-item"][data-referral-id="{TO_ACCEPT}"]')
    await expect(accepting).to_have_attribute("data-status", "pending")
    await expect(accepting).to_contain_text("心理疏导")
    await accessibility(page, "转介收件箱")
    await screenshot(page, "inbox", for_docs=True)

    await accepting.get_by_test_id("inbox-accept").click()
    await expect(accepting).to_have_attribute("data-status", "accepted")
    await expect(accepting.get_by_test_id("inbox-done")).to_have_text("已接收")

    declining = page.locator(f'[data-testid="inbox-item"][data-referral-id="{TO_DECLINE}"]')
    await declining.get_by_test_id("inbox-decline").click()
    await declining.get_by_test_id("inbox-decline-confirm").click()
    await expect(declining.get_by_test_id("inbox-item-error")).to_contain_text("请填写拒绝原因")
    assert [row["step"] for row in await _history(graph, TO_DECLINE)] == ["pending"]  # nothing sent
    await declining.get_by_test_id("inbox-note").fill("本站心理咨询师本月已满，请转介县救助保护中心")
    await declining.get_by_test_id("inbox-decline-confirm").click()
    await expect(declining).to_have_attribute("data-status", "declined")

    await accepting.get_by_test_id("inbox-complete").click()
    await expect(accepting).to_have_attribute("data-status", "completed")
    await screenshot(page, "inbox-answered")

    accepted = await _history(graph, TO_ACCEPT)
    assert [(row["step"], row["by"]) for row in accepted[1:]] == [
        ("accepted", "station-staff"),
        ("completed", "station-staff"),
    ]
    assert accepted[0]["status"] == "completed"
    declined = await _history(graph, TO_DECLINE)
    assert [(row["status"], row["step"], row["note"]) for row in declined[1:]] == [
        ("declined", "declined", "本站心理咨询师本月已满，请转介县救助保护中心")
    ]


async def _statistics(console: Console, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=console.server.url) as http:
        body = {"query": STATISTICS, "variables": {"region": COUNTY}}
        response = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    figures: dict[str, Any] = response.json()["data"]["statistics"]
    return figures


async def _tiles(page: Page) -> dict[str, int]:
    tiles = page.get_by_test_id("dashboard-level")
    return {
        str(await tiles.nth(i).get_attribute("data-level")): int(str(await tiles.nth(i).get_attribute("data-count")))
        for i in range(await tiles.count())
    }


async def test_a_coordinator_reads_the_dashboard_and_downloads_the_county_statistics(
    console: Console, field_county: FieldCounty, tmp_path: Path
) -> None:
    token = console.token("coordinator", region=COUNTY, sub="coordinator-1")
    page = await console.page()
    await console.sign_in(page, token, next_path="/dashboard")
    await page.get_by_test_id("page-dashboard").wait_for()
    await page.get_by_test_id("dashboard-children").wait_for()
    figures = await _statistics(console, token)
    assert figures["asOf"] == field_county.today.isoformat()
    assert await _tiles(page) == {f["level"]: f["count"] for f in figures["byLevel"]}
    await expect(page.get_by_test_id("dashboard-children")).to_contain_text(str(figures["children"]))
    # The sweeps ten days ago and today: today's handed the late alerts up (renewing their due
    # dates) and changed others.
    await page.get_by_test_id("dashboard-overdue-alerts").wait_for()
    assert await page.get_by_test_id("dashboard-change").count() > 0
    await expect(page.get_by_test_id("dashboard-rules")).to_contain_text("走访逾期")
    await page.get_by_test_id("dashboard-overdue-cases").wait_for()
    await accessibility(page, "区域看板")
    await screenshot(page, "dashboard", for_docs=True)

    async with page.expect_download() as csv_download:
        await page.get_by_test_id("download-csv").click()
    saved = tmp_path / "county.csv"
    await (await csv_download.value).save_as(saved)
    assert (await csv_download.value).suggested_filename == f"statistics-{COUNTY}-{field_county.today}.csv"
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    overview = {row[0]: row[1] for row in rows[2 : rows.index([])]}
    assert rows[0] == ["概况"]
    assert overview["地区代码"] == COUNTY and overview["统计日期"] == field_county.today.isoformat()
    assert int(overview["儿童总数"]) == figures["children"]
    await expect(page.get_by_test_id("download-done")).to_contain_text(f"statistics-{COUNTY}")

    async with page.expect_download() as xlsx_download:
        await page.get_by_test_id("download-xlsx").click()
    workbook = tmp_path / "county.xlsx"
    await (await xlsx_download.value).save_as(workbook)
    book = load_workbook(workbook)
    assert book.sheetnames[:3] == ["概况", "按风险等级", "按发现规则"]
    levels = {row[0]: row[1] for row in book["按风险等级"].iter_rows(min_row=2, values_only=True)}
    assert sum(int(str(count)) for count in levels.values()) == figures["children"]
