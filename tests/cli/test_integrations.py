"""End to end through the front ends other tools drive: flake8 and pre-commit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import ROOT, subprocess_env
from support.source import write_tree

BAD = '''\
import os
import litellm
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])
client.chat.completions.create(model="m", messages=[])
litellm.completion(model="m", messages=[])  # noqa: ATR001
litellm.completion(model="m", messages=[], metadata={"ticket_id": t})  # noqa
litellm.completion(model="m", messages=[], metadata={"ticketId": t, "customer_id": c, "agent_id": "a"})
'''

GOOD = '''\
import os
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_KEY_BILLING"])
client.chat.completions.create(model="m", messages=[],
                               metadata={"ticket_id": t, "customer_id": c, "agent_id": "billing"})
'''

PYPROJECT = '''\
[tool.attrlint]

[tool.attrlint.agents.support]
paths = ["support/**"]

[tool.attrlint.agents.billing]
paths = ["billing/**"]

[tool.attrlint.keys.OPENAI_KEY_BILLING]
agent = "billing"
owner = "b@example.com"
expires = 2020-01-01
'''


def _flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "ATR", "--no-show-source", *args],
        cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=60,
    )


def test_flake8_plugin_is_registered_from_this_tree():
    result = subprocess.run(
        [sys.executable, "-c", "import attrlint, sys; print(attrlint.__file__)"],
        env=subprocess_env(), capture_output=True, text=True, timeout=30,
    )
    assert Path(result.stdout.strip()).resolve().parent == (ROOT / "attrlint").resolve()
    version = subprocess.run([sys.executable, "-m", "flake8", "--version"], env=subprocess_env(),
                             capture_output=True, text=True, timeout=60)
    assert "attrlint" in version.stdout


def test_flake8_reports_per_file_rules_and_honours_noqa(tmp_path):
    # support/ borrows billing's key (ATR103) and billing's key is expired (ATR104):
    # project rules that `attrlint check` reports and the flake8 plugin never does.
    write_tree(tmp_path, {"pyproject.toml": PYPROJECT, "support/bad.py": BAD.replace("SUPPORT", "BILLING"),
                          "billing/good.py": GOOD})
    result = _flake8(tmp_path, ".")
    lines = sorted(result.stdout.splitlines())
    assert lines == [
        "./support/bad.py:6:1: ATR001 openai `chat.completions.create` has no attribution: add ticket_id, "
        "customer_id, agent_id in `metadata=` or an enclosing `with attribution(...)`",
        "./support/bad.py:9:54: ATR003 `ticketId` is a nonstandard spelling of `ticket_id`",
    ], result.stdout + result.stderr
    assert result.returncode == 1

    check = subprocess.run([sys.executable, "-m", "attrlint", "check", "--today", "2026-01-01", "."],
                           cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert " ATR103 " in check.stdout and " ATR104 " in check.stdout
    assert check.returncode == 1


def test_flake8_clean_file(tmp_path):
    write_tree(tmp_path, {"pyproject.toml": PYPROJECT, "billing/good.py": GOOD, "plain.py": "x = 1\n"})
    result = _flake8(tmp_path, ".")
    assert result.stdout == ""
    assert result.returncode == 0


# -- pre-commit --------------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(cwd), *args],
                   check=True, capture_output=True, timeout=60)


# pip's words when it cannot reach a package index: a connection that fails, or a requirement
# for which no source offers any version at all
_NO_NETWORK = re.compile(
    r"Failed to establish a new connection|NameResolutionError|Failed to resolve|Temporary failure in name resolution"
    r"|Name or service not known|Network is unreachable|No route to host|Connection refused|Max retries exceeded"
    r"|ConnectTimeout|ProxyError|Could not fetch URL|\(from versions: none\)"
)


def _snapshot_files() -> dict[str, bytes]:
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    return {rel: (ROOT / rel).read_bytes() for rel in filter(None, listing)
            if not rel.startswith("tests/") and (ROOT / rel).is_file()}


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's store for this session (PRE_COMMIT_HOME), in pytest's temporary directory."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This work tree's files committed to a git repo (pre-commit installs from HEAD)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for rel, data in _snapshot_files().items():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")
    return repo


def _install_hook_environment(project: Path, env: dict[str, str]) -> None:
    """`pre-commit install-hooks`: pip installs the hook repo and its dependencies into a new virtualenv.

    Skips the test when that failed because no package index could be reached; any other
    failure fails it."""
    done = subprocess.run([sys.executable, "-m", "pre_commit", "install-hooks"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    log = Path(env["PRE_COMMIT_HOME"]) / "pre-commit.log"
    if log.is_file():
        output += log.read_text(errors="replace")
    offline = next((line.strip() for line in output.splitlines() if _NO_NETWORK.search(line)), None)
    if offline:
        pytest.skip(f"pre-commit could not install the hook's environment without the network: {offline[:300]}")
    pytest.fail(f"pre-commit install-hooks exited {done.returncode}:\n{output}")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_hook(tmp_path, hook_repo, pre_commit_home):
    # `pre-commit run` with the snapshot as the hook repo, its store in a temporary
    # PRE_COMMIT_HOME: nothing is read from or written to the user's pre-commit cache.
    rev = subprocess.run(["git", "-C", str(hook_repo), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=True, timeout=30).stdout.strip()
    project = write_tree(tmp_path / "project", {
        ".pre-commit-config.yaml": f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: attrlint\n",
        "bad.py": BAD,
        "good.py": GOOD,
    })
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    env = subprocess_env(PRE_COMMIT_HOME=str(pre_commit_home))
    env.pop("PYTHONPATH")  # the hook must run the attrlint pre-commit installed, not this tree's
    env.pop("VIRTUAL_ENV", None)
    _install_hook_environment(project, env)

    def run_hook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "attrlint", *args],
                              cwd=project, env=env, capture_output=True, text=True, timeout=300)

    good = run_hook("--files", "good.py")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    bad = run_hook("--all-files")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "bad.py:6:1: ATR001 " in bad.stdout
    assert "bad.py:7:" not in bad.stdout  # suppressed on its line by noqa
    assert "good.py" not in bad.stdout.split("Failed", 1)[1]
