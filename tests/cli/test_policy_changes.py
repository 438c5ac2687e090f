"""PR mode reports what a change does to the policy: a pull request cannot pass its own check by
accepting its findings into the baseline or relaxing the configuration, unreported."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from attrlint.lint import baseline

CALL = "from openai import OpenAI\nclient = OpenAI(api_key=KEY)\nclient.chat.completions.create(model='m', messages=[])\n"
GOOD = "x = 1\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose `main` has a configuration, a compliant file and a baseline."""
    write(tmp_path / "pyproject.toml", "[tool.attrlint]\n")
    write(tmp_path / "app.py", GOOD)
    write(tmp_path / ".attrlint-baseline.json", '{"version": 1, "entries": []}\n')
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(run_cli, *args: str):
    return run_cli("check", "--no-cache", "--new-since", "main", *args)


def lines_with(output: str, code: str) -> list[str]:
    return [line for line in output.splitlines() if f": {code} " in line]


def test_an_unchanged_policy_passes(repo, run_cli):
    write(repo / "app.py", GOOD + "y = 2\n")
    result = check(run_cli)
    assert result.exit_code == 0, result.output


def test_a_pr_that_baselines_its_own_finding_fails(repo, run_cli):
    write(repo / "app.py", CALL)
    assert run_cli("baseline").exit_code == 0  # the PR accepts its new finding
    plain = run_cli("check", "--no-cache")
    assert plain.exit_code == 0, plain.output  # without PR mode the baseline hides it
    result = check(run_cli)
    assert result.exit_code == 1, result.output
    [line] = lines_with(result.stdout, "ATR201")
    entry_line = next(n for n, text in enumerate((repo / ".attrlint-baseline.json").read_text().splitlines(), 1)
                      if '"hash"' in text)
    assert line.startswith(f".attrlint-baseline.json:{entry_line}:1: ATR201 the baseline accepts an entry "
                           "for ATR001 in app.py")
    assert not lines_with(result.stdout, "ATR001")  # the finding itself stays baselined


def test_allow_policy_changes_turns_them_into_notes(repo, run_cli):
    write(repo / "app.py", CALL)
    run_cli("baseline")
    result = check(run_cli, "--allow-policy-changes")
    assert result.exit_code == 0, result.output
    assert "ATR201" not in result.stdout
    assert "policy change allowed by --allow-policy-changes: .attrlint-baseline.json:" in result.stderr


def test_a_pr_that_ignores_the_rule_it_breaks_fails(repo, run_cli):
    write(repo / "pyproject.toml", '[tool.attrlint]\nignore = ["ATR001", "ATR102"]\n')
    write(repo / "app.py", CALL)
    result = check(run_cli)
    assert result.exit_code == 1, result.output
    found = lines_with(result.stdout, "ATR202")
    assert [line.split(": ATR202")[0] for line in found] == ["pyproject.toml:2:1", "pyproject.toml:2:1"]
    assert "`ignore` now disables ATR001 (missing-attribution)" in found[0]
    assert "`ignore` now disables ATR102" in found[1]
    as_json = json.loads(check(run_cli, "--format", "json").stdout)
    assert {f["code"] for f in as_json["findings"]} == {"ATR202"}


def test_policy_findings_escape_the_baseline(repo, run_cli):
    """Even a baseline entry written for the ATR202 finding itself, already on main, does not
    hide it. (The deleted-configuration test below shows the line filter does not either: a
    deleted file has no line in the working tree.)"""
    from attrlint.core.config import load_config
    from attrlint.lint.policy import policy_findings
    from attrlint.lint.suppression import Options

    relaxed = '[tool.attrlint]\nper-file-ignores = {"app.py" = ["ATR001"]}\n'
    write(repo / "pyproject.toml", relaxed)
    [finding] = policy_findings("main", configs=[load_config(repo / "pyproject.toml")], baseline=None,
                                options=Options())
    git(repo, "checkout", "-q", "--", "pyproject.toml")
    baseline.dump(baseline.build([finding], repo / ".attrlint-baseline.json"), repo / ".attrlint-baseline.json")
    git(repo, "commit", "-qam", "accept it on main")
    write(repo / "pyproject.toml", relaxed)
    result = check(run_cli)
    assert result.exit_code == 1, result.output
    assert len(lines_with(result.stdout, "ATR202")) == 1 and not lines_with(result.stdout, "ATR201")


def test_a_pr_cannot_switch_off_the_policy_check_itself(repo, run_cli):
    write(repo / "pyproject.toml", '[tool.attrlint]\nignore = ["ATR2", "ATR001"]\n')
    result = check(run_cli)
    assert result.exit_code == 1
    assert "`ignore` now disables ATR001" in result.stdout and "disables ATR202" in result.stdout


def test_the_base_configuration_can_switch_it_off(repo, run_cli):
    write(repo / "pyproject.toml", '[tool.attrlint]\nignore = ["ATR202"]\n')
    git(repo, "commit", "-qam", "no policy check on main")
    write(repo / "pyproject.toml", '[tool.attrlint]\nignore = ["ATR202", "ATR001"]\n')
    result = check(run_cli)
    assert result.exit_code == 0, result.output


def test_a_new_nested_configuration_is_compared_with_its_parent(repo, run_cli):
    write(repo / "pyproject.toml", '[tool.attrlint]\nrequired-fields = ["ticket_id", "customer_id"]\n')
    git(repo, "commit", "-qam", "policy")
    write(repo / "billing" / "pyproject.toml", '[tool.attrlint]\nrequired-fields = ["ticket_id"]\n')
    write(repo / "billing" / "pay.py", GOOD)
    result = check(run_cli)
    assert result.exit_code == 1, result.output
    [line] = lines_with(result.stdout, "ATR202")
    assert line.startswith(os.path.join("billing", "pyproject.toml") + ":2:1: ATR202 `required-fields` no "
                           "longer requires `customer_id`")


def test_a_deleted_configuration_is_reported(repo, run_cli):
    write(repo / "billing" / "pyproject.toml", '[tool.attrlint]\nrequired-fields = ["ticket_id", "team_id"]\n')
    write(repo / "billing" / "pay.py", GOOD)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "billing policy")
    (repo / "billing" / "pyproject.toml").unlink()
    result = check(run_cli)
    assert result.exit_code == 1, result.output
    [line] = lines_with(result.stdout, "ATR202")
    assert "`billing/pyproject.toml` is deleted" in line and "`team_id`" in line


def test_no_configuration_at_the_base_means_the_defaults(tmp_path, monkeypatch, run_cli):
    write(tmp_path / "app.py", GOOD)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.attrlint]\n\n[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\n"
                                       'owner = "a@example.com"\nexpires = 2030-01-01\n')
    assert check(run_cli, "--today", "2026-01-01").exit_code == 0  # a first registry relaxes nothing
    write(tmp_path / "pyproject.toml", '[tool.attrlint]\nextend-exclude = ["app.py"]\n')
    result = check(run_cli)
    assert result.exit_code == 1
    assert "`extend-exclude` adds `app.py`" in result.stdout


def test_an_unreadable_base_configuration_fails_closed(repo, run_cli):
    write(repo / "pyproject.toml", '[tool.attrlint]\nno-such-key = 1\n')
    git(repo, "commit", "-qam", "broken")
    write(repo / "pyproject.toml", "[tool.attrlint]\n")
    result = check(run_cli)
    assert result.exit_code == 2
    assert ("attrlint: error: --new-since main: cannot compare the policy: main:pyproject.toml: "
            "[tool.attrlint] no-such-key: unknown key") in result.stderr
    allowed = check(run_cli, "--allow-policy-changes")
    assert allowed.exit_code == 0 and "warning: --new-since main: cannot compare the policy" in allowed.stderr


def test_without_new_since_nothing_is_compared(repo, run_cli):
    write(repo / "pyproject.toml", '[tool.attrlint]\nignore = ["ATR001"]\n')
    result = run_cli("check", "--no-cache")
    assert result.exit_code == 0 and "ATR202" not in result.output


def test_git_is_run_without_the_repositorys_file_system_monitor(repo, tmp_path):
    """A repository folder copied with a hostile .git/config cannot make --new-since run its
    core.fsmonitor program."""
    from attrlint.lint.gitdiff import changed_lines

    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    write(repo / "app.py", GOOD + "y = 2\n")
    assert changed_lines("main", cwd=str(repo))
    assert not marker.exists()


def test_discovery_runs_git_without_the_repositorys_file_system_monitor(repo, tmp_path, run_cli):
    """Listing the files to check (`git ls-files`) never runs a core.fsmonitor program either."""
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    write(repo / "app.py", GOOD + "y = 2\n")
    run_cli("check", "--no-cache", ".")
    assert not marker.exists()
