"""The console (`console/`, a single-page app built into `console/dist`) and the local GraphiQL,
served by the API itself so that nothing a page needs comes from another host.

Caching: Vite names every file under `assets/` by its content hash, so those are immutable;
everything else (`index.html`, the service worker, the manifest, GraphiQL's copied files) is
`no-cache`, revalidated by its ETag, so a new build reaches every tablet on its next load.
A path that is not a file and looks like one of the app's own routes (`/children/p-1`) gets
`index.html` (the app routes on the client); a path under an API prefix or with a file
extension never does, so a missing asset or a mistyped API path is a 404, not a page.

Every page carries a Content-Security-Policy that admits only this origin (and, for
`connect-src`, the origins of `SHOUHU_CONSOLE_CONNECT_ORIGINS`), so an injected script or a
compromised package cannot send a child's record elsewhere.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Final

import anyio
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api.settings import Settings

#: Vite's output folder for content-hashed files.
HASHED: Final = "assets"
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
INDEX: Final = "index.html"
#: GraphiQL's page and files, copied from npm packages by the console build.
GRAPHIQL: Final = "graphiql"
#: Service workers at the root control the whole origin (scope `/`).
SERVICE_WORKERS: Final = frozenset({"sw.js", "service-worker.js"})
BUILD_COMMAND: Final = "make console"


def security_headers(settings: Settings) -> dict[str, str]:
    connect = " ".join(["'self'", *settings.console_connect_origins])
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Vue, Element Plus and GraphiQL set `style` attributes; no stylesheet comes from elsewhere.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def not_built(settings: Settings, what: str) -> Response:
    """What `/` and the IDE answer when the console has not been built: how to build it."""
    folder = html.escape(str(settings.console_dir))
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>守护 Shouhu</title></head>
<body><main>
<h1>控制台尚未构建 / The console is not built</h1>
<p>{html.escape(what)} is served from <code>{folder}</code>, which does not exist yet.
Build it with <code>{BUILD_COMMAND}</code> (Node.js 20 and npm; <code>make run</code> does it too),
then reload this page. The GraphQL API at <code>POST /graphql</code> works without it.</p>
<p>请在项目目录运行 <code>{BUILD_COMMAND}</code> 构建控制台，然后刷新本页。</p>
</main></body></html>
"""
    return HTMLResponse(body, status_code=503, headers={"Cache-Control": REVALIDATE, **security_headers(settings)})


def first_segments(paths: Iterable[str]) -> frozenset[str]:
    """The first path segment of each API route (`/health/live` -> `health`)."""
    return frozenset(path.strip("/").split("/", 1)[0] for path in paths if path.strip("/"))


class ConsoleFiles(StaticFiles):
    """The console's build, with the app's routes falling back to `index.html`."""

    def __init__(self, settings: Settings, api_prefixes: frozenset[str]) -> None:
        super().__init__(directory=settings.console_dir, check_dir=False)
        self.settings = settings
        self.api_prefixes = api_prefixes
        self.headers = security_headers(settings)

    async def check_config(self) -> None:
        # A build may appear (or go) while the API runs: `get_response` looks each time.
        if await anyio.Path(self.settings.console_dir).is_dir():
            await super().check_config()

    def _client_route(self, path: str) -> bool:
        parts = PurePosixPath(path).parts
        return not parts or (parts[0] not in self.api_prefixes | {HASHED, GRAPHIQL} and "." not in parts[-1])

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not await anyio.Path(self.settings.console_dir, INDEX).is_file():
            if self._client_route(path):
                return not_built(self.settings, "The console")
            raise HTTPException(status_code=404)
        try:
            response = await super().get_response(path, scope)
            served = path
        except HTTPException as error:
            if error.status_code != 404 or not self._client_route(path):
                raise
            response = await super().get_response(INDEX, scope)
            served = INDEX
        parts = PurePosixPath(served).parts
        hashed = bool(parts) and parts[0] == HASHED and response.status_code in (200, 304)
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        if parts and parts[-1] in SERVICE_WORKERS and len(parts) == 1:
            response.headers["Service-Worker-Allowed"] = "/"
        response.headers.update(self.headers)
        return response


async def graphiql_page(settings: Settings) -> Response:
    """GraphiQL's page as the console build wrote it, every script and style a local path."""
    page = anyio.Path(settings.console_dir, GRAPHIQL, INDEX)
    if not await page.is_file():
        return not_built(settings, "GraphiQL")
    return HTMLResponse(
        await page.read_text(encoding="utf-8"), headers={"Cache-Control": REVALIDATE, **security_headers(settings)}
    )
