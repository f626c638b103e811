"""Settings read the environment once and refuse what would be unsafe."""

from __future__ import annotations

import os

import pytest

from api.settings import LOCAL_PASSWORD, Settings, SettingsError


def test_without_neo4j_uri_the_local_database_is_the_default() -> None:
    settings = Settings.from_environment({})
    assert settings.neo4j_uri == "bolt://127.0.0.1:7687"
    assert settings.neo4j_password == LOCAL_PASSWORD
    assert settings.neo4j_database == "neo4j"
    assert settings.local_database is not None
    assert str(settings.timezone) == "Asia/Shanghai"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_secrets_never_show_in_repr() -> None:
    settings = Settings.from_environment(
        {
            "NEO4J_URI": "neo4j+s://abc.databases.neo4j.io",
            "NEO4J_PASSWORD": "hunter2-very-secret",
            "SHOUHU_JWT_SECRET": "a-real-secret-of-at-least-32-bytes!!",
        }
    )
    assert settings.local_database is None
    assert "hunter2" not in repr(settings) and "a-real-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({"NEO4J_URI": "bolt://db:7687"}, "NEO4J_PASSWORD"),
        ({"SHOUHU_JWT_SECRET": "changeme"}, "SHOUHU_JWT_SECRET"),
        ({"SHOUHU_JWT_SECRET": "short"}, "SHOUHU_JWT_SECRET"),
        ({"SHOUHU_ENV": "production", "NEO4J_URI": "bolt://db:7687", "NEO4J_PASSWORD": "x" * 12}, "SHOUHU_JWKS_FILE"),
        ({"SHOUHU_ENV": "production"}, "NEO4J_URI"),
        (
            {
                "SHOUHU_ENV": "production",
                "NEO4J_URI": "bolt://db:7687",
                "NEO4J_PASSWORD": "x" * 12,
                "SHOUHU_JWKS_FILE": "/keys.json",
                "SHOUHU_JWT_SECRET": "y" * 40,
            },
            "SHOUHU_JWT_SECRET",
        ),
        ({"SHOUHU_TIMEZONE": "Mars/Olympus"}, "SHOUHU_TIMEZONE"),
        ({"SHOUHU_PORT": "eighty"}, "SHOUHU_PORT"),
        ({"SHOUHU_ENV": "staging"}, "SHOUHU_ENV"),
        ({"SHOUHU_WORKERS": "0"}, "SHOUHU_WORKERS"),
        ({"SHOUHU_WORKERS": "33"}, "SHOUHU_WORKERS"),
        ({"SHOUHU_WORKERS": "two"}, "SHOUHU_WORKERS"),
    ],
)
def test_unsafe_or_unusable_settings_fail_fast_naming_the_variable(environment: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_environment(environment)


def test_workers_default_to_one_and_auto_is_one_a_cpu() -> None:
    assert Settings.from_environment({}).workers == 1
    assert Settings.from_environment({"SHOUHU_WORKERS": "3"}).workers == 3
    assert Settings.from_environment({"SHOUHU_WORKERS": "auto"}).workers == (os.cpu_count() or 1)
