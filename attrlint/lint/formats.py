"""Output formats: text, json, sarif, github, junit. Every text written here is already redacted."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Iterable

from attrlint import __version__
from attrlint.lint.diagnostics import Finding

FORMATS = ("text", "json", "sarif", "github", "junit")


def location(f: Finding) -> str:
    if f.cell is not None:
        return f"{f.path}:cell {f.cell}:{f.line}:{f.column}"
    return f"{f.path}:{f.line}:{f.column}"


def format_text(findings: list[Finding], *, fixed: int = 0) -> str:
    lines = [f"{location(f)}: {f.code} {f.message}" + (" [*]" if f.fixable else "") for f in findings]
    return "\n".join(lines) + ("\n" if lines else "")


def summary_line(findings: list[Finding], files: int, *, suppressed: int = 0, fixed: int = 0) -> str:
    if not findings:
        text = f"All checks passed ({files} file{'s' if files != 1 else ''} checked)."
    else:
        fixable = sum(1 for f in findings if f.fixable)
        text = (f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} "
                f"file{'s' if files != 1 else ''} checked.")
        if fixable:
            text += f" {fixable} fixable with `attrlint check --fix`."
    if fixed:
        text += f" Fixed {fixed}."
    if suppressed:
        text += f" {suppressed} findings suppressed by baseline."
    return text


def format_statistics(findings: list[Finding]) -> str:
    counts = Counter((f.code, f.name) for f in findings)
    fixable = Counter(f.code for f in findings if f.fixable)
    rows = [f"{n:6d}\t{code}\t{name}" + ("\t[*]" if fixable[code] else "")
            for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(rows) + ("\n" if rows else "")


def format_json(findings: list[Finding], *, files: int = 0, extra: dict | None = None) -> str:
    payload = {
        "version": __version__,
        "files": files,
        "findings": [f.to_dict() for f in findings],
        **(extra or {}),
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def fingerprint(f: Finding) -> str:
    """Line-independent: rule, path and the normalised (redacted) snippet."""
    text = f"{f.code}\0{f.path}\0{f.cell or ''}\0{' '.join(f.snippet.split())}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def format_sarif(findings: list[Finding], rules: Iterable[type]) -> str:
    rule_list = sorted(rules, key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rule_list)}
    sarif_rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.what},
            "help": {"text": r.documentation(), "markdown": _markdown_doc(r)},
            "defaultConfiguration": {"level": "error" if r.default_enabled else "warning",
                                     "enabled": bool(r.default_enabled)},
            "properties": {"tags": ["security"] if r.family == "keys" else [r.family]},
        }
        for r in rule_list
    ]
    results = []
    for f in findings:
        region = {"startLine": f.line, "startColumn": f.column, "endLine": f.end_line, "endColumn": f.end_column}
        if f.snippet:
            region["snippet"] = {"text": f.snippet}
        result = {
            "ruleId": f.code,
            "level": "error",
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path.replace("\\", "/"), "uriBaseId": "%SRCROOT%"},
                "region": region,
            }}],
            "partialFingerprints": {"attrlintFingerprint/v1": fingerprint(f)},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.cell is not None:
            result["properties"] = {"cell": f.cell}
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "attrlint",
                "version": __version__,
                "informationUri": "https://pypi.org/project/attrlint/",
                "rules": sarif_rules,
            }},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def _markdown_doc(rule: type) -> str:
    return (f"**{rule.code} {rule.name}**\n\n{rule.what}\n\n**Why it matters.** {rule.why}\n\n"
            f"**Example**\n```python\n{_dedent(rule.example)}\n```\n\n"
            f"**Use instead**\n```python\n{_dedent(rule.instead)}\n```\n")


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        title = f"{f.code} {f.name}"
        lines.append(
            f"::error title={_gh_escape(title, prop=True)},file={_gh_escape(f.path, prop=True)},"
            f"line={f.line},col={f.column},endLine={f.end_line},endColumn={f.end_column}::"
            f"{_gh_escape(location(f) + ': ' + f.code + ' ' + f.message)}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def format_junit(findings: list[Finding], files: list[str]) -> str:
    from xml.sax.saxutils import escape, quoteattr  # only this format needs it

    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.path, []).append(f)
    names = sorted(set(files) | set(by_file))
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="attrlint" tests="{len(names)}" failures="{len(findings)}">',
           f'  <testsuite name="attrlint" tests="{len(names)}" failures="{len(findings)}" errors="0">']
    for name in names:
        items = by_file.get(name, [])
        out.append(f"    <testcase classname={quoteattr(name)} name={quoteattr(name)}>")
        for f in items:
            out.append(f"      <failure type={quoteattr(f.code)} message={quoteattr(location(f) + ': ' + f.message)}>"
                       f"{escape(location(f) + ': ' + f.code + ' ' + f.message)}</failure>")
        out.append("    </testcase>")
    out += ["  </testsuite>", "</testsuites>"]
    return "\n".join(out) + "\n"
