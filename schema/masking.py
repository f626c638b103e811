"""Masking of identifiers (docs/access.md, Masking): what a caller's role may see of an ID number or phone.

`idNumber` keeps its first 6 and last 1 characters for every role but `coordinator` and
`admin`. Phone numbers keep their last 4 digits for the same roles: the access rules name no role
that sees them whole, and the two roles that see full ID numbers are the ones entrusted with
full contact data, so one rule serves both.
"""

from __future__ import annotations

from graph.callers import Caller


def mask_id_number(value: str | None, caller: Caller) -> str | None:
    if value is None or caller.sees_full_id_numbers:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 7) + value[-1]


def mask_phone(value: str | None, caller: Caller) -> str | None:
    if value is None or caller.sees_full_id_numbers:
        return value
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
