"""Masking and cursors: pure functions, every boundary the masking and pagination rules state."""

from __future__ import annotations

import datetime as dt

import pytest

from api.settings import Limits
from graph.callers import Caller, Role
from graph.errors import InvalidInput
from schema.masking import mask_id_number, mask_phone
from schema.pagination import decode_cursor, encode_cursor, page_size

#: docs/access.md: ID numbers whole for coordinators and admins; phones whole for the roles who call families.
WHOLE_ID_NUMBERS = {Role.COORDINATOR, Role.ADMIN}
WHOLE_PHONES = {Role.CHILDREN_DIRECTOR, Role.CHILDREN_SUPERVISOR, Role.CASE_WORKER, Role.COORDINATOR, Role.ADMIN}


@pytest.mark.parametrize("role", list(Role))
def test_id_numbers_and_phones_are_masked_as_access_md_says(role: Role) -> None:
    caller = Caller("x", role, "360732000000")
    masked = mask_id_number("36073220150301002X", caller)
    phone = mask_phone("13912345678", caller)
    assert masked == ("36073220150301002X" if role in WHOLE_ID_NUMBERS else "360732" + "*" * 11 + "X")
    assert phone == ("13912345678" if role in WHOLE_PHONES else "*******5678")


def test_short_and_absent_values() -> None:
    integrator = Caller("x", Role.INTEGRATOR, "360732100201")
    assert mask_id_number(None, integrator) is None and mask_phone(None, integrator) is None
    assert mask_id_number("1234567", integrator) == "*******"
    assert mask_phone("5678", integrator) == "****"
    assert mask_phone("0797-1234", integrator) == "*****1234"


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
