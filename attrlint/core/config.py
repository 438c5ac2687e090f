"""`[tool.attrlint]` configuration: loading, validation and the questions rules ask of it."""

from __future__ import annotations

import datetime as dt
import fnmatch
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
from attrlint.core.schema import Schema, default_schema

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".env", "env",
    "__pycache__", "node_modules", "build", "dist", ".eggs", "*.egg-info",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".attrlint", "site-packages",
)

_CODE = re.compile(r"^ATR\d{0,3}$")


class ConfigError(Exception):
    """A configuration problem, with the file and key it is about."""

    def __init__(self, path: Path | str | None, key: str | None, message: str) -> None:
        self.path, self.key = path, key
        where = f"{path}" if path else "configuration"
        if key:
            where += f": [tool.attrlint] {key}"
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
    agents: dict[str, AgentConfig] = field(default_factory=dict, hash=False)
    keys: dict[str, KeyConfig] = field(default_factory=dict, hash=False)
    pricing: tuple[PriceOverride, ...] = ()
    wrappers: dict[str, WrapperConfig] = field(default_factory=dict, hash=False)

    # -- questions the engine and rules ask --------------------------------------------

    def relpath(self, path: Path | str) -> str:
        """`path` relative to the config root, POSIX style (for globs)."""
        p = Path(path)
        try:
            return PurePosixPath(p.resolve().relative_to(self.root.resolve())).as_posix()
        except ValueError:
            return PurePosixPath(p).as_posix()

    def agent_for(self, path: Path | str) -> str | None:
        rel = self.relpath(path)
        for agent in self.agents.values():
            if any(_glob_match(rel, pattern) for pattern in agent.paths):
                return agent.name
        return None

    def required_for(self, path: Path | str) -> tuple[str, ...]:
        agent = self.agent_for(path)
        if agent and self.agents[agent].required_fields is not None:
            return self.agents[agent].required_fields  # type: ignore[return-value]
        return self.schema.required

    def is_excluded(self, path: Path | str) -> bool:
        rel = self.relpath(path)
        parts = PurePosixPath(rel).parts
        for pattern in (*self.exclude, *self.extend_exclude):
            pattern = pattern.rstrip("/")
            if _glob_match(rel, pattern):
                return True
            if "/" not in pattern and any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
        return False

    def ignored_codes_for(self, path: Path | str) -> tuple[str, ...]:
        rel = self.relpath(path)
        codes: list[str] = []
        for pattern, ignored in self.per_file_ignores.items():
            if _glob_match(rel, pattern) or fnmatch.fnmatchcase(PurePosixPath(rel).name, pattern):
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


def _glob_match(rel: str, pattern: str) -> bool:
    """Globs with `**`, matched against a POSIX path relative to the config root."""
    pattern = pattern[2:] if pattern.startswith("./") else pattern
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    if pattern.endswith("/**") and (rel == pattern[:-3] or rel.startswith(pattern[:-2])):
        return True
    if "**/" in pattern and fnmatch.fnmatchcase(rel, pattern.replace("**/", "")):
        return True
    # A bare directory pattern matches everything under it.
    return rel.startswith(pattern.rstrip("/") + "/")


# -- loading ------------------------------------------------------------------------------

_TOP_KEYS = {
    "select", "ignore", "extend-select", "exclude", "extend-exclude", "per-file-ignores",
    "required-fields", "aliases", "placeholders", "max-metadata-fields", "strict",
    "agents", "keys", "pricing", "wrappers",
}
_AGENT_KEYS = {"paths", "required-fields", "monthly-budget"}
_KEY_KEYS = {"agent", "provider", "owner", "expires", "environment"}
_PRICE_KEYS = {"input", "output", "cache-read", "cache-write", "effective"}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.attrlint] table, at or above `start`."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except OSError:
                continue
            if "[tool.attrlint" in text:
                return candidate
    return None


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Load `[tool.attrlint]` from `path`, or from the nearest pyproject.toml above `start`."""
    if path is None:
        path = find_pyproject(start or Path.cwd())
        if path is None:
            return Config(root=(start or Path.cwd()).resolve() if (start or Path.cwd()).is_dir()
                          else (start or Path.cwd()).resolve().parent)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("attrlint")
    if table is None and Path(path).name != "pyproject.toml":
        table = data  # a standalone attrlint.toml
    return parse_config(table or {}, path=Path(path), text=text)


def parse_config(table: dict[str, Any], *, path: Path | None = None, text: str = "") -> Config:
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise ConfigError(path, unknown[0], f"unknown key; expected one of {', '.join(sorted(_TOP_KEYS))}")
    base = default_schema()
    schema = base.extended(
        required=_str_list(table, "required-fields", path) if "required-fields" in table else None,
        aliases=_aliases(table.get("aliases", {}), path, base),
        placeholders=tuple(_str_list(table, "placeholders", path)) if "placeholders" in table else None,
        max_fields=_positive_int(table, "max-metadata-fields", path),
    )
    agents = _agents(table.get("agents", {}), path, text)
    keys = _keys(table.get("keys", {}), path, text)
    root = path.parent.resolve() if path else Path.cwd().resolve()
    exclude = DEFAULT_EXCLUDE
    if "exclude" in table:
        exclude = tuple(_str_list(table, "exclude", path))
    return Config(
        path=path,
        root=root,
        select=_codes(table, "select", path),
        ignore=_codes(table, "ignore", path),
        extend_select=_codes(table, "extend-select", path),
        exclude=exclude,
        extend_exclude=tuple(_str_list(table, "extend-exclude", path)),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), path),
        schema=schema,
        strict=_bool(table, "strict", path),
        agents=agents,
        keys=keys,
        pricing=_pricing(table.get("pricing", {}), path),
        wrappers=_wrappers(table.get("wrappers", {}), path, schema),
    )


def _str_list(table: dict[str, Any], key: str, path: Path | None) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, "expected a list of strings")
    return value


def _codes(table: dict[str, Any], key: str, path: Path | None) -> tuple[str, ...]:
    codes = _str_list(table, key, path)
    for code in codes:
        if not _CODE.match(code):
            raise ConfigError(path, key, f"{code!r} is not a rule code or prefix (like ATR001 or ATR1)")
    return tuple(codes)


def _bool(table: dict[str, Any], key: str, path: Path | None) -> bool:
    value = table.get(key, False)
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
    return {glob: _codes(value, glob, path) for glob in value}


def _header_line(text: str, *parts: str) -> int:
    """The 1-based line of the table header `[tool.attrlint.<parts>]` in `text`, else of a
    line-start key named `parts[-1]` (an inline table or dotted key), else 1."""
    headers, names = _header_index(text)
    line = headers.get(("tool", "attrlint", *parts))
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


def _agents(value: Any, path: Path | None, text: str) -> dict[str, AgentConfig]:
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
            paths=tuple(_str_list(spec, "paths", path)),
            required_fields=tuple(_str_list(spec, "required-fields", path)) if "required-fields" in spec else None,
            monthly_budget=budget,
            line=_header_line(text, "agents", name),
        )
    return agents


def _keys(value: Any, path: Path | None, text: str) -> dict[str, KeyConfig]:
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
            environment=spec.get("environment"),
            line=_header_line(text, "keys", env),
        )
    return keys


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
