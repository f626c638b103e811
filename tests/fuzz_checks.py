"""The check schemathesis runs on every response while fuzzing (loaded by `SCHEMATHESIS_HOOKS`).

Schemathesis's own GraphQL check counts any error in a response as a server error; here a
refusal (`BAD_USER_INPUT`, `FORBIDDEN`, `NOT_FOUND`, `LIMIT_EXCEEDED`, ...) is the right answer
to most generated input. What must never happen is a 5xx, an `INTERNAL` error, an error with
no code, or a body that is not a GraphQL response.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

#: Dates a resolver could stumble on: the ends of the calendar, a leap day, a day that is not.
EDGE_DATES = ("0001-01-01", "1899-12-31", "1900-01-01", "2024-02-29", "2023-02-29", "2100-12-31", "9999-12-31")

#: The codes of docs/graphql.md, Errors, but INTERNAL.
EXPECTED = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "DATABASE_UNAVAILABLE",
        "LIMIT_EXCEEDED",
    }
)


# Without a strategy schemathesis never sends a custom scalar: every `asOf`, `on` and `since`
# would go untested. Any day of the calendar, its edges, and strings that are not dates.
_DAYS = st.one_of(
    st.sampled_from(EDGE_DATES),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.text(max_size=12),
)
schemathesis.graphql.scalar("Date", _DAYS.map(nodes.String))
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat),
        st.datetimes().map(dt.datetime.isoformat),
        _DAYS,
    ).map(nodes.String),
)


@schemathesis.check
def shouhu_no_internal(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as error:
        raise AssertionError(f"HTTP {response.status_code} with a body that is not JSON") from error
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        raise AssertionError("not a GraphQL response")
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors") or ()]
    unexpected = [code for code in codes if code not in EXPECTED]
    if unexpected:
        raise AssertionError(f"error codes {unexpected}: {body['errors']}")
