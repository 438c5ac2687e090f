"""flake8 entry point `ATR`: the per-file rules on the tree flake8 already parsed.

flake8 handles `# noqa` itself. Project-wide rules (ATR103-ATR105) need every file and do
not run here; use `attrlint check` for them.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterator

from . import __version__

_LINTERS: dict[str, Any] = {}


def _linter_for(filename: str) -> Any:
    from .config import find_pyproject, load_config
    from .engine import Linter

    start = Path(filename).resolve().parent if filename not in ("stdin", "-") else Path.cwd()
    pyproject = find_pyproject(start)
    key = str(pyproject)
    linter = _LINTERS.get(key)
    if linter is None:
        linter = Linter(load_config(pyproject, start=start))
        _LINTERS[key] = linter
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
        if not _prefilter().search(text) and not self._configured_prefilter(text):
            return  # most files stop at this text check
        result = _linter_for(self.filename).lint_text(text, self.filename, tree=self.tree, keep_noqa=True)
        for finding in result.findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


    def _configured_prefilter(self, text: str) -> bool:
        """Declared keys and wrappers widen the prefilter: ask the file's own configuration."""
        linter = _linter_for(self.filename)
        if not linter.config.keys and not linter.config.wrappers:
            return False
        return bool(linter.prefilter(text))


_PREFILTER: list[Any] = []


def _prefilter() -> Any:
    if not _PREFILTER:
        from .catalogue import load_catalogue
        from .engine import _prefilter_pattern

        _PREFILTER.append(_prefilter_pattern(load_catalogue()))
    return _PREFILTER[0]
