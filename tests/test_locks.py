"""The locks install what pyproject.toml asks for, each package pinned and hashed, and the
Maven jars are checked against their recorded sha256."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from api.settings import PROJECT_ROOT
from graph import localdb

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)")


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of a `--generate-hashes` requirements file."""
    found: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            assert current not in found, f"{lock.name}: {current} pinned twice"
            found[current] = (match["version"], 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{lock.name}: unexpected line {line!r}")
    return found


def pyproject() -> dict[str, object]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def requirements(*sections: str) -> list[Requirement]:
    data = pyproject()
    project = data["project"]
    build = data["build-system"]
    assert isinstance(project, dict) and isinstance(build, dict)
    chosen: list[str] = list(build["requires"])
    for section in sections:
        chosen += project["dependencies"] if section == "runtime" else project["optional-dependencies"][section]
    return [Requirement(text) for text in chosen]


@pytest.mark.parametrize(
    ("lock", "sections"), [("requirements.lock", ("runtime",)), ("requirements-dev.lock", ("runtime", "dev"))]
)
def test_each_requirement_is_pinned_in_the_lock_at_a_version_it_allows(lock: str, sections: tuple[str, ...]) -> None:
    locked = pins(PROJECT_ROOT / lock)
    assert all(hashes > 0 for _, hashes in locked.values()), "every pin carries its hashes"
    stale = [
        str(requirement)
        for requirement in requirements(*sections)
        if canonicalize_name(requirement.name) not in locked
        or not requirement.specifier.contains(locked[canonicalize_name(requirement.name)][0], prereleases=True)
    ]
    assert stale == [], f"{lock} does not satisfy pyproject.toml (run `make lock`): {stale}"


def test_the_runtime_lock_is_the_dev_lock_without_the_tools() -> None:
    runtime = {name: version for name, (version, _) in pins(PROJECT_ROOT / "requirements.lock").items()}
    dev = {name: version for name, (version, _) in pins(PROJECT_ROOT / "requirements-dev.lock").items()}
    assert {name: dev.get(name) for name in runtime} == runtime
    assert {"ruff", "mypy", "pytest"} <= dev.keys() - runtime.keys()


def test_the_tools_that_judge_the_code_are_pinned_exactly() -> None:
    exact = {canonicalize_name(r.name): str(r.specifier) for r in requirements("dev")}
    for tool in ("ruff", "mypy", "pytest", "pytest-asyncio"):
        pin = exact[canonicalize_name(tool)]
        assert re.fullmatch(r"==[0-9][^,*]*", pin), f"{tool} is pinned loosely: {pin}"


def test_the_install_stamp_depends_on_the_lock_and_installs_only_from_it() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    rule = re.search(r"^\$\(INSTALLED\):(?P<prerequisites>.*)\n(?P<recipe>(?:\t.*\n)+)", makefile, re.MULTILINE)
    assert rule is not None
    assert "$(DEV_LOCK)" in rule["prerequisites"]
    assert re.search(r"^DEV_LOCK := requirements-dev\.lock$", makefile, re.MULTILINE)
    installs = [line for line in rule["recipe"].splitlines() if "pip install" in line]
    assert installs[0].strip().endswith("--require-hashes -r $(DEV_LOCK)")
    assert all("--require-hashes" in line or "--no-deps" in line for line in installs)


def test_the_jars_are_checked_against_their_recorded_sha256(tmp_path: Path) -> None:
    lib = localdb.build() / "lib"
    localdb.verify_artifacts(lib)  # what the build produced is what the list records

    tampered = tmp_path / "lib"
    tampered.mkdir()
    jars = sorted(lib.glob("*.jar"))
    for jar in jars[1:]:
        (tampered / jar.name).symlink_to(jar)
    (tampered / "extra-1.0.jar").write_bytes(b"PK not a real jar")
    with pytest.raises(localdb.LocalDatabaseError) as refused:
        localdb.verify_artifacts(tampered)
    assert f"missing {jars[0].name}" in str(refused.value)
    assert "not recorded: extra-1.0.jar" in str(refused.value)

    (tampered / "extra-1.0.jar").unlink()
    (tampered / jars[0].name).write_bytes(jars[0].read_bytes() + b"\0")
    with pytest.raises(localdb.LocalDatabaseError, match=f"sha256 differs: {re.escape(jars[0].name)}"):
        localdb.verify_artifacts(tampered)
