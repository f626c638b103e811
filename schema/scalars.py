"""`Date` and `DateTime` that refuse what the resolvers cannot compute with.

Python's `date.fromisoformat` takes `0001-01-01` and `9999-12-31`, and then a resolver's
"eighteen years before `asOf`" overflows into an internal error; it also takes week dates and
compact forms no client means. These scalars take only `YYYY-MM-DD` (and ISO date-times with
an offset) in ASCII digits, between `EARLIEST` and `LATEST`: old enough for the eldest
grandparent's birth, far enough ahead for any plan, and far from the ends of the calendar.
A value outside is the caller's input error, named by the argument (schema/errors.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from operator import methodcaller
from typing import Final

from strawberry.types.scalar import ScalarDefinition

EARLIEST: Final = dt.date(1900, 1, 1)
LATEST: Final = dt.date(2100, 12, 31)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
RANGE: Final = f"between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


def _refuse(kind: str, value: object, why: str) -> ValueError:
    shown = value if isinstance(value, str) and len(value) <= 40 else type(value).__name__
    return ValueError(f"not a {kind}: {shown!r}; {why}")


def parse_date(value: object) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _refuse("Date", value, "expected YYYY-MM-DD")
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError as error:
        raise _refuse("Date", value, "no such day") from error
    if not EARLIEST <= parsed <= LATEST:
        raise _refuse("Date", value, f"must be {RANGE}")
    return parsed


def parse_datetime(value: object) -> dt.datetime:
    # An offset is required: a naive time compared with the audit trail's zoned ones matches nothing.
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise _refuse("DateTime", value, "expected ISO 8601 with an offset, like 2024-05-01T08:00:00+08:00")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise _refuse("DateTime", value, "no such time") from error
    if not EARLIEST <= parsed.date() <= LATEST:
        raise _refuse("DateTime", value, f"must be {RANGE}")
    return parsed


def _scalar(name: str, description: str, origin: type, parse: Callable[[object], object]) -> ScalarDefinition:
    return ScalarDefinition(
        name=name,
        description=f"{description}, {RANGE}.",
        specified_by_url=None,
        serialize=methodcaller("isoformat"),
        parse_value=parse,
        parse_literal=None,
        origin=origin,
    )


Date: Final = _scalar("Date", "A calendar day, YYYY-MM-DD", dt.date, parse_date)
DateTime: Final = _scalar("DateTime", "An instant, ISO 8601 with an offset", dt.datetime, parse_datetime)

SCALAR_OVERRIDES: Final[dict[object, ScalarDefinition]] = {dt.date: Date, dt.datetime: DateTime}
