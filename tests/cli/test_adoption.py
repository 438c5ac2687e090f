"""Baseline and new-code-only mode: adopting attrlint on an existing codebase."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest
from click.testing import CliRunner

from attrlint.cli import cli

HEAD = "from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n"
CALL = "client.chat.completions.create(model='m', messages=[])\n"
SECRET = "sk-" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.attrlint]\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli_run(*args: str):
    return CliRunner().invoke(cli, [*args])


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_baseline_suppresses_and_counts(repo):
    write(repo / "app.py", HEAD + CALL + "def f():\n    " + CALL + f'LEAK = "{SECRET}"\n')
    result = cli_run("baseline")
    assert result.exit_code == 0, result.output
    assert "Wrote 3 entries" in result.output
    data = (repo / ".attrlint-baseline.json").read_text()
    assert SECRET not in data and "sk-" not in data and '"line"' not in data
    check = cli_run("check", "--no-cache")
    assert check.exit_code == 0
    assert "3 findings suppressed by baseline" in check.output


def test_baseline_survives_moved_and_edited_code(repo):
    write(repo / "app.py", HEAD + "def f():\n    return " + CALL + "def g():\n    return " + CALL)
    cli_run("baseline")
    # unrelated edits above, functions swapped, blank lines and a comment added
    write(repo / "app.py", "import os\n# a comment\n" + HEAD + "\n\ndef g():\n    x = 1\n    return " + CALL
          + "\n\ndef f():\n    return " + CALL)
    check = cli_run("check", "--no-cache")
    assert check.exit_code == 0, check.output
    assert "2 findings suppressed" in check.output


def test_new_finding_is_reported_and_fixed_one_is_stale(repo):
    write(repo / "app.py", HEAD + "def f():\n    return " + CALL)
    cli_run("baseline")
    write(repo / "app.py", HEAD + "def h():\n    return " + CALL)  # f fixed (gone), h new
    check = cli_run("check", "--no-cache")
    assert check.exit_code == 1
    assert "app.py:4:12: ATR001" in check.output
    assert "stale baseline entry: app.py ATR001" in check.output


def test_update_removes_fixed_and_add_new(repo):
    write(repo / "app.py", HEAD + "def f():\n    return " + CALL + "def g():\n    return " + CALL)
    cli_run("baseline")
    write(repo / "app.py", HEAD + "def g():\n    return " + CALL + "def k():\n    return " + CALL)
    result = cli_run("baseline", "--update")
    assert "1 fixed entry removed, 0 added, 1 remain" in result.output
    assert cli_run("check", "--no-cache").exit_code == 1  # k is still new
    result = cli_run("baseline", "--update", "--add-new")
    assert "1 added, 2 remain" in result.output
    assert cli_run("check", "--no-cache").exit_code == 0


def test_explicit_baseline_file_and_json_counts(repo):
    write(repo / "app.py", HEAD + CALL)
    (repo / "ci").mkdir()
    cli_run("baseline", "--baseline", "ci/base.json")
    result = cli_run("check", "--no-cache", "--baseline", "ci/base.json", "--format", "json")
    data = json.loads(result.output)
    assert data["findings"] == [] and data["suppressed_by_baseline"] == 1


def test_missing_explicit_baseline_is_an_error(repo):
    write(repo / "app.py", HEAD + CALL)
    result = cli_run("check", "--no-cache", "--baseline", "nope.json")
    assert result.exit_code == 2 and "attrlint baseline" in result.output


def test_duplicate_findings_are_counted(repo):
    write(repo / "app.py", HEAD + CALL + CALL)
    cli_run("baseline")
    write(repo / "app.py", HEAD + CALL + CALL + CALL)
    check = cli_run("check", "--no-cache")
    assert check.exit_code == 1 and "2 findings suppressed" in check.output


# -- --new-since ----------------------------------------------------------------------------

def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def test_new_since_reports_only_changed_lines(repo):
    write(repo / "old.py", HEAD + CALL)
    write(repo / "app.py", HEAD + CALL)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "base", cwd=repo)
    write(repo / "app.py", HEAD + CALL + "x = 1\n" + CALL)  # line 5 is new
    write(repo / "new.py", HEAD + CALL)  # untracked: all new
    result = cli_run("check", "--no-cache", "--new-since", "main")
    assert result.exit_code == 1
    lines = [line.split(": ")[0] for line in result.output.splitlines() if "ATR001" in line]
    assert lines == ["app.py:5:1", "new.py:3:1"]


def test_new_since_moved_file_is_not_new(repo):
    write(repo / "app.py", HEAD + CALL)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "base", cwd=repo)
    git("mv", "app.py", "moved.py", cwd=repo)
    result = cli_run("check", "--no-cache", "--new-since", "main")
    assert result.exit_code == 0, result.output


def test_new_since_outside_git(repo):
    write(repo / "app.py", HEAD + CALL)
    result = cli_run("check", "--no-cache", "--new-since", "main")
    assert result.exit_code == 2 and "not inside" in result.output


def test_new_since_unknown_ref(repo):
    write(repo / "app.py", HEAD + CALL)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "base", cwd=repo)
    result = cli_run("check", "--no-cache", "--new-since", "origin/nope")
    assert result.exit_code == 2 and "is not a commit" in result.output
