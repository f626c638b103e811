"""docker-compose.yml cannot run here (no Docker engine on this machine): check what it promises
instead, statically. The replicas themselves are run for real by tests/api/test_replicas.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from api.settings import PROJECT_ROOT, Settings


def test_compose_runs_neo4j_5_26_community_and_the_api_after_its_health_check() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {name for name, service in services.items() if "profiles" not in service} == {"neo4j", "api"}

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


def test_the_replicas_profile_runs_two_identical_apis_behind_haproxy_that_follows_readiness() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = {name for name, service in services.items() if "replicas" in service.get("profiles", [])}
    assert replicas == {"api-2", "proxy"}
    api, second, proxy = services["api"], services["api-2"], services["proxy"]
    for key in ("build", "image", "environment", "depends_on", "healthcheck", "stop_grace_period"):
        assert second[key] == api[key], key
    assert second["ports"] == []  # only the proxy is published

    assert proxy["image"].split(":")[0] == "haproxy"
    assert proxy["ports"] == ["127.0.0.1:8080:8080"]
    assert proxy["depends_on"] == {name: {"condition": "service_healthy"} for name in ("api", "api-2")}
    source, target, _ = proxy["volumes"][0].split(":")
    assert target == "/usr/local/etc/haproxy/haproxy.cfg"
    config = (PROJECT_ROOT / source).read_text()
    lines = [line.split("#")[0].split() for line in config.splitlines()]
    servers = {words[1]: words[2] for words in lines if words[:1] == ["server"]}
    assert servers == {"api": "api:8000", "api-2": "api-2:8000"}
    assert all("check" in words for words in lines if words[:1] == ["server"])
    assert ["option", "httpchk", "GET", "/health/ready"] in lines and ["http-check", "expect", "status", "200"] in lines
    assert ["bind", ":8080"] in lines and ["timeout", "tunnel", "1h"] in lines  # subscriptions stay open
    assert ["retry-on", "conn-failure"] in lines  # never a request already sent

    # A replica stays unready long enough for the proxy to notice, and Docker waits for the drain
    # and the requests under way before it kills the process.
    check = next(words for words in lines if words[:1] == ["default-server"])
    noticed = int(check[check.index("inter") + 1].removesuffix("s")) * int(check[check.index("fall") + 1])
    environment = Settings.from_environment(
        {key: str(value) for key, value in api["environment"].items() if key.startswith("SHOUHU_SHUTDOWN")}
    )
    assert environment.shutdown_drain_seconds > noticed
    grace = int(api["stop_grace_period"].removesuffix("s"))
    assert grace > environment.shutdown_drain_seconds + environment.shutdown_timeout_seconds
