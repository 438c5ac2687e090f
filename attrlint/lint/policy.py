"""PR mode's policy check: what a change does to the checks themselves.

With `attrlint check --new-since REF`, the baseline file and every `[tool.attrlint]`
configuration of the run are read as they were at REF (`git cat-file blob`; parsed as JSON
and TOML, like the files in the working tree, and never executed) and compared with the
files now. Each baseline entry the change adds is an ATR201 finding and each relaxation of
the configuration an ATR202 finding, located in the file and at the line that made it.
They are not subject to the baseline or to the `--new-since` line filter, and they fail the
check unless `--allow-policy-changes` is given.

Whether the two rules run is decided by the command line and the configuration *at REF*:
the change under review cannot switch off the check of its own policy.

A configuration file that did not exist at REF is compared with the configuration that
applied there instead: the nearest parent directory's, else attrlint's defaults ("no
policy"), so that a new nested `pyproject.toml` cannot relax its directory unreported.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attrlint.core import toml
from attrlint.core.config import CONFIG_NAMES, Config, ConfigError, load_config, parse_config
from attrlint.keys.governance import config_display_path
from attrlint.lint import baseline as baseline_file
from attrlint.lint.diagnostics import Finding
from attrlint.lint.gitdiff import Repository
from attrlint.lint.rules import Rule, all_rules
from attrlint.lint.rules.policy import BaselineEntryAdded, PolicyRelaxed
from attrlint.lint.suppression import Options, enabled_codes


class PolicyError(Exception):
    """The policy at REF cannot be read (a configuration or baseline that does not parse)."""


@dataclass(frozen=True)
class Relaxation:
    """One change that disables or narrows a check: where (1-based line) and what."""

    line: int
    message: str
    snippet: str = ""


# -- locating keys in TOML text ---------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?(?P<name>[^\]]*)\]\]?\s*(?:#.*)?$")


def _dotted(name: str) -> tuple[str, ...]:
    """`tool . attrlint."per-file-ignores"` -> ("tool", "attrlint", "per-file-ignores")."""
    parts, current, quote = [], "", ""
    for ch in name:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(parts)


class Locator:
    """Lines of keys and tables of `[tool.attrlint]` in a configuration file's text."""

    def __init__(self, text: str, *, standalone: bool = False) -> None:
        self.lines = text.splitlines()
        self._tables: list[tuple[str, ...] | None] = []  # per line: the attrlint table it is in
        current: tuple[str, ...] | None = () if standalone else None
        self._headers: dict[tuple[str, ...], int] = {}
        for number, line in enumerate(self.lines, 1):
            match = _HEADER.match(line)
            if match:
                parts = _dotted(match.group("name"))
                if standalone:
                    current = parts
                elif parts[:2] == ("tool", "attrlint"):
                    current = parts[2:]
                else:
                    current = None
                if current is not None:
                    self._headers.setdefault(current, number)
            self._tables.append(current)

    def table(self, *parts: str) -> int | None:
        return self._headers.get(tuple(parts))

    def key(self, key: str, *table: str) -> int | None:
        """The line of `key = ...` in the attrlint table `table` (the top one by default)."""
        name = re.escape(key)
        pattern = re.compile(rf"^\s*(?:{name}|\"{name}\"|'{name}')\s*=")
        for number, (line, current) in enumerate(zip(self.lines, self._tables), 1):
            if current == tuple(table) and pattern.match(line):
                return number
        return None

    def top(self) -> int:
        return self.table() or 1

    def find(self, *candidates: int | None) -> int:
        """The first known line among `candidates`, else the `[tool.attrlint]` header."""
        for line in candidates:
            if line:
                return line
        return self.top()

    def text(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""


# -- comparing two configurations --------------------------------------------------------------


def _codes(prefixes: Iterable[str], rules: list[type[Rule]]) -> set[str]:
    prefixes = tuple(prefixes)
    return {r.code for r in rules if r.code.startswith(prefixes)} if prefixes else set()


def _listed(items: Iterable[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _exclude_key(pattern: str) -> str:
    return pattern.strip().rstrip("/").removeprefix("./")


def config_relaxations(base: Config, head: Config, head_text: str, *, ref: str,
                       standalone: bool = False) -> list[Relaxation]:
    """Every way `head` checks less than `base` did, located in `head_text`."""
    rules = all_rules()
    by_code = {r.code: r for r in rules}
    where = Locator(head_text, standalone=standalone)
    found: list[Relaxation] = []

    def report(line: int, message: str) -> None:
        found.append(Relaxation(line, message, where.text(line)))

    # Rules switched off.
    base_codes = enabled_codes(base, Options(), rules)
    head_codes = enabled_codes(head, Options(), rules)
    lost = sorted(base_codes - head_codes)
    if base.strict and not head.strict:
        by_strict = [c for c in lost if not by_code[c].default_enabled]
        lost = [c for c in lost if c not in by_strict]
        also = f", which disables {_listed(by_strict)}" if by_strict else ""
        report(where.find(where.key("strict")), f"`strict` is turned off (it was on at {ref}){also}: the rules "
                                                "that are off by default are no longer on, and the runtime no "
                                                "longer rejects unattributed calls")
    for code in lost:
        rule = by_code[code]
        ignoring = [p for p in head.ignore if code.startswith(p) and p not in base.ignore]
        if ignoring:
            line, how = where.key("ignore"), f"`ignore` now disables {code} ({rule.name}) through {_listed(ignoring)}"
        elif head.select != base.select:
            line, how = where.key("select"), f"`select` no longer enables {code} ({rule.name})"
        elif head.extend_select != base.extend_select:
            line, how = where.key("extend-select"), f"`extend-select` no longer enables {code} ({rule.name})"
        else:
            line, how = where.key("ignore"), f"{code} ({rule.name}) is no longer enabled"
        report(where.find(line), f"{how}; it was enabled at {ref}")

    # Files whose findings are ignored, or which are not checked at all.
    checked = base_codes | head_codes
    for pattern, prefixes in head.per_file_ignores.items():
        before = base.per_file_ignores.get(pattern)
        new = sorted((_codes(prefixes, rules) - _codes(before or (), rules)) & checked)
        if new:
            verb = "adds" if before is None else "widens"
            report(where.find(where.key(pattern, "per-file-ignores"), where.table("per-file-ignores"),
                              where.key("per-file-ignores")),
                   f"`per-file-ignores` {verb} `{pattern}`: {_listed(new)} no longer reported in files matching it")
    excluded_before = {_exclude_key(p) for p in (*base.exclude, *base.extend_exclude)}
    reported: set[str] = set()
    for key, patterns in (("exclude", head.exclude), ("extend-exclude", head.extend_exclude)):
        for pattern in patterns:
            if _exclude_key(pattern) in excluded_before or _exclude_key(pattern) in reported:
                continue
            reported.add(_exclude_key(pattern))
            report(where.find(where.key(key)), f"`{key}` adds `{pattern}`: files matching it are no longer checked")

    # What a call must carry.
    dropped = [f for f in base.schema.required if f not in head.schema.required]
    if dropped:
        report(where.find(where.key("required-fields")),
               f"`required-fields` no longer requires {_listed(dropped)} (required at {ref})")
    for name, agent in head.agents.items():
        old = base.agents.get(name)
        if agent.required_fields is None and (old is None or old.required_fields is None):
            continue  # the agent follows the global list, compared above
        now = agent.required_fields if agent.required_fields is not None else head.schema.required
        before = old.required_fields if old is not None and old.required_fields is not None \
            else base.schema.required
        dropped = [f for f in before if f not in now]
        if dropped:
            report(where.find(where.key("required-fields", "agents", name), agent.line),
                   f"agent `{name}` no longer requires {_listed(dropped)} (required at {ref})")
    for alias, target in sorted(head.schema.aliases.items()):
        if base.schema.aliases.get(alias) != target:
            report(where.find(where.key(alias, "aliases"), where.table("aliases"), where.key("aliases")),
                   f"alias `{alias}` now counts as `{target}`: metadata under that name satisfies `{target}`")
    gone = sorted(base.schema.placeholders - head.schema.placeholders)
    if gone:
        report(where.find(where.key("placeholders")),
               f"{_listed(gone)} no longer count as placeholder values (they did at {ref})")
    if head.schema.max_fields > base.schema.max_fields:
        report(where.find(where.key("max-metadata-fields")),
               f"`max-metadata-fields` is raised from {base.schema.max_fields} to {head.schema.max_fields}")
    for target, wrapper in sorted(head.wrappers.items()):
        old_wrapper = base.wrappers.get(target)
        added = sorted(set(wrapper.supplies.items()) - set(old_wrapper.supplies.items() if old_wrapper else ()))
        if added:
            fields = _listed(field for field, _ in added)
            what = "is declared" if old_wrapper is None else "now supplies more"
            report(where.find(where.table("wrappers", target), where.key(target, "wrappers"), where.key("wrappers")),
                   f"wrapper `{target}` {what} ({fields}): the LLM calls inside it are no longer checked "
                   "for those fields")

    # Agents.
    for name, old in base.agents.items():
        agent = head.agents.get(name)
        if agent is None:
            report(where.find(where.table("agents"), where.key("agents")),
                   f"agent `{name}` is removed: its files ({_listed(old.paths)}) are no longer checked as an "
                   "agent's (one key per agent, its required fields)")
        elif set(agent.paths) != set(old.paths):
            added_paths = [p for p in agent.paths if p not in old.paths]
            removed_paths = [p for p in old.paths if p not in agent.paths]
            change = "; ".join(part for part in (f"adds {_listed(added_paths)}" if added_paths else "",
                                                 f"drops {_listed(removed_paths)}" if removed_paths else "") if part)
            report(where.find(where.key("paths", "agents", name), agent.line),
                   f"agent `{name}` `paths` changed ({change}): which files count as its own changes")

    # The key registry.
    if base.keys and not head.keys:
        report(where.find(where.table("keys"), where.key("keys")),
               f"the key registry is emptied ({len(base.keys)} keys at {ref}): unregistered and expired keys "
               "are no longer reported (ATR104)")
    elif base.keys:
        for env, entry in head.keys.items():
            old_key = base.keys.get(env)
            line = where.find(where.table("keys", env), entry.line)
            if old_key is None:
                report(line, f"key `{env}` is added to the registry: its use is no longer reported as unregistered")
                continue
            if old_key.expires and entry.expires and entry.expires > old_key.expires:
                report(where.find(where.key("expires", "keys", env), line),
                       f"key `{env}` `expires` is moved from {old_key.expires} to {entry.expires}")
            for attribute in ("agent", "provider", "environment"):
                was, now_value = getattr(old_key, attribute), getattr(entry, attribute)
                if was != now_value:
                    report(where.find(where.key(attribute, "keys", env), line),
                           f"key `{env}` `{attribute}` changes from {was or 'unset'} to {now_value or 'unset'}")
    return found


# -- reading the policy at REF -----------------------------------------------------------------


def _table_of(text: str, name: str, source: str) -> dict[str, Any] | None:
    """The `[tool.attrlint]` table of a configuration's text (the whole document for a file
    that is not pyproject.toml); None when a pyproject.toml has none."""
    try:
        document = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise PolicyError(f"{source}: TOML nested too deeply to read") from None
    if name != "pyproject.toml":
        return document
    tool = document.get("tool")
    table = tool.get("attrlint") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise PolicyError(f"{source}: [tool.attrlint] is not a table")
    return table


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{source}: not UTF-8") from None


def parse_config_text(text: str, *, rel: str, ref: str, like: Config) -> Config | None:
    """The configuration in `text`, the file `rel` at `ref` (`REF:rel` in errors), with
    `like`'s path and root so that its patterns mean the same; None for a pyproject.toml
    without `[tool.attrlint]`."""
    name = rel.rsplit("/", 1)[-1]
    table = _table_of(text, name, f"{ref}:{rel}")
    if table is None:
        return None
    try:
        config = parse_config(table, path=Path(rel), text=text)
    except ConfigError as exc:
        raise PolicyError(f"{ref}:{exc}") from None
    return dataclasses.replace(config, path=like.path, root=like.root)


def _has_table(name: str, text: str) -> bool:
    """Whether discovery takes this file as a configuration (as `core.config` does)."""
    return name != "pyproject.toml" or "tool.attrlint" in text


def base_config(repo: Repository, commit: str, ref: str, head: Config) -> tuple[Config, str | None, str]:
    """The configuration that applied at REF where `head` applies now: (config, the file it came
    from as `REF:path` or None for the defaults, its text)."""
    own = repo.relative(head.path) if head.path is not None else None
    if head.path is not None:
        if own is None:
            return head, None, ""  # outside the repository: no change under review can touch it
        data = repo.read_at(commit, own)
        if data is not None:
            source = f"{ref}:{own}"
            text = _decode(data, source)
            config = parse_config_text(text, rel=own, ref=ref, like=head)
            if config is not None:
                return config, source, text
    directory = Path(head.path).resolve().parent if head.path is not None else head.root.resolve()
    while True:
        rel_dir = repo.relative(directory)
        if rel_dir is None:
            break
        for name in CONFIG_NAMES:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel == own:
                continue
            data = repo.read_at(commit, rel)
            if data is None:
                continue
            source = f"{ref}:{rel}"
            text = _decode(data, source)
            if not _has_table(name, text):
                continue  # as discovery does: a pyproject.toml without the table is passed over
            config = parse_config_text(text, rel=rel, ref=ref, like=head)
            if config is not None:
                return config, source, text
        if rel_dir == ".":
            break
        directory = directory.parent
    return Config(path=head.path, root=head.root), None, ""


def baseline_additions(before: Counter[baseline_file.Key], now: Counter[baseline_file.Key],
                       now_text: str, *, ref: str) -> list[Relaxation]:
    lines = baseline_file.entry_lines(now_text)
    found = []
    for (path, code, digest), count in sorted((now - before).items()):
        more = f"{count} more" if before[(path, code, digest)] else ("an entry" if count == 1 else f"{count} entries")
        line = lines.get(digest, 1)
        found.append(Relaxation(
            line, f"the baseline accepts {more} for {code} in {path} (hash {digest[:8]}) that it did not at {ref}: "
                  "fix the finding instead of accepting it",
            now_text.splitlines()[line - 1].strip() if 0 < line <= len(now_text.splitlines()) else ""))
    return found


def _finding(rule: type[Rule], path: str, relaxation: Relaxation) -> Finding:
    return Finding(rule.code, rule.name, relaxation.message, path, relaxation.line, 1, relaxation.line, 1,
                   snippet=relaxation.snippet)


def _display(path: str | os.PathLike[str]) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def policy_findings(ref: str, *, configs: list[Config], baseline: str | None, options: Options,
                    cwd: str | None = None) -> list[Finding]:
    """ATR201 and ATR202 findings for the change from REF to the working tree. Raises
    RuntimeError when git cannot answer, PolicyError when the policy at REF cannot be read."""
    repo = Repository(cwd)
    commit = repo.commit(ref)
    rules = all_rules()
    findings: list[Finding] = []
    check_baseline = not configs
    seen: set[str] = set()
    for head in configs:
        identity = str(Path(head.path).resolve()) if head.path is not None else f"defaults:{head.root}"
        if identity in seen:
            continue
        seen.add(identity)
        base, source, _ = base_config(repo, commit, ref, head)
        codes = enabled_codes(base, options, rules)
        check_baseline = check_baseline or BaselineEntryAdded.code in codes
        if PolicyRelaxed.code not in codes:
            continue
        if head.path is not None:
            try:
                head_text = Path(head.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyError(f"{head.path}: cannot read: {exc}") from None
            shown = config_display_path(head)
            standalone = Path(head.path).name != "pyproject.toml"
        else:  # the configuration was removed: report at the file it was in
            head_text, standalone = "", False
            shown = _display(os.path.join(repo.top, source.split(":", 1)[1])) if source else "pyproject.toml"
        for relaxation in config_relaxations(base, head, head_text, ref=ref, standalone=standalone):
            findings.append(_finding(PolicyRelaxed, shown, relaxation))
    findings.extend(_deleted_configs(repo, commit, ref, options, seen))
    if baseline is not None and check_baseline:
        findings.extend(_baseline_findings(repo, commit, ref, Path(baseline)))
    return sorted(findings, key=Finding.sort_key)


def _deleted_configs(repo: Repository, commit: str, ref: str, options: Options, seen: set[str]) -> list[Finding]:
    """Configuration files that existed at REF and are gone: the configuration that applies in
    their directory now (a parent's, or the defaults) must not check less than they did."""
    rules = all_rules()
    findings = []
    for rel in repo.files_at(commit):
        name = rel.rsplit("/", 1)[-1]
        path = Path(repo.top, *rel.split("/"))
        if name not in CONFIG_NAMES or os.path.lexists(path) or str(path.resolve()) in seen:
            continue
        directory = path.parent
        if not directory.is_dir():
            continue  # the directory went with it: nothing left there to check
        source = f"{ref}:{rel}"
        data = repo.read_at(commit, rel)
        text = _decode(data, source) if data is not None else ""
        if not _has_table(name, text):
            continue
        try:
            head = load_config(None, start=directory)
        except ConfigError as exc:
            raise PolicyError(str(exc)) from None
        base = parse_config_text(text, rel=rel, ref=ref, like=head)
        if base is None or PolicyRelaxed.code not in enabled_codes(base, options, rules):
            continue
        now = config_display_path(head) if head.path is not None else "attrlint's defaults"
        for relaxation in config_relaxations(base, head, "", ref=ref):
            findings.append(Finding(
                PolicyRelaxed.code, PolicyRelaxed.name,
                f"`{rel}` is deleted, and the configuration that applies there now ({now}) checks less: "
                f"{relaxation.message}", _display(path), 1, 1, 1, 1, snippet=f"deleted: {rel}"))
    return findings


def _baseline_findings(repo: Repository, commit: str, ref: str, path: Path) -> list[Finding]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []  # no baseline now: nothing is accepted
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the baseline: {exc}") from None
    try:
        now = baseline_file.parse(text, path)
    except ConfigError as exc:
        raise PolicyError(str(exc)) from None
    rel = repo.relative(path)
    if rel is None:
        return []  # outside the repository: no change under review can touch it
    before: Counter[baseline_file.Key] = Counter()
    data = repo.read_at(commit, rel)
    if data is not None:
        source = f"{ref}:{rel}"
        try:
            before = baseline_file.parse(_decode(data, source), source)
        except ConfigError as exc:
            raise PolicyError(str(exc)) from None
    shown = _display(path)
    return [_finding(BaselineEntryAdded, shown, r) for r in baseline_additions(before, now, text, ref=ref)]
