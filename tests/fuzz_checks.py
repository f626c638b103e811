"""The check schemathesis runs on every response while fuzzing (loaded by `SCHEMATHESIS_HOOKS`).

Schemathesis's own GraphQL check counts any error in a response as a server error; here a
refusal (`BAD_USER_INPUT`, `FORBIDDEN`, `NOT_FOUND`, `LIMIT_EXCEEDED`, ...) is the right answer
to most generated input. What must never happen is a 5xx, an `INTERNAL` error, an error with
no code, or a body that is not a GraphQL response.
"""

from __future__ import annotations

from typing import Any

import schemathesis

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
