"""The one glob matcher: gitignore patterns (pathspec's `gitignore`, formerly `gitwildmatch`),
shared by `exclude`, `extend-exclude`, `per-file-ignores` and agent `paths`.

Patterns are matched against a path relative to the folder of the configuration file,
POSIX style, as in a `.gitignore` at that folder:

- A pattern with no `/` except at the end (`build`, `*.egg-info`, `test_*.py`) matches a
  file or folder of that name at any depth.
- A pattern with a `/` at the start or in the middle (`scripts/*.py`, `pkg/sub`,
  `/setup.py`) is anchored at the configuration's folder. `./x` is read as `/x`.
- A trailing `/` (`generated/`) matches folders only.
- `*` and `?` never cross a `/`; `**` does: `**/gen` (any depth), `docs/**` (everything
  inside), `a/**/b` (zero or more folders between).
- Matching a folder matches everything under it.
- In a list, the last pattern that matches a path decides, and `!pattern` re-includes what
  an earlier pattern matched: `["build/", "!build/keep.py"]` excludes `build/` but for
  `keep.py`. (Unlike git, a file in an excluded folder can be re-included; the walk then
  enters only the excluded folders a negated pattern can reach.)

Patterns git would silently treat as something else (a comment, an unclosed `[`, a
Windows separator, a `..` that can never match) are errors, so a typo cannot exclude
nothing without saying so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import pathspec
from pathspec.patterns.gitignore.base import GitIgnorePatternError

_ESCAPABLE = set("\\#!*?[] ")


class GlobError(ValueError):
    """A pattern that is not a valid glob; the message says why and what to write instead."""


def check_pattern(pattern: str) -> str:
    """The pattern, normalised (`./x` -> `/x`); raises GlobError when it is not a usable glob."""
    if not pattern.strip():
        raise GlobError("an empty pattern matches nothing; remove it")
    body = pattern.removeprefix("!")
    if not body:
        raise GlobError("`!` alone negates nothing; write `!pattern`")
    if body.startswith("#"):
        raise GlobError("a pattern starting with `#` is a comment in gitignore syntax; write `\\#` for a literal `#`")
    for match in re.finditer(r"\\(.?)", body):
        if match.group(1) not in _ESCAPABLE:
            raise GlobError("`\\` escapes a special character; use `/` to separate folders")
    if _unclosed_bracket(body):
        raise GlobError("unclosed `[`; write `\\[` for a literal bracket")
    if body.startswith("./"):
        body = "/" + body[2:]
    segments = body.strip("/").split("/")
    if ".." in segments:
        raise GlobError("`..` cannot match: patterns are relative to the folder of the configuration file")
    if "" in segments and body.strip("/"):
        raise GlobError("`//` (an empty folder name) cannot match")
    normalised = ("!" if pattern.startswith("!") else "") + body
    try:
        compiled = pathspec.PathSpec.from_lines("gitignore", [normalised])
    except GitIgnorePatternError as exc:
        raise GlobError(str(exc)) from None
    if not compiled.patterns or compiled.patterns[0].include is None:
        raise GlobError("not a pattern in gitignore syntax")
    return normalised


def _unclosed_bracket(text: str) -> bool:
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            j = i + 1
            if j < len(text) and text[j] in "!^":
                j += 1
            if j < len(text) and text[j] == "]":
                j += 1
            while j < len(text) and text[j] != "]":
                j += 1
            if j >= len(text):
                return True
            i = j
        i += 1
    return False


class Globs:
    """A list of gitignore patterns, matched as one: the last pattern matching a path decides."""

    __slots__ = ("_dirs", "_negations", "_spec", "patterns")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(check_pattern(p) for p in patterns)
        self._spec = pathspec.PathSpec.from_lines("gitignore", self.patterns)
        self._negations = [_reach(p[1:]) for p in self.patterns if p.startswith("!")]
        self._dirs: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __repr__(self) -> str:
        return f"Globs({list(self.patterns)!r})"

    def matches(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether `rel` (relative to the configuration's folder, POSIX) is matched; a pattern
        matching a folder matches every path under it."""
        if not rel or rel == ".":
            return False
        return self._spec.match_file(rel + "/" if is_dir else rel)

    def prunes(self, rel: str) -> bool:
        """Whether a walk can skip the folder `rel` whole: it is matched, and no negated
        pattern can re-include anything under it. Cached per folder."""
        known = self._dirs.get(rel)
        if known is None:
            known = self.matches(rel, is_dir=True) and not any(_reaches(n, rel) for n in self._negations)
            if len(self._dirs) < 100_000:
                self._dirs[rel] = known
        return known


def _reach(pattern: str) -> tuple[str, ...] | None:
    """The literal folders a pattern is anchored under, or None when it can match at any depth."""
    body = pattern.rstrip("/")
    if "/" not in body:
        return None  # unanchored: a name at any depth
    parts = body.lstrip("/").split("/")
    literal = []
    for part in parts:
        if any(ch in part for ch in "*?[\\"):
            break
        literal.append(part)
    return tuple(literal)


def _reaches(reach: tuple[str, ...] | None, folder: str) -> bool:
    """Whether a negated pattern anchored under `reach` could match something in `folder`."""
    if reach is None:
        return True
    parts = folder.split("/")
    common = min(len(parts), len(reach))
    return parts[:common] == list(reach[:common])


@functools.lru_cache(maxsize=4096)
def compile_globs(patterns: tuple[str, ...]) -> Globs:
    """The compiled matcher for a tuple of patterns (one per distinct list)."""
    return Globs(patterns)
