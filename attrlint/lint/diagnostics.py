"""Plain data shared by the engine, the rules and the output formats."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from attrlint.keys.governance import KeyRef

if TYPE_CHECKING:
    from attrlint.lint.analysis.summary import ModuleSummary


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions.

    `safe` is False for a fix that could change what the program does: `--fix` leaves it
    unless `--unsafe-fixes` is given."""

    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Edit | None = None
    snippet: str = ""  # the reported source, normalised and with secrets redacted
    cell: int | None = None  # notebook cell (1-based) when the file is a notebook
    scope: str = ""  # qualified name of the enclosing function or class ("" at module level)

    @property
    def fixable(self) -> bool:
        """Whether `--fix` applies a fix (a safe one)."""
        return self.fix is not None and self.fix.safe

    def has_fix(self, *, unsafe: bool = False) -> bool:
        """Whether a fix applies: a safe one, or any with `unsafe` (`--unsafe-fixes`)."""
        return self.fix is not None and (unsafe or self.fix.safe)

    def sort_key(self) -> tuple[Any, ...]:
        return (self.path, self.cell or 0, self.line, self.column, self.code)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fixable"] = self.fixable
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        data = dict(data)
        data.pop("fixable", None)
        fix = data.pop("fix", None)
        return cls(fix=Edit(**fix) if fix else None, **data)


@dataclass(frozen=True)
class NoqaComment:
    """One comment holding a `# noqa` directive."""

    line: int  # 1-based
    column: int  # 1-based column (characters) of the comment's `#`
    text: str  # the whole comment
    start: int  # where the directive starts and ends in `text`
    end: int
    codes: tuple[str, ...] | None  # None for a bare noqa (every code)

    def atr_codes(self) -> tuple[str, ...]:
        return tuple(c for c in self.codes or () if c.startswith("ATR"))

    def without(self, codes: Collection[str]) -> str:
        """The comment with `codes` taken out of its directive ("" when nothing is left)."""
        keep = [c for c in self.codes or () if c not in codes]
        head, tail = self.text[:self.start], self.text[self.end:]
        if keep:
            return f"{head}# noqa: {', '.join(keep)}{tail}"
        rest = (head.rstrip() + ("  " + tail.strip() if tail.strip() else "")).strip()
        if rest in ("", "#"):
            return ""
        return rest if rest.startswith("#") else "# " + rest.lstrip("# ")


@dataclass
class NoqaUse:
    """A file's noqa comments and which (line, code) pairs suppressed a finding; kept on the
    FileResult so the run can judge them once the project-wide phase has run too."""

    comments: list[NoqaComment]
    lines: dict[int, str]  # line -> its noqa as suppression reads it (see attrlint.lint.suppression)
    used: set[tuple[int, str]] = field(default_factory=set)


@dataclass
class FileResult:
    """Everything per-file analysis learns about one file; cacheable by content hash."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    key_refs: list[KeyRef] = field(default_factory=list)
    llm_calls: int = 0
    skipped: bool = False  # the prefilter decided the file cannot matter
    warning: str | None = None  # why the file could not be checked (unreadable, timed out, crashed a worker)
    summary: ModuleSummary | None = None  # what the project phase needs from this file
    noqa: NoqaUse | None = None  # its noqa comments and what they suppressed, when ATR900 is on
