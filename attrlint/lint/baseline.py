"""The baseline: findings a team accepts today so that CI fails only on new ones.

An entry is keyed by the finding's path (relative to the baseline file), its rule code and
a hash of the normalised, redacted source of the reported node together with the qualified
name of its enclosing function. Line numbers are not part of the key, so moving code or
editing other lines leaves the entry matching; the file holds hashes, never source or secrets.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path, PurePath

from attrlint.core.config import ConfigError
from attrlint.lint.diagnostics import Finding

DEFAULT_BASELINE = ".attrlint-baseline.json"
VERSION = 1

Key = tuple[str, str, str]  # (path, code, hash)


def _relative(path: str, base: Path) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path), base.resolve())
    except ValueError:  # another drive on Windows
        rel = os.path.abspath(path)
    return PurePath(rel).as_posix()


def finding_hash(finding: Finding) -> str:
    text = " ".join((finding.snippet or finding.message).split())
    data = f"{finding.code}\0{finding.scope}\0{text}"
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]


def key_of(finding: Finding, base: Path) -> Key:
    return (_relative(finding.path, base), finding.code, finding_hash(finding))


def load(path: str | Path) -> Counter[Key]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "baseline file not found; create it with `attrlint baseline`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read the baseline: {exc}; recreate it with `attrlint baseline`") from None
    return parse(text, path)


def parse(text: str, source: str | Path) -> Counter[Key]:
    """The entries of a baseline's text; `source` names it in errors. Only JSON is read, and
    every entry must be three strings and a positive count."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(source, None, f"cannot read the baseline: {exc}; recreate it with `attrlint baseline`") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(source, None, "not an attrlint baseline (no `entries` list)")
    counts: Counter[Key] = Counter()
    for entry in entries:
        fields = [entry.get(name) for name in ("path", "code", "hash")] if isinstance(entry, dict) else []
        count = entry.get("count", 1) if isinstance(entry, dict) else None
        if (len(fields) != 3 or not all(isinstance(f, str) for f in fields) or not isinstance(count, int)
                or isinstance(count, bool) or count < 1):
            raise ConfigError(source, None, f"malformed baseline entry {str(entry)[:200]}; "
                                            "recreate it with `attrlint baseline`")
        counts[(fields[0], fields[1], fields[2])] += count
    return counts


_HASH_LINE = re.compile(r'"hash"\s*:\s*"([^"]*)"')


def entry_lines(text: str) -> dict[str, int]:
    """The 1-based line of each entry's hash in a baseline's text (the first, for a repeat)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for match in _HASH_LINE.finditer(line):
            lines.setdefault(match.group(1), number)
    return lines


def dump(counts: Counter[Key], path: str | Path) -> int:
    entries = [
        {"path": p, "code": c, "hash": h, **({"count": n} if n != 1 else {})}
        for (p, c, h), n in sorted(counts.items()) if n > 0
    ]
    payload = {"version": VERSION, "about": "attrlint baseline: accepted findings, keyed by content hash",
               "entries": entries}
    Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return sum(counts.values())


def build(findings: Iterable[Finding], baseline_path: str | Path) -> Counter[Key]:
    base = Path(baseline_path).resolve().parent
    return Counter(key_of(f, base) for f in findings)


def apply_baseline(findings: list[Finding], path: str | Path) -> tuple[list[Finding], int, list[str]]:
    """(findings not in the baseline, how many were suppressed, descriptions of stale entries)."""
    remaining = load(path)
    base = Path(path).resolve().parent
    kept, suppressed = [], 0
    for finding in findings:
        key = key_of(finding, base)
        if remaining[key] > 0:
            remaining[key] -= 1
            suppressed += 1
        else:
            kept.append(finding)
    stale = [f"{p} {c} {h[:8]}" + (f" (x{n})" if n > 1 else "") for (p, c, h), n in sorted(remaining.items()) if n > 0]
    return kept, suppressed, stale


def update(existing: Counter[Key], findings: Iterable[Finding], baseline_path: str | Path,
           *, add_new: bool) -> tuple[Counter[Key], int, int]:
    """Drop entries that no longer match (fixed findings); with add_new, add current findings too.

    Returns (new counts, removed, added)."""
    current = build(findings, baseline_path)
    kept = existing & current  # multiset intersection: what is still there
    removed = sum((existing - kept).values())
    added = 0
    if add_new:
        added = sum((current - kept).values())
        kept = current.copy()
    return kept, removed, added
