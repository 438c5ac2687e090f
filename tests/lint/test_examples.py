"""The examples/ project breaks every rule once: `attrlint check examples/` shows them all."""

from __future__ import annotations

import json

from support.cli import ROOT

from attrlint.lint.rules import Phase, all_rules

TODAY = "2026-11-26"


def test_examples_report_every_rule(run_cli):
    result = run_cli("check", "examples/", "--today", TODAY, "--format", "json", cwd=ROOT)
    assert result.exit_code == 1, result.stderr
    found = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert found == {r.code for r in all_rules() if Phase.POLICY not in r.phases}  # PR mode needs git history
    assert found == {"ATR000", "ATR001", "ATR002", "ATR003", "ATR004", "ATR006", "ATR007", "ATR008",
                     "ATR101", "ATR102", "ATR103", "ATR104", "ATR105", "ATR106", "ATR900"}
    assert "ATR005" not in found


def test_examples_findings_sit_where_the_comments_say(run_cli):
    """Each `# ATRnnn` comment in an example file names a finding on one of the next lines."""
    result = run_cli("check", "examples/", "--today", TODAY, "--format", "json", cwd=ROOT)
    findings = json.loads(result.stdout)["findings"]
    for path in sorted((ROOT / "examples").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if not line.lstrip().startswith("# ATR"):
                continue
            code = line.lstrip()[2:8]
            near = [f for f in findings if f["path"] == rel and f["code"] == code
                    and number < f["line"] <= number + 8]
            assert near, f"{rel}:{number}: no {code} below the comment"


def test_examples_text_summary(run_cli):
    result = run_cli("check", "examples/", "--today", TODAY, cwd=ROOT)
    assert result.stdout.splitlines()[-1] == (
        "Found 25 findings in 7 files checked. 3 fixable with `attrlint check --fix`.")
