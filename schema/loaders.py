"""Per-request DataLoaders: every nested field is fetched by level, one round trip per level.

Each loader batches the keys asked for during one tick into one repository call, whose Cypher
carries the caller's scope.
"""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from api.auth import Caller
from graph import regions
from graph.driver import Graph


class Loaders:
    def __init__(self, graph: Graph, caller: Caller) -> None:
        self.graph = graph
        self.caller = caller
        self.region = DataLoader[str, regions.RegionRecord | None](self._load_regions)
        self.child_regions = DataLoader[str, list[regions.RegionRecord]](self._load_child_regions)

    async def _load_regions(self, codes: Sequence[str]) -> list[regions.RegionRecord | None]:
        found = await regions.get_regions(self.graph, list(codes), scope=self.caller.scope)
        return [found.get(code) for code in codes]

    async def _load_child_regions(self, codes: Sequence[str]) -> list[list[regions.RegionRecord]]:
        found = await regions.child_regions(self.graph, list(codes), scope=self.caller.scope)
        return [found[code] for code in codes]
