"""`--new-since REF`: keep only findings on lines added or changed since a git ref.

Changed lines come from `git diff -U0 REF` (the working tree against REF, so uncommitted
edits count); files git does not track yet count as new in full. Renames are followed, so
a moved file is not new code.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Iterable

from attrlint.lint.diagnostics import Finding

Changed = dict[str, "set[int] | None"]  # absolute path -> changed lines (None: the whole file is new)

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _git(args: list[str], cwd: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RuntimeError("--new-since needs git, and git is not on PATH") from None
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
        raise RuntimeError(f"git {' '.join(a for a in args if not a.startswith(('-', 'core.')))[:40]}: {message}")
    return proc.stdout


def changed_lines(ref: str, cwd: str | None = None) -> Changed:
    cwd = cwd or os.getcwd()
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    except RuntimeError:
        raise RuntimeError(f"--new-since needs a git repository, and {cwd} is not inside one") from None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
    except RuntimeError:
        raise RuntimeError(f"--new-since: {ref!r} is not a commit, branch or tag in this repository "
                           "(for a PR check, fetch the base first: `git fetch origin main`)") from None
    diff = _git(["-c", "core.quotePath=off", "diff", "-U0", "--no-color", "--no-ext-diff", "-M", ref, "--"], top)
    changed: Changed = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            if name == "/dev/null":
                current = None
                continue
            name = name[2:] if name.startswith("b/") else name
            current = changed.setdefault(os.path.normpath(os.path.join(top, name)), set())
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or "1")
                current.update(range(start, start + count))
    for name in _git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0"):
        if name:
            changed[os.path.normpath(os.path.join(top, name))] = None
    return changed


def filter_new(findings: Iterable[Finding], changed: Changed) -> list[Finding]:
    kept = []
    for finding in findings:
        path = os.path.normpath(os.path.abspath(finding.path))
        if path not in changed:
            continue
        lines = changed[path]
        if lines is None or finding.cell is not None:  # a new file; notebook cells: the notebook changed
            kept.append(finding)
        elif any(n in lines for n in range(finding.line, max(finding.line, finding.end_line) + 1)):
            kept.append(finding)
    return kept
