"""`attrlint baseline`: record today's findings so that `attrlint check` fails only on new ones."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from attrlint.cli.common import EXIT_CLEAN, EXIT_ERROR
from attrlint.core.config import ConfigError
from attrlint.lint.suppression import Options


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), default=None,
              help="The baseline file (default: .attrlint-baseline.json).")
@click.option("--update", is_flag=True, help="Only remove entries whose findings are fixed.")
@click.option("--add-new", is_flag=True, help="With --update, also add findings that are new since the baseline.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True),
              help="Read [tool.attrlint] from this file instead of the nearest pyproject.toml.")
@click.option("--strict", is_flag=True, help="Include attribution that cannot be verified statically (ATR008).")
def baseline(paths, baseline_file, update, add_new, config_path, strict) -> None:
    """Write .attrlint-baseline.json with one entry per current finding in PATHS.

    Entries are keyed by path, rule and a hash of the reported source and its enclosing
    function, never by line number, so moving code does not bring a finding back.
    """
    from attrlint.lint import baseline as bl
    from attrlint.lint.runner import run

    target = Path(baseline_file or bl.DEFAULT_BASELINE)
    if add_new and not update:
        raise click.UsageError("--add-new goes with --update (without --update every finding is written)")
    try:
        result = run(list(paths) or ["."], options=Options(strict=strict),
                     config_path=Path(config_path) if config_path else None)
        if result.errors:  # a baseline without the findings of an unreadable file would hide them later
            click.echo(f"attrlint: error: could not check {len(result.errors)} file(s) or path(s); the baseline "
                       "was not written", err=True)
            sys.exit(EXIT_ERROR)
        findings = result.findings
        if update:
            existing = bl.load(target) if target.exists() else bl.build([], target)
            counts, removed, added = bl.update(existing, findings, target, add_new=add_new)
            total = bl.dump(counts, target)
            click.echo(f"Updated {target}: {removed} fixed entr{'y' if removed == 1 else 'ies'} removed, "
                       f"{added} added, {total} remain.")
        else:
            total = bl.dump(bl.build(findings, target), target)
            click.echo(f"Wrote {total} entr{'y' if total == 1 else 'ies'} to {target}.")
    except ConfigError as exc:
        click.echo(f"attrlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CLEAN)
