"""The console in a real headless Chromium (Debian's `/usr/bin/chromium`, driven by Playwright;
never a downloaded browser), against `shouhu serve` on the test database holding the sample
county, moved in time so that its date D is today.

One browser and one server for the session; each test gets a fresh browser context (its own
storage, service worker and offline switch), in which every request for another host than the
server's fails the test, and so does a script error or a Content-Security-Policy violation.
Screenshots go to `test-artefacts/console/` (git-ignored); with `SHOUHU_SCREENSHOTS=<folder>`
(`make screenshots`) the four pages of the closing note are written there too, at 1024x768.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

from api.settings import PROJECT_ROOT, Settings
from graph.alerts import sweep
from graph.discovery import Thresholds
from graph.driver import Graph
from graph.risk import AlertPolicy, Reevaluator
from graph.statistics import statistics
from tests.conftest import SAMPLE_AS_OF, SAMPLE_BUNDLE, make_token, wipe
from tests.live import LiveServer, live_server

CHROMIUM: Final = "/usr/bin/chromium"
# No first-run, sync, component or background traffic: the only requests are the console's.
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET: Final = ViewportSize(width=1024, height=768)
#: How long a step may wait for the page: ample on a machine shared by a whole team's tests.
PATIENCE_MS: Final = 60_000
ARTEFACTS: Final = PROJECT_ROOT / "test-artefacts" / "console"
AXE: Final = PROJECT_ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SERVER_HOST: Final = "127.0.0.1"
#: A date, alone or starting a datetime.
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?=T|$)")

# The sample county's people the scenarios act as (tests/data/make_county.py).
VILLAGE: Final = "522622100201"  # 东门村, the director's
DIRECTOR: Final = "director"
INSTITUTION: Final = "station"  # 旧州镇社工站
COUNTY: Final = "522622000000"


def shanghai_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


_WEIGHTS: Final = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _id_number(number: str, born: dt.date) -> str:
    """A resident ID number (GB 11643) with its birth date replaced and its check digit redone."""
    body = number[:6] + born.strftime("%Y%m%d") + number[14:17]
    check = "10X98765432"[sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def _moved(value: Any, days: int) -> Any:
    if isinstance(value, dict):
        return {key: _moved(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [_moved(item, days) for item in value]
    if isinstance(value, str) and (match := _DATE.match(value)):
        day = dt.date(int(match[1]), int(match[2]), int(match[3])) + dt.timedelta(days=days)
        return day.isoformat() + value[10:]
    return value


def shifted_bundle(source: Path, target: Path, days: int) -> None:
    """The bundle with every date and datetime moved by `days` (and the birth date inside each ID
    number with it): the county as it would be if its day D were today, so that the API's
    "today", and the browser's, is the county's D."""
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            record = _moved(json.loads(line), days)
            if record.get("idNumber") and record.get("birthDate"):
                record["idNumber"] = _id_number(record["idNumber"], dt.date.fromisoformat(record["birthDate"]))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class FieldCounty:
    """The sample county as of today."""

    today: dt.date
    shift: int

    def day(self, sample_day: dt.date) -> dt.date:
        """Where a date of the sample county lies now."""
        return sample_day + dt.timedelta(days=self.shift)


@pytest.fixture(scope="session")
def console_build() -> Path:
    """The console's build, made if its sources changed (`make console`: npm ci and the build)."""
    subprocess.run(["make", "--no-print-directory", "console"], cwd=PROJECT_ROOT, check=True)  # noqa: S607
    built = PROJECT_ROOT / "console" / "dist"
    assert (built / "index.html").is_file() and (built / "graphiql" / "index.html").is_file()
    return built


@pytest.fixture(scope="session")
async def field_county(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> FieldCounty:
    from graph.bundle.importer import import_bundle

    today = shanghai_today()
    county = FieldCounty(today=today, shift=(today - SAMPLE_AS_OF).days)
    bundle = tmp_path_factory.mktemp("field-county") / "county.ndjson"
    shifted_bundle(SAMPLE_BUNDLE, bundle, county.shift)
    await wipe(graph)
    # Records dated after D stay after today; the import checks dates against its own "today".
    result = await import_bundle(
        graph, bundle, today=today + dt.timedelta(days=60), workdir=tmp_path_factory.mktemp("field-import")
    )
    assert result.ok, result.rejected[:3]
    # Two sweeps, ten days apart, so the dashboard has alerts past their due date and changes
    # since the last sweep (raised, escalated, resolved) to show.
    for day in (today - dt.timedelta(days=10), today):
        await sweep(
            graph,
            region_prefix=COUNTY[:6],
            scope_prefix="",
            as_of=day,
            thresholds=Thresholds(timezone="Asia/Shanghai"),
            by="daily-sweep",
            policy=AlertPolicy(),
        )
    # Neo4j plans its queries again after an import changed the store this much, which takes
    # seconds for the re-evaluation that follows every write: plan it now, not in a test's click.
    await Reevaluator(Thresholds(timezone="Asia/Shanghai"), AlertPolicy())(graph, ["everything"], by="warm-up")
    await statistics(graph, region=COUNTY, scope="", as_of=today, thresholds=Thresholds(timezone="Asia/Shanghai"))
    return county


@pytest.fixture(scope="session")
def console_server(
    console_build: Path,
    field_county: FieldCounty,
    test_environment: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    with live_server(test_environment, tmp_path_factory.mktemp("console-server") / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    expect.set_options(timeout=PATIENCE_MS)
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    await launched.close()


@dataclass
class Watch:
    """What a browser context did that a test must not allow."""

    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [f"request to another host: {url}" for url in self.foreign] + self.errors


class Console:
    """A browser context on the console, signed in as someone or not yet."""

    def __init__(self, context: BrowserContext, server: LiveServer, settings: Settings, watch: Watch) -> None:
        self.context = context
        self.server = server
        self.settings = settings
        self.watch = watch

    async def page(self) -> Page:
        page = await self.context.new_page()
        page.set_default_timeout(PATIENCE_MS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.watch.errors.append(f"script error: {error}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.watch.errors.append(f"CSP violation: {text}")

    def token(self, role: str, *, region: str | None = None, institution: str | None = None, sub: str = "") -> str:
        return make_token(self.settings, role, region=region, institution=institution, sub=sub or role, ttl=3600)

    async def sign_in(self, page: Page, token: str, *, next_path: str = "/") -> None:
        """The development login: paste the token, see who it is, enter."""
        await page.goto(f"/login?next={next_path}")
        await page.get_by_test_id("login-token").fill(token)
        await page.get_by_test_id("login-submit").click()
        await page.get_by_test_id("login-caller").wait_for()
        await page.get_by_test_id("login-enter").click()


@pytest.fixture
async def console(browser: Browser, console_server: LiveServer, settings: Settings) -> AsyncIterator[Console]:
    context = await browser.new_context(
        base_url=console_server.url,
        viewport=TABLET,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
        service_workers="allow",
    )
    watch = Watch()

    async def guard(route: Route) -> None:
        url = route.request.url
        watch.requests.append(url)
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host == SERVER_HOST:
            await route.continue_()
        else:
            watch.foreign.append(url)
            await route.abort("blockedbyclient")

    await context.route("**/*", guard)
    context.on("request", lambda request: _foreign(request.url, watch))
    yield Console(context, console_server, settings, watch)
    await context.close()
    assert watch.problems() == []


def _foreign(url: str, watch: Watch) -> None:
    # Requests the route does not see (a service worker's own) are checked here too.
    local = url.startswith(("data:", "blob:")) or urlsplit(url).hostname == SERVER_HOST
    if not local and url not in watch.foreign:
        watch.foreign.append(url)


async def screenshot(page: Page, name: str, *, for_docs: bool = False) -> Path:
    """A full-page picture as a test artefact; with `for_docs`, also into $SHOUHU_SCREENSHOTS."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)
    folder = os.environ.get("SHOUHU_SCREENSHOTS")
    if for_docs and folder:
        target = PROJECT_ROOT / folder
        target.mkdir(parents=True, exist_ok=True)
        # The viewport only: the picture shows what a tablet shows.
        await page.screenshot(path=target / f"{name}.png")
    return path


async def accessibility(page: Page, name: str) -> None:
    """axe-core (from the console's node_modules, evaluated in the page: no script tag, which the
    policy would refuse) on the page as it is; serious and critical violations fail."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    results: dict[str, Any] = await page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    serious = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{name}: {json.dumps(serious, ensure_ascii=False, indent=1)}"
