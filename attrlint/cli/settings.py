"""`attrlint check --show-settings PATH`: the configuration that applies to one file, each
value with where it came from (the command line, a line of the configuration file, or the
default), and what it resolves to for that file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from attrlint.lint.suppression import Options


def _toml(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _key_line(text: str, key: str, start: int) -> int | None:
    """The 1-based line where `key = ...` is set, at or after line `start`."""
    pattern = re.compile(r"^[ \t]*[\"']?" + re.escape(key) + r"[\"']?[ \t]*=", re.MULTILINE)
    for match in pattern.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if line >= start:
            return line
    return None


def show_settings(path: str, options: Options, config_file: Path | None) -> str:
    from attrlint.core.config import read_table
    from attrlint.lint.rules import all_rules
    from attrlint.lint.runner import ConfigResolver
    from attrlint.lint.suppression import enabled_codes

    config = ConfigResolver(config_file).for_path(path)
    table: dict[str, Any] = {}
    text = ""
    header = 1
    if config.path is not None:
        table, text = read_table(config.path)
        match = re.search(r"^[ \t]*\[tool\.attrlint\]", text, re.MULTILINE)
        header = text.count("\n", 0, match.start()) + 1 if match else 1
    shown = config.path.name if config.path else ""

    def origin(key: str, cli: tuple[str, ...] | bool = ()) -> str:
        if cli:
            return "command line"
        if key in table:
            line = _key_line(text, key, header)
            return f"{shown}:{line}" if line else shown
        return "default"

    agent = config.agent_for(path)
    ignored = config.ignored_codes_for(path)
    codes = enabled_codes(config, options, all_rules())
    required = config.required_for(path)
    required_from = (f"agents.{agent}.required-fields ({shown})"
                     if agent and config.agents[agent].required_fields is not None else origin("required-fields"))
    rows: list[tuple[str, str, str]] = [
        ("select", _toml(options.select or config.select), origin("select", options.select)),
        ("extend-select", _toml([*config.extend_select, *options.extend_select]),
         origin("extend-select", options.extend_select) if not (config.extend_select and options.extend_select)
         else f"{origin('extend-select')} + command line"),
        ("ignore", _toml([*config.ignore, *options.ignore]),
         origin("ignore", options.ignore) if not (config.ignore and options.ignore)
         else f"{origin('ignore')} + command line"),
        ("strict", _toml(options.strict or config.strict), origin("strict", bool(options.strict))),
        ("check-data-files", _toml(config.check_data_files if options.check_data_files is None
                                   else options.check_data_files),
         origin("check-data-files", options.check_data_files is not None)),
        ("exclude", _toml(config.exclude), origin("exclude")),
        ("extend-exclude", _toml(config.extend_exclude), origin("extend-exclude")),
        ("per-file-ignores", _toml(config.per_file_ignores), origin("per-file-ignores")),
        ("required-fields", _toml(config.schema.required), origin("required-fields")),
        ("aliases", _toml(table.get("aliases", {})), origin("aliases")),
        ("placeholders", _toml(table.get("placeholders", [])), origin("placeholders")),
        ("max-metadata-fields", _toml(config.schema.max_fields), origin("max-metadata-fields")),
        ("agents", _toml(sorted(config.agents)), origin("agents")),
        ("keys", _toml(sorted(config.keys)), origin("keys")),
        ("wrappers", _toml(sorted(config.wrappers)), origin("wrappers")),
    ]
    resolved = [
        ("agent", _toml(agent or ""), f"agents.{agent}.paths" if agent else "no agent's paths match"),
        ("required fields here", _toml(required), required_from),
        ("rules enabled", ", ".join(sorted(codes)), "select, extend-select, ignore and strict above"),
        ("ignored here", ", ".join(ignored) or "(none)", "per-file-ignores" if ignored else "no pattern matches"),
        ("excluded", _toml(config.is_excluded(path, is_dir=Path(path).is_dir())),
         "exclude / extend-exclude" + (" (paths given on the command line are checked unless --force-exclude)")),
    ]
    out = [f"Settings for: {path}",
           f"Configuration file: {config.path or '(none found: defaults)'}",
           f"Root (patterns are relative to it): {config.root}", ""]
    width = min(60, max(len(f"{k} = {v}") for k, v, _ in rows + resolved))
    for key, value, where in rows:
        out.append(f"{key} = {value}".ljust(width) + f"  # {where}")
    out += ["", "# resolved for this file"]
    for key, value, where in resolved:
        out.append(f"{key}: {value}".ljust(width) + f"  # {where}")
    return "\n".join(out) + "\n"
