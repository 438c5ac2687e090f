"""The rule base class, where rules run (`Phase`), and the per-file context rules report through."""

from __future__ import annotations

import ast
import enum
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from attrlint.core.catalogue import Catalogue
from attrlint.core.config import Config
from attrlint.lint.analysis.facts import Module
from attrlint.core.redact import redact, redact_text
from attrlint.lint.analysis.attribution import AttributionCheck
from attrlint.lint.diagnostics import Edit, Finding

if TYPE_CHECKING:
    from attrlint.lint.project.context import ProjectContext


class Phase(enum.Flag):
    """Where a rule runs. A rule may run in several."""

    FILE = enum.auto()  # per file, on its tree (the CLI, the flake8 plugin, library calls)
    PROJECT = enum.auto()  # once per run, from every file's facts (the CLI only)
    WRAPPER_SITES = enum.auto()  # at every call site of a project wrapper, in the project phase


@dataclass
class FileContext:
    path: str  # as displayed
    source: str
    lines: list[str]
    module: Module
    config: Config
    catalogue: Catalogue
    required: tuple[str, ...]
    strict: bool = False
    cell: int | None = None
    project_phase: bool = False  # calls whose attribution depends on other modules are judged there
    findings: list[Finding] = field(default_factory=list)

    def position(self, node: ast.AST) -> tuple[int, int, int, int]:
        """1-based line and column (in characters) of a node's start and end."""
        line = node.lineno  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or line
        col = self._char_col(line, node.col_offset)  # type: ignore[attr-defined]
        end_col_bytes = getattr(node, "end_col_offset", None)
        end_col = self._char_col(end_line, end_col_bytes) if end_col_bytes is not None else col
        return line, col + 1, end_line, end_col + 1

    def _char_col(self, line: int, byte_col: int) -> int:
        if 0 < line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
        return byte_col

    def noqa(self, line: int) -> str:
        """The noqa of a 1-based line of this file (see attrlint.lint.suppression)."""
        from attrlint.lint.suppression import line_noqa

        return line_noqa(self.lines[line - 1]) if 0 < line <= len(self.lines) else ""

    def snippet(self, node: ast.AST) -> str:
        line, _, end_line, _ = self.position(node)
        text = "\n".join(self.lines[line - 1:min(end_line, line + 20)])
        text = redact_text(" ".join(textwrap.dedent(text).split()), self.catalogue)
        for literal in self.module.key_literals:
            if literal.value in text:
                text = text.replace(literal.value, redact(literal.value))
        return text

    def report(
        self,
        rule: type[Rule] | Rule,
        node: ast.AST,
        message: str,
        *,
        fix: Edit | None = None,
        end_node: ast.AST | None = None,
    ) -> None:
        line, col, end_line, end_col = self.position(node)
        if end_node is not None:
            _, _, end_line, end_col = self.position(end_node)
        self.findings.append(Finding(
            code=rule.code, name=rule.name, message=message, path=self.path,
            line=line, column=col, end_line=end_line, end_column=end_col,
            fix=fix, snippet=self.snippet(node), cell=self.cell,
        ))


class Rule:
    """A lint rule: its code, documentation, examples and check.

    The examples are test cases: every `invalid` example must produce this rule's code and
    every `valid` example must not (tests/lint/test_rule_examples.py).
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    what: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    instead: ClassVar[str]
    fix_safety: ClassVar[str] = "No automatic fix."
    valid: ClassVar[tuple[str, ...]] = ()
    invalid: ClassVar[tuple[str, ...]] = ()
    default_enabled: ClassVar[bool] = True
    fixable: ClassVar[bool] = False
    unsafe_fix: ClassVar[bool] = False  # its fix may change behaviour: applied only with --unsafe-fixes
    phases: ClassVar[Phase] = Phase.FILE
    family: ClassVar[str] = "attribution"  # "attribution" or "keys": SARIF tags and grouping

    @classmethod
    def project_wide(cls) -> bool:
        """Runs only where every file is known (`attrlint check`, never the flake8 plugin)."""
        return cls.phases == Phase.PROJECT

    def check(self, ctx: FileContext) -> None:
        """Report this rule's findings in one file (rules that run in `Phase.FILE`)."""

    def judge(self, check: AttributionCheck) -> str | None:
        """The message for a call with this attribution, or None (rules that run in
        `Phase.WRAPPER_SITES` answer for each wrapper call site)."""
        return None

    @classmethod
    def run_project(cls, ctx: ProjectContext) -> Iterator[Finding]:
        """This rule's findings from every file's facts (rules that run in `Phase.PROJECT`)."""
        return iter(())

    @classmethod
    def documentation(cls) -> str:
        def block(code: str) -> str:
            return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")

        parts = [
            f"{cls.code} {cls.name}",
            "",
            "What it does",
            textwrap.indent(textwrap.fill(cls.what, 88), "  "),
            "",
            "Why it matters",
            textwrap.indent(textwrap.fill(cls.why, 88), "  "),
            "",
            "Example",
            block(cls.example),
            "",
            "Use instead",
            block(cls.instead),
            "",
            "Fix safety",
            textwrap.indent(textwrap.fill(cls.fix_safety, 88), "  "),
        ]
        if not cls.default_enabled:
            how = "select it" if cls.family == "suppression" else "enable with --strict or select it"
            parts += ["", f"Off by default: {how}."]
        if cls.project_wide():
            parts += ["", "Project-wide: runs in `attrlint check` over the paths given, not in the flake8 plugin."]
        return "\n".join(parts)


