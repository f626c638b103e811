"""docker-compose.yml cannot run here (no Docker engine); check what it promises instead."""

from __future__ import annotations

from pathlib import Path

import yaml

from api.settings import PROJECT_ROOT


def test_compose_runs_neo4j_5_26_community_and_the_api_after_its_health_check() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"neo4j", "api"}

    neo4j = services["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "127.0.0.1:7687:7687" in neo4j["ports"]
    assert any(volume.endswith(":/data") for volume in neo4j["volumes"])
    assert "RETURN 1" in " ".join(neo4j["healthcheck"]["test"])
    assert neo4j["environment"]["NEO4J_AUTH"].startswith("neo4j/")
    assert neo4j["environment"]["NEO4J_dbms_security_allow__csv__import__from__file__urls"] == "false"

    api = services["api"]
    assert api["build"] == "."
    assert api["depends_on"] == {"neo4j": {"condition": "service_healthy"}}
    environment = api["environment"]
    assert environment["NEO4J_URI"] == "bolt://neo4j:7687"
    assert {"NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "SHOUHU_JWT_SECRET", "SHOUHU_TIMEZONE"} <= set(
        environment
    )
    assert environment["SHOUHU_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert "127.0.0.1:8000:8000" in api["ports"]
    assert "/health/ready" in " ".join(api["healthcheck"]["test"])
    assert "neo4j-data" in compose["volumes"]


def test_the_api_image_is_built_from_this_repository() -> None:
    dockerfile = Path(PROJECT_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.11")
    assert 'CMD ["shouhu", "serve"]' in dockerfile
    assert "USER shouhu" in dockerfile
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), f"the Dockerfile copies {source}, which is not in the checkout"
                assert source not in ignored


def test_the_image_installs_from_the_lock_and_keeps_the_checkout_layout() -> None:
    dockerfile = Path(PROJECT_ROOT / "Dockerfile").read_text()
    installs = [line for line in dockerfile.replace("\\\n", " ").splitlines() if "pip install" in line]
    assert len(installs) == 2
    assert "--require-hashes -r requirements.lock" in installs[0]
    # The project itself adds nothing unlocked, and is installed in place so that its root
    # (schema.graphql, .shouhu) is /app, laid out as the checkout is.
    assert "--no-deps" in installs[1] and " -e ." in installs[1]
    assert "WORKDIR /app" in dockerfile
    assert "COPY pyproject.toml README.md schema.graphql ./" in dockerfile
