"""`--new-since REF`: keep only findings on lines added or changed since a git ref.

Changed lines come from `git diff -U0 REF` (the working tree against REF, so uncommitted
edits count); files git does not track yet count as new in full. Renames are followed, so
a moved file is not new code.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable

from attrlint.lint.diagnostics import Finding

Changed = dict[str, "set[int] | None"]  # absolute path -> changed lines (None: the whole file is new)

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _git(args: list[str], cwd: str) -> str:
    return _git_bytes(args, cwd).decode("utf-8", "surrogateescape")


# Settings of the repository's own .git/config that make git run a program on the commands
# used here, switched off: a commit cannot set them, but a copied repository folder can.
_SAFE = ["-c", "core.fsmonitor=false"]


def _git_bytes(args: list[str], cwd: str) -> bytes:
    try:
        proc = subprocess.run(["git", *_SAFE, *args], cwd=cwd, capture_output=True, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise RuntimeError("--new-since needs git, and git is not on PATH") from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        message = (stderr.strip().splitlines() or ["git failed"])[-1]
        raise RuntimeError(f"git {' '.join(a for a in args if not a.startswith(('-', 'core.')))[:40]}: {message}")
    return proc.stdout


class Repository:
    """The git repository around `cwd`, and what its files were at a ref.

    attrlint runs git with fixed arguments only: no external diff or text conversion
    drivers (`--no-ext-diff`, `--no-textconv`), no file system monitor, and file contents at
    a ref are read with `git cat-file blob`, which applies no filters. A repository can
    configure git only in its own `.git/config`, which no commit can change (a copied folder
    with a hostile `.git/config` can still name clean filters that `git diff` runs: check
    such a tree as a fresh clone)."""

    def __init__(self, cwd: str | None = None) -> None:
        cwd = cwd or os.getcwd()
        try:
            self.top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
        except RuntimeError:
            raise RuntimeError(f"--new-since needs a git repository, and {cwd} is not inside one") from None

    def commit(self, ref: str) -> str:
        """The commit id `ref` names; later commands use it, never `ref` itself, so that a ref
        cannot be read as an option and cannot move during the run."""
        try:
            if ref.startswith("-"):  # no ref starts with a dash; git would read it as an option
                raise RuntimeError(ref)
            commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], self.top).strip()
        except RuntimeError:
            raise RuntimeError(f"--new-since: {ref!r} is not a commit, branch or tag in this repository "
                               "(for a PR check, fetch the base first: `git fetch origin main`)") from None
        if not re.fullmatch(r"[0-9a-f]{40}(?:[0-9a-f]{24})?", commit):
            raise RuntimeError(f"--new-since: git resolved {ref!r} to {commit[:80]!r}, which is not a commit id")
        return commit

    def relative(self, path: str | os.PathLike[str]) -> str | None:
        """`path` relative to the top of the repository (POSIX), or None when it lies outside."""
        try:
            rel = os.path.relpath(os.path.realpath(path), os.path.realpath(self.top))
        except ValueError:  # another drive on Windows
            return None
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            return None
        return rel.replace(os.sep, "/")

    def read_at(self, commit: str, rel: str) -> bytes | None:
        """The content of file `rel` (relative to the top) at `commit`; None when it did not exist."""
        spec = f"{commit}:{rel}"
        try:
            kind = _git(["cat-file", "-t", spec], self.top).strip()
        except RuntimeError:
            return None
        if kind != "blob":
            return None
        return _git_bytes(["cat-file", "blob", spec], self.top)


    def files_at(self, commit: str) -> list[str]:
        """Every file in the tree of `commit`, relative to the top (POSIX)."""
        listing = _git(["-c", "core.quotePath=off", "ls-tree", "-r", "-z", "--name-only", commit], self.top)
        return [name for name in listing.split("\0") if name]


def changed_lines(ref: str, cwd: str | None = None) -> Changed:
    repo = Repository(cwd)
    commit = repo.commit(ref)
    top = repo.top
    diff = _git(["-c", "core.quotePath=off", "diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "-M",
                 commit, "--"], top)
    changed: Changed = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            if name == "/dev/null":
                current = None
                continue
            name = name.removeprefix("b/")
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
        # a new file; notebook cells: the notebook changed; else a changed line of the finding
        if (lines is None or finding.cell is not None
                or any(n in lines for n in range(finding.line, max(finding.line, finding.end_line) + 1))):
            kept.append(finding)
    return kept
