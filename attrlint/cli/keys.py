"""`attrlint keys list`, `attrlint keys check` and `attrlint init`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Sequence

import click

from attrlint.core.config import ConfigError

_PREFIXES = ("services", "agents", "apps", "packages", "src", "bots", "workers")


def _today(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-31", param_hint="--today") from None


def _scan(paths: tuple[str, ...], config_path: str | None):
    from attrlint.lint.suppression import Options
    from attrlint.lint.runner import run

    return run(list(paths) or ["."], options=Options(), config_path=Path(config_path) if config_path else None,
               project_rules=False, warn=lambda m: click.echo(f"attrlint: {m}", err=True))


def _load_config_or_exit(config_path: str | None):
    """The configuration, or exit 2 with the file and key that are wrong."""
    from attrlint.core.config import load_config

    try:
        return load_config(Path(config_path) if config_path else None)
    except ConfigError as exc:
        click.echo(f"attrlint: error: {exc}", err=True)
        sys.exit(2)


@click.group()
def keys() -> None:
    """The key registry ([tool.attrlint.keys]) joined with what the code does."""


@keys.command("list")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True))
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv", "markdown"]), default="table")
@click.option("--today", "today_text", help="Treat this date (YYYY-MM-DD) as today.")
def list_keys(paths, config_path, output_format, today_text) -> None:
    """Each key: its agent, owner, expiry, environment and every file:line that uses it."""
    from attrlint.core.catalogue import load_catalogue
    from attrlint.keys.governance import collect, days_left

    today = _today(today_text)
    try:
        result = _scan(paths, config_path)
    except ConfigError as exc:
        click.echo(f"attrlint: error: {exc}", err=True)
        sys.exit(2)
    config = result.configs[0] if result.configs else None
    if config is None:
        from attrlint.core.config import load_config

        config = load_config(Path(config_path) if config_path else None)
    refs = [ref for r in result.results for ref in r.key_refs]
    uses = collect(config, refs, load_catalogue())
    rows = []
    for env, use in sorted(uses.items()):
        reg = use.registered
        left = days_left(reg.expires if reg else None, today)
        status = []
        if reg is None:
            status.append("generic: use one key per agent" if use.generic else "unregistered")
        else:
            if not use.refs:
                status.append("unused: retire?")
            if left is not None and left < 0:
                status.append("expired")
            elif left is not None and left <= 30:
                status.append(f"expires in {left} days")
            if not reg.owner or not reg.expires:
                status.append("no owner/expiry")
            owner_agent = reg.agent
            others = sorted(a for a in use.agents if a != owner_agent)
            if others and owner_agent:
                status.append(f"also used by {', '.join(others)}")
        if reg is None and len(use.agents) > 1:
            status.append(f"shared by {', '.join(sorted(use.agents))}")
        rows.append({
            "env": env,
            "agent": reg.agent if reg and reg.agent else "",
            "used_by": sorted(use.agents) + (["(shared code)"] if any(a is None for a in use.agents_by_ref) else []),
            "provider": use.provider or "",
            "environment": use.environment,
            "owner": reg.owner if reg and reg.owner else "",
            "expires": reg.expires.isoformat() if reg and reg.expires else "",
            "days_left": left,
            "status": "; ".join(status) or "ok",
            "references": [f"{r.path}:{r.line}" for r in use.refs],
        })
    click.echo(_render(rows, output_format), nl=False)


def _render(rows: list[dict], output_format: str) -> str:
    if output_format == "json":
        return json.dumps({"keys": rows}, indent=2) + "\n"
    headers = ["key", "agent", "used by", "provider", "env", "owner", "expires", "days", "status", "references"]

    def cells(row: dict) -> list[str]:
        return [row["env"], row["agent"] or "-", ", ".join(row["used_by"]) or "-", row["provider"] or "?",
                row["environment"], row["owner"] or "-", row["expires"] or "-",
                "" if row["days_left"] is None else str(row["days_left"]), row["status"],
                " ".join(row["references"]) or "(none)"]

    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(cells(row))
        return buffer.getvalue()
    table = [headers] + [cells(r) for r in rows]
    if output_format == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table[1:]]
        return "\n".join(lines) + "\n"
    widths = [max(len(row[i]) for row in table) for i in range(len(headers) - 1)]
    out = []
    for row in table:
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1])
    return "\n".join(out) + "\n"


@keys.command("check")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True))
@click.option("--warn-days", type=click.IntRange(min=0), default=30, show_default=True,
              help="Warn about keys expiring within this many days.")
@click.option("--today", "today_text", help="Treat this date (YYYY-MM-DD) as today.")
def check_keys(config_path, warn_days, today_text) -> None:
    """The registry rules alone, without scanning code: expired keys are errors (exit 1),
    keys expiring within --warn-days are warnings."""
    from attrlint.keys.governance import config_display_path, days_left, registry_problems

    today = _today(today_text)
    config = _load_config_or_exit(config_path)
    if config.path is None:
        click.echo("attrlint: error: no [tool.attrlint] found in pyproject.toml here or above; "
                   "run `attrlint init` to write one", err=True)
        sys.exit(2)
    path = config_display_path(config)
    errors = warnings = 0
    for entry, message in registry_problems(config):
        click.echo(f"{path}:{entry.line}:1: error: {message}")
        errors += 1
    for entry in sorted(config.keys.values(), key=lambda e: e.line):
        left = days_left(entry.expires, today)
        if left is None:
            continue
        owner = f" (owner: {entry.owner})" if entry.owner else ""
        if left < 0:
            click.echo(f"{path}:{entry.line}:1: error: key `{entry.env}` expired on {entry.expires}{owner}: rotate it")
            errors += 1
        elif left <= warn_days:
            click.echo(f"{path}:{entry.line}:1: warning: key `{entry.env}` expires in {left} days "
                       f"({entry.expires}){owner}: rotate it before then")
            warnings += 1
    click.echo(f"{len(config.keys)} keys registered: {errors} errors, {warnings} warnings.", err=True)
    sys.exit(1 if errors else 0)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the section instead of writing pyproject.toml.")
def init(paths, to_stdout) -> None:
    """Write a starting [tool.attrlint] section from what the code does."""
    target = Path("pyproject.toml")
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    if "[tool.attrlint" in existing and not to_stdout:
        click.echo("attrlint: error: pyproject.toml already has a [tool.attrlint] section; attrlint init never "
                   "overwrites it (use --stdout to see what it would write)", err=True)
        sys.exit(2)
    result = _scan(paths, None)
    section = render_init(result.results, roots=list(paths) or ["."])
    if to_stdout:
        click.echo(section, nl=False)
        return
    with target.open("a", encoding="utf-8") as handle:
        if existing and not existing.endswith("\n"):
            handle.write("\n")
        handle.write(("\n" if existing else "") + section)
    click.echo(f"Wrote [tool.attrlint] to {target}: review the agents, owners and expiry dates.", err=True)


def _agent_of(path: str, roots: Sequence[str] = (".",)) -> tuple[str, str] | None:
    """(agent name, glob) guessed from the top-level folder under the scanned root."""
    posix = PurePosixPath(Path(path).as_posix())
    base: tuple[str, ...] = ()
    for root in roots:
        root_parts = tuple(p for p in PurePosixPath(Path(root).as_posix()).parts if p not in (".", ""))
        if posix.parts[:len(root_parts)] == root_parts and len(root_parts) >= len(base):
            base = root_parts
    parts = tuple(p for p in posix.parts[len(base):] if p not in (".", ""))
    prefix = "/".join(base) + "/" if base else ""
    if len(parts) >= 3 and parts[0] in _PREFIXES:
        return parts[1], f"{prefix}{parts[0]}/{parts[1]}/**"
    if len(parts) >= 2:
        return parts[0], f"{prefix}{parts[0]}/**"
    return None


def render_init(results, roots: Sequence[str] = (".",)) -> str:
    from attrlint.core.catalogue import load_catalogue
    from attrlint.keys.governance import environment_of

    catalogue = load_catalogue()
    agents: dict[str, str] = {}
    refs_by_env: dict[str, list] = defaultdict(list)
    for r in results:
        guess = _agent_of(r.path, roots)
        if guess and (r.llm_calls or r.key_refs):
            agents.setdefault(guess[0], guess[1])
        for ref in r.key_refs:
            refs_by_env[ref.env].append(ref)
    lines = ["[tool.attrlint]", 'required-fields = ["ticket_id", "customer_id", "agent_id"]', ""]
    for name, glob in sorted(agents.items()):
        lines += [f"[tool.attrlint.agents.{_toml_key(name)}]", f'paths = ["{glob}"]', ""]
    expires = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    for env, refs in sorted(refs_by_env.items()):
        if env in catalogue.generic_envs:
            lines.append(f"# {env} is a shared default variable (ATR102): replace it with one key per agent.")
            for ref in refs:
                lines.append(f"#   used at {ref.path}:{ref.line}")
            lines.append("")
            continue
        users = sorted({g[0] for g in (_agent_of(ref.path, roots) for ref in refs) if g})
        vendor = next((ref.vendor for ref in refs if ref.vendor), None) or catalogue.vendor_of_env(env)
        lines.append(f"[tool.attrlint.keys.{_toml_key(env)}]")
        for ref in refs:
            lines.append(f"# used at {ref.path}:{ref.line}")
        if len(users) == 1:
            lines.append(f'agent = "{users[0]}"')
        else:
            lines.append(f'# agent = ""  # used by {", ".join(users) or "shared code only"}: pick one owner agent')
        if vendor:
            lines.append(f'provider = "{vendor}"')
        lines.append(f'environment = "{environment_of(env, None)}"')
        lines.append('owner = ""          # who to call when it leaks: fill in')
        lines.append(f"expires = {expires}  # rotate by then")
        lines.append("")
    return "\n".join(lines)


def _toml_key(name: str) -> str:
    import re

    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


@keys.command("audit")
@click.option("--ledger", "url", envvar="ATTRLINT_LEDGER_URL", metavar="URL",
              help="sqlite:///PATH or postgresql://... (default: ATTRLINT_LEDGER_URL, else .attrlint/ledger.db)")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True, help="The window, in days.")
@click.option("--today", "today_text", help="Treat this date (YYYY-MM-DD) as today.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True))
@click.option("--max-unattributed", type=click.FloatRange(0, 1), default=0.10, show_default=True,
              help="Flag keys whose share of unattributed calls is over this.")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "markdown"]), default="table")
def audit_keys(url, days, today_text, config_path, max_unattributed, output_format) -> None:
    """The registry joined with the ledger: usage, cost and expiry per key; keys to retire,
    expired keys in use, cost spikes, unattributed calls, unregistered keys. Exit 1 on findings."""
    from attrlint.keys.audit import audit, history_start, render_text
    from attrlint.cli.ledger import _open, _render

    today = _today(today_text)
    config = _load_config_or_exit(config_path)
    if not config.keys:
        click.echo("attrlint: error: no [tool.attrlint.keys] entries to audit; `attrlint init` drafts them", err=True)
        sys.exit(2)
    book = _open(url)
    try:
        result = audit(config, book.records(since=history_start(today, days)), today=today, days=days,
                       max_unattributed=max_unattributed)
    finally:
        book.close()
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(render_text(result, output_format == "markdown", _render))
    sys.exit(1 if result.findings else 0)
