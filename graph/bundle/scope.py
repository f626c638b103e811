"""Which bundle lines an integrator may import or receive: those inside their region scope.

A region line may also name an ancestor of the scope (an export carries the ancestors of its
region so that an import into an empty database resolves their parents).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

#: Fields holding region codes that place a record, per kind.
PLACING_FIELDS = {"region": "code", "household": "region", "institution": "region"}
#: Fields an integrator never receives: they are masked for that role (docs/access.md), and a
#: masked value would not be a valid bundle field, so they are left out.
MASKED_FIELDS = ("idNumber", "phone")


def _is_ancestor_of_scope(code: str, scope: str) -> bool:
    significant = code.rstrip("0")
    return scope.startswith(significant) or significant == ""


def first_out_of_scope(lines: Iterable[str], scope: str) -> tuple[int, str, str] | None:
    """The first (line, field, code) placing a record outside `scope`; None when all are inside."""
    if scope == "":
        return None
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            record = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            continue  # the validator reports it
        if not isinstance(record, dict):
            continue
        field = PLACING_FIELDS.get(str(record.get("kind")))
        code = record.get(field) if field else None
        if not isinstance(code, str):
            continue
        inside = code.startswith(scope) or (record.get("kind") == "region" and _is_ancestor_of_scope(code, scope))
        if not inside:
            return number, field or "", code
    return None


def without_masked_fields(lines: Iterable[str]) -> Iterator[str]:
    """Person lines without the fields masked for the caller; other lines unchanged."""
    for text in lines:
        if '"kind":"person"' not in text.replace(" ", ""):
            yield text
            continue
        record = orjson.loads(text)
        for name in MASKED_FIELDS:
            record.pop(name, None)
        yield orjson.dumps(record).decode()
