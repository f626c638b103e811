"""Serving the console's build at `/` beside the API, and CORS: the app's own routes are never
shadowed, hashed assets are immutable and the rest revalidated, client routes fall back to the
page, a missing build says how to build it, and no other origin gets CORS headers unless named.

These use a small stand-in build (a page, a hashed asset, a service worker): what is served how
does not depend on what the console's pages are. tests/console/ checks the real build."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.console import security_headers
from api.settings import Settings, SettingsError
from graph.driver import Graph
from tests.conftest import make_token

PAGE = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a1c.js"></script></head></html>'
ALLOWED = "https://console.example.org"
FOREIGN = "https://elsewhere.example.com"


def _build(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    (folder / "assets" / "app-3f2a1c.js").write_text("export {};\n", encoding="utf-8")
    (folder / "sw.js").write_text("self.addEventListener('fetch', () => {});\n", encoding="utf-8")
    (folder / "manifest.webmanifest").write_text('{"name": "守护"}', encoding="utf-8")
    (folder / "graphiql").mkdir()
    (folder / "graphiql" / "index.html").write_text("<!doctype html><title>GraphiQL</title>", encoding="utf-8")
    return folder


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shouhu.test") as http:
            yield http


@pytest.fixture(scope="module")
async def built(
    settings: Settings, graph: Graph, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = _build(tmp_path_factory.mktemp("console") / "dist")
    configured = dataclasses.replace(settings, console_dir=folder, cors_origins=(ALLOWED,))
    async for http in _client(configured):
        yield http


@pytest.fixture(scope="module")
async def unbuilt(
    settings: Settings, graph: Graph, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    configured = dataclasses.replace(settings, console_dir=tmp_path_factory.mktemp("empty") / "dist")
    async for http in _client(configured):
        yield http


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {name: rest for name, _, rest in (part.strip().partition(" ") for part in policy.split(";"))}


async def test_the_page_and_its_client_routes_are_served_revalidated_under_a_self_only_policy(
    built: httpx.AsyncClient,
) -> None:
    for path in ("/", "/worklist", "/children/p-0001", "/inbox?status=pending"):
        response = await built.get(path)
        assert response.status_code == 200, path
        assert response.text == PAGE
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        policy = _csp(response)
        assert policy["default-src"] == policy["script-src"] == policy["connect-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert (await built.get("/", headers={"If-None-Match": response.headers["etag"]})).status_code == 304


async def test_hashed_assets_are_immutable_and_the_service_worker_is_revalidated_with_scope_root(
    built: httpx.AsyncClient,
) -> None:
    asset = await built.get("/assets/app-3f2a1c.js")
    assert asset.status_code == 200 and asset.text == "export {};\n"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    worker = await built.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["service-worker-allowed"] == "/"
    manifest = await built.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["cache-control"] == "no-cache"


async def test_a_missing_file_or_api_path_is_a_404_never_the_page(built: httpx.AsyncClient) -> None:
    for path in ("/assets/app-000000.js", "/icon-512.png", "/health/nothing", "/graphql/x", "/reports", "/graphiql/x"):
        response = await built.get(path)
        assert response.status_code == 404, path
        assert response.text != PAGE


async def test_the_api_routes_are_not_shadowed(built: httpx.AsyncClient, settings: Settings) -> None:
    assert (await built.get("/health/live")).json() == {"status": "live"}
    anonymous = await built.post("/graphql", json={"query": "{ me { role } }"})
    assert anonymous.status_code == 401
    token = make_token(settings, "coordinator", region="522622000000")
    answered = await built.post(
        "/graphql", json={"query": "{ me { role } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answered.json() == {"data": {"me": {"role": "coordinator"}}}
    ide = await built.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 200 and ide.text == "<!doctype html><title>GraphiQL</title>"
    assert _csp(ide)["script-src"] == "'self'"
    assert (await built.post("/", json={})).status_code == 405


async def test_without_a_build_the_app_starts_and_says_how_to_build_the_console(unbuilt: httpx.AsyncClient) -> None:
    assert (await unbuilt.get("/health/live")).status_code == 200
    for path, what in [("/", "The console"), ("/worklist", "The console"), ("/graphql", "GraphiQL")]:
        response = await unbuilt.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 503, path
        assert f"{what} is served from" in response.text and "<code>make console</code>" in response.text
        assert "https://" not in response.text and "http://" not in response.text
    assert (await unbuilt.get("/assets/app-3f2a1c.js")).status_code == 404


async def test_cors_answers_only_the_configured_origins(
    built: httpx.AsyncClient, client: httpx.AsyncClient, settings: Settings
) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    token = make_token(settings, "coordinator", region="522622000000")
    query = {"query": "{ me { role } }"}
    bearer = {"Authorization": f"Bearer {token}"}
    # The suite's app has no origins configured (the default): no page elsewhere may read it.
    for origin in (ALLOWED, FOREIGN):
        refused = await client.options("/graphql", headers={"Origin": origin, **preflight})
        assert not any(name.startswith("access-control-") for name in refused.headers), origin
        posted = await client.post("/graphql", json=query, headers={"Origin": origin, **bearer})
        assert "access-control-allow-origin" not in posted.headers
    # Configured: the named origin, exactly, and not another.
    allowed = await built.options("/graphql", headers={"Origin": ALLOWED, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    posted = await built.post("/graphql", json=query, headers={"Origin": ALLOWED, **bearer})
    assert posted.headers["access-control-allow-origin"] == ALLOWED
    assert "x-request-id" in posted.headers["access-control-expose-headers"].lower()
    foreign = await built.options("/graphql", headers={"Origin": FOREIGN, **preflight})
    assert foreign.status_code == 400 and "access-control-allow-origin" not in foreign.headers
    posted = await built.post("/graphql", json=query, headers={"Origin": FOREIGN, **bearer})
    assert "access-control-allow-origin" not in posted.headers


@pytest.mark.parametrize(
    "value", ["*", "https://console.example.org/", "console.example.org", "https://*.example.org", "ftp://x.org"]
)
def test_a_cors_origin_must_be_exact(test_environment: dict[str, str], value: str) -> None:
    with pytest.raises(SettingsError, match="SHOUHU_CORS_ORIGINS"):
        Settings.from_environment({**test_environment, "SHOUHU_CORS_ORIGINS": f"{ALLOWED},{value}"})


def test_cors_origins_and_connect_origins_are_read_as_a_list(test_environment: dict[str, str]) -> None:
    configured = Settings.from_environment(
        {
            **test_environment,
            "SHOUHU_CORS_ORIGINS": f" {ALLOWED} , HTTP://127.0.0.1:5173,{ALLOWED}",
            "SHOUHU_CONSOLE_CONNECT_ORIGINS": "https://idp.example.org",
        }
    )
    assert configured.cors_origins == (ALLOWED, "http://127.0.0.1:5173")
    assert configured.console_connect_origins == ("https://idp.example.org",)
    assert "connect-src 'self' https://idp.example.org;" in security_headers(configured)["Content-Security-Policy"]
    assert Settings.from_environment(test_environment).cors_origins == ()
