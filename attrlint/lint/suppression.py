"""The one place that decides whether a finding is reported: which rule codes are enabled
(ruff's selection semantics), `per-file-ignores`, and `# noqa` comments. Per-file findings,
project-wide findings and wrapper call-site findings all pass through `Suppressor.keep`.

A line's noqa is carried as a string, so it can travel in facts and the cache:
`""` no comment, `"*"` a bare `# noqa` (everything), else the codes, comma-joined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from attrlint.core.config import Config, ConfigError


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
    check_data_files: bool | None = None  # None: as the configuration says


ALL = "ALL"


def specificity(selector: str) -> int:
    """ruff's order: `ALL` < `ATR` < `ATR1` < `ATR10` < `ATR101` (the more specific wins)."""
    return 0 if selector == ALL else len(selector) - 2


def selects(selector: str, code: str) -> bool:
    return selector == ALL or code.startswith(selector)


def unknown_selectors(selectors: Iterable[str], rules: Iterable[Selectable]) -> list[str]:
    """The selectors (codes or prefixes) that name no rule."""
    codes = [r.code for r in rules]
    return [s for s in selectors if s != ALL and not any(code.startswith(s) for code in codes)]


def check_selectors(config: Config, rules: Iterable[Selectable]) -> None:
    """Raise ConfigError, naming the file and key, for a code in select, ignore, extend-select
    or per-file-ignores that names no rule: a typo must not silently check nothing."""
    rules = list(rules)
    for key, selectors in (("select", config.select), ("extend-select", config.extend_select),
                           ("ignore", config.ignore)):
        for selector in unknown_selectors(selectors, rules):
            raise ConfigError(config.path, key, f"{selector!r} matches no rule; `attrlint rules` lists them")
    for pattern, selectors in config.per_file_ignores.items():
        for selector in unknown_selectors(selectors, rules):
            raise ConfigError(config.path, f"per-file-ignores.{json.dumps(pattern)}",
                              f"{selector!r} matches no rule; `attrlint rules` lists them")


def enabled_codes(config: Config, options: Options, rules: Iterable[Selectable]) -> frozenset[str]:
    """ruff's selection semantics, configuration first, then the command line: `select`
    replaces the set so far, `extend-select` adds, `ignore` removes; within one layer the
    selectors apply from the least specific (`ALL`) to the most (`ATR001`), and at equal
    specificity `ignore` wins.

    Rules that are off by default are turned on only by their exact code or `ALL`;
    `--strict` / `strict = true` turns on the rules that are off by default, other than
    the suppression family (ATR900)."""
    rules = list(rules)
    check_selectors(config, rules)
    enabled = {r.code for r in rules if r.default_enabled}
    ignored_anywhere: list[str] = []
    for select, extend, ignore in ((config.select, config.extend_select, config.ignore),
                                   (options.select, options.extend_select, options.ignore)):
        if select:
            enabled = set()
        steps = sorted([(specificity(s), 0, s) for s in (*select, *extend)]
                       + [(specificity(s), 1, s) for s in ignore])
        for _, is_ignore, selector in steps:
            for rule in rules:
                if not selects(selector, rule.code):
                    continue
                if is_ignore:
                    enabled.discard(rule.code)
                elif rule.default_enabled or selector in (ALL, rule.code):
                    enabled.add(rule.code)
        ignored_anywhere.extend(ignore)
    if options.strict or config.strict:
        for rule in rules:
            if not rule.default_enabled and getattr(rule, "family", "") != "suppression" \
                    and not any(selects(s, rule.code) for s in ignored_anywhere):
                enabled.add(rule.code)
    return frozenset(enabled)


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
    """Enabled codes and per-file-ignores of one configuration; noqa comes with each finding.

    `honour_noqa=False` leaves noqa to the caller (the run applies it after the project
    phase when it must know which noqa comments suppressed something, for ATR900)."""

    def __init__(self, config: Config, codes: frozenset[str], *, honour_noqa: bool = True) -> None:
        self.config = config
        self.codes = codes
        self.honour_noqa = honour_noqa
        self._ignored: dict[str, tuple[str, ...]] = {}

    def blind_to_noqa(self) -> Suppressor:
        return Suppressor(self.config, self.codes, honour_noqa=False)

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
        if any(selects(prefix, code) for prefix in self.ignored_for(path)):
            return False
        return not (noqa and self.honour_noqa and noqa_covers(noqa, code))
