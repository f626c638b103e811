"""graph/MODEL.md's record-kind tables are what the table of kinds says (as schema.graphql is
what the schema says)."""

from __future__ import annotations

from graph import model
from graph.bundle.records import KINDS


def test_the_model_documentation_is_generated_from_the_table_of_kinds() -> None:
    text = model.MODEL.read_text(encoding="utf-8")
    assert text == model.render(text), "graph/MODEL.md is stale: run `.venv/bin/shouhu docs`"
    # Every stored kind has its row, under its label or relationship type.
    for kind in KINDS.values():
        if kind.store is not None:
            assert f"| {kind.name} | `" in text and kind.store.label in text, kind.name
