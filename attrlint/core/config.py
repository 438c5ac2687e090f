"""`[tool.attrlint]` configuration: loading, validation and the questions rules ask of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any

from attrlint.core import toml as _toml
from attrlint.core.globs import GlobError, check_pattern, compile_globs
from attrlint.core.schema import Schema, default_schema

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".env/", "env/",
    "__pycache__", "node_modules", "build", "dist", ".eggs", "*.egg-info",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".attrlint", ".attrlint_cache", "site-packages",
)

_CODE = re.compile(r"^(ATR\d{0,3}|ALL)$")

# Configuration files, in the order they win within one folder (as ruff's `.ruff.toml`,
# `ruff.toml`, `pyproject.toml`): the first that exists is the folder's configuration
# (a pyproject.toml only when it has a [tool.attrlint] table).
CONFIG_NAMES = (".attrlint.toml", "attrlint.toml", "pyproject.toml")

# What `environment` may say of a key (the names key variables end in: _PROD, _DEV, ...).
ENVIRONMENTS = ("prod", "staging", "dev", "test", "qa", "local", "sandbox")
_ENVIRONMENT_SYNONYMS = {"production": "prod", "stage": "staging", "development": "dev", "testing": "test"}


class ConfigError(Exception):
    """A configuration problem, with the file and key it is about."""

    def __init__(self, path: Path | str | None, key: str | None, message: str) -> None:
        self.path, self.key = path, key
        where = f"{path}" if path else "configuration"
        if key:
            table = "[tool.attrlint] " if path is None or Path(path).name == "pyproject.toml" else ""
            where += f": {table}{key}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class AgentConfig:
    name: str
    paths: tuple[str, ...]
    required_fields: tuple[str, ...] | None = None
    monthly_budget: Decimal | None = None
    line: int = 1


@dataclass(frozen=True)
class KeyConfig:
    env: str
    agent: str | None = None
    provider: str | None = None
    owner: str | None = None
    expires: dt.date | None = None
    environment: str | None = None
    line: int = 1


@dataclass(frozen=True)
class PriceOverride:
    provider: str
    model: str
    input: Decimal | None = None
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    effective: dt.date | None = None


@dataclass(frozen=True)
class WrapperConfig:
    target: str  # "pkg.module:function" or "pkg.module:Class.method"
    supplies: dict[str, str] = field(hash=False)  # field -> parameter


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    schema: Schema = field(default_factory=default_schema)
    strict: bool = False
    check_data_files: bool = True  # ATR101 in git-tracked .env*/YAML/JSON/TOML/INI files and notebook outputs
    agents: dict[str, AgentConfig] = field(default_factory=dict, hash=False)
    keys: dict[str, KeyConfig] = field(default_factory=dict, hash=False)
    pricing: tuple[PriceOverride, ...] = ()
    wrappers: dict[str, WrapperConfig] = field(default_factory=dict, hash=False)

    # -- questions the engine and rules ask --------------------------------------------

    def relpath(self, path: Path | str) -> str:
        """`path` relative to the config root, POSIX style, for globs. A path outside the
        root is its absolute path without the leading `/`, so only unanchored patterns
        (`build`, `*.egg-info`) can match it."""
        p = Path(path)
        resolved = p.resolve()
        try:
            rel = PurePosixPath(resolved.relative_to(self.root.resolve())).as_posix()
        except ValueError:
            return PurePosixPath(resolved).as_posix().lstrip("/")
        return "" if rel == "." else rel

    def agent_for(self, path: Path | str) -> str | None:
        rel = self.relpath(path)
        for agent in self.agents.values():
            if compile_globs(agent.paths).matches(rel):
                return agent.name
        return None

    def required_for(self, path: Path | str) -> tuple[str, ...]:
        agent = self.agent_for(path)
        if agent and self.agents[agent].required_fields is not None:
            return self.agents[agent].required_fields  # type: ignore[return-value]
        return self.schema.required

    def exclude_globs(self):  # -> Globs
        """`exclude` then `extend-exclude`, as one list (so `!pattern` in either re-includes)."""
        return compile_globs((*self.exclude, *self.extend_exclude))

    def is_excluded(self, path: Path | str, *, is_dir: bool | None = None) -> bool:
        """Whether `exclude`/`extend-exclude` match `path` or a folder above it (see
        attrlint.core.globs for the pattern syntax)."""
        if is_dir is None:
            is_dir = Path(path).is_dir()
        return self.exclude_globs().matches(self.relpath(path), is_dir=is_dir)

    def ignored_codes_for(self, path: Path | str) -> tuple[str, ...]:
        """The codes `per-file-ignores` turns off for `path`; a key `!pattern` applies to
        the files it does not match (as in ruff)."""
        rel = self.relpath(path)
        codes: list[str] = []
        for pattern, ignored in self.per_file_ignores.items():
            negated = pattern.startswith("!")
            if compile_globs((pattern[1:] if negated else pattern,)).matches(rel) != negated:
                codes.extend(ignored)
        return tuple(codes)

    def fingerprint(self) -> str:
        """A hash of everything that changes per-file analysis results (for the cache)."""
        payload = {
            "required": self.schema.required,
            "aliases": sorted(self.schema.aliases.items()),
            "placeholders": sorted(self.schema.placeholders),
            "max": self.schema.max_fields,
            "agents": sorted((a.name, a.paths, a.required_fields) for a in self.agents.values()),
            "wrappers": sorted((w.target, sorted(w.supplies.items())) for w in self.wrappers.values()),
        }
        return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()[:16]


# -- loading ------------------------------------------------------------------------------

_TOP_KEYS = {
    "select", "ignore", "extend-select", "exclude", "extend-exclude", "per-file-ignores",
    "required-fields", "aliases", "placeholders", "max-metadata-fields", "strict", "check-data-files",
    "agents", "keys", "pricing", "wrappers",
}
_AGENT_KEYS = {"paths", "required-fields", "monthly-budget"}
_KEY_KEYS = {"agent", "provider", "owner", "expires", "environment"}
_PRICE_KEYS = {"input", "output", "cache-read", "cache-write", "effective"}


def _config_in(directory: Path) -> Path | None:
    """The folder's configuration file (see CONFIG_NAMES), or None."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if not candidate.is_file():
            continue
        if name != "pyproject.toml":
            return candidate
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError:
            continue
        if "[tool.attrlint" in text or "tool.attrlint" in text:
            return candidate
    return None


def find_config_file(start: Path) -> Path | None:
    """The nearest `.attrlint.toml`, `attrlint.toml` or pyproject.toml with a [tool.attrlint]
    table, at or above `start` (the first of them in the nearest folder that has one)."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate_dir in (directory, *directory.parents):
        found = _config_in(candidate_dir)
        if found is not None:
            return found
    return None


find_pyproject = find_config_file  # the name callers used before attrlint.toml was read


def has_config_file(directory: str | Path) -> bool:
    """Whether `directory` holds a configuration file of its own."""
    return _config_in(Path(directory)) is not None


def read_table(path: Path) -> tuple[dict[str, Any], str]:
    """The attrlint table of a configuration file and the file's text: `[tool.attrlint]` of a
    pyproject.toml, the whole file of an attrlint.toml / .attrlint.toml."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(path, None, "invalid TOML: nested too deeply to read") from None
    if Path(path).name == "pyproject.toml":
        table = data.get("tool", {}).get("attrlint")
        if table is not None and not isinstance(table, dict):
            raise ConfigError(path, None, "[tool.attrlint] must be a table")
        return table or {}, text
    return data, text


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Load the configuration from `path`, or from the nearest configuration file above `start`."""
    if path is None:
        path = find_config_file(start or Path.cwd())
        if path is None:
            return Config(root=(start or Path.cwd()).resolve() if (start or Path.cwd()).is_dir()
                          else (start or Path.cwd()).resolve().parent)
    table, text = read_table(Path(path))
    return parse_config(table, path=Path(path), text=text)


def parse_config(table: dict[str, Any], *, path: Path | None = None, text: str = "") -> Config:
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise ConfigError(path, unknown[0], f"unknown key; expected one of {', '.join(sorted(_TOP_KEYS))}")
    base = default_schema()
    schema = base.extended(
        required=_fields(table, "required-fields", path) if "required-fields" in table else None,
        aliases=_aliases(table.get("aliases", {}), path, base),
        placeholders=tuple(_str_list(table, "placeholders", path)) if "placeholders" in table else None,
        max_fields=_positive_int(table, "max-metadata-fields", path),
    )
    prefix = ("tool", "attrlint") if path is None or path.name == "pyproject.toml" else ()
    agents = _agents(table.get("agents", {}), path, text, prefix)
    # An agent's own required fields are schema fields too: a call whose metadata has
    # `claim_id` supplies `claim_id`, whatever the default schema calls canonical.
    extra = {f for a in agents.values() for f in (a.required_fields or ())} - schema.canonical
    if extra:
        schema = dataclasses.replace(schema, canonical=schema.canonical | frozenset(extra))
    keys = _keys(table.get("keys", {}), path, text, prefix)
    root = path.parent.resolve() if path else Path.cwd().resolve()
    exclude = DEFAULT_EXCLUDE
    if "exclude" in table:
        exclude = _globs(table, "exclude", path)
    return Config(
        path=path,
        root=root,
        select=_codes(table, "select", path),
        ignore=_codes(table, "ignore", path),
        extend_select=_codes(table, "extend-select", path),
        exclude=exclude,
        extend_exclude=_globs(table, "extend-exclude", path),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), path),
        schema=schema,
        strict=_bool(table, "strict", path),
        check_data_files=_bool(table, "check-data-files", path, default=True),
        agents=agents,
        keys=keys,
        pricing=_pricing(table.get("pricing", {}), path),
        wrappers=_wrappers(table.get("wrappers", {}), path, schema),
    )


def _str_list(table: dict[str, Any], key: str, path: Path | None, *, name: str | None = None) -> list[str]:
    """`table[key]` as a list of strings; errors name the key as `name` (default `key`)."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, name or key, "expected a list of strings")
    return value


def _globs(table: dict[str, Any], key: str, path: Path | None, *, name: str | None = None) -> tuple[str, ...]:
    """A list of gitignore-style patterns, each checked (attrlint.core.globs)."""
    patterns = []
    for pattern in _str_list(table, key, path, name=name):
        try:
            patterns.append(check_pattern(pattern))
        except GlobError as exc:
            raise ConfigError(path, name or key, f"pattern {pattern!r}: {exc}") from None
    return tuple(patterns)


_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _fields(table: dict[str, Any], key: str, path: Path | None, *, name: str | None = None) -> tuple[str, ...]:
    """A non-empty list of distinct metadata field names (`required-fields`)."""
    fields = _str_list(table, key, path, name=name)
    if not fields:
        raise ConfigError(path, name or key, "empty: list at least one field (e.g. [\"ticket_id\", \"agent_id\"]), "
                                             "or remove the key to use the default fields")
    seen = set()
    for field_name in fields:
        if not _FIELD.match(field_name):
            raise ConfigError(path, name or key, f"{field_name!r} is not a metadata field name "
                                                 "(letters, digits, `_`, `-` or `.`)")
        if field_name in seen:
            raise ConfigError(path, name or key, f"{field_name!r} is listed twice")
        seen.add(field_name)
    return tuple(fields)


def _codes(table: dict[str, Any], key: str, path: Path | None, *, name: str | None = None) -> tuple[str, ...]:
    """Rule selectors: `ALL`, a code (`ATR001`) or a prefix (`ATR1`). Whether each names a
    rule that exists is checked where the rules are known (attrlint.lint.suppression)."""
    codes = _str_list(table, key, path, name=name)
    for code in codes:
        if not _CODE.match(code):
            raise ConfigError(path, name or key, f"{code!r} is not a rule code or prefix (like ATR001, ATR1 or ALL)")
    return tuple(codes)


def _bool(table: dict[str, Any], key: str, path: Path | None, *, default: bool = False) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(path, key, "expected true or false")
    return value


def _positive_int(table: dict[str, Any], key: str, path: Path | None) -> int | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(path, key, "expected a positive integer")
    return value


def _aliases(value: Any, path: Path | None, schema: Schema) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(path, "aliases", "expected a table of alias = \"canonical_field\"")
    return dict(value)


def _per_file_ignores(value: Any, path: Path | None) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(path, "per-file-ignores", "expected a table of \"glob\" = [codes]")
    ignores = {}
    for pattern in value:
        key = f"per-file-ignores.{json.dumps(pattern)}"
        try:
            check_pattern(pattern)
        except GlobError as exc:
            raise ConfigError(path, key, f"pattern {pattern!r}: {exc}") from None
        ignores[pattern] = _codes(value, pattern, path, name=key)
    return ignores


def _header_line(text: str, prefix: tuple[str, ...], *parts: str) -> int:
    """The 1-based line of the table header `[<prefix>.<parts>]` in `text`, else of a
    line-start key named `parts[-1]` (an inline table or dotted key), else 1."""
    headers, names = _header_index(text)
    line = headers.get((*prefix, *parts))
    if line is None:
        line = names.get(parts[-1], 1)
    return line


_HEADER = re.compile(r"^[ \t]*\[(?!\[)([^\]\n]*)\]", re.MULTILINE)
_HEADER_PART = re.compile(r"\s*(?:\"([^\"\n]*)\"|'([^'\n]*)'|([A-Za-z0-9_-]+))\s*(\.|$)")
_LINE_KEY = re.compile(r"^[ \t]*(?:\"([^\"\n]*)\"|'([^'\n]*)'|([A-Za-z0-9_-]+))[ \t]*=", re.MULTILINE)


@functools.lru_cache(maxsize=8)
def _header_index(text: str) -> tuple[dict[tuple[str, ...], int], dict[str, int]]:
    """Every table header's dotted name and every line-start key of `text`, each mapped to its
    first line: one pass over the file, however many keys the registry has."""
    headers: dict[tuple[str, ...], int] = {}
    names: dict[str, int] = {}
    line, at = 1, 0
    for match in _HEADER.finditer(text):
        line += text.count("\n", at, match.start())
        at = match.start()
        parts: list[str] = []
        pos, body = 0, match.group(1)
        while pos < len(body):
            part = _HEADER_PART.match(body, pos)
            if part is None:
                parts = []
                break
            parts.append(next(g for g in part.groups()[:3] if g is not None))
            pos = part.end()
            if not part.group(4):
                break
        if parts and pos >= len(body.rstrip()):
            headers.setdefault(tuple(parts), line)
    line, at = 1, 0
    for match in _LINE_KEY.finditer(text):
        line += text.count("\n", at, match.start())
        at = match.start()
        names.setdefault(next(g for g in match.groups() if g is not None), line)
    return headers, names


def _agents(value: Any, path: Path | None, text: str, prefix: tuple[str, ...]) -> dict[str, AgentConfig]:
    if not isinstance(value, dict):
        raise ConfigError(path, "agents", "expected tables [tool.attrlint.agents.NAME]")
    agents = {}
    for name, spec in value.items():
        key = f"agents.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(path, key, "expected a table with `paths`")
        unknown = sorted(set(spec) - _AGENT_KEYS)
        if unknown:
            raise ConfigError(path, f"{key}.{unknown[0]}", f"unknown key; expected one of {', '.join(sorted(_AGENT_KEYS))}")
        if "paths" not in spec:
            raise ConfigError(path, key, "missing `paths` (a list of globs of the agent's files)")
        budget = spec.get("monthly-budget")
        if budget is not None:
            if isinstance(budget, bool) or not isinstance(budget, (int, float, str)):
                raise ConfigError(path, f"{key}.monthly-budget", "expected a number of USD")
            try:
                budget = Decimal(str(budget))
            except InvalidOperation:
                raise ConfigError(path, f"{key}.monthly-budget", "expected a number of USD") from None
        agents[name] = AgentConfig(
            name=name,
            paths=_globs(spec, "paths", path, name=f"{key}.paths"),
            required_fields=(_fields(spec, "required-fields", path, name=f"{key}.required-fields")
                             if "required-fields" in spec else None),
            monthly_budget=budget,
            line=_header_line(text, prefix, "agents", name),
        )
    return agents


def _keys(value: Any, path: Path | None, text: str, prefix: tuple[str, ...]) -> dict[str, KeyConfig]:
    if not isinstance(value, dict):
        raise ConfigError(path, "keys", "expected tables [tool.attrlint.keys.ENV_VAR]")
    keys = {}
    for env, spec in value.items():
        key = f"keys.{env}"
        if not isinstance(spec, dict):
            raise ConfigError(path, key, "expected a table with agent, provider, owner, expires, environment")
        unknown = sorted(set(spec) - _KEY_KEYS)
        if unknown:
            raise ConfigError(path, f"{key}.{unknown[0]}", f"unknown key; expected one of {', '.join(sorted(_KEY_KEYS))}")
        for name in ("agent", "provider", "owner", "environment"):
            if name in spec and not isinstance(spec[name], str):
                raise ConfigError(path, f"{key}.{name}", "expected a string")
        expires = spec.get("expires")
        if expires is not None:
            if isinstance(expires, str):
                try:
                    expires = dt.date.fromisoformat(expires)
                except ValueError:
                    raise ConfigError(path, f"{key}.expires", "expected a date like 2026-12-31") from None
            elif isinstance(expires, dt.datetime):
                expires = expires.date()
            elif not isinstance(expires, dt.date):
                raise ConfigError(path, f"{key}.expires", "expected a date like 2026-12-31")
        keys[env] = KeyConfig(
            env=env,
            agent=spec.get("agent"),
            provider=spec.get("provider"),
            owner=spec.get("owner"),
            expires=expires,
            environment=_environment(spec, path, key),
            line=_header_line(text, prefix, "keys", env),
        )
    return keys


def _environment(spec: dict[str, Any], path: Path | None, key: str) -> str | None:
    value = spec.get("environment")
    if value is None or value in ENVIRONMENTS:
        return value
    hint = _ENVIRONMENT_SYNONYMS.get(value.strip().lower())
    if hint is None and value.strip().lower() in ENVIRONMENTS:
        hint = value.strip().lower()
    advice = f"write {hint!r}" if hint else f"use one of {', '.join(ENVIRONMENTS)}"
    raise ConfigError(path, f"{key}.environment", f"{value!r} is not an environment; {advice}")


def _decimal(spec: dict[str, Any], name: str, key: str, path: Path | None) -> Decimal | None:
    if name not in spec:
        return None
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(path, f"{key}.{name}", "expected a price in USD per million tokens")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(path, f"{key}.{name}", "expected a price in USD per million tokens") from None


def _pricing(value: Any, path: Path | None) -> tuple[PriceOverride, ...]:
    if not isinstance(value, dict):
        raise ConfigError(path, "pricing", 'expected tables [tool.attrlint.pricing."provider:model"]')
    overrides = []
    for name, spec in value.items():
        key = f'pricing."{name}"'
        if ":" not in name:
            raise ConfigError(path, key, 'expected "provider:model", e.g. "openai:gpt-4o"')
        if not isinstance(spec, dict):
            raise ConfigError(path, key, "expected a table with input, output, cache-read, cache-write, effective")
        unknown = sorted(set(spec) - _PRICE_KEYS)
        if unknown:
            raise ConfigError(path, f"{key}.{unknown[0]}", f"unknown key; expected one of {', '.join(sorted(_PRICE_KEYS))}")
        effective = spec.get("effective")
        if effective is not None and not isinstance(effective, dt.date):
            try:
                effective = dt.date.fromisoformat(str(effective))
            except ValueError:
                raise ConfigError(path, f"{key}.effective", "expected a date like 2026-01-01") from None
        if isinstance(effective, dt.datetime):
            effective = effective.date()
        provider, model = name.split(":", 1)
        overrides.append(PriceOverride(
            provider=provider, model=model,
            input=_decimal(spec, "input", key, path), output=_decimal(spec, "output", key, path),
            cache_read=_decimal(spec, "cache-read", key, path), cache_write=_decimal(spec, "cache-write", key, path),
            effective=effective,
        ))
    return tuple(overrides)


def _wrappers(value: Any, path: Path | None, schema: Schema) -> dict[str, WrapperConfig]:
    if not isinstance(value, dict):
        raise ConfigError(path, "wrappers", 'expected tables [tool.attrlint.wrappers."pkg.module:function"]')
    wrappers = {}
    for target, spec in value.items():
        key = f'wrappers."{target}"'
        if ":" not in target:
            raise ConfigError(path, key, 'expected "pkg.module:function" or "pkg.module:Class.method"')
        if not isinstance(spec, dict) or set(spec) - {"supplies"}:
            raise ConfigError(path, key, "expected a table with `supplies = {field = \"parameter\"}`")
        supplies = spec.get("supplies", {})
        if not isinstance(supplies, dict) or not all(isinstance(v, str) for v in supplies.values()):
            raise ConfigError(path, f"{key}.supplies", 'expected a table of field = "parameter"')
        wrappers[target] = WrapperConfig(target=target, supplies=dict(supplies))
    return wrappers


def config_from_env_or_cwd() -> Config:
    """The configuration the runtime uses: ATTRLINT_CONFIG, else the nearest pyproject.toml."""
    explicit = os.environ.get("ATTRLINT_CONFIG")
    return load_config(Path(explicit) if explicit else None)
