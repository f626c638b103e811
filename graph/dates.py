"""Dates as the domain counts them, and the driver's temporal values as Python's.

Age is in completed years (docs/domain.md, Time). Every query compares birth dates with a
cutoff computed here rather than computing ages in Cypher, so one function decides who is 6,
16 or 18 on a day, Feb 29 included. The driver returns its own `Date`/`DateTime` types; the
converters below are the one place they become `datetime.date`/`datetime.datetime`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from neo4j.time import Date, DateTime


# Kept: a list of 50 children asks it of every child and linked person it audits, for the
# same day and age each time.
@functools.lru_cache(maxsize=4096)
def birth_cutoff(as_of: dt.date, years: int) -> dt.date:
    """The latest birth date of a person who is `years` old or older at `as_of`.

    Someone born on Feb 29 turns a year older on Mar 1 in common years, so a cutoff that
    would fall on a missing Feb 29 is Feb 28.
    """
    year = as_of.year - years
    try:
        return as_of.replace(year=year)
    except ValueError:  # Feb 29 in a common year
        return dt.date(year, 2, 28)


def age_at(birth: dt.date, as_of: dt.date) -> int:
    """Age in completed years at `as_of`."""
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def native(value: Any) -> Any:
    """A property as Python holds it: the driver's temporal values converted, the rest as is."""
    to_native = getattr(value, "to_native", None)
    return value if to_native is None else to_native()


def native_date(value: Any) -> dt.date | None:
    """A stored date (the driver's, Python's, or as the ISO text `toString` gives in Cypher) as
    a Python date; anything else, None."""
    if value is None:  # most end dates and deaths: a list of 50 files holds hundreds
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, Date):
        return value.to_native()
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def native_datetime(value: Any) -> dt.datetime | None:
    """A stored datetime (the driver's or Python's) as a Python datetime; anything else, None."""
    if isinstance(value, DateTime):
        return value.to_native()
    return value if isinstance(value, dt.datetime) else None


def fixed_offset(moment: dt.datetime) -> dt.datetime:
    """`moment` with its zone replaced by its fixed UTC offset, as it must be sent to the driver.

    The driver packs an aware datetime by calling `tzinfo.utcoffset` with its own `DateTime`,
    which `zoneinfo.ZoneInfo` (C implementation) does not accept: a ValueError, or a crash of
    the interpreter. A `datetime.timezone` takes anything.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("a naive datetime has no offset")
    return moment.replace(tzinfo=dt.timezone(offset))
