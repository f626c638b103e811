"""`GET /reports/statistics`: the region's statistics as the file `shouhu report` writes
(`api.report`), for the console's download button.

The caller is the token's, admitted like a GraphQL request (the app checks the token and the
rate first); what it may count is what the `statistics` row of the access table grants, within
its scope, exactly as the `statistics` query counts it. The file is never cached: it names the
directors of every village.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import report
from api.settings import Settings
from graph import access, statistics
from graph.callers import Caller
from graph.discovery import Thresholds
from graph.driver import Graph
from graph.errors import GraphError, InvalidInput
from graph.regions import level_of

OPERATION: Final = "statistics"
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
STATUS: Final = {"BAD_USER_INPUT": 400, "FORBIDDEN": 403, "DATABASE_UNAVAILABLE": 503}


def _error(error: GraphError) -> JSONResponse:
    extensions: dict[str, str] = {"code": error.code}
    if isinstance(error, InvalidInput):
        extensions["field"] = error.field
    return JSONResponse(
        {"data": None, "errors": [{"message": str(error), "extensions": extensions}]},
        status_code=STATUS.get(error.code, 500),
        headers={"Cache-Control": "no-store"},
    )


def _as_of(raw: str | None, settings: Settings) -> dt.date:
    if not raw:
        return dt.datetime.now(settings.timezone).date()
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("asOf", f"{raw!r} is not a date YYYY-MM-DD") from None


async def statistics_report(request: Request, caller: Caller) -> Response:
    settings: Settings = request.state.settings
    graph: Graph = request.state.graph
    params = request.query_params
    try:
        scope = access.scope(caller, OPERATION)
        output_format = params.get("format", "xlsx")
        if output_format not in report.MEDIA_TYPES:
            raise InvalidInput("format", f"xlsx or csv, not {output_format!r}")
        region = params.get("region", "")
        level_of(region)
        as_of = _as_of(params.get("asOf"), settings)
        stats = await statistics.statistics(
            graph, region=region, scope=scope, as_of=as_of, thresholds=Thresholds(timezone=settings.timezone.key)
        )
    except GraphError as error:
        return _error(error)
    name = f"statistics-{region}-{as_of.isoformat()}.{output_format}"
    return Response(
        report.render(stats, output_format),
        media_type=report.MEDIA_TYPES[output_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
