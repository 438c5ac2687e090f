"""Jupyter notebooks: code cells are checked as one module, findings name their cell.

Cells are joined in order so that a client built in one cell resolves in the next, the way
the kernel runs them. IPython magics (`%time`, `%%bash`) and shell escapes (`!pip install`)
are replaced by `pass` so line numbers stay put. Cells are numbered from 1 in notebook
order, markdown cells included, as Jupyter shows them.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from attrlint.core.keyscan import find_keys
from attrlint.keys.governance import KeyRef
from attrlint.lint.analysis.summary import ModuleSummary, Position
from attrlint.lint.diagnostics import FileResult, Finding
from attrlint.lint.engine import Linter
from attrlint.lint.source import parse

_MAGIC = re.compile(r"^(\s*)(?:[%!?]|\w+\s*=\s*[%!])")
# cell magics whose body is still Python
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})


def code_cells(notebook: Any) -> list[tuple[int, str]]:
    """(1-based cell number, Python source) of each code cell; raises ValueError on a bad shape."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a notebook: no `cells` list")
    cells = []
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            raise ValueError(f"cell {number}: `source` is neither a string nor a list of strings")
        text = python_source(source)
        if text is not None:
            cells.append((number, text))
    return cells


def python_source(source: str) -> str | None:
    """The cell with magics and shell escapes blanked out; None for a non-Python cell magic."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].strip() != "%%" else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = ""
    out = []
    for line in lines:
        match = _MAGIC.match(line)
        out.append(f"{match.group(1)}pass" if match else line)
    return "\n".join(out)


def lint_notebook(linter: Linter, path: str, data: bytes) -> FileResult:
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
        cells = code_cells(notebook)
    except UnicodeDecodeError as exc:
        return linter.unparsable(path, 1, 1, f"notebook is not UTF-8 (byte {exc.start}); save it as UTF-8")
    except json.JSONDecodeError as exc:
        return linter.unparsable(
            path, exc.lineno, exc.colno,
            f"invalid notebook JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; "
            "open and re-save it in Jupyter")
    except ValueError as exc:
        return linter.unparsable(path, 1, 1, f"invalid notebook: {exc}")
    except RecursionError:
        return linter.unparsable(path, 1, 1, "invalid notebook: JSON nested too deeply to read; "
                                             "open and re-save it in Jupyter")

    joined, starts = [], []  # starts[i] = first line (1-based) of cell i in the joined text
    line = 1
    for _, text in cells:
        starts.append(line)
        joined.append(text)
        line += text.count("\n") + 1
    source = "\n".join(joined)
    try:
        tree = parse(source, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        result = _lint_cells_separately(linter, path, cells)
    else:
        result = _lint_joined(linter, path, source, tree, cells, starts)
    if linter.check_data_files and "ATR101" in linter.codes:
        result.findings.extend(_keys_in_outputs(linter, path, data.decode("utf-8-sig"), notebook))
        result.findings.sort(key=Finding.sort_key)
    return result


def _lint_joined(linter: Linter, path: str, source: str, tree: Any, cells: list[tuple[int, str]],
                 starts: list[int]) -> FileResult:
    result = linter.lint_text(source, path, real_path=path, tree=tree)
    numbers = [number for number, _ in cells]

    def locate(line: int) -> tuple[int, int]:
        index = 0
        for i, start in enumerate(starts):
            if start <= line:
                index = i
        return numbers[index], line - starts[index] + 1

    result.findings = [_relocate(f, locate) for f in result.findings]
    result.key_refs = [_relocate(r, locate) for r in result.key_refs]
    result.findings.sort(key=Finding.sort_key)
    _relocate_facts(result, locate)
    return result


_OUTPUTS = re.compile(r'"outputs"\s*:')
_BINARY = ("image/", "audio/", "video/", "application/pdf", "application/octet-stream")


def _output_texts(outputs: Any) -> list[str]:
    """The text a cell's outputs show: streams, text and JSON data, tracebacks (not images)."""
    texts: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.append("".join(v for v in value if isinstance(v, str)))
        elif isinstance(value, (dict, int, float)) or value is None:
            texts.append(json.dumps(value))

    for output in outputs if isinstance(outputs, list) else ():
        if not isinstance(output, dict):
            continue
        for name in ("text", "traceback", "evalue"):
            if name in output:
                add(output[name])
        data = output.get("data")
        if isinstance(data, dict):
            for mime, value in data.items():
                if isinstance(mime, str) and not mime.startswith(_BINARY):
                    add(value)
    return texts


def _keys_in_outputs(linter: Linter, path: str, text: str, notebook: Any) -> list[Finding]:
    """ATR101 for keys saved in code cells' outputs, placed at their line in the notebook file."""
    from attrlint.lint.rules.keys import HardcodedApiKey

    anchors = [m.end() for m in _OUTPUTS.finditer(text)]
    findings: list[Finding] = []
    index = 0
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict) or "outputs" not in cell:
            continue
        cursor = anchors[index] if index < len(anchors) else 0
        index += 1
        for piece in _output_texts(cell["outputs"]):
            for found in find_keys(piece, linter.catalogue):
                at = text.find(found.key, cursor)
                if at < 0:
                    at = max(text.find(found.key), 0)
                else:
                    cursor = at + 1
                line = text.count("\n", 0, at) + 1
                column = at - (text.rfind("\n", 0, at) + 1) + 1
                findings.append(HardcodedApiKey.text_finding(path, line, column, found,
                                                             HardcodedApiKey.in_output(number)))
    return linter.suppress(findings, text.splitlines(), path) if findings else []


def _relocate(item: Any, locate: Any) -> Any:
    cell, line = locate(item.line)
    _, end_line = locate(item.end_line) if item.end_line >= item.line else (cell, line)
    changes: dict[str, Any] = {"cell": cell, "line": line, "end_line": max(line, end_line)}
    if isinstance(item, Finding):
        changes["fix"] = None  # fixes edit whole-file positions; notebooks are edited in Jupyter
    return replace(item, **changes)


def _relocate_facts(result: FileResult, locate: Any) -> None:
    """The summary's calls and wrappers carry positions too (see attrlint.lint.analysis.summary)."""
    if not result.summary:
        return

    def moved(at: Position) -> Position:
        cell, line = locate(at.line)
        _, end_line = locate(at.end_line)
        return replace(at, cell=cell, line=line, end_line=max(line, end_line))

    for call in result.summary.calls:
        call.at = moved(call.at)
    for wrapper in result.summary.wrappers:
        if wrapper.origin is not None:
            wrapper.origin = moved(wrapper.origin)
        wrapper.more = [moved(m) for m in wrapper.more]


def _lint_cells_separately(linter: Linter, path: str, cells: list[tuple[int, str]]) -> FileResult:
    """A cell that does not parse: check each cell on its own so the others still count."""
    result = FileResult(path=path)
    for number, text in cells:
        try:
            tree = parse(text, path)
        except SyntaxError as exc:
            cell_result = linter.unparsable(path, exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}")
            cell_result.findings = [replace(f, cell=number) for f in cell_result.findings]
        except (ValueError, RecursionError, MemoryError) as exc:
            cell_result = linter.unparsable(path, 1, 1, f"cannot parse: {type(exc).__name__}")
            cell_result.findings = [replace(f, cell=number) for f in cell_result.findings]
        else:
            cell_result = linter.lint_text(text, path, real_path=path, cell=number, tree=tree)
        result.findings.extend(replace(f, fix=None) for f in cell_result.findings)
        result.key_refs.extend(cell_result.key_refs)
        result.llm_calls += cell_result.llm_calls
        if cell_result.summary:
            for call in cell_result.summary.calls:
                call.at = replace(call.at, cell=number)
            for wrapper in cell_result.summary.wrappers:
                if wrapper.origin is not None:
                    wrapper.origin = replace(wrapper.origin, cell=number)
                wrapper.more = [replace(m, cell=number) for m in wrapper.more]
            if result.summary is None:
                result.summary = ModuleSummary()
            result.summary.extend(cell_result.summary)
    result.findings.sort(key=Finding.sort_key)
    return result


__all__ = ["KeyRef", "code_cells", "lint_notebook", "python_source"]
