"""action.yml, run locally: its shell steps are executed as GitHub would run them (inputs
and `github.*` substituted into each step's env), in a pull-request checkout with an
`origin` holding the base branch. The SARIF it writes validates against SARIF 2.1.0."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from support.cli import ROOT, subprocess_env
from support.source import write_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
SARIF_SCHEMA = json.loads((ROOT / "tests/lint/data/sarif-2.1.0-rtm.4.json").read_text(encoding="utf-8"))
UNATTRIBUTED = 'import litellm\nlitellm.completion(model="m", messages=[])\n'
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A clone on branch `feature`, whose `origin` has `main`; the branch adds new.py."""
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp_path / "work"
    write_tree(work, {"pyproject.toml": "[tool.attrlint]\n", "old.py": UNATTRIBUTED})
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "base")
    _git(work, "remote", "add", "origin", str(origin))
    _git(work, "push", "-q", "origin", "main")
    clone = tmp_path / "checkout"
    _git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "main", origin.as_uri(), str(clone))
    _git(clone, "checkout", "-q", "-b", "feature")
    write_tree(clone, {"new.py": UNATTRIBUTED})
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "feature")
    _git(clone, "update-ref", "-d", "refs/remotes/origin/main")  # as a PR checkout: the base is not fetched yet
    return clone


def run_action(checkout: Path, *, base_ref: str = "", **inputs: str) -> tuple[int, str, dict[str, str]]:
    """Run the action's shell steps in `checkout`; returns the last step's status, its output
    and what the steps wrote to GITHUB_OUTPUT."""
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update({"install": "false", "python": sys.executable})
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    context = {"github.action_path": str(ROOT), "github.base_ref": base_ref}
    context.update({f"inputs.{name}": value for name, value in values.items()})

    def expand(text: str) -> str:
        return _EXPR.sub(lambda m: context[m.group(1)], str(text))

    output_file = checkout.parent / "github_output"
    output_file.write_text("")
    status, out = 0, ""
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            continue
        env = subprocess_env(GITHUB_OUTPUT=str(output_file), GITHUB_ACTION_PATH=str(ROOT),
                             **{key: expand(value) for key, value in step.get("env", {}).items()})
        # as GitHub runs `shell: bash`: bash --noprofile --norc -eo pipefail {0}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=checkout, env=env, capture_output=True,
                              text=True, timeout=300)
        status, out = done.returncode, done.stdout + done.stderr
        if status != 0:
            break
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return status, out, outputs


def test_the_action_is_a_composite_with_the_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {"paths", "new-since", "output-format", "upload-sarif", "sarif-file"} <= set(ACTION["inputs"])
    upload = next(step for step in ACTION["runs"]["steps"] if "uses" in step)
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "always()" in upload["if"]


def test_on_a_pull_request_only_new_findings_fail_and_the_sarif_validates(pull_request):
    status, out, outputs = run_action(pull_request, base_ref="main", upload_sarif="true")
    assert status == 1, out
    assert outputs["exit-code"] == "1"
    assert "attrlint: reporting findings on lines changed since origin/main" in out
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1 and "file=new.py,line=2" in annotations[0]
    sarif = json.loads((pull_request / outputs["sarif-file"]).read_text())
    errors = list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(sarif))
    assert not errors, errors[:3]
    located = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]]
    assert located == ["new.py"]


def test_on_a_push_everything_is_checked(pull_request):
    status, out, outputs = run_action(pull_request, output_format="text")
    assert status == 1
    assert "new.py:2:1: ATR001 " in out and "old.py:2:1: ATR001 " in out
    assert "sarif-file" not in outputs


def test_could_not_check_fails_the_job_with_2(pull_request):
    status, out, outputs = run_action(pull_request, paths="nosuch.py")
    assert status == 2 and outputs["exit-code"] == "2"
    assert "attrlint: error: nosuch.py: no such file or directory" in out


def test_a_clean_pull_request_passes(pull_request):
    (pull_request / "new.py").write_text("import litellm\n")
    _git(pull_request, "commit", "-q", "-am", "clean")
    status, out, outputs = run_action(pull_request, base_ref="main")
    assert (status, outputs["exit-code"]) == (0, "0"), out
