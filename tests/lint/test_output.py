"""Output formats and the options that shape the report."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from support.source import write_tree

DATA = Path(__file__).parent / "data"

APP = '''\
import litellm
from openai import OpenAI

client = OpenAI(api_key=KEY)


def ask(q):
    return client.chat.completions.create(
        model="gpt-4o", messages=[])


def tag(t):
    litellm.completion(model="m", messages=[], metadata={"ticketId": T, "customer_id": C, "agent_id": "a"})


def more(q):
    litellm.completion(model="m", messages=[], metadata=meta_for(q))
'''


@pytest.fixture
def project(tmp_path):
    return write_tree(tmp_path, {"pkg/app.py": APP})


def test_text(run_cli, project):
    result = run_cli("check", "pkg", cwd=project)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "pkg/app.py:8:12: ATR001 openai `chat.completions.create` has no attribution: add ticket_id, "
        "customer_id, agent_id in `metadata=` or an enclosing `with attribution(...)`",
        "pkg/app.py:13:58: ATR003 `ticketId` is a nonstandard spelling of `ticket_id` [*]",
        "pkg/app.py:17:5: ATR008 litellm `completion`: cannot verify ticket_id, customer_id, agent_id "
        "(`metadata=` cannot be read statically)",
    ]
    assert lines[3] == "Found 3 findings in 1 file checked. 1 fixable with `attrlint check --fix`."
    assert all(re.match(r"^\S+:\d+:\d+: ATR\d{3} ", line) for line in lines[:3])


def test_json(run_cli, project):
    result = run_cli("check", "pkg", "--format", "json", cwd=project)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["files"] == 1
    first, second, third = data["findings"]
    assert {k: first[k] for k in ("path", "line", "column", "end_line", "end_column", "code", "name", "fixable")} == {
        "path": "pkg/app.py", "line": 8, "column": 12, "end_line": 9, "end_column": 37,
        "code": "ATR001", "name": "missing-attribution", "fixable": False,
    }
    assert first["message"].startswith("openai `chat.completions.create` has no attribution")
    assert (second["code"], second["line"], second["column"], second["end_column"], second["fixable"]) == (
        "ATR003", 13, 58, 68, True)
    assert (third["code"], third["line"]) == ("ATR008", 17)


def test_json_paths_are_as_given(run_cli, project):
    data = json.loads(run_cli("check", "./pkg/app.py", "--format", "json", cwd=project).stdout)
    assert {f["path"] for f in data["findings"]} == {"./pkg/app.py"}
    data = json.loads(run_cli("check", "--format", "json", cwd=project / "pkg").stdout)
    assert {f["path"] for f in data["findings"]} == {"app.py"}


@pytest.fixture(scope="module")
def sarif_validator():
    # The SARIF 2.1.0 schema (rtm.4, as shipped in the sarif-om source distribution).
    schema = json.loads((DATA / "sarif-2.1.0-rtm.4.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_schema(run_cli, project, sarif_validator):
    result = run_cli("check", "pkg", "--format", "sarif", cwd=project)
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    errors = sorted(sarif_validator.iter_errors(sarif), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["ATR001", "ATR003", "ATR008"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 8, "startColumn": 12, "endLine": 9, "endColumn": 37,
                      "snippet": region["snippet"]}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/app.py"


def test_sarif_with_no_findings_validates(run_cli, tmp_path, sarif_validator):
    write_tree(tmp_path, {"ok.py": "import os\n"})
    sarif = json.loads(run_cli("check", "--format", "sarif", cwd=tmp_path).stdout)
    assert not list(sarif_validator.iter_errors(sarif))
    assert sarif["runs"][0]["results"] == []


def test_sarif_fingerprints_survive_shifted_lines(run_cli, project):
    def fingerprints():
        sarif = json.loads(run_cli("check", "pkg", "--format", "sarif", cwd=project).stdout)
        return [(r["ruleId"], r["partialFingerprints"]["attrlintFingerprint/v1"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in sarif["runs"][0]["results"]]

    before = fingerprints()
    (project / "pkg/app.py").write_text('"""A docstring."""\n\n\n' + APP)
    after = fingerprints()
    assert [(c, f) for c, f, _ in before] == [(c, f) for c, f, _ in after]
    assert [line + 3 for _, _, line in before] == [line for _, _, line in after]
    assert len({f for _, f, _ in before}) == len(before)


def test_github_annotations(run_cli, project):
    result = run_cli("check", "pkg", "--format", "github", cwd=project)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "::error title=ATR001 missing-attribution,file=pkg/app.py,line=8,col=12,endLine=9,endColumn=37::"
        "pkg/app.py:8:12: ATR001 openai")
    assert len(lines) == 3 and all(line.startswith("::error ") for line in lines)


def test_junit_parses(run_cli, project):
    write_tree(project, {"pkg/clean.py": "import os\n"})
    result = run_cli("check", "pkg", "--format", "junit", cwd=project)
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites" and root.get("failures") == "3"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"pkg/app.py", "pkg/clean.py"}
    assert [f.get("type") for f in cases["pkg/app.py"].iter("failure")] == ["ATR001", "ATR003", "ATR008"]
    assert list(cases["pkg/clean.py"].iter("failure")) == []


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_output_file(run_cli, project, fmt):
    stdout_run = run_cli("check", "pkg", "--format", fmt, cwd=project)
    result = run_cli("check", "pkg", "--format", fmt, "--output", "report.out", cwd=project)
    assert result.exit_code == 1
    assert "ATR001" not in result.stdout
    written = (project / "report.out").read_text(encoding="utf-8")
    assert "ATR001" in written
    if fmt == "text":
        assert written == stdout_run.stdout.rsplit("Found", 1)[0]
        assert "Found 3 findings" in result.stderr
    else:
        assert written == stdout_run.stdout


def test_statistics(run_cli, project):
    result = run_cli("check", "pkg", "--statistics", cwd=project)
    rows = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
    assert [r[1:3] for r in rows] == [["ATR001", "missing-attribution"], ["ATR003", "nonstandard-field-name"],
                                      ["ATR008", "unverifiable-metadata"]]
    assert [int(r[0]) for r in rows] == [1, 1, 1]
    assert rows[1][3:] == ["[*]"]
    assert result.exit_code == 1


def test_exit_zero(run_cli, project):
    result = run_cli("check", "pkg", "--exit-zero", cwd=project)
    assert result.exit_code == 0
    assert "ATR001" in result.stdout


def _codes(run_cli, cwd, *args):
    data = json.loads(run_cli("check", "pkg", "--format", "json", *args, cwd=cwd).stdout)
    return sorted({f["code"] for f in data["findings"]})


def test_select_ignore_extend_select(run_cli, project):
    assert _codes(run_cli, project) == ["ATR001", "ATR003", "ATR008"]
    assert _codes(run_cli, project, "--select", "ATR003") == ["ATR003"]
    assert _codes(run_cli, project, "--select", "ATR00") == ["ATR001", "ATR003", "ATR008"]
    assert _codes(run_cli, project, "--select", "atr001,ATR003") == ["ATR001", "ATR003"]
    assert _codes(run_cli, project, "--ignore", "ATR001") == ["ATR003", "ATR008"]
    assert _codes(run_cli, project, "--select", "ATR0", "--ignore", "ATR003") == ["ATR001", "ATR008"]
    assert _codes(run_cli, project, "--select", "ATR008") == ["ATR008"]
    assert _codes(run_cli, project, "--ignore", "ATR008") == ["ATR001", "ATR003"]


def test_unverifiable_attribution_fails_by_default(run_cli, project):
    # fail closed: what cannot be verified is reported without --strict or strict = true
    write_tree(project, {"pyproject.toml": "[tool.attrlint]\nstrict = true\n"})
    assert _codes(run_cli, project) == ["ATR001", "ATR003", "ATR008"]
    write_tree(project, {"pyproject.toml": "[tool.attrlint]\n"})
    assert _codes(run_cli, project) == ["ATR001", "ATR003", "ATR008"]


def test_stdin(run_cli, tmp_path):
    result = run_cli("check", "-", "--stdin-filename", "pkg/app.py", cwd=tmp_path, input=APP)
    assert result.exit_code == 1
    assert result.stdout.startswith("pkg/app.py:8:12: ATR001 ")
    result = run_cli("check", "-", "--format", "json", cwd=tmp_path, input=APP)
    assert {f["path"] for f in json.loads(result.stdout)["findings"]} == {"-"}
    clean = run_cli("check", "-", cwd=tmp_path, input="import os\n")
    assert clean.exit_code == 0


def test_stdin_filename_picks_up_per_file_config(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": '[tool.attrlint]\nper-file-ignores = { "scripts/*" = ["ATR001"] }\n'})
    result = run_cli("check", "-", "--stdin-filename", "scripts/x.py", "--select", "ATR001", cwd=tmp_path, input=APP)
    assert result.exit_code == 0, result.stdout
    result = run_cli("check", "-", "--stdin-filename", "app/x.py", "--select", "ATR001", cwd=tmp_path, input=APP)
    assert result.exit_code == 1
