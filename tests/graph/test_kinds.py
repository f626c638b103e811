"""The table of kinds is complete: what a kind declares is what the importer, the exporter,
the API and the access table serve, so a kind added to the table cannot be half there."""

from __future__ import annotations

from graph import access, care, migrations
from graph.bundle import exporter, importer
from graph.bundle.records import KINDS
from schema.schema import build_schema


def test_every_stored_kind_is_written_by_the_import_and_read_by_the_export() -> None:
    stored = {name for name, kind in KINDS.items() if kind.store is not None}
    assert set(importer.QUERIES[importer.ENTITIES]) | set(importer.QUERIES[importer.LINKS]) == stored
    exported = {k.name for k in (*exporter.EDGES.values(), *exporter.INTERVAL_NODES.values())}
    assert exported | set(exporter.LABELS.values()) == stored
    constraints = {name for name, _ in migrations.STATEMENTS}
    for kind in KINDS.values():
        if kind.store is not None and kind.store.unique is not None:
            assert kind.store.unique[0] in constraints, kind.name


def test_every_kept_interval_kind_has_its_mutations_in_the_schema_and_a_row_in_the_access_table() -> None:
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    for name, kind in KINDS.items():
        if kind.mutations is None:
            continue
        assert kind.interval, f"{name}: only interval kinds are kept through the API"
        spec = care.SPECS[name]
        for operation in (kind.mutations.record, kind.mutations.end):
            assert operation in mutation.fields, operation
            rule = access.RULES.get(operation)
            assert rule is not None and rule.kind is access.Kind.MUTATION and rule.roles, f"{operation}: no access row"
        assert spec.anchor in spec.identity and all(field in kind.names for field in spec.identity)
