from graph import migrations
from graph.driver import Graph


async def test_every_constraint_and_index_is_in_place_and_reapplying_is_a_no_op(graph: Graph) -> None:
    assert await migrations.missing(graph) == frozenset()
    await migrations.apply(graph)
    assert await migrations.missing(graph) == frozenset()
    # In one transaction (the offline load's way) too.
    assert await migrations.apply(graph, together=True, wait=60) == [name for name, _ in migrations.STATEMENTS]
    assert await migrations.missing(graph) == frozenset()
    records = await graph.read("SHOW CONSTRAINTS YIELD name, type WHERE name = 'person_id_number' RETURN type")
    assert records[0]["type"] == "UNIQUENESS"
