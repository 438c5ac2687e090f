"""Exit codes, configuration errors, and the files a run reads (or skips)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from support.source import write_tree

UNATTRIBUTED = 'import litellm\nlitellm.completion(model="m", messages=[])\n'


def test_exit_0_when_clean_and_1_with_findings(run_cli, tmp_path):
    write_tree(tmp_path, {"ok.py": "import litellm\n"})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout == "All checks passed (1 file checked).\n"
    write_tree(tmp_path, {"bad.py": UNATTRIBUTED})
    assert run_cli("check", cwd=tmp_path).exit_code == 1


@pytest.mark.parametrize(("toml", "key", "fragment"), [
    ("[tool.attrlint]\nselct = [\"ATR001\"]\n", "selct", "unknown key"),
    ("[tool.attrlint]\nstrict = \"yes\"\n", "strict", "expected true or false"),
    ("[tool.attrlint]\nselect = [\"E501\"]\n", "select", "'E501' is not a rule code"),
    ("[tool.attrlint]\nmax-metadata-fields = 0\n", "max-metadata-fields", "positive integer"),
    ("[tool.attrlint.keys.OPENAI_KEY_X]\nexpires = \"soon\"\n", "keys.OPENAI_KEY_X.expires", "expected a date"),
    ("[tool.attrlint.agents.bot]\npath = [\"bot/**\"]\n", "agents.bot.path", "unknown key"),
])
def test_bad_config_exits_2_naming_file_and_key(run_cli, tmp_path, toml, key, fragment):
    write_tree(tmp_path, {"pyproject.toml": toml, "bad.py": UNATTRIBUTED})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr
    assert f"[tool.attrlint] {key}" in result.stderr
    assert fragment in result.stderr
    assert "ATR001" not in result.stdout


def test_invalid_toml_exits_2(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": "[tool.attrlint\nselect = 1\n", "bad.py": UNATTRIBUTED})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr


def test_toml_nested_too_deeply_is_an_error_naming_the_file(run_cli, tmp_path):
    deep = "[tool.attrlint]\nplaceholders = " + "[" * 50_000 + "]" * 50_000 + "\n"
    write_tree(tmp_path, {"pyproject.toml": deep, "bad.py": UNATTRIBUTED})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr and "nested too deeply" in result.stderr
    assert "internal error" not in result.stderr


def test_bad_select_code_exits_2(run_cli, tmp_path):
    write_tree(tmp_path, {"bad.py": UNATTRIBUTED})
    result = run_cli("check", "--select", "E501", cwd=tmp_path)
    assert result.exit_code == 2
    assert "E501" in result.stderr
    assert run_cli("check", "--ignore", "F401", cwd=tmp_path).exit_code == 2
    assert run_cli("check", "--today", "tomorrow", cwd=tmp_path).exit_code == 2


def test_unparsable_file_is_reported_and_others_still_checked(run_cli, tmp_path):
    write_tree(tmp_path, {
        "a_broken.py": "import openai\n\ndef f(x:\n    openai.chat.completions.create()\n",
        "b_bad.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    found = [(f["path"], f["line"], f["column"], f["code"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("a_broken.py", 3, 6, "ATR000"), ("b_bad.py", 2, 1, "ATR001")]
    assert result.exit_code == 1


def test_undecodable_file_is_atr000(run_cli, tmp_path):
    write_tree(tmp_path, {"bad.py": b"import openai\nx = '\xff\xfe'\n"})
    result = run_cli("check", cwd=tmp_path)
    assert "bad.py:1:1: ATR000 cannot read source" in result.stdout
    assert result.exit_code == 1


def test_latin1_file_with_coding_line(run_cli, tmp_path):
    source = ("# -*- coding: latin-1 -*-\nimport litellm\n"
              "x = 'café'; litellm.completion(model='m', messages=[])\n")
    write_tree(tmp_path, {"legacy.py": source.encode("latin-1")})
    result = run_cli("check", cwd=tmp_path)
    assert result.stdout.startswith("legacy.py:3:13: ATR001 ")
    assert result.exit_code == 1


def test_non_ascii_columns_are_in_characters(run_cli, tmp_path):
    source = ("import litellm\n"
              "naïve = '日本語'; litellm.completion(model='m', messages=[], metadata={'ticketId': 1})\n")
    write_tree(tmp_path, {"u.py": source})
    data = json.loads(run_cli("check", "--format", "json", cwd=tmp_path).stdout)
    by_code = {f["code"]: f for f in data["findings"]}
    line = source.splitlines()[1]
    assert by_code["ATR002"]["column"] == line.index("litellm") + 1 == 16
    assert by_code["ATR003"]["column"] == line.index("'ticketId'") + 1
    assert by_code["ATR003"]["end_column"] == line.index("'ticketId'") + len("'ticketId'") + 1


def test_empty_file_and_directory_without_python(run_cli, tmp_path):
    write_tree(tmp_path, {"empty.py": "", "docs/readme.md": "litellm.completion()\n", "data.json": "{}"})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout == "All checks passed (1 file checked).\n"
    result = run_cli("check", "docs", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout == ""  # never "All checks passed" when nothing was checked
    assert result.stderr == ("attrlint: warning: no Python files found under docs (check the paths and the "
                             "exclude settings)\n")


def test_default_excludes(run_cli, tmp_path):
    write_tree(tmp_path, {
        ".venv/lib/x.py": UNATTRIBUTED,
        "venv/x.py": UNATTRIBUTED,
        "node_modules/pkg/x.py": UNATTRIBUTED,
        "build/x.py": UNATTRIBUTED,
        "src/__pycache__/x.py": UNATTRIBUTED,
        "src/app.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["src/app.py"]


def test_extend_exclude_and_force_exclude(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint]\nextend-exclude = ["generated"]\n',
        "generated/x.py": UNATTRIBUTED,
        "src/app.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["src/app.py"]
    # a path given explicitly is checked, unless --force-exclude (as pre-commit passes it)
    assert run_cli("check", "generated/x.py", cwd=tmp_path).exit_code == 1
    assert run_cli("check", "--force-exclude", "generated/x.py", cwd=tmp_path).exit_code == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_gitignored_files_are_skipped_inside_a_git_repo(run_cli, tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "ignored/\nscratch_*.py\n",
        "ignored/x.py": UNATTRIBUTED,
        "scratch_1.py": UNATTRIBUTED,
        "src/app.py": UNATTRIBUTED,
        "src/untracked.py": UNATTRIBUTED,
    })
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "src/app.py", ".gitignore"], check=True)
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    assert sorted(f["path"] for f in json.loads(result.stdout)["findings"]) == ["src/app.py", "src/untracked.py"]
    result = run_cli("check", "--format", "json", "src", cwd=tmp_path)
    assert sorted(f["path"] for f in json.loads(result.stdout)["findings"]) == ["src/app.py", "src/untracked.py"]


def test_a_reader_that_goes_away_is_no_internal_error(tmp_path):
    # `attrlint check | head -1`: the pipe closes while findings are still being written
    write_tree(tmp_path, {f"m{i}.py": UNATTRIBUTED * 50 for i in range(20)})
    import sys

    process = subprocess.Popen([sys.executable, "-m", "attrlint", "check", "--no-cache", "."], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) != 0
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
