"""ATR101 beyond Python: keys committed in git-tracked data files and saved in notebook outputs.

Only files in git's index are read: nothing untracked, ignored, linked or outside the paths
given. Every output format, the cache and the baseline hold the key redacted, never whole.
Keys are built at run time; no key-shaped literal is in this file.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from support.keys import fake_anthropic_key, fake_google_key, fake_openai_key, redacted
from support.source import write_tree

from attrlint.lint.formats import FORMATS


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=60)


@pytest.fixture
def keys():
    return {"env": fake_openai_key(), "yaml": fake_anthropic_key(), "json": fake_google_key(),
            "toml": fake_openai_key(), "ini": fake_anthropic_key(), "untracked": fake_openai_key(),
            "ignored": fake_google_key(), "outside": fake_openai_key(), "output": fake_anthropic_key()}


def _notebook(code: str, *outputs: dict) -> str:
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": [code], "outputs": list(outputs)}
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Notes"]}, cell],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


@pytest.fixture
def repo(tmp_path, keys):
    root = tmp_path / "repo"
    write_tree(root, {
        ".env": f"# local settings\nDEBUG=1\nOPENAI_API_KEY={keys['env']}\n",
        "config/app.yaml": f"llm:\n  provider: anthropic\n  key: \"{keys['yaml']}\"\n",
        "config/settings.json": json.dumps({"gemini": {"key": keys["json"]}}, indent=2) + "\n",
        "config/deploy.toml": f"[llm]\nkey = \"{keys['toml']}\"\n",
        "setup.ini": f"[llm]\nkey = {keys['ini']}\n",
        "fixtures.yaml": "placeholder: sk-" + "0" * 48 + "\n",
        ".env.local": f"OPENAI_API_KEY={keys['untracked']}\n",
        "secrets.yaml": f"key: {keys['ignored']}\n",
        ".gitignore": "secrets.yaml\n",
        "app.py": "x = 1\n",
    })
    write_tree(tmp_path, {"elsewhere/leak.env": f"KEY={keys['outside']}\n"})
    os.symlink(tmp_path / "elsewhere" / "leak.env", root / "linked.env")
    _git(root, "init", "-q")
    _git(root, "add", ".env", "config", "setup.ini", "fixtures.yaml", ".gitignore", "app.py", "linked.env")
    return root


def _found(result) -> list[tuple[str, int, int]]:
    return [(f["path"], f["line"], f["column"]) for f in json.loads(result.stdout)["findings"]]


def test_tracked_data_files_are_checked(run_cli, repo, keys):
    result = run_cli("check", "--format", "json", cwd=repo)
    assert result.exit_code == 1, result.stderr
    assert _found(result) == [
        (".env", 3, 16), ("config/app.yaml", 3, 9), ("config/deploy.toml", 2, 8), ("config/settings.json", 3, 13),
        ("setup.ini", 2, 7),
    ]
    messages = {f["path"]: f["message"] for f in json.loads(result.stdout)["findings"]}
    assert messages[".env"] == (f"OpenAI project key '{redacted(keys['env'])}' committed in a file git tracks: "
                                "rotate it, and give each agent its own key through the environment")


def test_untracked_ignored_linked_and_outside_files_are_never_read(run_cli, repo, keys):
    result = run_cli("check", "--format", "json", cwd=repo)
    for name in ("untracked", "ignored", "outside"):
        assert redacted(keys[name]) not in result.output
    listed = run_cli("check", "--show-files", cwd=repo).stdout.split()
    assert ".env.local" not in listed and "secrets.yaml" not in listed and "linked.env" not in listed
    assert {".env", "config/app.yaml", "fixtures.yaml", "app.py"} <= set(listed)
    # a path given reads only what is under it
    assert _found(run_cli("check", "--format", "json", "config", cwd=repo)) == [
        ("config/app.yaml", 3, 9), ("config/deploy.toml", 2, 8), ("config/settings.json", 3, 13)]


def test_an_untracked_file_given_by_name_is_not_read(run_cli, repo, keys):
    result = run_cli("check", ".env.local", cwd=repo)
    assert redacted(keys["untracked"]) not in result.output
    assert ".env.local: not checked for keys: git does not track it" in result.stderr
    assert _found(run_cli("check", "--format", "json", ".env", cwd=repo)) == [(".env", 3, 16)]


def test_outside_a_git_work_tree_no_data_file_is_read(run_cli, tmp_path, keys):
    write_tree(tmp_path, {".env": f"OPENAI_API_KEY={keys['env']}\n", "app.py": "x = 1\n"})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 0 and redacted(keys["env"]) not in result.output


def test_the_option_turns_it_off(run_cli, repo):
    assert run_cli("check", "--no-check-data-files", cwd=repo).exit_code == 0
    (repo / "pyproject.toml").write_text("[tool.attrlint]\ncheck-data-files = false\n")
    assert run_cli("check", cwd=repo).exit_code == 0
    assert "check-data-files = false" in run_cli("check", "--show-settings", cwd=repo).stdout
    assert run_cli("check", "--check-data-files", "--format", "json", cwd=repo).exit_code == 1


def test_noqa_and_per_file_ignores_apply(run_cli, repo, keys):
    (repo / "config/app.yaml").write_text(f"key: \"{keys['yaml']}\"  # noqa: ATR101\n")
    (repo / "pyproject.toml").write_text('[tool.attrlint.per-file-ignores]\n"*.ini" = ["ATR101"]\n')
    found = _found(run_cli("check", "--format", "json", cwd=repo))
    assert ("config/app.yaml", 1, 7) not in found and not [f for f in found if f[0] == "setup.ini"]
    assert (".env", 3, 16) in found


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_shows_the_key_redacted(run_cli, repo, keys, fmt):
    result = run_cli("check", "--format", fmt, cwd=repo)
    assert result.exit_code == 1
    for name in ("env", "yaml", "json", "toml", "ini"):
        key = keys[name]
        assert key not in result.output and key[6:-4] not in result.output, (name, fmt)
        assert redacted(key) in result.stdout, (name, fmt)


def test_cache_and_baseline_never_hold_a_key(run_cli, repo, keys, tmp_path):
    cache = tmp_path / "cache"
    assert run_cli("check", "--cache-dir", str(cache), cwd=repo).exit_code == 1
    assert run_cli("check", "--cache-dir", str(cache), cwd=repo).exit_code == 1  # from the cache
    assert run_cli("baseline", cwd=repo).exit_code == 0
    stored = b"".join(p.read_bytes() for p in [*cache.rglob("*"), repo / ".attrlint-baseline.json"] if p.is_file())
    assert stored
    for key in keys.values():
        assert key.encode() not in stored and key[6:-4].encode() not in stored


def test_keys_saved_in_notebook_outputs(run_cli, tmp_path, keys):
    image_key = fake_openai_key()
    code_key = fake_google_key()
    notebook = _notebook(
        f'KEY = "{code_key}"\nprint(load_key())',
        {"output_type": "stream", "name": "stdout", "text": ["loaded\n", f"key = {keys['output']}\n"]},
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": [f"<b>{keys['env']}</b>"], "image/png": f"iVBOR{image_key}"}},
    )
    root = write_tree(tmp_path / "nb", {"analysis.ipynb": notebook})
    _git(root, "init", "-q")
    _git(root, "add", "analysis.ipynb")
    result = run_cli("check", "--format", "json", cwd=root)
    findings = json.loads(result.stdout)["findings"]
    lines = notebook.splitlines()
    by_message = {f["message"].split(" saved")[0].split("'")[1]: f for f in findings if "output of cell" in f["message"]}
    assert set(by_message) == {redacted(keys["output"]), redacted(keys["env"])}  # the image is not text
    for key in (keys["output"], keys["env"]):
        finding = by_message[redacted(key)]
        assert finding["cell"] is None and "output of cell 2" in finding["message"]
        assert key in lines[finding["line"] - 1][finding["column"] - 1:]  # the line in the notebook file
    in_code = [f for f in findings if f["cell"] == 2]
    assert [f["code"] for f in in_code] == ["ATR101"] and redacted(code_key) in in_code[0]["message"]
    off = json.loads(run_cli("check", "--format", "json", "--no-check-data-files", cwd=root).stdout)["findings"]
    assert [f["cell"] for f in off] == [2]  # the code cell's key is still reported
    for key in keys.values():
        assert key not in result.output


def test_listing_tracked_files_never_runs_the_repositorys_fsmonitor(run_cli, repo, tmp_path):
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    _git(repo, "config", "core.fsmonitor", str(hook))
    run_cli("check", "--no-cache", "--show-files", cwd=repo)
    run_cli("check", "--no-cache", ".env", cwd=repo)
    assert not marker.exists()


def test_a_data_file_on_standard_input(run_cli, tmp_path, keys):
    text = f"OPENAI_API_KEY={keys['env']}\n"
    result = run_cli("check", "--stdin-filename", "deploy/.env", "--format", "json", cwd=tmp_path, input=text)
    assert [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"]] == [
        ("deploy/.env", 1, "ATR101")]
    assert keys["env"] not in result.output
    off = run_cli("check", "--stdin-filename", "deploy/.env", "--no-check-data-files", cwd=tmp_path, input=text)
    assert off.exit_code == 0
