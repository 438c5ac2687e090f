"""The project-wide phase: rules that need every file's facts (key governance)."""

from __future__ import annotations

from typing import Any

from attrlint.lint.engine import Linter
from attrlint.lint.diagnostics import FileResult, Finding


def run_project_rules(linter: Linter, results: list[FileResult], *, today: Any = None) -> list[Finding]:
    from attrlint.lint.rules.governance import PROJECT_CHECKS

    findings: list[Finding] = []
    for check in PROJECT_CHECKS:
        if check.code in linter.codes:
            findings.extend(check.run(linter, results, today=today))
    from attrlint.lint.project.wrappers import check_wrapper_calls

    findings.extend(check_wrapper_calls(linter, results))
    return findings
