"""The project-wide phase: the rules that need every file's facts at once.

1. Key governance (ATR103-ATR105) from every file's key references.
2. Project-wide inference over every file's module summary: LLM calls that only the whole
   project can recognise or judge, wrapper inference, and every wrapper call site, judged by
   the rules that run there (ATR001, ATR002, ATR004, ATR008).

Every finding passes through the context's `Suppressor`, like per-file findings do.
"""

from __future__ import annotations

from attrlint.lint.diagnostics import Finding
from attrlint.lint.project.context import ProjectContext
from attrlint.lint.project.wrappers import check_project_calls
from attrlint.lint.rules import Phase, all_rules


def run_project_phase(ctx: ProjectContext) -> list[Finding]:
    findings: list[Finding] = []
    rules = [r for r in all_rules() if r.code in ctx.codes]
    for rule in rules:
        if Phase.PROJECT in rule.phases:
            findings.extend(rule.run_project(ctx))
    site_rules = [r() for r in rules if Phase.WRAPPER_SITES in r.phases]
    if site_rules:
        findings.extend(check_project_calls(ctx, site_rules))
    return findings
