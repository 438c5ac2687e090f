"""Apply fixes with libcst, so the rest of the file keeps its exact formatting."""

from __future__ import annotations

import difflib
from typing import Iterable

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from attrlint.lint.diagnostics import Edit, Finding


class _Renamer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: dict[tuple[int, int], Edit]) -> None:
        super().__init__()
        self.edits = edits
        self.applied = 0

    def _edit_for(self, node: cst.CSTNode) -> Edit | None:
        pos = self.get_metadata(PositionProvider, node).start
        return self.edits.get((pos.line, pos.column + 1))

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.BaseExpression:
        edit = self._edit_for(original)
        if edit is None:
            return updated
        self.applied += 1
        return updated.with_changes(value=edit.replacement)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        edit = self._edit_for(original)
        if edit is None or not edit.replacement.isidentifier():
            return updated
        self.applied += 1
        return updated.with_changes(value=edit.replacement)


def apply_fixes(source: str, findings: Iterable[Finding]) -> tuple[str, int]:
    """The fixed source and how many fixes were applied."""
    edits = {(f.fix.line, f.fix.column): f.fix for f in findings if f.fix is not None and f.cell is None}
    if not edits:
        return source, 0
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return source, 0
    renamer = _Renamer(edits)
    fixed = MetadataWrapper(module).visit(renamer)
    return fixed.code, renamer.applied


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}",
    ))
