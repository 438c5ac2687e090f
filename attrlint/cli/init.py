"""`attrlint init`: a starting `[tool.attrlint]` drafted from what the code says about itself.

The agents, the key registry, the wrappers and the test ignores come from
attrlint/cli/proposal.py; this command writes them to pyproject.toml (never over an existing
`[tool.attrlint]` without `--force`), prints them (`--stdout`) or shows the change (`--diff`),
and says on stderr what it inferred and why.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from attrlint.cli.common import Fail


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the section instead of writing pyproject.toml.")
@click.option("--diff", "show_diff", is_flag=True, help="Show the change to pyproject.toml as a diff; write nothing.")
@click.option("--force", is_flag=True, help="Replace an existing [tool.attrlint] configuration.")
def init(paths, to_stdout, show_diff, force) -> None:
    """Write a starting [tool.attrlint] section from what the code does.

    Agents come from the agent_id values the code sends, the agents named in its key
    variables (OPENAI_KEY_SUPPORT) and its sub-packages; every key variable it reads is
    registered with an empty owner and expiry to fill in."""
    target = Path("pyproject.toml")
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    for other in (".attrlint.toml", "attrlint.toml"):
        if Path(other).is_file() and not (to_stdout or show_diff):
            raise Fail(f"{other} configures attrlint here and wins over pyproject.toml; attrlint init writes "
                       "pyproject.toml: merge `attrlint init --stdout` into it by hand")
    configured = "[tool.attrlint" in existing or _has_attrlint_table(existing)
    if configured and not (force or to_stdout or show_diff):
        raise Fail("pyproject.toml already has a [tool.attrlint] section; attrlint init never overwrites it: "
                   "--diff shows what it would write, --force replaces it")
    result = _scan(paths, ignore_config=force or show_diff or to_stdout)
    from attrlint.cli.proposal import propose, render, summary
    from attrlint.core.catalogue import load_catalogue
    from attrlint.core.schema import default_schema

    proposal = propose(result.results, Path.cwd(), load_catalogue(), default_schema())
    section = render(proposal)
    click.echo(summary(proposal), err=True)
    if to_stdout:
        click.echo(section, nl=False)
        return
    after = _with_section(existing, section, replace=configured)
    _check_loads(after, target)
    if show_diff:
        from attrlint.lint.fixes import unified_diff

        click.echo(unified_diff(str(target), existing, after), nl=False)
        return
    _write_atomic(target, after)
    click.echo(f"Wrote [tool.attrlint] to {target}: review the agents, and fill in each key's owner and expires.",
               err=True)


def _scan(paths: tuple[str, ...], *, ignore_config: bool):
    """Every file's facts, without the project-wide rules. With `ignore_config`, an existing
    configuration (which --force replaces) does not apply: the defaults do."""
    from attrlint.cli.keys import scan
    from attrlint.core.config import ConfigError

    if not ignore_config:
        try:
            return scan(paths, None)
        except ConfigError as exc:
            raise Fail(f"{exc} (attrlint init --force replaces the configuration)") from None
    with tempfile.TemporaryDirectory() as directory:
        defaults = Path(directory) / "attrlint.toml"
        defaults.write_text("", encoding="utf-8")
        return scan(paths, str(defaults))


def _has_attrlint_table(text: str) -> bool:
    from attrlint.core import toml

    try:
        return "attrlint" in toml.loads(text).get("tool", {})
    except toml.TOMLDecodeError:
        return False


def _with_section(existing: str, section: str, *, replace: bool) -> str:
    from attrlint.cli.proposal import replace_attrlint

    if not replace:
        return existing.rstrip("\n") + "\n\n" + section if existing.strip() else section
    after = replace_attrlint(existing, section)
    from attrlint.core import toml

    try:
        leftover = toml.loads(replace_attrlint(existing, "")).get("tool", {})
    except toml.TOMLDecodeError:
        leftover = {}
    if "attrlint" in leftover:
        raise Fail("pyproject.toml sets tool.attrlint outside a [tool.attrlint] table (a dotted key or an inline "
                   "table); remove it by hand, then run attrlint init --force again")
    return after


def _check_loads(text: str, target: Path) -> None:
    """What init writes must load: a configuration error here is attrlint's, not the user's."""
    from attrlint.core import toml
    from attrlint.core.config import ConfigError, parse_config

    try:
        table = toml.loads(text).get("tool", {}).get("attrlint", {})
        parse_config(table, path=target, text=text)
    except (toml.TOMLDecodeError, ConfigError) as exc:
        raise Fail(f"internal error: the configuration init drafted does not load ({exc}); nothing was written")


def _write_atomic(target: Path, text: str) -> None:
    directory = target.resolve().parent
    name = ""
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, prefix=".pyproject.",
                                         delete=False) as handle:
            name = handle.name
            handle.write(text)
        if target.exists():
            os.chmod(name, target.stat().st_mode & 0o777)
        os.replace(name, target)
    except OSError as exc:
        if name:
            Path(name).unlink(missing_ok=True)
        raise Fail(f"{target}: cannot write: {exc.strerror}") from None
