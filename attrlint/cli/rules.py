"""`attrlint rule CODE` and `attrlint rules`."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.argument("code")
def rule(code: str) -> None:
    """Print a rule's documentation: what it does, why, an example, what to write instead."""
    from attrlint.lint.rules import rules_by_code

    found = rules_by_code().get(code.upper())
    if found is None:
        click.echo(f"attrlint: error: no rule {code!r}; `attrlint rules` lists them", err=True)
        sys.exit(2)
    click.echo(found.documentation())


@click.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules(output_format: str) -> None:
    """List every rule."""
    from attrlint.lint.rules import all_rules

    items = all_rules()
    if output_format == "json":
        click.echo(json.dumps([{
            "code": r.code, "name": r.name, "summary": r.summary, "fixable": r.fixable,
            "unsafe_fix": r.unsafe_fix, "default": r.default_enabled, "project_wide": r.project_wide(),
        } for r in items], indent=2))
        return
    if output_format == "markdown":
        click.echo(rules_markdown())
        return
    for r in items:
        flags = (("fix*" if r.unsafe_fix else "fix ") if r.fixable else "    ") + ("off " if not r.default_enabled else "    ") + (
            "project" if r.project_wide() else "")
        click.echo(f"{r.code}  {r.name:<32} {flags.rstrip():<12} {r.summary}")


def rules_markdown() -> str:
    from attrlint.lint.rules import all_rules

    lines = ["| Code | Name | What it finds | Fix |", "| --- | --- | --- | --- |"]
    for r in all_rules():
        notes = []
        if not r.default_enabled:
            notes.append("off by default")
        if r.project_wide():
            notes.append("CLI only")
        summary = r.summary + (f" ({', '.join(notes)})" if notes else "")
        fix = ("unsafe" if r.unsafe_fix else "yes") if r.fixable else ""
        lines.append(f"| {r.code} | {r.name} | {summary} | {fix} |")
    return "\n".join(lines)
