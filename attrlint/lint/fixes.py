"""Apply fixes with libcst, so the rest of the file keeps its exact formatting.

An edit starting at a string literal or a name replaces it; an edit starting at a comment's
`#` replaces the comment (an empty replacement removes it with the spaces before it)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from attrlint.lint.diagnostics import Edit, Finding


class _Renamer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: dict[tuple[int, int], Edit]) -> None:
        super().__init__()
        self.edits = edits
        self.applied = 0
        self.done: set[tuple[int, int]] = set()

    def _edit_for(self, node: cst.CSTNode) -> Edit | None:
        pos = self.get_metadata(PositionProvider, node).start
        return self.edits.get((pos.line, pos.column + 1))

    def _applied(self, edit: Edit) -> None:
        self.applied += 1
        self.done.add((edit.line, edit.column))

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.BaseExpression:
        edit = self._edit_for(original)
        if edit is None:
            return updated
        self._applied(edit)
        return updated.with_changes(value=edit.replacement)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        edit = self._edit_for(original)
        if edit is None or not edit.replacement.isidentifier():
            return updated
        self._applied(edit)
        return updated.with_changes(value=edit.replacement)

    def leave_TrailingWhitespace(self, original: cst.TrailingWhitespace,
                                 updated: cst.TrailingWhitespace) -> cst.TrailingWhitespace:
        if original.comment is None:
            return updated
        edit = self._edit_for(original.comment)
        if edit is None or not _comment_replacement(edit):
            return updated
        self._applied(edit)
        if not edit.replacement:
            return updated.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
        return updated.with_changes(comment=cst.Comment(edit.replacement))

    def leave_EmptyLine(self, original: cst.EmptyLine, updated: cst.EmptyLine):  # -> EmptyLine | removal
        if original.comment is None:
            return updated
        edit = self._edit_for(original.comment)
        if edit is None or not _comment_replacement(edit):
            return updated
        self._applied(edit)
        if not edit.replacement:
            return cst.RemoveFromParent()
        return updated.with_changes(comment=cst.Comment(edit.replacement))


def _comment_replacement(edit: Edit) -> bool:
    """An edit of a comment leaves a comment (or nothing) on one line."""
    return edit.line == edit.end_line and (not edit.replacement or (
        edit.replacement.startswith("#") and "\n" not in edit.replacement and "\r" not in edit.replacement))


def apply_fixes(source: str, findings: Iterable[Finding], *, unsafe: bool = False) -> tuple[str, int]:
    """The fixed source and how many fixes were applied (safe ones; unsafe too with `unsafe`)."""
    fixed, applied = apply_fix_list(source, findings, unsafe=unsafe)
    return fixed, len(applied)


def apply_fix_list(source: str, findings: Iterable[Finding], *, unsafe: bool = False) -> tuple[str, list[Finding]]:
    """The fixed source and the findings whose fixes were applied."""
    by_position: dict[tuple[int, int], Finding] = {}
    for f in findings:
        if f.fix is not None and f.cell is None and (unsafe or f.fix.safe):
            by_position.setdefault((f.fix.line, f.fix.column), f)
    if not by_position:
        return source, []
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return source, []
    renamer = _Renamer({position: f.fix for position, f in by_position.items()})  # type: ignore[misc]
    fixed = MetadataWrapper(module).visit(renamer)
    return fixed.code, [by_position[p] for p in sorted(renamer.done)]


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}",
    ))
