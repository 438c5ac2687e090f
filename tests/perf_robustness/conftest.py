"""Helpers for the speed and robustness tests: a generated tree, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


LLM_FILE = """\
import os
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])


def ask(question):
    return client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": question}}],
                                          metadata={{"ticketId": "{n}"}})
"""

PLAIN_FILE = """\
def add(a, b):
    return a + b  # {n}
"""


def make_tree(root: Path, llm: int = 30, plain: int = 30) -> Path:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    for i in range(llm):
        (root / "pkg" / f"llm_{i:03d}.py").write_text(LLM_FILE.format(n=i))
    for i in range(plain):
        (root / "pkg" / f"plain_{i:03d}.py").write_text(PLAIN_FILE.format(n=i))
    return root / "pkg"


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("ATTRLINT_CACHE_DIR", None) if env is None or "ATTRLINT_CACHE_DIR" not in env else None
    return subprocess.run([sys.executable, "-m", "attrlint", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout, input=stdin.decode() if stdin else None)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path)


def findings_of(result) -> list[tuple]:
    return [(f.path, f.line, f.column, f.code, f.message, f.snippet) for f in result.findings]
