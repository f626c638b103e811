"""Structured logs: one JSON object a line, the same shape for the server's own lines and uvicorn's.

What a line may carry is decided where it is written (api/transport.py writes one per request:
its id, the caller's subject and role, the operation's name and root fields, the duration, the
status and the error codes). Nothing from a request's body, variables or error messages is
logged: they carry children's names, ID numbers, phone numbers and case notes.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextvars import ContextVar
from typing import Any, Final

import orjson

#: Fields a `log.info(..., extra={FIELDS: {...}})` call adds to its line.
FIELDS: Final = "shouhu"
#: The id of the request being served (api/transport.py sets it): every line written while
#: serving it carries it, so a warning deep inside is found with the request's own line.
REQUEST_ID: ContextVar[str | None] = ContextVar("shouhu_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            # Which of the server's processes (SHOUHU_WORKERS) wrote the line.
            "pid": record.process,
        }
        if (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id
        extra = getattr(record, FIELDS, None)
        if isinstance(extra, dict):
            line.update(extra)
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: an exception's message can quote the values it choked on.
            line["exception"] = record.exc_info[0].__name__
        return orjson.dumps(line, default=str).decode()


def log_config(level: int = logging.INFO) -> dict[str, Any]:
    """A `logging.config` dict (uvicorn's `log_config`) that writes every logger to stderr as JSON."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": logging.getLevelName(level)},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
            # The driver's own lines at INFO and below can quote queries' parameters.
            "neo4j": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }
