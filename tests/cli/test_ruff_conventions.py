"""ruff's conventions: output formats checked against their consumers' schemas, the output
file, colour, quiet/silent/verbose, fixes shown and unsafe ones held back, --add-noqa,
--show-settings, --show-files, --no-baseline and --watch."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from support.cli import subprocess_env
from support.source import write_tree

DATA = Path(__file__).parent / "data"

APP = '''\
import litellm

naïve = "日本"; litellm.completion(model="m", messages=[], metadata={"ticketId": 1, "customer_id": 2, "agent_id": 3})


def ask():
    litellm.completion(model="m", messages=[])


def again():
    litellm.completion(model="m", messages=[])
'''
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


@pytest.fixture
def project(tmp_path):
    return write_tree(tmp_path, {"pkg/app.py": APP, "pkg/ok.py": "import litellm\n"})


def test_json_lines_is_one_finding_per_line(run_cli, project):
    lines = run_cli("check", "--output-format", "json-lines", cwd=project).stdout.splitlines()
    whole = json.loads(run_cli("check", "--output-format", "json", cwd=project).stdout)["findings"]
    assert [json.loads(line) for line in lines] == whole
    assert len(lines) == 3


def test_gitlab_code_quality_validates_against_gitlabs_schema(run_cli, project):
    result = run_cli("check", "--output-format", "gitlab", cwd=project)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    validator = jsonschema.Draft7Validator(json.loads((DATA / "gitlab-codeclimate.schema.json").read_text()))
    assert isinstance(report, list) and len(report) == 3
    for issue in report:
        assert not list(validator.iter_errors(issue))
        assert issue["severity"] in GITLAB_SEVERITIES
        assert issue["check_name"].startswith("ATR")
        assert issue["location"]["path"] == "pkg/app.py"
        assert issue["location"]["positions"]["begin"]["line"] >= 1
    # GitLab keeps one issue per fingerprint: two identical calls must not collide
    assert len({issue["fingerprint"] for issue in report}) == 3
    assert {i["location"]["positions"]["begin"]["line"] for i in report if i["check_name"] == "ATR001"} == {7, 11}


def test_rdjson_validates_against_reviewdogs_schema(run_cli, project):
    result = run_cli("check", "--output-format", "rdjson", cwd=project)
    report = json.loads(result.stdout)
    schema = json.loads((DATA / "reviewdog-DiagnosticResult.schema.json").read_text())
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(report))
    assert report["source"]["name"] == "attrlint"
    by_code = {d["code"]["value"]: d for d in report["diagnostics"]}
    renamed = by_code["ATR003"]
    line = APP.splitlines()[2]
    # rdjson columns count UTF-8 bytes; the key comes after "naïve" and "日本"
    assert renamed["location"]["range"]["start"] == {"line": 3, "column": len(line[:line.index('"ticketId"')]
                                                                                .encode()) + 1}
    assert renamed["suggestions"] == [{"range": renamed["location"]["range"], "text": '"ticket_id"'}]
    assert "suggestions" not in by_code["ATR001"]


def test_output_file_and_its_aliases(run_cli, project):
    for option in ("-o", "--output-file", "--output"):
        target = project / f"report{option}.json"
        result = run_cli("check", "--output-format", "json", option, str(target), cwd=project)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert len(json.loads(target.read_text())["findings"]) == 3
    text = run_cli("check", "-o", str(project / "r.txt"), cwd=project)
    assert text.stdout == "" and text.stderr.startswith("Found 3 findings")
    assert (project / "r.txt").read_text().count("ATR") == 3


def test_colour_follows_force_color_and_no_color(run_cli, project, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = run_cli("check", cwd=project).stdout
    assert "\x1b[1mpkg/app.py\x1b[0m" in coloured and "\x1b[31m\x1b[1mATR001\x1b[0m" in coloured
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run_cli("check", cwd=project).stdout
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in run_cli("check", cwd=project).stdout  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in run_cli("check", "--output-format", "json", cwd=project).stdout


def test_quiet_silent_and_verbose(run_cli, project):
    quiet = run_cli("check", "-q", cwd=project)
    assert quiet.exit_code == 1 and "Found" not in quiet.output and quiet.stdout.count("ATR") == 3
    silent = run_cli("check", "-s", "nosuch.py", cwd=project)
    assert (silent.exit_code, silent.output) == (2, "")
    verbose = run_cli("check", "-v", cwd=project)
    assert "attrlint: configuration: defaults (no configuration file found)" in verbose.stderr
    assert "attrlint: checked 2 files" in verbose.stderr


def test_show_fixes_lists_fixes_applied_and_available(run_cli, project):
    available = run_cli("check", "--show-fixes", cwd=project)
    assert "Would fix 1 finding:\n- pkg/app.py:\n    1 × ATR003 (nonstandard-field-name)" in available.stdout
    fixed = run_cli("check", "--fix", "--show-fixes", cwd=project)
    assert "Fixed 1 finding:\n- pkg/app.py:\n    1 × ATR003 (nonstandard-field-name)" in fixed.stderr
    assert fixed.exit_code == 1  # the two ATR001 remain
    assert '"ticket_id": 1' in (project / "pkg/app.py").read_text()


def test_exit_non_zero_on_fix(run_cli, tmp_path):
    write_tree(tmp_path, {"a.py": 'import litellm\nlitellm.completion(model="m", messages=[], metadata={'
                                  '"ticketId": 1, "customer_id": 2, "agent_id": 3})\n'})
    assert run_cli("check", "--fix", "--exit-non-zero-on-fix", cwd=tmp_path).exit_code == 1
    assert run_cli("check", "--fix", "--exit-non-zero-on-fix", cwd=tmp_path).exit_code == 0  # nothing left


def test_unsafe_fixes_are_held_back_unless_asked(tmp_path):
    from attrlint.lint.diagnostics import Edit, Finding
    from attrlint.lint.fixes import apply_fixes
    from attrlint.lint.formats import format_text, summary_line

    source = 'x = "old"\n'
    finding = Finding("ATR003", "n", "m", "a.py", 1, 5, 1, 10, fix=Edit(1, 5, 1, 10, '"new"', safe=False))
    assert apply_fixes(source, [finding]) == (source, 0)
    assert apply_fixes(source, [finding], unsafe=True) == ('x = "new"\n', 1)
    assert "[*]" not in format_text([finding]) and "[*]" in format_text([finding], unsafe=True)
    assert summary_line([finding], 1).endswith("1 hidden fix can be enabled with `--unsafe-fixes`.")


def test_add_noqa_silences_what_is_there_and_keeps_the_file_valid(run_cli, project):
    result = run_cli("check", "--add-noqa", cwd=project)
    assert result.exit_code == 0
    assert result.stderr == "Added 3 noqa directives.\n"
    text = (project / "pkg/app.py").read_text()
    assert 'metadata={"ticketId": 1, "customer_id": 2, "agent_id": 3})  # noqa: ATR003\n' in text
    assert text.count('litellm.completion(model="m", messages=[])  # noqa: ATR001\n') == 2
    compile(text, "app.py", "exec")
    assert run_cli("check", cwd=project).exit_code == 0


def test_add_noqa_merges_and_skips_lines_inside_strings(run_cli, tmp_path):
    write_tree(tmp_path, {"a.py": 'import litellm\nlitellm.completion(model="m", messages=[])  # noqa: E501\n'
                                  'litellm.completion(model="m", messages=[], stop="""\n"""); x = 1\n'})
    result = run_cli("check", "--add-noqa", cwd=tmp_path)
    assert "# noqa: E501, ATR001\n" in (tmp_path / "a.py").read_text()
    assert "a.py:3: cannot add a noqa comment (the line ends inside a string" in result.stderr
    assert run_cli("check", "--add-noqa", "--fix", cwd=tmp_path).exit_code == 2


def test_show_settings_says_where_each_value_comes_from(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": """
            [tool.attrlint]
            extend-select = ["ATR900"]
            per-file-ignores = {"services/support/legacy_*.py" = ["ATR001"]}

            [tool.attrlint.agents.support]
            paths = ["services/support/**"]
            required-fields = ["ticket_id", "agent_id"]
        """,
        "services/support/legacy_bot.py": "x = 1\n",
    })
    result = run_cli("check", "--show-settings", "--ignore", "ATR102", "services/support/legacy_bot.py", cwd=tmp_path)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Settings for: services/support/legacy_bot.py"
    assert lines[1] == f"Configuration file: {tmp_path / 'pyproject.toml'}"

    def row(prefix):
        return next(line for line in lines if line.startswith(prefix))

    assert row("extend-select = ").endswith('# pyproject.toml:2')
    assert row("ignore = ").startswith('ignore = ["ATR102"]') and row("ignore = ").endswith("# command line")
    assert row("max-metadata-fields = 8").endswith("# default")
    assert row("agent: ").endswith("# agents.support.paths")
    assert row("required fields here: ").startswith('required fields here: ["ticket_id", "agent_id"]')
    assert row("ignored here: ATR001")
    assert "ATR102" not in row("rules enabled: ") and "ATR900" in row("rules enabled: ")


def test_show_files_lists_what_would_be_checked(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": '[tool.attrlint]\nextend-exclude = ["gen/"]\n', "a.py": "",
                          "gen/b.py": "", "pkg/c.pyi": ""})
    result = run_cli("check", "--show-files", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "a.py\npkg/c.pyi\n")


def test_no_baseline_reports_everything(run_cli, project):
    assert run_cli("baseline", cwd=project).exit_code == 0
    assert run_cli("check", cwd=project).exit_code == 0
    result = run_cli("check", "--no-baseline", cwd=project)
    assert result.exit_code == 1 and result.stdout.count("ATR") == 3


def _read_until(stream, needle: str, deadline: float) -> str:
    seen = ""
    while needle not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got:\n{seen}")
        line = stream.readline()
        if not line:
            raise AssertionError(f"stream closed before {needle!r}; got:\n{seen}")
        seen += line
    return seen


def test_watch_checks_again_when_a_file_changes(tmp_path):
    write_tree(tmp_path, {"app.py": "import litellm\n"})
    process = subprocess.Popen([sys.executable, "-m", "attrlint", "check", "--watch", "--no-cache"], cwd=tmp_path,
                               env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        first = _read_until(process.stdout, "Watching for file changes", deadline)
        assert "All checks passed (1 file checked)." in first
        (tmp_path / "app.py").write_text('import litellm\nlitellm.completion(model="m", messages=[])\n')
        second = _read_until(process.stdout, "Watching for file changes", deadline)
        assert "app.py:2:1: ATR001 " in second and "Found 1 finding in 1 file checked." in second
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_watch_does_not_combine_with_fix(run_cli, tmp_path):
    result = run_cli("check", "--watch", "--fix", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("attrlint: error: --watch checks files as they change")
