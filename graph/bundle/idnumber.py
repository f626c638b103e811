"""Resident identity numbers (居民身份证号码, GB 11643-1999).

18 characters: 6 digits of the issuing region, 8 of the birth date (`YYYYMMDD`), 3 of a
sequence whose last digit is odd for men and even for women, and a check character from
ISO 7064 MOD 11-2 over the first 17 (`0`-`9` or `X`).

The canonical form has an upper-case `X`. A lower-case `x` is accepted and normalised,
because it is a common way to type the same number; everything else that is not the
canonical shape is refused. The region digits are not checked against anything: people move.
"""

from __future__ import annotations

from datetime import date
from typing import Final

WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS: Final = "10X98765432"
_DIGITS: Final = frozenset("0123456789")


def check_character(first17: str) -> str:
    """The check character for 17 digits."""
    if len(first17) != len(WEIGHTS) or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"{first17!r} is not 17 digits")
    # The weights are 2^(17-i) mod 11 and 13 = 2 (mod 11), so the weighted sum is twice the
    # digits read in base 13: one C call, where a province's bundle checks millions of numbers.
    return CHECK_CHARACTERS[2 * int(first17, 13) % 11]


def normalize(value: str) -> str:
    """Strip surrounding spaces and upper-case a final `x`; no other change."""
    value = value.strip()
    return value[:-1] + "X" if value.endswith("x") else value


def problem(value: str) -> str | None:
    """Why `value` (already normalised) is not a well-formed ID number, or None."""
    if len(value) != 18:
        return f"{value} has {len(value)} characters, not 18"
    if not _DIGITS.issuperset(value[:17]) or not (value[17] in _DIGITS or value[17] == "X"):
        return f"{value} must be 17 digits and a final digit or X"
    if birth_date(value) is None:
        return f"{value} has no valid birth date in digits 7-14"
    expected = check_character(value[:17])
    if value[17] != expected:
        return f"{value} fails its checksum (the check character should be {expected})"
    return None


def is_valid(value: str) -> bool:
    return problem(normalize(value)) is None


def birth_date(value: str) -> date | None:
    """The birth date in digits 7-14, or None when they are not a date."""
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def gender(value: str) -> str:
    """`M` when digit 17 is odd, `F` when even."""
    return "M" if int(value[16]) % 2 else "F"


def disagreement(value: str, birth: date, sex: str) -> str | None:
    """Why a well-formed ID number contradicts a birth date or gender, or None."""
    born = birth_date(value)
    if born != birth:
        return f"{value} gives birth date {born}, not {birth.isoformat()}"
    if gender(value) != sex:
        return f"{value} is a {'man' if gender(value) == 'M' else 'woman'}'s number but gender is {sex}"
    return None
