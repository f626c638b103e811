"""Cursor pagination (`first`/`after`), keyset on a whitelisted sort key.

A cursor encodes the sort key's name, the last item's sort value and its id, so the next
page starts strictly after that (value, id) pair: inserts elsewhere never shift a page, and
nothing is skipped or repeated. A cursor made for one sort order is refused for another.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

import strawberry

from api.settings import Limits
from graph.errors import InvalidInput

DEFAULT_PAGE = 50


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def page_size(first: int | None, limits: Limits) -> int:
    if first is None:
        return min(DEFAULT_PAGE, limits.max_page)
    if not 1 <= first <= limits.max_page:
        raise InvalidInput("first", f"must be between 1 and {limits.max_page}")
    return first


def encode_cursor(sort: str, value: str | dt.date | None, id: str) -> str:
    raw = [sort, value.isoformat() if isinstance(value, dt.date) else value, id]
    return base64.urlsafe_b64encode(json.dumps(raw, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str, *, dated: bool = False) -> tuple[str | dt.date | None, str] | None:
    """The (sort value, id) a cursor made by `encode_cursor(sort, ...)` carries."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        name, value, id = raw
        if name != sort or not isinstance(id, str) or not (value is None or isinstance(value, str)):
            raise ValueError(cursor)
        return (dt.date.fromisoformat(value) if dated and value is not None else value), id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput("after", "not a cursor of this list and sort order") from error


def after_id(after: str | None) -> str | None:
    """The id an id-ordered list's cursor carries."""
    cursor = decode_cursor(after, "id")
    return None if cursor is None else cursor[1]


def page_info(cursors: list[str], has_next_page: bool) -> PageInfo:
    return PageInfo(has_next_page=has_next_page, end_cursor=cursors[-1] if cursors else None)
