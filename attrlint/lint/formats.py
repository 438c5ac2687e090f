"""Output formats: text, json, json-lines, sarif, github, gitlab, rdjson, junit. Every text
written here is already redacted."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable

from attrlint import __version__
from attrlint.lint.diagnostics import Finding

FORMATS = ("text", "json", "json-lines", "sarif", "github", "gitlab", "rdjson", "junit")

# Where `attrlint rule CODE` is documented, for formats that link each rule.
RULES_URL = "https://pypi.org/project/attrlint/"


def location(f: Finding) -> str:
    if f.cell is not None:
        return f"{f.path}:cell {f.cell}:{f.line}:{f.column}"
    return f"{f.path}:{f.line}:{f.column}"


def _plain(text: str, **style: object) -> str:
    return text


def format_text(findings: list[Finding], *, fixed: int = 0, colour: bool = False, unsafe: bool = False) -> str:
    """`path:line:col: CODE message`, `[*]` when `--fix` (with `unsafe`, `--unsafe-fixes`) fixes it;
    ANSI colours when `colour`."""
    style: Callable[..., str] = _plain
    if colour:
        import click

        style = click.style
    lines = []
    for f in findings:
        where = location(f)
        path, _, rest = where.partition(":")
        line = (f"{style(path, bold=True)}{style(':' + rest + ':', dim=True)} "
                f"{style(f.code, fg='red', bold=True)} {f.message}")
        if f.has_fix(unsafe=unsafe):
            line += " " + style("[*]", fg="cyan")
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(findings: list[Finding], files: int, *, suppressed: int = 0, fixed: int = 0,
                 errors: int = 0, unsafe: bool = False) -> str:
    """The closing line. "All checks passed" only when there is nothing to report and every
    file was checked."""
    if errors:
        text = (f"Could not check {plural(errors, 'file or path')} (see the errors above); "
                f"found {plural(len(findings), 'finding')} in {plural(files, 'file')} checked.")
    elif not findings:
        text = f"All checks passed ({plural(files, 'file')} checked)."
    else:
        text = f"Found {plural(len(findings), 'finding')} in {plural(files, 'file')} checked."
    fixable = sum(1 for f in findings if f.has_fix(unsafe=unsafe))
    hidden = sum(1 for f in findings if f.has_fix(unsafe=True)) - fixable
    if fixable:
        text += f" {fixable} fixable with `attrlint check --fix{' --unsafe-fixes' if unsafe else ''}`."
    if hidden:
        text += f" {plural(hidden, 'hidden fix')} can be enabled with `--unsafe-fixes`."
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


def format_json_lines(findings: list[Finding]) -> str:
    """One JSON object per finding, one per line (as `json`'s `findings`)."""
    return "".join(json.dumps(f.to_dict(), ensure_ascii=False) + "\n" for f in findings)


_GITLAB_SEVERITY = {"ATR101": "critical", "ATR000": "minor"}


def format_gitlab(findings: list[Finding]) -> str:
    """GitLab Code Quality: a JSON array of Code Climate issues. GitLab keeps one issue per
    fingerprint, so identical findings on several lines get distinct fingerprints."""
    seen: Counter[str] = Counter()
    issues = []
    for f in findings:
        base = fingerprint(f)
        seen[base] += 1
        unique = base if seen[base] == 1 else hashlib.sha256(f"{base}:{seen[base]}".encode()).hexdigest()[:32]
        issues.append({
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code} {f.message}",
            "categories": ["Security"] if f.code.startswith("ATR1") else ["Bug Risk"],
            "severity": _GITLAB_SEVERITY.get(f.code, "major"),
            "fingerprint": unique,
            "location": {
                "path": f.path.replace("\\", "/").removeprefix("./"),
                "positions": {"begin": {"line": f.line, "column": f.column},
                              "end": {"line": f.end_line, "column": f.end_column}},
            },
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def format_rdjson(findings: list[Finding], *, line_text: Callable[[str, int], str | None] | None = None,
                  unsafe: bool = False) -> str:
    """reviewdog's rdjson (a DiagnosticResult), fixes as suggestions. rdjson columns count
    UTF-8 bytes: `line_text(path, line)` gives the source line to convert from characters."""

    def position(f: Finding, line: int, column: int) -> dict:
        text = line_text(f.path, line) if line_text and f.cell is None else None
        if text is not None and not text.isascii():
            column = len(text[:column - 1].encode("utf-8")) + 1
        return {"line": line, "column": column}

    diagnostics = []
    for f in findings:
        item: dict = {
            "message": f.message,
            "location": {"path": f.path.replace("\\", "/"),
                         "range": {"start": position(f, f.line, f.column),
                                   "end": position(f, f.end_line, f.end_column)}},
            "severity": "ERROR",
            "code": {"value": f.code, "url": RULES_URL},
            "source": {"name": "attrlint", "url": RULES_URL},
        }
        if f.fix is not None and (unsafe or f.fix.safe) and f.cell is None:
            e = f.fix
            item["suggestions"] = [{"range": {"start": position(f, e.line, e.column),
                                              "end": position(f, e.end_line, e.end_column)},
                                    "text": e.replacement}]
        diagnostics.append(item)
    result = {"source": {"name": "attrlint", "url": RULES_URL}, "severity": "ERROR", "diagnostics": diagnostics}
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


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
