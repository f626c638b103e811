"""The generated reference pages are current, and what they say is read from the code."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

from click.testing import CliRunner

from api import docs
from api.cli import main
from api.settings import PROJECT_ROOT
from graph.bundle.records import KINDS
from graph.callers import Role
from graph.discovery import RULES, Level, Thresholds


def test_the_checked_in_pages_are_current() -> None:
    assert docs.stale() == [], "docs/generated is stale: run `.venv/bin/shouhu docs` and commit the result"
    result = CliRunner().invoke(main, ["docs", "--check"])
    assert result.exit_code == 0, result.output


def test_stale_names_a_changed_a_missing_and_a_leftover_page(tmp_path: Path) -> None:
    written = docs.write(tmp_path)
    assert sorted(path.name for path in written) == sorted(page.name for page in docs.PAGES)
    assert docs.stale(tmp_path) == []
    (tmp_path / "roles.md").write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "cli.md").unlink()
    (tmp_path / "old.md").write_text("a page no longer generated\n", encoding="utf-8")
    assert docs.stale(tmp_path) == ["cli.md", "old.md", "roles.md"]
    docs.write(tmp_path)
    assert docs.stale(tmp_path) == []
    assert not (tmp_path / "old.md").exists()


def test_rule_levels_and_thresholds_are_read_from_each_rules_cypher() -> None:
    assert docs.rule_levels("REPORT_UNHANDLED") == (Level.RED, Level.YELLOW)
    assert docs.rule_levels("CONTACT_LAPSE") == (Level.YELLOW, Level.BLUE)
    assert docs.rule_levels("NO_CAREGIVER") == (Level.RED,)
    assert docs.rule_thresholds("VISIT_OVERDUE") == ("visit_blue_days", "visit_yellow_days")
    assert docs.rule_thresholds("CAREGIVER_INCAPABLE") == ("caregiver_age",)
    assert docs.rule_thresholds("OUT_OF_SCHOOL") == ()
    assert all(docs.rule_levels(rule) for rule in RULES)
    # Every configurable number is read by some rule: none is passed and then ignored.
    read = {threshold for rule in RULES for threshold in docs.rule_thresholds(rule)}
    assert read == {field.name for field in fields(Thresholds)}


def test_the_pages_cover_every_kind_field_rule_role_and_command() -> None:
    pages = docs.render()
    kinds = pages["record-kinds.md"]
    for kind in KINDS.values():
        assert f"\n## {kind.name}\n" in kinds
        for field in kind.fields:
            assert f"| `{field.name}` | {field.type} |" in kinds
    rules = pages["discovery-rules.md"]
    assert "| `CONTACT_LAPSE` | yellow, blue | `contact_blue_days` = 7<br>`contact_yellow_days` = 30 |" in rules
    assert all(f"**{rule}** (" in rules for rule in RULES)
    roles = pages["roles.md"]
    assert all(f"| `{role.value}` |" in roles for role in Role)
    assert "| `coordinator` | `region` | its county or above | the region's subtree | whole | whole |" in roles
    assert "| `guardianship` | query |  |  | x | x |  |  |  | x |" in roles, "the access table is not rendered"
    cli = pages["cli.md"]
    for path in ("shouhu", "shouhu db start", "shouhu import", "shouhu discover", "shouhu docs"):
        assert f"## `{path}`\n\n```text\nUsage: {path} " in cli
    assert str(PROJECT_ROOT) not in "".join(pages.values())


LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
ANCHOR = re.compile(r'<a id="([^"]+)">')
#: A path into docs/ named in code, the SDL or a page (`docs/access.md`, "docs/graphql.md, Errors").
DOCS_PATH = re.compile(r"docs/[a-z/-]+\.md")


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    slugs = {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in HEADING.findall(text)}
    return slugs | set(ANCHOR.findall(text))


def _pages() -> list[Path]:
    return [
        PROJECT_ROOT / "README.md",
        PROJECT_ROOT / "graph" / "MODEL.md",
        PROJECT_ROOT / "bench" / "README.md",
        *sorted((PROJECT_ROOT / "docs").rglob("*.md")),
    ]


def test_every_link_between_the_pages_resolves() -> None:
    broken = []
    for page in _pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(PROJECT_ROOT)}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{page.relative_to(PROJECT_ROOT)}: {target} (no such heading)")
    assert broken == []


def test_every_docs_page_the_code_names_exists() -> None:
    code = [
        path
        for folder in ("api", "graph", "schema", "tests", "bench")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
    ]
    named = {
        (match, source.relative_to(PROJECT_ROOT).as_posix())
        for source in [*code, PROJECT_ROOT / "schema.graphql", *_pages()]
        for match in DOCS_PATH.findall(source.read_text(encoding="utf-8"))
    }
    assert named, "the code names no docs page: the pattern no longer matches"
    assert sorted(f"{source}: {path}" for path, source in named if not (PROJECT_ROOT / path).is_file()) == []


def test_every_environment_variable_the_settings_read_is_documented() -> None:
    source = (PROJECT_ROOT / "api" / "settings.py").read_text(encoding="utf-8")
    read = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"(NEO4J|SHOUHU)_[A-Z0-9_]+", node.value)
    }
    assert {"NEO4J_URI", "SHOUHU_JWKS_FILE", "SHOUHU_NEO4J_TX_TIMEOUT"} <= read
    documented = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert sorted(name for name in read if f"`{name}`" not in documented) == []


def test_every_command_is_described_in_the_cli_guide() -> None:
    guide = (PROJECT_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = sorted(name for name in main.commands if f"| `shouhu {name}" not in guide)
    assert missing == [], "add a row for each to the table in docs/cli.md (and run `shouhu docs`)"


def test_the_api_page_names_every_root_field_and_lists_none_offered_as_missing() -> None:
    from schema.schema import build_schema

    schema = build_schema()._schema
    roots = [root for root in (schema.query_type, schema.mutation_type, schema.subscription_type) if root]
    fields = {name for root in roots for name in root.fields}
    page = (PROJECT_ROOT / "docs" / "graphql.md").read_text(encoding="utf-8")
    described, _, not_yet = page.partition("## Not yet offered")
    assert sorted(name for name in fields if f"`{name}`" not in described and f"`{name}(" not in described) == []
    assert sorted(name for name in fields if f"`{name}`" in not_yet) == [], "offered now: drop from 'Not yet offered'"
