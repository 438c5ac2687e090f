"""`# noqa` comments as data: where they are, which of their codes suppressed something
(for ATR900 unused-noqa), and adding them (`attrlint check --add-noqa`).

Only attrlint's own codes (`ATR...`) are judged: `# noqa: E501` belongs to another linter,
and a bare `# noqa` may serve one, so neither is ever reported as unused.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Iterable

from attrlint.lint.diagnostics import Edit, Finding, NoqaComment, NoqaUse

__all__ = ["UNUSED_NOQA", "NoqaComment", "NoqaUse", "add_noqa", "may_have_noqa", "noqa_comments",
           "unused_noqa_findings"]

UNUSED_NOQA = "ATR900"

_DIRECTIVE = re.compile(r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_SPLIT = re.compile(r"[,\s]+")


def may_have_noqa(text: str) -> bool:
    return "noqa" in text or "NOQA" in text or "NoQA" in text


def noqa_comments(text: str) -> list[NoqaComment]:
    """Every comment with a `# noqa` directive, found with the tokenizer (so `"# noqa"`
    inside a string is not one). A file that does not tokenize has none."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = _DIRECTIVE.search(token.string)
            if match is None:
                continue
            codes = match.group("codes")
            found.append(NoqaComment(
                line=token.start[0], column=token.start[1] + 1, text=token.string,
                start=match.start(), end=match.end(),
                codes=tuple(c.upper() for c in _SPLIT.split(codes) if c) if codes else None,
            ))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return found
    return found


def unused_noqa_findings(path: str, use: NoqaUse, *, known: Collection[str], enabled: Collection[str],
                         undecidable: Collection[str] = ()) -> list[Finding]:
    """ATR900 for each directive with attrlint codes that suppressed nothing, are unknown, or
    name a rule that is not enabled; the fix takes them out (and the comment, when empty).

    `undecidable` codes are those another phase may still report (project-wide and wrapper
    call-site rules when only one file is checked): they are never called unused."""
    findings = []
    for comment in use.comments:
        unknown, disabled, unused = [], [], []
        for code in comment.atr_codes():
            if code == UNUSED_NOQA:
                continue
            if code not in known:
                unknown.append(code)
            elif code not in enabled:
                disabled.append(code)
            elif (comment.line, code) not in use.used and code not in undecidable:
                unused.append(code)
        if not (unknown or disabled or unused):
            continue
        parts = [f"{label}: {', '.join(codes)}" for label, codes in
                 (("unused", unused), ("unknown", unknown), ("not enabled", disabled)) if codes]
        column = comment.column + comment.start
        replacement = comment.without({*unknown, *disabled, *unused})
        fix = Edit(comment.line, comment.column, comment.line, comment.column + len(comment.text), replacement)
        findings.append(Finding(
            code=UNUSED_NOQA, name="unused-noqa",
            message=f"unused `noqa` directive ({'; '.join(parts)}): "
                    f"remove {'them' if len(unknown + disabled + unused) > 1 else 'it'}",
            path=path, line=comment.line, column=column, end_line=comment.line,
            end_column=comment.column + comment.end, fix=fix, snippet=comment.text[comment.start:comment.end],
        ))
    return findings


# -- adding noqa ------------------------------------------------------------------------------

def _closed_lines(text: str) -> set[int] | None:
    """Lines a comment cannot be appended to: inside a multi-line string, or continued with
    a backslash. None when the text does not tokenize."""
    closed: set[int] = set()
    try:
        fstring_start: list[int] = []
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tokenize.tok_name.get(token.type, "")
            if kind == "FSTRING_START":
                fstring_start.append(token.start[0])
            elif kind == "FSTRING_END" and fstring_start:
                first = fstring_start.pop()
                closed.update(range(first, token.end[0]))
            elif token.type == tokenize.STRING and token.end[0] > token.start[0]:
                closed.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if line.rstrip().endswith("\\"):
            closed.add(number)
    return closed


def add_noqa(text: str, findings: Iterable[Finding]) -> tuple[str, int, list[int]]:
    """`text` with `# noqa: CODES` on each line holding a finding (merged into an existing
    directive); returns the new text, the number of lines changed, and the lines that could
    not take a comment (they end inside a string or with a backslash)."""
    wanted: dict[int, set[str]] = {}
    for f in findings:
        if f.cell is None and f.line > 0:
            wanted.setdefault(f.line, set()).add(f.code)
    if not wanted:
        return text, 0, []
    closed = _closed_lines(text)
    if closed is None:
        return text, 0, sorted(wanted)
    comments = {c.line: c for c in noqa_comments(text)}
    lines = text.splitlines(keepends=True)
    changed, skipped = 0, []
    for number, codes in sorted(wanted.items()):
        if number > len(lines) or number in closed:
            skipped.append(number)
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        existing = comments.get(number)
        if existing is not None:
            if existing.codes is None:
                continue  # a bare noqa already covers everything
            merged = list(existing.codes) + sorted(codes - set(existing.codes))
            new_comment = existing.text[:existing.start] + "# noqa: " + ", ".join(merged) + existing.text[existing.end:]
            start = existing.column - 1
            body = body[:start] + new_comment + body[start + len(existing.text):]
        else:
            body = body.rstrip() + "  # noqa: " + ", ".join(sorted(codes))
        lines[number - 1] = body + ending
        changed += 1
    return "".join(lines), changed, skipped
