"""Every rule's own examples are test cases, and every rule is documented the same way."""

from __future__ import annotations

import json

import pytest

from attrlint.core.config import Config
from attrlint.lint.engine import Linter
from attrlint.lint.suppression import Options
from attrlint.lint.rules import Phase, all_rules

RULES = all_rules()
FILE_RULES = [r for r in RULES if Phase.FILE in r.phases and r.code != "ATR000"]


def _cases(kind: str, rules):
    return [pytest.param(r, source, id=f"{r.code}-{kind}-{i}")
            for r in rules for i, source in enumerate(getattr(r, kind))]


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(Config(), Options(strict=True, extend_select=("ATR900",)))


def test_the_rule_set_is_the_documented_one():
    assert [r.code for r in RULES] == [
        "ATR000", "ATR001", "ATR002", "ATR003", "ATR004", "ATR006", "ATR007", "ATR008",
        "ATR101", "ATR102", "ATR103", "ATR104", "ATR105", "ATR106", "ATR201", "ATR202", "ATR900",
    ]
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", FILE_RULES + [r for r in RULES if r.code == "ATR000"], ids=lambda r: r.code)
def test_every_per_file_rule_has_examples(rule):
    assert rule.invalid, f"{rule.code} has no invalid example"
    assert rule.valid, f"{rule.code} has no valid example"


@pytest.mark.parametrize(("rule", "source"), _cases("invalid", FILE_RULES))
def test_invalid_example_is_reported(linter, rule, source):
    found = [f.code for f in linter.lint_text(source, "example.py").findings]
    assert rule.code in found, f"{rule.code} not reported; got {found}"


@pytest.mark.parametrize(("rule", "source"), _cases("valid", FILE_RULES))
def test_valid_example_is_not_reported(linter, rule, source):
    found = [f for f in linter.lint_text(source, "example.py").findings if f.code == rule.code]
    assert not found, [f"{f.line}:{f.column} {f.message}" for f in found]


def test_atr000_examples(linter):
    from attrlint.lint.rules.syntax import Unparsable

    for source in Unparsable.invalid:
        assert "ATR000" in [f.code for f in linter.lint_text(source, "x.py").findings]
        assert "ATR000" in [f.code for f in linter.lint_bytes(source.encode(), "x.py").findings]
    for source in Unparsable.valid:
        assert "ATR000" not in [f.code for f in linter.lint_text(source, "x.py").findings]


SECTIONS = ("What it does", "Why it matters", "Example", "Use instead", "Fix safety")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_documentation_has_every_section(rule):
    doc = rule.documentation()
    lines = doc.splitlines()
    assert lines[0] == f"{rule.code} {rule.name}"
    positions = [lines.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "sections out of order"
    for section, start in zip(SECTIONS, positions):
        body = lines[start + 1] if start + 1 < len(lines) else ""
        assert body.strip(), f"{rule.code}: section {section!r} is empty"
    for attr in ("summary", "what", "why", "example", "instead", "fix_safety"):
        assert getattr(rule, attr).strip(), f"{rule.code}.{attr} is empty"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_command_prints_the_documentation(run_cli, rule):
    result = run_cli("rule", rule.code.lower())
    assert result.exit_code == 0
    assert result.stdout.strip() == rule.documentation().strip()


def test_rule_command_unknown_code_exits_2(run_cli):
    result = run_cli("rule", "ATR999")
    assert result.exit_code == 2
    assert "ATR999" in result.stderr


def test_rules_lists_every_rule(run_cli):
    result = run_cli("rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [r.code for r in RULES]
    for line, rule in zip(lines, RULES):
        assert rule.name in line and rule.summary in line
    as_json = json.loads(run_cli("rules", "--format", "json").stdout)
    assert [r["code"] for r in as_json] == [r.code for r in RULES]
    assert {r["code"] for r in as_json if r["fixable"]} == {"ATR003", "ATR102", "ATR900"}
    assert {r["code"] for r in as_json if r["unsafe_fix"]} == {"ATR102"}
    assert {r["code"] for r in as_json if not r["default"]} == {"ATR900"}  # fail closed: ATR008 is on by default
    assert {r["code"] for r in as_json if r["project_wide"]} == {"ATR103", "ATR104", "ATR105"}
    markdown = run_cli("rules", "--format", "markdown").stdout
    for rule in RULES:
        assert f"| {rule.code} | {rule.name} |" in markdown
