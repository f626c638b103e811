"""Masking of identifiers (docs/access.md, Masking): what a caller's role may see of an ID number or phone.

`idNumber` keeps its first 6 and last 1 characters unless the access table grants the role
`fullIdNumber`; a phone keeps its last 4 digits unless it grants `wholePhone` (the roles who
must call the family: weekly contact with parents who work away is their job).
"""

from __future__ import annotations

from graph import access
from graph.callers import Caller


def mask_id_number(value: str | None, caller: Caller) -> str | None:
    if value is None or access.allowed(caller.role, "fullIdNumber"):
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 7) + value[-1]


def mask_phone(value: str | None, caller: Caller) -> str | None:
    if value is None or access.allowed(caller.role, "wholePhone"):
        return value
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
