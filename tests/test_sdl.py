"""schema.graphql is the clients' contract: it must be what the code serves."""

from __future__ import annotations

from api.cli import SDL_PATH
from schema.schema import build_schema


def test_checked_in_sdl_is_current() -> None:
    current = build_schema().as_str() + "\n"
    assert SDL_PATH.exists(), "schema.graphql is missing: run `shouhu schema`"
    assert SDL_PATH.read_text(encoding="utf-8") == current, "schema.graphql is stale: run `shouhu schema`"
