"""The case-work rules that need no database: the stage and status machines as docs/graphql.md states
them, due-date defaults, input checked by the bundle's own line rules, idempotency keys."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import cases, idempotency, referrals, writes
from graph.errors import InvalidInput

TODAY = dt.date(2026, 6, 15)


def test_stages_move_forward_only_skipping_only_emergency_response_and_closed_is_final() -> None:
    order = ["reported", "emergency_response", "assessment", "intervention"]
    for current in [*order, "closed"]:
        for target in [*order, "closed"]:
            if current == "closed":
                expected = False
            elif target == "closed":
                expected = True
            else:
                step = order.index(target) - order.index(current)
                expected = step == 1 or (current, target) == ("reported", "assessment")
            assert (target in cases.NEXT[current]) is expected, (current, target)


def test_referral_status_machine() -> None:
    allowed = {(a, b) for a, targets in referrals.NEXT.items() for b in targets}
    assert allowed == {
        ("pending", "accepted"),
        ("pending", "declined"),
        ("pending", "withdrawn"),
        ("accepted", "completed"),
        ("accepted", "withdrawn"),
    }
    assert set(referrals.DECISIONS.values()) == {"accepted", "declined", "completed", "withdrawn"}


@pytest.mark.parametrize(("urgency", "days"), [("immediate", 1), ("high", 3), ("normal", 7)])
def test_due_dates_default_by_urgency(urgency: str, days: int) -> None:
    assert referrals.due_on(TODAY, urgency) == TODAY + dt.timedelta(days=days)


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("visit", {"visitor": "D1", "child": "C1", "on": TODAY, "type": "house_call"}, "type"),
        ("visit", {"visitor": "D1", "child": "C1", "on": TODAY + dt.timedelta(days=1), "type": "home_visit"}, "on"),
        ("visit", {"visitor": "D1", "child": "C1", "on": TODAY, "type": "home_visit", "mood": "ok"}, "mood"),
        ("care", {"caregiver": "C1", "child": "C1", "since": TODAY}, "caregiver"),
        ("care", {"caregiver": "G1", "child": "C1", "since": TODAY, "until": TODAY - dt.timedelta(days=1)}, "until"),
        (
            "away",
            {"person": "F1", "since": TODAY, "destination": "深圳", "destinationRegion": "4403"},
            "destinationRegion",
        ),
        ("guardian", {"guardian": "F1", "child": "C1", "since": TODAY}, "basis"),
    ],
)
def test_mutation_input_is_checked_by_the_bundle_line_rules(kind: str, fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        writes.validate_as(kind, fields, today=TODAY)
    assert refused.value.field == field
    assert not refused.value.reason.startswith(f"{field}:")


def test_valid_input_comes_back_typed() -> None:
    data = writes.validate_as("contact", {"from": "F1", "child": "C1", "on": TODAY, "channel": "video"}, today=TODAY)
    assert data == {"from": "F1", "child": "C1", "on": TODAY, "channel": "video"}


def test_idempotency_keys_belong_to_a_caller_and_an_operation() -> None:
    assert idempotency.stored_key("W1", "openCase", "k") != idempotency.stored_key("W2", "openCase", "k")
    assert idempotency.stored_key("W1", "openCase", "k") != idempotency.stored_key("W1", "referCase", "k")
    for bad in ("", "   ", "x" * (idempotency.MAX_KEY_LENGTH + 1)):
        with pytest.raises(InvalidInput):
            idempotency.stored_key("W1", "openCase", bad)
    assert writes.fingerprint({"a": 1, "b": TODAY}) == writes.fingerprint({"b": TODAY, "a": 1})
    assert writes.fingerprint({"a": 1}) != writes.fingerprint({"a": 2})
