"""`attrlint keys list`, `attrlint keys check` and `attrlint init`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from support.cli import EXAMPLES
from support.source import write_tree

TODAY = "2026-11-26"


@pytest.fixture
def listed(run_cli):
    result = run_cli("keys", "list", "--format", "json", "--today", TODAY, cwd=EXAMPLES)
    assert result.exit_code == 0, result.stderr
    return {row["env"]: row for row in json.loads(result.stdout)["keys"]}


def test_keys_list_json_on_the_examples(listed):
    assert set(listed) == {
        "ANTHROPIC_KEY_RESEARCH", "GEMINI_KEY_RESEARCH", "OPENAI_API_KEY", "OPENAI_KEY_BILLING",
        "OPENAI_KEY_MARKETING", "OPENAI_KEY_SUPPORT", "OPENAI_KEY_SUPPORT_TRIAGE",
    }
    support = listed["OPENAI_KEY_SUPPORT"]
    assert (support["agent"], support["owner"], support["expires"], support["days_left"]) == (
        "support", "support-platform@acme.example", "2027-03-31", 125)
    assert support["used_by"] == ["billing", "support"]
    assert support["references"] == ["services/billing/invoices.py:9", "services/support/bot.py:8"]
    assert support["status"] == "also used by billing"

    research = listed["ANTHROPIC_KEY_RESEARCH"]
    assert (research["days_left"], research["status"], research["provider"]) == (-514, "expired", "anthropic")
    assert listed["GEMINI_KEY_RESEARCH"]["status"] == "unregistered"
    assert listed["GEMINI_KEY_RESEARCH"]["references"] == ["services/research/summarise.py:12"]
    assert listed["OPENAI_API_KEY"]["status"].startswith("generic")
    assert listed["OPENAI_API_KEY"]["used_by"] == ["(shared code)"]
    billing = listed["OPENAI_KEY_BILLING"]
    assert billing["references"] == [] and "unused" in billing["status"] and "no owner/expiry" in billing["status"]
    assert listed["OPENAI_KEY_MARKETING"]["status"].startswith("unused")
    assert listed["OPENAI_KEY_SUPPORT_TRIAGE"]["status"] == "ok"


def test_keys_list_expiring_soon(run_cli):
    result = run_cli("keys", "list", "--format", "json", "--today", "2027-03-10", cwd=EXAMPLES)
    rows = {row["env"]: row for row in json.loads(result.stdout)["keys"]}
    assert rows["OPENAI_KEY_SUPPORT_TRIAGE"]["status"] == "expires in 21 days"


def test_keys_list_table_csv_markdown(run_cli, listed):
    table = run_cli("keys", "list", "--today", TODAY, cwd=EXAMPLES).stdout.splitlines()
    assert table[0].split()[:4] == ["key", "agent", "used", "by"]
    assert len(table) == 1 + len(listed)
    row = next(line for line in table if line.startswith("OPENAI_KEY_SUPPORT "))
    assert "support-platform@acme.example" in row and "125" in row and "services/support/bot.py:8" in row

    rows = list(csv.reader(io.StringIO(run_cli("keys", "list", "--format", "csv", "--today", TODAY,
                                               cwd=EXAMPLES).stdout)))
    assert rows[0] == ["key", "agent", "used by", "provider", "env", "owner", "expires", "days", "status",
                       "references"]
    by_key = {r[0]: r for r in rows[1:]}
    assert set(by_key) == set(listed)
    assert by_key["ANTHROPIC_KEY_RESEARCH"][7] == "-514"
    assert by_key["OPENAI_KEY_BILLING"][9] == "(none)"

    markdown = run_cli("keys", "list", "--format", "markdown", "--today", TODAY, cwd=EXAMPLES).stdout.splitlines()
    assert markdown[0].startswith("| key | agent |") and markdown[1].startswith("|---|")
    assert len(markdown) == 2 + len(listed)


def test_keys_check_on_the_examples(run_cli):
    result = run_cli("keys", "check", "--today", TODAY, cwd=EXAMPLES)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "pyproject.toml:39:1: error: key `OPENAI_KEY_BILLING` has no owner and no expires: every key needs an "
        "owner to call and an expiry date to rotate by",
        "pyproject.toml:42:1: error: key `OPENAI_KEY_MARKETING` names agent `marketing`, which is not declared "
        "in [tool.attrlint.agents] (billing, research, support)",
        "pyproject.toml:34:1: error: key `ANTHROPIC_KEY_RESEARCH` expired on 2025-06-30 (owner: "
        "research@acme.example): rotate it",
    ]
    assert "5 keys registered: 3 errors, 0 warnings." in result.stderr


REGISTRY = '''
[tool.attrlint]

[tool.attrlint.agents.bot]
paths = ["bot/**"]

[tool.attrlint.keys.OPENAI_KEY_BOT]
agent = "bot"
owner = "o@example.com"
expires = 2026-12-31

[tool.attrlint.keys.ANTHROPIC_KEY_BOT]
agent = "bot"
owner = "o@example.com"
expires = 2026-12-01
'''


@pytest.mark.parametrize(("today", "warn_days", "warnings", "errors", "code"), [
    ("2026-01-01", 30, 0, 0, 0),
    ("2026-11-26", 30, 1, 0, 0),   # 5 days left on one key
    ("2026-11-26", 40, 2, 0, 0),   # 35 and 5 days left
    ("2026-11-26", 0, 0, 0, 0),
    ("2026-12-02", 30, 1, 1, 1),   # one expired, one with 29 days
    ("2027-01-01", 30, 0, 2, 1),
])
def test_keys_check_warnings_and_errors(run_cli, tmp_path, today, warn_days, warnings, errors, code):
    write_tree(tmp_path, {"pyproject.toml": REGISTRY})
    result = run_cli("keys", "check", "--today", today, "--warn-days", str(warn_days), cwd=tmp_path)
    assert result.exit_code == code
    assert result.stdout.count(": warning: ") == warnings
    assert result.stdout.count(": error: ") == errors
    assert f"2 keys registered: {errors} errors, {warnings} warnings." in result.stderr


def test_keys_check_without_config_exits_2(run_cli, tmp_path):
    result = run_cli("keys", "check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "attrlint init" in result.stderr


def test_keys_check_bad_config_exits_2(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": REGISTRY + 'colour = "red"\n'})
    result = run_cli("keys", "check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr and "keys.ANTHROPIC_KEY_BOT.colour" in result.stderr


# -- init ---------------------------------------------------------------------------------------

PROJECT = {
    "pyproject.toml": '[project]\nname = "demo"\n',
    "services/support/bot.py": 'import os\nfrom openai import OpenAI\nc = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])\n',
    "services/billing/inv.py": 'import os\nfrom anthropic import Anthropic\nc = Anthropic(api_key=os.environ["ANTHROPIC_KEY_BILLING"])\n',
    "shared/llm.py": 'import os\nfrom openai import OpenAI\nc = OpenAI(api_key=os.environ["OPENAI_API_KEY"])\n',
}


def test_init_writes_a_section_that_loads(run_cli, tmp_path):
    write_tree(tmp_path, PROJECT)
    result = run_cli("init", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "demo"\n\n[tool.attrlint]\n')
    for header in ("[tool.attrlint.agents.support]", "[tool.attrlint.agents.billing]",
                   "[tool.attrlint.keys.OPENAI_KEY_SUPPORT]", "[tool.attrlint.keys.ANTHROPIC_KEY_BILLING]"):
        assert header in text
    assert 'paths = ["services/support/**"]' in text
    assert "[tool.attrlint.keys.OPENAI_API_KEY]" not in text
    assert "# OPENAI_API_KEY is a shared default variable" in text

    from attrlint.core.config import load_config

    config = load_config(tmp_path / "pyproject.toml")
    assert config.keys["ANTHROPIC_KEY_BILLING"].agent == "billing"
    assert config.keys["ANTHROPIC_KEY_BILLING"].provider == "anthropic"
    assert config.agent_for(tmp_path / "services/support/bot.py") == "support"
    # the written section runs: owners are empty, so `keys check` reports them
    assert run_cli("keys", "check", cwd=tmp_path).exit_code == 1


def test_init_never_overwrites(run_cli, tmp_path):
    write_tree(tmp_path, PROJECT)
    existing = '[project]\nname = "demo"\n\n[tool.attrlint]\nstrict = true\n'
    (tmp_path / "pyproject.toml").write_text(existing)
    result = run_cli("init", cwd=tmp_path)
    assert result.exit_code == 2
    assert "never overwrites" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == existing


def test_init_stdout(run_cli, tmp_path):
    write_tree(tmp_path, PROJECT)
    before = (tmp_path / "pyproject.toml").read_text()
    result = run_cli("init", "--stdout", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.startswith("[tool.attrlint]\n")
    assert "[tool.attrlint.keys.OPENAI_KEY_SUPPORT]" in result.stdout
    assert (tmp_path / "pyproject.toml").read_text() == before


def test_init_without_pyproject_creates_one(run_cli, tmp_path):
    files = dict(PROJECT)
    del files["pyproject.toml"]
    write_tree(tmp_path, files)
    assert run_cli("init", cwd=tmp_path).exit_code == 0
    assert (tmp_path / "pyproject.toml").read_text().startswith("[tool.attrlint]\n")


def test_init_leaves_tests_to_the_key_rules(run_cli, tmp_path):
    call = 'from openai import OpenAI\nc = OpenAI(api_key="x")\nc.chat.completions.create(model="gpt-4o", messages=[])\n'
    write_tree(tmp_path, {**PROJECT, "tests/test_bot.py": call, "services/support/test_flow.py": call})
    assert run_cli("init", cwd=tmp_path).exit_code == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert "[tool.attrlint.agents.tests]" not in text
    assert '"tests/**" = ["ATR001", "ATR002", "ATR004", "ATR008"]' in text
    result = run_cli("check", "--format", "json", "tests", "services/support/test_flow.py", cwd=tmp_path)
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert codes and not codes & {"ATR001", "ATR002", "ATR004", "ATR008"}  # the key rules still run


def test_init_without_tests_writes_no_ignores(run_cli, tmp_path):
    write_tree(tmp_path, PROJECT)
    result = run_cli("init", "--stdout", cwd=tmp_path)
    assert "per-file-ignores" not in result.stdout
