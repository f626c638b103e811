"""Resident ID numbers (GB 11643): checksum, birth date, gender, canonical form."""

from __future__ import annotations

import random
from datetime import date

import pytest

from graph.bundle import idnumber

# GB 11643's worked example and two numbers of the sample county (tests/data/make_county.py
# computes its check characters on its own, from the standard).
EXAMPLES = [
    ("11010519491231002X", date(1949, 12, 31), "F"),
    ("522622201605100078", date(2016, 5, 10), "M"),
    ("52262219630402002X", date(1963, 4, 2), "F"),
]


@pytest.mark.parametrize(("number", "born", "gender"), EXAMPLES)
def test_valid_numbers_give_their_birth_date_and_gender(number: str, born: date, gender: str) -> None:
    assert idnumber.problem(number) is None
    assert idnumber.check_character(number[:17]) == number[17]
    assert (idnumber.birth_date(number), idnumber.gender(number)) == (born, gender)
    assert idnumber.disagreement(number, born, gender) is None


def test_the_check_characters_are_the_eleven_of_the_standard() -> None:
    seen = {idnumber.check_character(f"36073219831126{n:03d}") for n in range(1000)}
    assert seen == set("0123456789X")


def test_the_check_character_is_the_standards_weighted_sum() -> None:
    """The fast form (digits read in base 13) against GB 11643's definition, digit by digit."""
    rng = random.Random(11643)  # noqa: S311 - sample numbers, not secrets
    for _ in range(5000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        total = sum(int(digit) * (2 ** (17 - position) % 11) for position, digit in enumerate(first17))
        assert idnumber.check_character(first17) == "10X98765432"[total % 11]
    for bad in ("1234567890123456", "1234567890123456a", "12345678901234567 ", "+1234567890123456", "١" * 17):
        with pytest.raises(ValueError, match="not 17 digits"):
            idnumber.check_character(bad)


def test_lower_case_x_is_normalised_and_nothing_else_is() -> None:
    assert idnumber.normalize(" 11010519491231002x ") == "11010519491231002X"
    assert idnumber.is_valid("11010519491231002x")
    assert idnumber.normalize("110105194912310021") == "110105194912310021"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "has 17 characters"),
        ("1101051949123100Z2", "17 digits and a final digit or X"),
        ("110105194913310029", "no valid birth date"),
        ("110105194912310021", "fails its checksum (the check character should be X)"),
    ],
)
def test_malformed_numbers_say_why(number: str, reason: str) -> None:
    problem = idnumber.problem(number)
    assert problem is not None
    assert reason in problem


def test_disagreement_names_the_birth_date_or_the_gender() -> None:
    assert "gives birth date 1949-12-31, not 1949-12-30" in (
        idnumber.disagreement("11010519491231002X", date(1949, 12, 30), "F") or ""
    )
    assert "a woman's number but gender is M" in (
        idnumber.disagreement("11010519491231002X", date(1949, 12, 31), "M") or ""
    )
