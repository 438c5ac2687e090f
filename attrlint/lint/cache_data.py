"""Per-file results as plain JSON data, for the result cache, and back, with every value checked.

A result is a list: `[findings, key references, LLM calls, skipped, noqa use]`; a finding, a
key reference and a noqa comment are lists of their fields in a fixed order (a path equal to
the file's own is left out). Decoding checks the type of every field and raises `DataError` on anything else, so a
damaged or foreign entry is a cache miss and never an object attrlint did not make.
The module summary (the project phase's facts) has its own format, `ModuleSummary.to_data`.
"""

from __future__ import annotations

import re
from typing import Any

from attrlint.keys.governance import KeyRef
from attrlint.lint.diagnostics import Edit, FileResult, Finding, NoqaComment, NoqaUse

_CODE = re.compile(r"ATR\d{3}\Z")

# The fields each format covers, in order; tests/lint/test_cache_security.py checks that they
# are exactly the dataclasses' fields, so a new field cannot be dropped by the cache unnoticed.
FINDING_FIELDS = ("code", "name", "message", "path", "line", "column", "end_line", "end_column", "fix",
                  "snippet", "cell", "scope")
EDIT_FIELDS = ("line", "column", "end_line", "end_column", "replacement", "safe")
KEYREF_FIELDS = ("env", "path", "line", "column", "end_line", "end_column", "vendor", "flows_into_client",
                 "generic", "snippet", "cell", "noqa")
RESULT_FIELDS = ("path", "findings", "key_refs", "llm_calls", "skipped", "warning", "summary", "noqa")
NOQA_USE_FIELDS = ("comments", "lines", "used")
NOQA_COMMENT_FIELDS = ("line", "column", "text", "start", "end", "codes")


class DataError(ValueError):
    """Cached data of the wrong shape."""


def _int(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise DataError("expected a non-negative integer")
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise DataError("expected a string")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise DataError("expected true or false")
    return value


def _list(value: Any, length: int | None = None) -> list[Any]:
    if type(value) is not list or (length is not None and len(value) != length):
        raise DataError("expected a list" + (f" of {length}" if length is not None else ""))
    return value


# -- findings ------------------------------------------------------------------------------


def encode_finding(finding: Finding, path: str | None = None) -> list[Any]:
    fix = finding.fix
    return [
        finding.code, finding.name, finding.message, None if finding.path == path else finding.path,
        finding.line, finding.column, finding.end_line, finding.end_column,
        None if fix is None else [fix.line, fix.column, fix.end_line, fix.end_column, fix.replacement, fix.safe],
        finding.snippet, finding.cell, finding.scope,
    ]


def decode_finding(data: Any, path: str | None = None) -> Finding:
    (code, name, message, own_path, line, column, end_line, end_column, fix, snippet, cell,
     scope) = _list(data, len(FINDING_FIELDS))
    if type(code) is not str or not _CODE.match(code):
        raise DataError("expected a rule code")
    if own_path is None:
        if path is None:
            raise DataError("a finding without a path")
        own_path = path
    edit = None
    if fix is not None:
        f_line, f_column, f_end_line, f_end_column, replacement, safe = _list(fix, len(EDIT_FIELDS))
        edit = Edit(_int(f_line), _int(f_column), _int(f_end_line), _int(f_end_column), _str(replacement),
                    _bool(safe))
    return Finding(code, _str(name), _str(message), _str(own_path), _int(line), _int(column), _int(end_line),
                   _int(end_column), fix=edit, snippet=_str(snippet), cell=_opt_int(cell), scope=_str(scope))


def encode_findings(findings: list[Finding]) -> list[Any]:
    return [encode_finding(f) for f in findings]


def decode_findings(data: Any) -> list[Finding]:
    return [decode_finding(item) for item in _list(data)]


# -- key references ------------------------------------------------------------------------


def encode_key_ref(ref: KeyRef, path: str | None = None) -> list[Any]:
    return [ref.env, None if ref.path == path else ref.path, ref.line, ref.column, ref.end_line, ref.end_column,
            ref.vendor, ref.flows_into_client, ref.generic, ref.snippet, ref.cell, ref.noqa]


def decode_key_ref(data: Any, path: str | None = None) -> KeyRef:
    (env, own_path, line, column, end_line, end_column, vendor, flows, generic, snippet, cell,
     noqa) = _list(data, len(KEYREF_FIELDS))
    if own_path is None:
        if path is None:
            raise DataError("a key reference without a path")
        own_path = path
    return KeyRef(_str(env), _str(own_path), _int(line), _int(column), _int(end_line), _int(end_column),
                  _opt_str(vendor), _bool(flows), _bool(generic), snippet=_str(snippet), cell=_opt_int(cell),
                  noqa=_str(noqa))


# -- noqa comments -------------------------------------------------------------------------


def encode_noqa(use: NoqaUse | None) -> Any:
    if use is None:
        return None
    return [[[c.line, c.column, c.text, c.start, c.end, None if c.codes is None else list(c.codes)]
             for c in use.comments],
            [[line, noqa] for line, noqa in sorted(use.lines.items())],
            sorted([line, code] for line, code in use.used)]


def decode_noqa(data: Any) -> NoqaUse | None:
    if data is None:
        return None
    comments, lines, used = _list(data, len(NOQA_USE_FIELDS))
    decoded = []
    for item in _list(comments):
        line, column, text, start, end, codes = _list(item, len(NOQA_COMMENT_FIELDS))
        decoded.append(NoqaComment(_int(line), _int(column), _str(text), _int(start), _int(end),
                                   None if codes is None else tuple(_str(c) for c in _list(codes))))
    by_line = {}
    for item in _list(lines):
        line, noqa = _list(item, 2)
        by_line[_int(line)] = _str(noqa)
    used_pairs = set()
    for item in _list(used):
        line, code = _list(item, 2)
        used_pairs.add((_int(line), _str(code)))
    return NoqaUse(decoded, by_line, used_pairs)


# -- per-file results ----------------------------------------------------------------------


def encode_result(result: FileResult) -> list[Any]:
    """A result as data, without its summary (the cache keeps that apart) and never one with a
    warning (a file that could not be checked has nothing to cache)."""
    path = result.path
    return [[encode_finding(f, path) for f in result.findings], [encode_key_ref(r, path) for r in result.key_refs],
            result.llm_calls, result.skipped, encode_noqa(result.noqa)]


def decode_result(data: Any, path: str) -> FileResult:
    if type(data) is not list or len(data) != 5:
        raise DataError("expected a result")
    findings, key_refs, llm_calls, skipped, noqa = data
    if type(findings) is not list or type(key_refs) is not list:
        raise DataError("expected lists of findings and key references")
    if type(llm_calls) is not int or llm_calls < 0 or type(skipped) is not bool:
        raise DataError("expected a call count and a flag")
    return FileResult(
        path,
        [decode_finding(f, path) for f in findings] if findings else [],
        [decode_key_ref(r, path) for r in key_refs] if key_refs else [],
        llm_calls,
        skipped,
        noqa=decode_noqa(noqa) if noqa is not None else None,
    )
