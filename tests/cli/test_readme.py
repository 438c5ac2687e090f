"""What the README shows is what attrlint does: the rules table, and the pre-commit example
run verbatim."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys

import pytest
from support.cli import ROOT, subprocess_env
from support.source import write_tree

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _between(start: str, end: str) -> str:
    return README.split(f"<!-- {start} -->", 1)[1].split(f"<!-- {end} -->", 1)[0]


def test_the_rules_table_is_generated(run_cli):
    assert _between("rules-table:start", "rules-table:end").strip() == run_cli("rules", "--format", "markdown") \
        .stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_pre_commit_example_works_as_written(tmp_path):
    block = _between("pre-commit-example:start", "pre-commit-example:end")
    config = re.search(r"```yaml\n(.*?)```", block, re.S).group(1)
    shim = tmp_path / "bin" / "attrlint"  # `attrlint` on PATH runs this tree, as an installed one would
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m attrlint \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    project = write_tree(tmp_path / "project", {
        ".pre-commit-config.yaml": config,
        "good.py": "import litellm\n",
        "bad.py": 'import litellm\nlitellm.completion(model="m", messages=[])\n',
    })
    env = subprocess_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env["PATH"] = f"{shim.parent}{os.pathsep}{env['PATH']}"
    subprocess.run(["git", "init", "-q"], cwd=project, check=True, timeout=60)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, timeout=60)

    def hook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "attrlint", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    good = hook("--files", "good.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = hook("--all-files")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "bad.py:2:1: ATR001 " in bad.stdout
