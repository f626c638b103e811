"""Sweeps persist findings as alerts: raised, escalated, acknowledged with a note, resolved."""

from __future__ import annotations

import pytest

from graph import alerts
from graph.discovery import Level, Thresholds
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput
from tests import factories as f
from tests.graph.discovery_helpers import day, left_behind_child, world


async def _sweep(g: Graph, offset: int) -> alerts.SweepResult:
    return await alerts.sweep(
        g, region_prefix="360732", scope_prefix="36", as_of=day(offset), thresholds=Thresholds(), by="sweeper"
    )


async def test_a_finding_lives_as_one_alert_from_raised_to_resolved_with_its_history(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await left_behind_child(g, "lapse", contact=day(-10))  # CONTACT_LAPSE blue at D
    await left_behind_child(g, "fine")

    first = await _sweep(g, 0)
    assert len(first.raised) == 1 and not first.escalated and not first.resolved
    (alert,) = await alerts.list_alerts(g, region_prefix="360732", scope_prefix="")
    assert (alert.child_id, alert.rule, alert.level, alert.status) == ("lapse", "CONTACT_LAPSE", Level.BLUE, "open")
    last, changes = await alerts.changes_since_last_sweep(g, region_prefix="360732", scope_prefix="")
    assert last == first.id and [(c.change, c.child_id) for c in changes] == [("raised", "lapse")]

    again = await _sweep(g, 0)  # nothing changed: nothing new
    assert again.raised == again.escalated == again.resolved == ()
    assert (await alerts.changes_since_last_sweep(g, region_prefix="360732", scope_prefix=""))[1] == []

    # 25 days later the lapse is yellow (35 days) and the other child's is blue (26 days).
    later = await _sweep(g, 25)
    assert later.escalated == (alert.id,) and len(later.raised) == 1
    _, changes = await alerts.changes_since_last_sweep(g, region_prefix="360732", scope_prefix="")
    assert sorted((c.change, c.child_id, c.level.value) for c in changes) == [
        ("escalated", "lapse", "yellow"),
        ("raised", "fine", "blue"),
    ]

    with pytest.raises(InvalidInput) as raised:
        await alerts.acknowledge(g, alert.id, note="  ", by="worker", scope_prefix="")
    assert raised.value.field == "note"
    acknowledged = await alerts.acknowledge(g, alert.id, note="called the father", by="worker", scope_prefix="")
    assert acknowledged.status == "acknowledged"
    with pytest.raises(Conflict):
        await alerts.acknowledge(g, alert.id, note="again", by="worker", scope_prefix="")

    await f.contact(g, "lapse-F", "lapse", day(26))
    resolved = await _sweep(g, 26)
    assert resolved.resolved == (alert.id,) and resolved.raised == resolved.escalated == ()
    done = await alerts.get_alert(g, alert.id, scope_prefix="3607")
    assert done is not None and done.status == "resolved" and done.resolved_on == day(26)
    assert [(h.change, h.status, h.level.value) for h in done.history] == [
        ("raised", "open", "blue"),
        ("escalated", "open", "yellow"),
        ("acknowledged", "acknowledged", "yellow"),
        ("resolved", "resolved", "yellow"),
    ]
    assert done.history[2].note == "called the father" and done.history[3].on == day(26)

    assert [
        a.child_id for a in await alerts.list_alerts(g, region_prefix="360732", scope_prefix="", status="open")
    ] == ["fine"]
    assert await alerts.list_alerts(g, region_prefix="360732", scope_prefix="360732101") == []
    assert await alerts.get_alert(g, alert.id, scope_prefix="360732101") is None
