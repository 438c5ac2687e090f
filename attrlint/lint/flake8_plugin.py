"""flake8 entry point `ATR`: the per-file rules on the tree flake8 already parsed.

flake8 handles `# noqa` itself. Project-wide rules (ATR103-ATR105) need every file and do
not run here; use `attrlint check` for them.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterator

from attrlint import __version__

_LINTERS: dict[str, Any] = {}  # pyproject path -> Linter
_BY_DIR: dict[str, Any] = {}  # directory -> Linter: one config lookup per directory


def _linter_for(filename: str) -> Any:
    from attrlint.core.config import find_pyproject, load_config
    from attrlint.lint.engine import Linter

    start = Path(filename).resolve().parent if filename not in ("stdin", "-") else Path.cwd()
    linter = _BY_DIR.get(str(start))
    if linter is None:
        pyproject = find_pyproject(start)
        linter = _LINTERS.get(str(pyproject))
        if linter is None:
            linter = _LINTERS[str(pyproject)] = Linter(load_config(pyproject, start=start))
        _BY_DIR[str(start)] = linter
    return linter


class Plugin:
    name = "attrlint"
    version = __version__

    def __init__(self, tree: ast.Module, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        linter = _linter_for(self.filename)
        if not linter.prefilter(text):
            return  # most files stop at this text check (it includes declared keys and wrappers)
        result = linter.lint_text(text, self.filename, tree=self.tree, keep_noqa=True)
        for finding in result.findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
