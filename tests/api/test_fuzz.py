"""A short schemathesis run inside `make test` (`make fuzz` runs the long one): no 5xx, no INTERNAL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from api.settings import Settings
from graph.driver import Graph
from tests.conftest import wipe
from tests.fuzz import Budget, run_all
from tests.fuzz_checks import EDGE_DATES, shouhu_no_internal
from tests.live import LiveServer
from tests.schema.conftest import COUNTY, TOWNSHIP, V1, V2, V3, build_world

#: The ids build_world writes, for the fuzzer's dictionaries.
SEEDED = {
    "regions": [V1, V2, V3, TOWNSHIP, COUNTY, COUNTY[:4] + "0" * 8, COUNTY[:2] + "0" * 10],
    "persons": ["C1", "C2", "C3", "C4", "G1", "F1", "M1", "S1", "C1X"],
    "institutions": ["I1", "I2"],
    "households": ["H1", "H2", "H3", "H4"],
    "cases": ["K1", "K2"],
    "ids": ["C1", "C2", "H1", "I1", "K1"],
    "dates": list(EDGE_DATES),
}
#: Two cases per operation and caller, in one pass: about 160 a caller. Counting cases
#: rather than seconds keeps the run from ending empty when the machine is loaded.
BUDGET = Budget(seconds=600, examples=2)


@pytest.fixture
async def seeded_world(graph: Graph) -> AsyncIterator[Graph]:
    await wipe(graph)
    await build_world(graph)
    yield graph
    # The admin's generated mutations wrote into it.
    await wipe(graph)


async def test_a_short_fuzz_finds_no_server_error_and_no_internal(
    seeded_world: Graph, live: LiveServer, settings: Settings
) -> None:
    runs = run_all(live, settings, BUDGET, SEEDED)
    assert [run.caller for run in runs] == ["admin", "children_director"]
    for run in runs:
        assert run.cases > 0, run.output[-3000:]
        assert run.failures == [], run.output[-5000:]


def _response(status: int, body: object) -> SimpleNamespace:
    return SimpleNamespace(status_code=status, json=lambda: body)


@pytest.mark.parametrize(
    ("status", "body", "passes"),
    [
        (200, {"data": {"child": None}}, True),
        (200, {"data": None, "errors": [{"message": "x", "extensions": {"code": "FORBIDDEN"}}]}, True),
        (413, {"data": None, "errors": [{"message": "x", "extensions": {"code": "LIMIT_EXCEEDED"}}]}, True),
        (200, {"data": None, "errors": [{"message": "Internal error.", "extensions": {"code": "INTERNAL"}}]}, False),
        (200, {"data": None, "errors": [{"message": "no code"}]}, False),
        (500, {"data": None}, False),
        (200, ["not", "graphql"], False),
    ],
)
def test_the_fuzz_check_fails_what_it_must(status: int, body: object, passes: bool) -> None:
    try:
        shouhu_no_internal(None, _response(status, body), None)
    except AssertionError:
        assert not passes
    else:
        assert passes
