"""Source text: decoding bytes the way Python does, and where functions and classes span."""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from dataclasses import replace

from attrlint.lint.diagnostics import Finding


def decode(data: bytes) -> str:
    """Decode Python source honouring a coding line or BOM; raises UnicodeDecodeError/SyntaxError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    text = text.removeprefix("\ufeff")
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
    - `except A, B:` (PEP 758) gets its parentheses;
    - on Python 3.10, `except*` (PEP 654) reads as `except`, and the star of `tuple[*Ts]` or
      `*args: *Ts` (PEP 646) becomes a blank.

    Raises SyntaxError (from `ast.parse`) when the file is not valid for any version."""
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as original:
        if not _NEWER_SYNTAX.search(text) or _too_deep(text):
            raise original from None
        # A scan of the text finds what to rewrite in almost every such file, far cheaper than
        # libcst's parse; libcst's grammar reads what the scan cannot.
        for rewrite in (_by_scan, _for_this_interpreter):
            rewritten = rewrite(text)
            if rewritten is None:
                continue
            try:
                return ast.parse(rewritten, filename=path)
            except SyntaxError:
                continue
        raise original from None


# What newer syntax looks like: an f- or t-string, a `type` statement, type parameters, `except A, B`.
_NEWER_SYNTAX = re.compile(
    r"""(?:\b[rRbB]?[fFtT][rR]?['"])|^[ \t]*type[ \t]+\w+|\b(?:def|class)[ \t]+\w+[ \t]*\[|^[ \t]*except[^:\n(]*,"""
    r"""|^[ \t]*except[ \t]*\*|[\[,][ \t]*\*\w|:[ \t]*\*\w""",
    re.MULTILINE)
MAX_DEPTH = 100  # brackets or indentation deeper than this are not handed to libcst's native parser


def _too_deep(text: str) -> bool:
    """Nesting that a recursive-descent parser may not survive (CPython stops at 200 brackets
    and 100 indentation levels; libcst's native parser crashes before some of those)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
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
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end_line, end_col, kind)
    strings = (cst.FormattedString, getattr(cst, "TemplatedString", cst.FormattedString))
    for node, where in positions.items():
        if isinstance(node, strings):
            kind = "string"
            # libcst's tree drops some whitespace inside f-strings (`f"{3!s  }"`), so its end
            # position can stop short: the extent is read from the text itself
            end = _string_end(text, starts, where.start.line, where.start.column)
            if end is not None:
                edits.append((where.start.line, where.start.column, *end, kind))
                continue
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
        try:
            lines[first:last + 1] = [head + _replacement(span, kind) + tail]
        except _CannotRewrite:
            return None
        lines = "".join(lines).splitlines(keepends=True)
    return "".join(lines)


_STRING_OR_COMMENT = re.compile(r"""#|(?<![\w])[rRbBuUfFtT]{0,2}(?:'|")""")


def _by_scan(text: str) -> str | None:
    """`text` with the syntax this interpreter lacks rewritten in place, found by scanning the
    text (no parser): f-strings and t-strings become plain strings of the same extent, type
    parameters blanks, a `type X = ...` statement `pass`, and `except A, B:` gets parentheses.
    None when there is nothing to rewrite, or something cannot be rewritten in place (then
    libcst's grammar is used)."""
    chars = list(text)
    masked = list(text)  # strings and comments blanked: brackets and keywords found safely
    changed = False
    at = 0
    while True:
        match = _STRING_OR_COMMENT.search(text, at)
        if match is None:
            break
        start = match.start()
        if match.group(0) == "#":
            newline = text.find("\n", start)
            at = len(text) if newline < 0 else newline
            masked[start:at] = " " * (at - start)
            continue
        end = _skip_string(text, start)
        if end is None:
            return None
        span = text[start:end]
        masked[start:end] = [c if c == "\n" else " " for c in span]
        prefix = match.group(0)[:-1].lower()
        if "f" in prefix or "t" in prefix:
            replacement = _plain_string(span)
            if replacement is None:
                return None
            chars[start:end] = list(replacement)
            changed = True
        at = end
    code = "".join(masked)
    for match in _TYPE_PARAMS.finditer(code):
        close = _closing(code, match.end() - 1)
        if close is None:
            return None
        chars[match.end() - 1:close + 1] = [c if c == "\n" else " " for c in code[match.end() - 1:close + 1]]
        changed = True
    for match in _TYPE_STATEMENT.finditer(code):
        stop = _statement_end(code, match.end())
        chars[match.start(1):match.start(1) + 4] = list("pass")
        chars[match.start(1) + 4:stop] = [c if c == "\n" else " " for c in code[match.start(1) + 4:stop]]
        changed = True
    for match in _EXCEPT_STAR.finditer(code):  # `except*` (PEP 654) reads as `except` here
        chars[match.end() - 1] = " "
        changed = True
    for at in _unpacking_stars(code):  # `tuple[*Ts]`, `*args: *Ts` (PEP 646) lose the star
        chars[at] = " "
        changed = True
    inserts = []
    for match in _EXCEPT_GROUP.finditer(code):
        inserts.append((match.start(2), match.end(2)))
    for first, last in reversed(inserts):  # `(` and `)` shift only the rest of that line
        chars[last:last] = [")"]
        chars[first:first] = ["("]
        changed = True
    return "".join(chars) if changed else None


_TYPE_PARAMS = re.compile(r"\b(?:def|class)[ \t]+\w+[ \t]*\[")
_TYPE_STATEMENT = re.compile(r"^[ \t]*(type)[ \t]+\w+[ \t]*(?=[\[=])", re.MULTILINE)
_EXCEPT_STAR = re.compile(r"^[ \t]*except[ \t]*\*", re.MULTILINE)


def _unpacking_stars(code: str) -> list[int]:
    """Offsets of the stars that unpack in a subscript (`tuple[*Ts]`) or annotate `*args`
    (`*args: *Ts`), which Python 3.10 does not read; strings and comments are blank in `code`."""
    stars, stack = [], []
    for i, c in enumerate(code):
        if c in "([{":
            stack.append(c)
        elif c in ")]}":
            if stack:
                stack.pop()
        elif c == "*" and stack and code[i + 1:i + 2] != "*" and code[i - 1:i] != "*":
            j = i - 1
            while j >= 0 and code[j] in " \t\n\\":
                j -= 1
            k = i + 1
            while k < len(code) and code[k] in " \t\n\\":
                k += 1
            before, after = code[j:j + 1] if j >= 0 else "", code[k:k + 1]
            if not (after.isalnum() or after in "_("):
                continue  # a bare `*` in parameters, or multiplication by nothing
            if (stack[-1] == "[" and before in "[,") or (stack[-1] == "(" and before == ":"):
                stars.append(i)
    return stars


_EXCEPT_GROUP = re.compile(r"^([ \t]*except\*?[ \t]+)((?!\()[^:\n]*?,[^:\n]*?)[ \t]*:", re.MULTILINE)


def _closing(code: str, at: int) -> int | None:
    """The offset of the bracket closing the one at `at` (strings and comments are blank)."""
    depth = 0
    for i in range(at, len(code)):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _statement_end(code: str, at: int) -> int:
    """The offset of the newline ending the logical line that `at` is in."""
    depth, i = 0, at
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        elif c == "\\" and code.startswith("\\\n", i):
            i += 2
            continue
        elif c == "\n" and depth == 0:
            return i
        i += 1
    return len(code)


def _plain_string(span: str) -> str | None:
    """A plain string literal exactly as long as `span`, line for line, or None."""
    if "\n" not in span:
        return '"' + " " * (len(span) - 2) + '"' if len(span) >= 2 else None
    lines = span.split("\n")
    if len(lines[0]) >= 3 and len(lines[-1]) >= 3:
        inner = "".join(c if c == "\n" else " " for c in span[3:-3])
        return '"""' + inner + '"""'
    if all(lines[1:-1]) and len(lines[-1]) >= 2:  # `""\` ... `\` ... `""`: implicit concatenation
        middle = [" " * (len(line) - 1) + "\\" for line in lines[1:-1]]
        first = '""' + " " * (len(lines[0]) - 3) + "\\"
        return "\n".join([first, *middle, '""' + " " * (len(lines[-1]) - 2)])
    return None


_PREFIX = re.compile(r"[rRbBuUfFtT]{0,2}(\"\"\"|\'\'\'|\"|\')")


def _string_end(text: str, starts: list[int], line: int, col: int) -> tuple[int, int] | None:
    """(line, column) just past the string literal (f-strings and t-strings included, with
    PEP 701 nesting) that starts at `line`/`col`; None when the text there is no string."""
    at = _skip_string(text, starts[line - 1] + col)
    if at is None:
        return None
    row = bisect.bisect_right(starts, at) - 1
    return row + 1, at - starts[row]


def _skip_string(text: str, at: int) -> int | None:
    """The offset just past the string literal starting at `at`, or None."""
    match = _PREFIX.match(text, at)
    if match is None:
        return None
    prefix, quote = text[at:match.start(1)].lower(), match.group(1)
    formatted = "f" in prefix or "t" in prefix
    i, n = match.end(), len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif text.startswith(quote, i):
            return i + len(quote)
        elif c == "\n" and len(quote) == 1:
            return None  # an unterminated one-line string
        elif formatted and c == "{":
            if text.startswith("{{", i):
                i += 2
            else:
                end = _skip_field(text, i + 1)
                if end is None:
                    return None
                i = end
        else:
            i += 1
    return None


def _skip_field(text: str, at: int) -> int | None:
    """The offset just past the `}` closing a replacement field whose expression starts at `at`."""
    depth, i, n = 0, at, len(text)
    while i < n:
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]" or (c == "}" and depth > 0):
            depth -= 1
        elif c == "}":
            return i + 1
        elif c == "#":
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        elif c in "'\"":
            end = _skip_string(text, i)
            if end is None:
                return None
            i = end
            continue
        elif (c.isalpha() or c == "_") and not (text[i - 1].isalnum() or text[i - 1] == "_"):
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            if j < n and text[j] in "'\"" and len(text[i:j]) <= 2 and set(text[i:j].lower()) <= set("rbuft"):
                end = _skip_string(text, i)  # a prefixed string: `f"..."`, `rb'...'`
                if end is None:
                    return None
                i = end
            else:
                i = j
            continue
        elif c == ":" and depth == 0:
            return _skip_spec(text, i + 1)
        i += 1
    return None


def _skip_spec(text: str, at: int) -> int | None:
    """The offset just past the `}` that ends a format spec starting at `at` (nested fields allowed)."""
    i, n = at, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            end = _skip_field(text, i + 1)
            if end is None:
                return None
            i = end
        elif c == "}":
            return i + 1
        else:
            i += 1
    return None


def _replacement(span: str, kind: str) -> str:
    if kind == "parens":
        return f"({span})"
    if kind == "blank":
        return "".join(c if c == "\n" else " " for c in span)
    if kind == "pass":
        return "pass" + "".join(c if c == "\n" else " " for c in span[4:])
    plain = _plain_string(span)
    if plain is None:
        raise _CannotRewrite
    return plain


class _CannotRewrite(Exception):
    """A span that has no replacement of the same extent."""
