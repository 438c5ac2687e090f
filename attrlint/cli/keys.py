"""`attrlint keys list`, `attrlint keys check` and `attrlint init`."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import click

from attrlint.cli.common import (
    LedgerCommand,
    ledger_notes,
    ledger_option,
    load_config,
    open_ledger,
    render_table,
    today_option,
    verbose_option,
)
from attrlint.core.config import ConfigError


def scan(paths: tuple[str, ...], config_path: str | None):
    from attrlint.lint.runner import run
    from attrlint.lint.suppression import Options

    return run(list(paths) or ["."], options=Options(), config_path=Path(config_path) if config_path else None,
               project_rules=False, warn=lambda m: click.echo(m, err=True))


@click.group()
def keys() -> None:
    """The key registry ([tool.attrlint.keys]) joined with what the code does."""


@keys.command("list")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True))
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv", "markdown"]), default="table")
@today_option()
def list_keys(paths, config_path, output_format, today) -> None:
    """Each key: its agent, owner, expiry, environment and every file:line that uses it."""
    from attrlint.core.catalogue import load_catalogue
    from attrlint.keys.governance import collect, days_left

    try:
        result = scan(paths, config_path)
    except ConfigError as exc:
        click.echo(f"attrlint: error: {exc}", err=True)
        sys.exit(2)
    if result.errors:  # a key reference in a file that could not be read would be missing
        click.echo(f"attrlint: error: could not read {len(result.errors)} file(s) or path(s); the list would be "
                   "incomplete", err=True)
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
@today_option()
def check_keys(config_path, warn_days, today) -> None:
    """The registry rules alone, without scanning code: expired keys are errors (exit 1),
    keys expiring within --warn-days are warnings."""
    from attrlint.keys.governance import config_display_path, days_left, registry_problems

    config = load_config(config_path)
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


@keys.command("audit", cls=LedgerCommand)
@ledger_option
@verbose_option
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True, help="The window, in days.")
@today_option()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True))
@click.option("--max-unattributed", type=click.FloatRange(0, 1), default=0.10, show_default=True,
              help="Flag keys whose share of unattributed calls is over this.")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "markdown"]), default="table")
def audit_keys(url, days, today, config_path, max_unattributed, output_format, verbose) -> None:
    """The registry joined with the ledger: usage, cost and expiry per key; keys to retire,
    expired keys in use, cost spikes, unattributed calls, unregistered keys. Exit 1 on findings."""
    from attrlint.keys.audit import audit, history_start, render_text

    config = load_config(config_path)
    if not config.keys:
        click.echo("attrlint: error: no [tool.attrlint.keys] entries to audit; `attrlint init` drafts them", err=True)
        sys.exit(2)
    book = open_ledger(url)
    try:
        result = audit(config, book.records(since=history_start(today, days)), today=today, days=days,
                       max_unattributed=max_unattributed)
        warnings = ledger_notes(book)
    finally:
        book.close()
    for warning in warnings:  # rows in spill files or quarantined are not in the audit
        click.echo(warning, err=True)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(render_text(result, output_format == "markdown", render_table))
    sys.exit(1 if result.findings else 0)
