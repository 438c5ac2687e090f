"""`attrlint check --watch`: check, then check again whenever a Python file or a
configuration file under the paths changes. Each run uses the result cache, so only the
files that changed are analysed again."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

import click

from attrlint.cli.common import EXIT_CLEAN

POLL_SECONDS = 0.5
_WATCHED = (".py", ".pyi", ".ipynb", "pyproject.toml", "attrlint.toml", ".attrlint-baseline.json")
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".attrlint_cache", ".attrlint", ".venv", "venv",
              "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox"}


def snapshot(paths: list[str]) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every watched file under `paths`."""
    state: dict[str, tuple[int, int]] = {}

    def note(path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        state[path] = (st.st_mtime_ns, st.st_size)

    for given in paths:
        if os.path.isfile(given):
            note(given)
            continue
        for directory, dirs, files in os.walk(given):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
            for name in files:
                if name.endswith(_WATCHED):
                    note(os.path.join(directory, name))
    return state


def watch(request: Any, run_once: Callable[[], int], *, max_runs: int | None = None) -> int:
    """Run `run_once` now and after every change, until interrupted (or `max_runs` runs)."""
    paths = request.paths or ["."]
    runs = 0
    try:
        while True:
            if not request.silent:
                click.echo(f"[{dt.datetime.now():%H:%M:%S}] Checking...", err=True)
            before = snapshot(paths)
            run_once()
            runs += 1
            if max_runs is not None and runs >= max_runs:
                return EXIT_CLEAN
            if not request.silent:
                click.echo("Watching for file changes (Ctrl-C to stop).", err=True)
            while True:
                time.sleep(POLL_SECONDS)
                now = snapshot(paths)
                if now != before:
                    changed = sorted(p for p in set(now) | set(before) if now.get(p) != before.get(p))
                    request.debug(f"changed: {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}")
                    break
    except KeyboardInterrupt:
        return EXIT_CLEAN
