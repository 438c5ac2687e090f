"""One core, every front end, the same findings: on the examples project and a generated
one, `attrlint check`, `check --fix` (against a fresh check of the fixed tree), the flake8
plugin and the LSP server (per-file rules), and the pre-commit hook (its entry from
.pre-commit-hooks.yaml, on the files pre-commit passes) agree.

Where a front end cannot see something, the comparison says so: flake8 reports E999 itself
for a file that does not parse (no ATR000) and applies its own noqa (no ATR900); the
per-file front ends never run the project-wide phase."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.cli import EXAMPLES, ROOT, subprocess_env
from support.source import make_tree, write_tree

from attrlint.lint import runner
from attrlint.lint.suppression import Options

TODAY = "2026-11-26"


def generated(root: Path) -> Path:
    make_tree(root, llm=12, plain=4)
    write_tree(root, {
        "pyproject.toml": """
            [tool.attrlint]
            extend-select = ["ATR900"]

            [tool.attrlint.agents.pkg]
            paths = ["pkg/**"]

            [tool.attrlint.keys.OPENAI_KEY_PKG]
            agent = "pkg"
            owner = "pkg@example.com"
            expires = 2099-01-01
        """,
        "pkg/wrapper.py": """
            from openai import OpenAI
            client = OpenAI(api_key=KEY)

            def get_completion(prompt, **kwargs):
                return client.chat.completions.create(model="gpt-4o", messages=[], **kwargs)
        """,
        "pkg/calls.py": """
            from pkg.wrapper import get_completion

            def a(q):
                return get_completion(q)

            def b(q):
                return get_completion(q)  # noqa: ATR001

            def c(q):
                return get_completion(q, metadata={"ticketId": 1, "customer_id": 2, "agent_id": 3})  # noqa: ATR002
        """,
    })
    return root


@pytest.fixture(params=["examples", "generated"])
def tree(request, tmp_path) -> Path:
    if request.param == "examples":
        shutil.copytree(EXAMPLES, tmp_path / "examples")
        return tmp_path / "examples"
    return generated(tmp_path / "generated")


def check_json(run_cli, root: Path, *args: str) -> list[tuple]:
    result = run_cli("check", "--output-format", "json", "--today", TODAY, *args, cwd=root)
    assert result.exit_code in (0, 1), result.output
    return [(f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]]


def per_file(root: Path) -> set[tuple]:
    """What the per-file rules report through the run's own path (pool, cache, suppression)."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = runner.run(["."], options=Options(), jobs=1, project_rules=False, warn=lambda m: None)
    finally:
        os.chdir(cwd)
    return {(f.path.removeprefix("./"), f.line, f.column, f.code) for f in result.findings}


def python_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))


def test_check_fix_reports_what_a_fresh_check_reports(run_cli, tree):
    before = check_json(run_cli, tree)
    after_fix = check_json(run_cli, tree, "--fix")
    fresh = check_json(run_cli, tree)
    assert after_fix == fresh
    fixable_codes = {"ATR003", "ATR900"}

    def unfixable(findings):  # a renamed key moves what follows it on its line: compare without columns
        return [(path, line, code, message) for path, line, _, code, message in findings if code not in fixable_codes]

    assert unfixable(before) == unfixable(fresh)
    assert not [f for f in fresh if f[3] in fixable_codes]


def test_flake8_plugin_matches_check_on_per_file_rules(tree):
    probe = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True,
                           env=subprocess_env(), timeout=60)
    if "attrlint" not in probe.stdout:
        pytest.skip("the flake8 plugin is not registered in this environment")
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "ATR", "--isolated", *python_files(tree)],
                          cwd=tree, capture_output=True, text=True, env=subprocess_env(), timeout=300)
    plugin = set()
    for line in done.stdout.splitlines():
        match = re.match(r"(\S+?):(\d+):(\d+): (ATR\d+)", line)
        assert match, line
        plugin.add((match[1], int(match[2]), int(match[3]), match[4]))
    expected = {f for f in per_file(tree) if f[3] not in ("ATR000", "ATR900")}
    assert expected and plugin == expected


def test_lsp_server_matches_check_on_per_file_rules(tree):
    pytest.importorskip("pygls")
    from pygls.uris import from_fs_path
    from support.lsp import Session

    async def session() -> set[tuple]:
        lsp = Session(tree)
        await lsp.start(project=False)
        found = set()
        for rel in python_files(tree):
            text = (tree / rel).read_text(encoding="utf-8")
            published = await lsp.open(from_fs_path(str(tree / rel)), text)
            lines = text.splitlines()
            for d in published.diagnostics:
                line = lines[d.range.start.line]
                column = len(line.encode("utf-16-le")[:2 * d.range.start.character].decode("utf-16-le")) + 1
                found.add((rel, d.range.start.line + 1, column, str(d.code)))
        await lsp.stop()
        return found

    assert asyncio.run(session()) == per_file(tree)


def test_pre_commit_hook_entry_matches_check(run_cli, tree):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "attrlint")
    entry = shlex.split(hook["entry"])
    assert entry[0] == "attrlint"
    files = python_files(tree)  # what pre-commit passes for types_or [python, pyi]
    done = subprocess.run([sys.executable, "-m", "attrlint", *entry[1:], "--today", TODAY, "--output-format",
                           "json", *files], cwd=tree, capture_output=True, text=True, env=subprocess_env(),
                          timeout=300)
    assert done.returncode == 1, done.stderr
    hook_found = [(f["path"], f["line"], f["column"], f["code"], f["message"])
                  for f in json.loads(done.stdout)["findings"]]
    assert hook_found == check_json(run_cli, tree, *files)
    whole = [f for f in check_json(run_cli, tree) if f[0].endswith(".py")]
    assert [f for f in hook_found if f[0].endswith(".py")] == whole
