"""Running attrlint as a program: the paths of this tree, results, and `python -m attrlint` subprocesses.

The in-process runner is the `run_cli` fixture in tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m ...` subprocesses: this tree's attrlint first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def run_module(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
               stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m attrlint ARGS` in `cwd`, with this tree's attrlint.

    The suite's ATTRLINT_CACHE_DIR is not passed on unless `env` sets it: the run caches
    where its own arguments say."""
    full_env = subprocess_env(**(env or {}))
    if env is None or "ATTRLINT_CACHE_DIR" not in env:
        full_env.pop("ATTRLINT_CACHE_DIR", None)
    return subprocess.run([sys.executable, "-m", "attrlint", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout, input=stdin.decode() if stdin else None)
