"""The console in the village: a children's director finds her red children on the worklist,
reads why in a child's file and records the home visit that answers a finding, online and
offline (the visit waits on the device and is sent once when the network returns)."""

from __future__ import annotations

from typing import Final

from playwright.async_api import Page, Request, expect

from graph.driver import Graph
from tests.console.conftest import DIRECTOR, VILLAGE, Console, FieldCounty, accessibility, screenshot

#: The director's red child whose last home visit was 120 days before D (tests/data/make_county.py).
OVERDUE_RED: Final = "everything"
#: Another child of her village, last visited at home 32 days before D: VISIT_OVERDUE, blue.
OVERDUE_BLUE: Final = "visit-32"
VISITS: Final = """
MATCH (:Person {id: $visitor})-[e:VISITED]->(:Person {id: $child})
WHERE e.on = date($on) AND e.type = 'home_visit'
RETURN e.notes AS notes, e.recordedBy AS recordedBy
"""
KEYS: Final = "MATCH (k:IdempotencyKey) WHERE k.key ENDS WITH $suffix RETURN k.operation AS operation, k.sub AS sub"


async def _visits_today(graph: Graph, child: str, county: FieldCounty) -> list[dict[str, object]]:
    rows = await graph.read(VISITS, {"visitor": DIRECTOR, "child": child, "on": county.today.isoformat()})
    return [dict(row) for row in rows]


async def _signed_in_director(console: Console) -> Page:
    page = await console.page()
    await console.sign_in(page, console.token("children_director", region=VILLAGE, sub=DIRECTOR))
    await page.get_by_test_id("page-worklist").wait_for()
    return page


async def _record_visit(page: Page, notes: str) -> None:
    await page.get_by_test_id("child-record-visit").click()
    form = page.get_by_test_id("visit-form")
    await form.wait_for()
    # A home visit, today: the form's defaults.
    await expect(page.get_by_test_id("visit-type")).to_contain_text("入户走访")
    await expect(page.locator("#visit-on")).not_to_have_value("")
    await page.get_by_test_id("visit-notes").fill(notes)
    await page.get_by_test_id("visit-submit").click()
    await expect(form).to_be_hidden()


async def test_a_director_sees_her_red_children_reads_the_evidence_and_a_home_visit_answers_it(
    console: Console, graph: Graph, field_county: FieldCounty
) -> None:
    page = await _signed_in_director(console)
    rows = page.get_by_test_id("worklist-row")
    row = page.locator(f'[data-testid="worklist-row"][data-child-id="{OVERDUE_RED}"]')
    await expect(row).to_have_attribute("data-level", "RED")
    # By urgency: the red children come first.
    levels = [await rows.nth(i).get_attribute("data-level") for i in range(await rows.count())]
    assert levels[0] == "RED" and levels == sorted(levels, key=lambda level: level != "RED"), levels
    await expect(row.get_by_test_id("worklist-reasons")).to_contain_text("入户走访逾期")
    await accessibility(page, "工作台")
    await screenshot(page, "worklist", for_docs=True)

    await row.get_by_test_id("worklist-child-link").click()
    await page.get_by_test_id("page-child").wait_for()
    finding = page.locator('[data-testid="finding"][data-rule="VISIT_OVERDUE"]')
    await expect(finding).to_have_attribute("data-level", "YELLOW")
    await expect(finding.get_by_test_id("finding-evidence")).to_contain_text("最近一次入户走访")
    await expect(finding.get_by_test_id("finding-evidence")).to_contain_text("距今120天")
    network = page.get_by_test_id("network-canvas")
    await expect(network).to_be_visible()
    await expect(network).not_to_have_attribute("data-nodes", "0")
    # The picture is drawn on a canvas inside it once the layout (not animated) ran.
    await expect(network.locator("canvas").first).to_be_visible()
    await accessibility(page, "一人一档")
    # The tablet's picture shows the network, below the findings.
    await network.scroll_into_view_if_needed()
    await screenshot(page, "child-file", for_docs=True)
    assert await _visits_today(graph, OVERDUE_RED, field_county) == []

    await _record_visit(page, "见到了孩子，已联系村委会安排临时照护")
    await expect(page.get_by_test_id("child-visit").first).to_be_visible()
    await page.reload()
    await page.get_by_test_id("child-name").wait_for()
    await expect(page.locator('[data-testid="finding"][data-rule="NO_CAREGIVER"]')).to_be_visible()
    await expect(page.locator('[data-testid="finding"][data-rule="VISIT_OVERDUE"]')).to_have_count(0)
    await screenshot(page, "child-file-visited")
    assert await _visits_today(graph, OVERDUE_RED, field_county) == [
        {"notes": "见到了孩子，已联系村委会安排临时照护", "recordedBy": DIRECTOR}
    ]


async def test_a_visit_recorded_offline_waits_through_a_reload_and_is_sent_once_when_the_network_returns(
    console: Console, graph: Graph, field_county: FieldCounty
) -> None:
    page = await _signed_in_director(console)
    # The service worker controls the page, so the console opens again without a network.
    await page.evaluate("async () => { await navigator.serviceWorker.ready }")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await page.goto(f"/child/{OVERDUE_BLUE}")
    await expect(page.locator('[data-testid="finding"][data-rule="VISIT_OVERDUE"]')).to_be_visible()
    sent: list[str] = []

    def finished(request: Request) -> None:
        if request.method == "POST" and "recordVisit" in (request.post_data or ""):
            sent.append(request.post_data or "")

    page.on("requestfinished", finished)

    await console.context.set_offline(True)
    await page.get_by_test_id("offline-banner").wait_for()
    await _record_visit(page, "离线登记：孩子在家，奶奶照看")
    await expect(page.get_by_test_id("queue-badge")).to_have_text("1")
    await page.get_by_test_id("nav-queue").click()
    item = page.get_by_test_id("queue-item")
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-status", "pending")
    client_mutation_id = str(await item.get_attribute("data-client-mutation-id"))
    await screenshot(page, "queue-offline")

    await page.reload()
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-client-mutation-id", client_mutation_id)
    await expect(page.get_by_test_id("queue-badge")).to_have_text("1")
    assert sent == [] and await _visits_today(graph, OVERDUE_BLUE, field_county) == []

    await console.context.set_offline(False)
    await page.get_by_test_id("queue-empty").wait_for()
    await expect(page.get_by_test_id("queue-badge")).to_have_count(0)
    assert await _visits_today(graph, OVERDUE_BLUE, field_county) == [
        {"notes": "离线登记：孩子在家，奶奶照看", "recordedBy": DIRECTOR}
    ]
    keys = [dict(row) for row in await graph.read(KEYS, {"suffix": f"|{client_mutation_id}"})]
    # The key's namespace is the caller as the server knows her: subject, role and scope.
    assert keys == [{"operation": "recordVisit", "sub": f"{DIRECTOR}|children_director|{VILLAGE}"}]
    assert len(sent) == 1 and client_mutation_id in sent[0]
    await page.goto(f"/child/{OVERDUE_BLUE}")
    await page.get_by_test_id("child-name").wait_for()
    await expect(page.locator('[data-testid="finding"][data-rule="VISIT_OVERDUE"]')).to_have_count(0)
