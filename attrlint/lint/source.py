"""Source text: decoding bytes the way Python does, and where functions and classes span."""

from __future__ import annotations

import ast
import io
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
