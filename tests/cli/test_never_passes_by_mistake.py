"""Every way attrlint 0.1.0 could exit 0 when something was wrong now fails, with one line
that names the path, key or code and says what to do.

(Exclude globs and configuration values: test_globs_and_config.py; files that time out or
crash a worker: tests/lint/test_pool_and_cache.py.)"""

from __future__ import annotations

import json
import os

import pytest
from support.source import write_tree

UNATTRIBUTED = 'import litellm\nlitellm.completion(model="m", messages=[])\n'
RENAMABLE = ('import litellm\n'
             'litellm.completion(model="m", messages=[], metadata={"ticketId": "T-1", "customer_id": "c", '
             '"agent_id": "a"})\n')


# -- paths ------------------------------------------------------------------------------------

def test_a_path_that_does_not_exist_exits_2(run_cli, tmp_path):
    write_tree(tmp_path, {"ok.py": "import litellm\n"})
    result = run_cli("check", "nosuch.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "attrlint: error: nosuch.py: no such file or directory; check the path (relative paths start at the "
        "current directory)")
    assert "All checks passed" not in result.output
    both = run_cli("check", "ok.py", "nosuch.py", cwd=tmp_path)  # the others are still checked
    assert both.exit_code == 2
    assert both.stdout.splitlines()[-1] == (
        "Could not check 1 file or path (see the errors above); found 0 findings in 1 file checked.")
    assert run_cli("check", "--exit-zero", "nosuch.py", cwd=tmp_path).exit_code == 0


def test_unreadable_file_exits_2(run_cli, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads a chmod 000 file")
    write_tree(tmp_path, {"secret.py": UNATTRIBUTED})
    (tmp_path / "secret.py").chmod(0)
    try:
        result = run_cli("check", cwd=tmp_path)
    finally:
        (tmp_path / "secret.py").chmod(0o644)
    assert result.exit_code == 2
    assert "attrlint: error: secret.py: cannot read: Permission denied; fix its permissions or exclude it" \
        in result.stderr


def test_broken_symbolic_link_exits_2(run_cli, tmp_path):
    write_tree(tmp_path, {"ok.py": "x = 1\n"})
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "attrlint: error: gone.py: cannot read: broken symbolic link; fix or remove the link" in result.stderr


def test_baseline_is_not_written_when_a_path_could_not_be_checked(run_cli, tmp_path):
    write_tree(tmp_path, {"bad.py": UNATTRIBUTED})
    result = run_cli("baseline", "bad.py", "nosuch.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert "attrlint: error: could not check 1 file(s) or path(s); the baseline was not written" in result.stderr
    assert not (tmp_path / ".attrlint-baseline.json").exists()


# -- rule codes ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("--select", "ATR01"), "attrlint: error: --select ATR01: matches no rule; `attrlint rules` lists them"),
    (("--select", "ATR999"), "attrlint: error: --select ATR999: matches no rule; `attrlint rules` lists them"),
    (("--ignore", "ATR7"), "attrlint: error: --ignore ATR7: matches no rule; `attrlint rules` lists them"),
    (("--extend-select", "E501"), "attrlint: error: --extend-select E501: not a rule code or prefix"),
])
def test_mistyped_codes_on_the_command_line_exit_2(run_cli, tmp_path, args, message):
    write_tree(tmp_path, {"bad.py": UNATTRIBUTED})
    result = run_cli("check", *args, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.splitlines()[0]]
    assert result.stderr.startswith(message)


@pytest.mark.parametrize(("toml", "message"), [
    ('select = ["ATR01"]', "[tool.attrlint] select: 'ATR01' matches no rule; `attrlint rules` lists them"),
    ('ignore = ["ATR999"]', "[tool.attrlint] ignore: 'ATR999' matches no rule"),
    ('extend-select = ["ATR3"]', "[tool.attrlint] extend-select: 'ATR3' matches no rule"),
    ('per-file-ignores = {"tests/*" = ["ATR009"]}',
     "[tool.attrlint] per-file-ignores.\"tests/*\": 'ATR009' matches no rule"),
])
def test_mistyped_codes_in_the_configuration_exit_2(run_cli, tmp_path, toml, message):
    write_tree(tmp_path, {"pyproject.toml": f"[tool.attrlint]\n{toml}\n", "bad.py": UNATTRIBUTED})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "pyproject.toml: " + message in result.stderr


def _codes(run_cli, tmp_path, *args):
    result = run_cli("check", "--output-format", "json", *args, cwd=tmp_path)
    return result, sorted({f["code"] for f in json.loads(result.stdout)["findings"]})


def test_select_all_works_as_in_ruff(run_cli, tmp_path):
    write_tree(tmp_path, {
        "a.py": "def ask(client):\n    return client.chat.completions.create(**settings.llm_kwargs())\n"
                "x = 1  # noqa: ATR101\n",
        "b.py": UNATTRIBUTED,
    })
    result, codes = _codes(run_cli, tmp_path, "--select", "ALL")
    assert result.exit_code == 1
    assert codes == ["ATR001", "ATR008", "ATR900"]  # ALL turns on the rules that are off by default
    _, codes = _codes(run_cli, tmp_path, "--select", "ALL", "--ignore", "ATR0")
    assert codes == ["ATR900"]
    _, codes = _codes(run_cli, tmp_path, "--ignore", "ALL", "--extend-select", "ATR001")
    assert codes == ["ATR001"]  # the more specific selector wins
    _, codes = _codes(run_cli, tmp_path, "--select", "all")
    assert codes == ["ATR001", "ATR008", "ATR900"]


def test_all_in_the_configuration_and_per_file_ignores(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint]\nselect = ["ALL"]\nper-file-ignores = {"legacy/**" = ["ALL"]}\n',
        "legacy/old.py": UNATTRIBUTED,
        "new.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--output-format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["new.py"]


# -- standard input -----------------------------------------------------------------------------

def test_stdin_filename_without_dash_reads_stdin(run_cli, tmp_path):
    write_tree(tmp_path, {"project_file.py": UNATTRIBUTED})
    result = run_cli("check", "--stdin-filename", "buffer.py", cwd=tmp_path, input="import litellm\n")
    assert result.exit_code == 0, result.output
    assert "project_file.py" not in result.output
    assert result.stdout == "All checks passed (1 file checked).\n"
    result = run_cli("check", "--stdin-filename", "buffer.py", cwd=tmp_path, input=UNATTRIBUTED)
    assert result.exit_code == 1
    assert result.stdout.startswith("buffer.py:2:1: ATR001 ")


def test_stdin_filename_with_other_paths_is_an_error(run_cli, tmp_path):
    result = run_cli("check", "--stdin-filename", "buffer.py", "src", cwd=tmp_path, input="")
    assert result.exit_code == 2
    assert result.stderr.startswith("attrlint: error: --stdin-filename names the source read from standard input")


def test_fix_on_stdin_prints_the_source_and_reports_what_remains(run_cli, tmp_path):
    source = RENAMABLE + 'litellm.completion(model="m", messages=[])\n'
    result = run_cli("check", "--fix", "--stdin-filename", "buffer.py", "-", cwd=tmp_path, input=source)
    assert result.stdout == source.replace('"ticketId"', '"ticket_id"')
    assert "buffer.py:3:1: ATR001 " in result.stderr
    assert result.exit_code == 1
    clean = run_cli("check", "--fix", "--stdin-filename", "buffer.py", cwd=tmp_path, input=RENAMABLE)
    assert clean.stdout == RENAMABLE.replace('"ticketId"', '"ticket_id"')
    assert clean.exit_code == 0


def test_force_exclude_applies_to_the_stdin_filename(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": '[tool.attrlint]\nextend-exclude = ["generated/"]\n'})
    args = ("check", "--force-exclude", "--stdin-filename", "generated/client.py")
    result = run_cli(*args, cwd=tmp_path, input=UNATTRIBUTED)
    assert (result.exit_code, result.stdout) == (0, "")
    fixed = run_cli(*args, "--fix", cwd=tmp_path, input=RENAMABLE)
    assert (fixed.exit_code, fixed.stdout) == (0, RENAMABLE)  # an excluded buffer comes back unchanged
    checked = run_cli("check", "--stdin-filename", "generated/client.py", cwd=tmp_path, input=UNATTRIBUTED)
    assert checked.exit_code == 1  # without --force-exclude it is checked, as a path given explicitly


# -- the ledger ---------------------------------------------------------------------------------

@pytest.mark.usefixtures("isolated")
def test_keys_audit_without_a_ledger_exits_2_and_creates_nothing(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": '[tool.attrlint.keys.OPENAI_KEY_BOT]\nagent = "bot"\n'})
    result = run_cli("keys", "audit", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"attrlint: error: no ledger at {tmp_path / '.attrlint' / 'ledger.db'} (the "
                                    "default, .attrlint/ledger.db in the current directory)")
    assert "retire" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize("command", [["ledger", "report"], ["ledger", "export"], ["ledger", "budget"],
                                     ["ledger", "reprice"], ["keys", "audit"]])
def test_read_only_commands_never_create_a_ledger(run_cli, tmp_path, command):
    write_tree(tmp_path, {"pyproject.toml": '[tool.attrlint.agents.bot]\npaths = ["bot/**"]\nmonthly-budget = 5\n'
                                            '[tool.attrlint.keys.OPENAI_KEY_BOT]\nagent = "bot"\n'})
    target = tmp_path / "nonexistent_dir" / "x.db"
    result = run_cli(*command, "--ledger", str(target), cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (f"attrlint: error: no ledger at {target} (set by --ledger): nothing has been "
                             "recorded there; pass the ledger the runtime records to with --ledger or "
                             "ATTRLINT_LEDGER_URL\n")
    assert not (tmp_path / "nonexistent_dir").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


@pytest.mark.usefixtures("isolated")
def test_unreachable_postgres_ledger_is_one_line_and_exit_2(run_cli, tmp_path):
    pytest.importorskip("psycopg")
    url = "postgresql://attrlint:secret-password@127.0.0.1:1/ledger"  # nothing listens on port 1
    result = run_cli("ledger", "report", "--ledger", url, cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("attrlint: error: ") and "127.0.0.1:1" in lines[0]
    assert lines[0].endswith("(--verbose shows the traceback)")
    assert "secret-password" not in result.output
    verbose = run_cli("ledger", "--verbose", "report", "--ledger", url, cwd=tmp_path)
    assert verbose.exit_code == 2
    assert "Traceback (most recent call last)" in verbose.stderr
