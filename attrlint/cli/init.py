"""`attrlint init`: a starting `[tool.attrlint]` drafted from what the code does."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import click

from attrlint.cli.keys import scan

_PREFIXES = ("services", "agents", "apps", "packages", "src", "bots", "workers")
_TEST_DIRS = frozenset({"tests", "test", "testing"})
_TEST_IGNORES = '["ATR001", "ATR002", "ATR004", "ATR008"]'


def _is_test_file(path: str) -> bool:
    posix = PurePosixPath(Path(path).as_posix())
    name = posix.name
    return (any(part in _TEST_DIRS for part in posix.parts[:-1]) or name.startswith("test_")
            or name.endswith("_test.py") or name == "conftest.py")


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
    result = scan(paths, None)
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
    from attrlint.core.dates import today_utc
    from attrlint.keys.governance import environment_of

    catalogue = load_catalogue()
    agents: dict[str, str] = {}
    refs_by_env: dict[str, list] = defaultdict(list)
    has_tests = False
    for r in results:
        if _is_test_file(r.path):
            has_tests = True
            continue
        guess = _agent_of(r.path, roots)
        if guess and (r.llm_calls or r.key_refs):
            agents.setdefault(guess[0], guess[1])
        for ref in r.key_refs:
            refs_by_env[ref.env].append(ref)
    lines = ["[tool.attrlint]", 'required-fields = ["ticket_id", "customer_id", "agent_id"]', ""]
    for name, glob in sorted(agents.items()):
        lines += [f"[tool.attrlint.agents.{_toml_key(name)}]", f'paths = ["{glob}"]', ""]
    if has_tests:
        lines += ["# Tests call LLM clients without production attribution; leave them to the key rules.",
                  "[tool.attrlint.per-file-ignores]",
                  f'"tests/**" = {_TEST_IGNORES}', f'"**/test_*.py" = {_TEST_IGNORES}', ""]
    expires = (today_utc() + dt.timedelta(days=90)).isoformat()
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
