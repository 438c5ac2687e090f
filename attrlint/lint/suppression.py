"""The one place that decides whether a finding is reported: which rule codes are enabled
(ruff's selection semantics), `per-file-ignores`, and `# noqa` comments. Per-file findings,
project-wide findings and wrapper call-site findings all pass through `Suppressor.keep`.

A line's noqa is carried as a string, so it can travel in facts and the cache:
`""` no comment, `"*"` a bare `# noqa` (everything), else the codes, comma-joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from attrlint.core.config import Config


class Selectable(Protocol):
    """What selection needs to know of a rule."""

    code: str
    default_enabled: bool

_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
FILE_NOQA = re.compile(r"#\s*attrlint\s*:\s*noqa\b(?!\s*:)", re.IGNORECASE)

NOQA_NONE = ""
NOQA_ALL = "*"


@dataclass
class Options:
    """What the command line adds to the configuration's selection."""

    strict: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


def enabled_codes(config: Config, options: Options, rules: Iterable[Selectable]) -> frozenset[str]:
    """Ruff's selection semantics: select replaces the default set, extend-select adds, ignore removes.

    Rules that are off by default are on only under --strict or when selected by exact code."""
    select = options.select or config.select
    extend = (*config.extend_select, *options.extend_select)
    ignore = (*config.ignore, *options.ignore)
    strict = options.strict or config.strict
    chosen = set()
    for rule in rules:
        exact = rule.code in select or rule.code in extend
        if rule.default_enabled:
            on = any(rule.code.startswith(p) for p in select) if select else True
            on = on or any(rule.code.startswith(p) for p in extend)
        else:
            on = exact or strict
        if on and not any(rule.code.startswith(p) for p in ignore):
            chosen.add(rule.code)
    return frozenset(chosen)


def line_noqa(line: str) -> str:
    """The noqa of one source line, as a string (see the module docstring)."""
    if "noqa" not in line and "NOQA" not in line:
        return NOQA_NONE
    match = _NOQA.search(line)
    if match is None:
        return NOQA_NONE
    codes = match.group("codes")
    if not codes:
        return NOQA_ALL
    return ",".join(sorted({c.upper() for c in re.split(r"[,\s]+", codes) if c}))


def noqa_map(lines: list[str]) -> dict[int, str]:
    """1-based line -> its noqa, for the lines that have one."""
    result: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        if "noqa" in line or "NOQA" in line:
            noqa = line_noqa(line)
            if noqa:
                result[number] = noqa
    return result


def noqa_covers(noqa: str, code: str) -> bool:
    return noqa == NOQA_ALL or (bool(noqa) and code in noqa.split(","))


def file_noqa(text: str) -> bool:
    """`# attrlint: noqa` anywhere in the file: nothing in it is reported."""
    return bool(FILE_NOQA.search(text[:4096]) or (len(text) > 4096 and FILE_NOQA.search(text)))


class Suppressor:
    """Enabled codes and per-file-ignores of one configuration; noqa comes with each finding."""

    def __init__(self, config: Config, codes: frozenset[str]) -> None:
        self.config = config
        self.codes = codes
        self._ignored: dict[str, tuple[str, ...]] = {}

    def ignored_for(self, path: str) -> tuple[str, ...]:
        if not self.config.per_file_ignores:
            return ()
        ignored = self._ignored.get(path)
        if ignored is None:
            ignored = self._ignored[path] = self.config.ignored_codes_for(path)
        return ignored

    def keep(self, code: str, path: str, noqa: str = NOQA_NONE) -> bool:
        """Whether a finding of `code` at a line with `noqa`, in `path`, is reported."""
        if code not in self.codes:
            return False
        if noqa and noqa_covers(noqa, code):
            return False
        return not any(code.startswith(prefix) for prefix in self.ignored_for(path))
