"""The rule base class, where rules run (`Phase`), and the per-file context rules report through."""

from __future__ import annotations

import ast
import bisect
import enum
import re
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
    POLICY = enum.auto()  # PR mode (`check --new-since REF`): the configuration and baseline at REF and now


# A snippet is the reported source, whitespace-normalised and redacted. Up to this many
# characters of source it is the node's whole lines (at most 21); beyond, it is a window that
# starts at the node and holds SNIPPET_CHARS characters, so a finding on a 5 MB line costs what
# one on a short line costs. Redaction looks at _KEY_MARGIN more characters than the window
# keeps, so a key cut by the window's end is still matched (and redacted) whole.
SNIPPET_SOURCE_LIMIT = 16384
SNIPPET_CHARS = 300
_KEY_MARGIN = 1024
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


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
    # per-line memos: a long line is scanned once, however many findings it holds
    _noqa: dict[int, str] = field(default_factory=dict, repr=False)
    _widths: dict[int, tuple[list[int], list[int]] | None] = field(default_factory=dict, repr=False)

    def position(self, node: ast.AST) -> tuple[int, int, int, int]:
        """1-based line and column (in characters) of a node's start and end."""
        line = node.lineno  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or line
        col = self._char_col(line, node.col_offset)  # type: ignore[attr-defined]
        end_col_bytes = getattr(node, "end_col_offset", None)
        end_col = self._char_col(end_line, end_col_bytes) if end_col_bytes is not None else col
        return line, col + 1, end_line, end_col + 1

    def _char_col(self, line: int, byte_col: int) -> int:
        """The character column of a UTF-8 byte column (ast's), in time independent of the
        line's length once the line has been seen."""
        if not 0 < line <= len(self.lines):
            return byte_col
        if line not in self._widths:
            self._widths[line] = _multibyte_offsets(self.lines[line - 1])
        offsets = self._widths[line]
        if offsets is None:
            return byte_col
        starts, extra = offsets
        before = bisect.bisect_left(starts, byte_col)  # multi-byte characters starting before it
        return byte_col - (extra[before - 1] if before else 0)

    def noqa(self, line: int) -> str:
        """The noqa of a 1-based line of this file (see attrlint.lint.suppression)."""
        from attrlint.lint.suppression import line_noqa

        if not 0 < line <= len(self.lines):
            return ""
        found = self._noqa.get(line)
        if found is None:
            found = self._noqa[line] = line_noqa(self.lines[line - 1])
        return found

    def snippet(self, node: ast.AST) -> str:
        """The node's source, whitespace-normalised, with key-shaped text redacted. When its
        lines are long (see SNIPPET_SOURCE_LIMIT) it is the node's own text from its start,
        at most SNIPPET_CHARS characters of it."""
        line, col, end_line, end_col = self.position(node)
        last = min(end_line, line + 20)
        size = 0
        for number in range(line, last + 1):
            size += len(self.lines[number - 1]) + 1 if 0 < number <= len(self.lines) else 0
        if size <= SNIPPET_SOURCE_LIMIT:
            return self._redact(" ".join(textwrap.dedent("\n".join(self.lines[line - 1:last])).split()))
        return self._window(line, col - 1, last, end_col - 1 if last == end_line else None)

    def _window(self, line: int, col: int, last: int, end_col: int | None) -> str:
        """Up to SNIPPET_CHARS characters of normalised source from (line, col) to (last,
        end_col), redacted."""
        wanted = SNIPPET_CHARS + _KEY_MARGIN
        pieces: list[str] = []
        taken = 0
        for number in range(line, min(last, len(self.lines)) + 1):
            text = self.lines[number - 1]
            start = col if number == line else 0
            stop = start + wanted - taken
            if number == last and end_col is not None:
                stop = min(stop, end_col)
            piece = text[start:stop]
            pieces.append(piece)
            taken += len(piece) + 1
            if taken >= wanted:
                break
        text = self._redact(" ".join(" ".join(pieces).split()))
        return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rstrip() + " …"

    def _redact(self, text: str) -> str:
        text = redact_text(text, self.catalogue)
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


def _multibyte_offsets(text: str) -> tuple[list[int], list[int]] | None:
    """None for an ASCII line; else the byte offset of each multi-byte character and the
    extra bytes (beyond one per character) up to and including it."""
    if text.isascii():
        return None
    starts: list[int] = []
    extra: list[int] = []
    total = 0
    for match in _NON_ASCII.finditer(text):
        starts.append(match.start() + total)
        total += len(match.group().encode("utf-8", "surrogatepass")) - 1
        extra.append(total)
    return starts, extra


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
        if Phase.POLICY in cls.phases:
            parts += ["", ("PR mode: reported by `attrlint check --new-since REF`, from the configuration "
                           "and baseline as they were at REF and as they are now.")]
        return "\n".join(parts)


