"""Source text: decoding bytes the way Python does, and where functions and classes span."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import replace

from attrlint.lint.diagnostics import Finding


def decode(data: bytes) -> str:
    """Decode Python source honouring a coding line or BOM; raises UnicodeDecodeError/SyntaxError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def scope_index(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class, outermost first."""
    spans: list[tuple[int, int, str]] = []

    def walk(body: list[ast.stmt], prefix: str) -> None:  # definitions are statements: skip expressions
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{stmt.name}"
                spans.append((stmt.lineno, stmt.end_lineno or stmt.lineno, name))
                walk(stmt.body, name + ".")
                continue
            for attr in ("body", "orelse", "finalbody", "handlers", "cases"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    for item in inner:
                        if isinstance(item, (ast.ExceptHandler, ast.match_case)):
                            walk(item.body, prefix)
                        elif isinstance(item, ast.stmt):
                            walk([item], prefix)

    walk(tree.body, "")
    return spans


def with_scopes(findings: list[Finding], tree: ast.Module) -> list[Finding]:
    """Name each finding's enclosing function (the baseline keys on it, never on line numbers)."""
    if not findings:
        return findings
    spans = scope_index(tree)
    out = []
    for finding in findings:
        scope = ""
        for first, last, name in spans:
            if first <= finding.line <= last:
                scope = name  # later spans are nested deeper
        out.append(replace(finding, scope=scope) if scope else finding)
    return out


def parse(text: str, path: str = "<unknown>") -> ast.Module:
    """The module's `ast`, whatever Python version it is written for.

    `ast.parse` of the running interpreter first; when it rejects the file, the file is parsed
    with libcst's grammar (Python 3.0-3.14) and the syntax this interpreter lacks is rewritten
    in place with text of the same extent, so every line and column stays put:

    - f-strings and t-strings (PEP 701, PEP 750) become plain string literals of the same span
      (the expressions inside them are not analysed);
    - type parameters (PEP 695, PEP 696) become blanks, and a `type X = ...` statement `pass`;
    - `except A, B:` (PEP 758) gets its parentheses.

    Raises SyntaxError (from `ast.parse`) when the file is not valid for any version."""
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as original:
        if not _NEWER_SYNTAX.search(text) or _too_deep(text):
            raise original from None
        rewritten = _for_this_interpreter(text)
        if rewritten is None:
            raise original from None
        try:
            return ast.parse(rewritten, filename=path)
        except SyntaxError:
            raise original from None


# What newer syntax looks like: an f- or t-string, a `type` statement, type parameters, `except A, B`.
_NEWER_SYNTAX = re.compile(
    r"""(?:\b[rRbB]?[fFtT][rR]?['"])|^[ \t]*type[ \t]+\w+|\b(?:def|class)[ \t]+\w+[ \t]*\[|^[ \t]*except[^:\n(]*,""",
    re.MULTILINE)
MAX_DEPTH = 100  # brackets or indentation deeper than this are not handed to libcst's native parser


def _too_deep(text: str) -> bool:
    """Nesting that a recursive-descent parser may not survive (CPython stops at 200 brackets
    and 100 indentation levels; libcst's native parser crashes before some of those)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    if deepest > MAX_DEPTH:
        return True
    return any(len(line) - len(line.lstrip(" \t")) > MAX_DEPTH * 4 for line in text.splitlines())


def _for_this_interpreter(text: str) -> str | None:
    try:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider
    except ImportError:  # pragma: no cover - libcst is a dependency
        return None
    try:
        module = cst.parse_module(text)
    except Exception:  # noqa: BLE001 - libcst's errors: the file is not valid Python of any version
        return None
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end_line, end_col, kind)
    strings = (cst.FormattedString, getattr(cst, "TemplatedString", cst.FormattedString))
    for node, where in positions.items():
        if isinstance(node, strings):
            kind = "string"
        elif isinstance(node, cst.TypeParameters):
            kind = "blank"
        elif isinstance(node, cst.TypeAlias):
            kind = "pass"
        elif isinstance(node, cst.ExceptHandler) and isinstance(node.type, cst.Tuple) and not node.type.lpar:
            where = positions[node.type]
            kind = "parens"
        else:
            continue
        edits.append((where.start.line, where.start.column, where.end.line, where.end.column, kind))
    if not edits:
        return None
    # outermost first: an f-string inside another is replaced with it
    edits.sort(key=lambda e: (e[0], e[1], -e[2], -e[3]))
    kept: list[tuple[int, int, int, int, str]] = []
    for edit in edits:
        if kept and (edit[0], edit[1]) < (kept[-1][2], kept[-1][3]) and edit[0] >= kept[-1][0]:
            continue  # inside the previous one
        kept.append(edit)
    for line, col, end_line, end_col, kind in reversed(kept):
        first, last = line - 1, end_line - 1
        head, tail = lines[first][:col], lines[last][end_col:]
        span = "".join(lines[first:last + 1])[col:len("".join(lines[first:last])) + end_col]
        lines[first:last + 1] = [head + _replacement(span, kind) + tail]
        lines = "".join(lines).splitlines(keepends=True)
    return "".join(lines)


def _replacement(span: str, kind: str) -> str:
    if kind == "parens":
        return f"({span})"
    if kind == "blank":
        return "".join(c if c == "\n" else " " for c in span)
    if kind == "pass":
        return "pass" + "".join(c if c == "\n" else " " for c in span[4:])
    # a plain string literal of the same extent
    if "\n" not in span:
        return '"' + " " * (len(span) - 2) + '"' if len(span) >= 2 else span
    inner = "".join(c if c == "\n" else " " for c in span[3:-3])
    return '"""' + inner + '"""'
