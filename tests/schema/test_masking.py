"""Masking and cursors: pure functions, every boundary the masking and pagination rules state."""

from __future__ import annotations

import datetime as dt

import pytest

from api.settings import Limits
from graph.callers import Caller, Role
from graph.errors import InvalidInput
from schema.masking import mask_id_number, mask_phone
from schema.pagination import decode_cursor, encode_cursor, page_size


@pytest.mark.parametrize("role", list(Role))
def test_id_numbers_are_masked_for_every_role_but_coordinator_and_admin(role: Role) -> None:
    caller = Caller("x", role, "360732000000")
    masked = mask_id_number("36073220150301002X", caller)
    phone = mask_phone("13912345678", caller)
    if role in {Role.COORDINATOR, Role.ADMIN}:
        assert (masked, phone) == ("36073220150301002X", "13912345678")
    else:
        assert masked == "360732" + "*" * 11 + "X"
        assert phone == "*******5678"


def test_short_and_absent_values() -> None:
    director = Caller("x", Role.CHILDREN_DIRECTOR, "360732100201")
    assert mask_id_number(None, director) is None and mask_phone(None, director) is None
    assert mask_id_number("1234567", director) == "*******"
    assert mask_phone("5678", director) == "****"
    assert mask_phone("0797-1234", director) == "*****1234"


def test_cursors_round_trip_and_refuse_another_sort() -> None:
    cursor = encode_cursor("birth_date", dt.date(2015, 3, 1), "C1")
    assert decode_cursor(cursor, "birth_date", dated=True) == (dt.date(2015, 3, 1), "C1")
    assert decode_cursor(encode_cursor("name", "张小一", "C1"), "name") == ("张小一", "C1")
    assert decode_cursor(None, "id") is None
    for bad in (cursor, "!!!", "W10", encode_cursor("id", None, "C1")[:-2]):
        with pytest.raises(InvalidInput) as raised:
            decode_cursor(bad, "id")
        assert raised.value.field == "after"


@pytest.mark.parametrize(("first", "size"), [(None, 50), (1, 1), (500, 500)])
def test_page_sizes(first: int | None, size: int) -> None:
    assert page_size(first, Limits()) == size


@pytest.mark.parametrize("first", [0, -1, 501])
def test_page_sizes_out_of_range(first: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        page_size(first, Limits())
    assert raised.value.field == "first"
