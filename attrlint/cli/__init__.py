"""The `attrlint` command line. Subcommands live in their own modules and load lazily,
so `attrlint check` on a handful of files pays only for what it uses."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from attrlint import __version__

# command name -> "module:attribute"; each module is imported only when its command runs.
COMMANDS = {
    "check": "attrlint.cli.check:check",
    "fix": "attrlint.cli.check:fix",
    "rule": "attrlint.cli.rules:rule",
    "rules": "attrlint.cli.rules:rules",
    "keys": "attrlint.cli.keys:keys",
    "init": "attrlint.cli.init:init",
    "baseline": "attrlint.cli.baseline:baseline",
    "ledger": "attrlint.cli.ledger:ledger",
    "server": "attrlint.cli.server:server",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        return getattr(module, attr)


def _available(name: str) -> bool:
    module_name = COMMANDS[name].split(":")[0]
    return importlib.util.find_spec(module_name) is not None  # type: ignore[attr-defined]


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attrlint")
def cli() -> None:
    """Check that every LLM call says who it was for, and that every key has one owner."""


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
    except BrokenPipeError:
        # The reader of our output went away (`attrlint check | head`): stop quietly, and keep
        # the interpreter from failing again when it flushes stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
