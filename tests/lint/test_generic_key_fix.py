"""ATR102's unsafe fix: a shared variable becomes the agent's registered key, only with --unsafe-fixes."""

from __future__ import annotations

import pytest
from support.source import write_tree

PYPROJECT = """\
[tool.attrlint.agents.support]
paths = ["support/**"]

[tool.attrlint.agents.billing]
paths = ["billing/**"]

[tool.attrlint.keys.OPENAI_KEY_SUPPORT]
agent = "support"
owner = "support@acme.example"
expires = 2030-01-31

[tool.attrlint.keys.OPENAI_KEY_SUPPORT_DEV]
agent = "support"
owner = "support@acme.example"
expires = 2030-01-31

[tool.attrlint.keys.OPENAI_KEY_BILLING]
agent = "billing"
owner = "billing@acme.example"
expires = 2030-01-31

[tool.attrlint.keys.OPENAI_KEY_BILLING_BATCH]
agent = "billing"
provider = "openai"
owner = "billing@acme.example"
expires = 2030-01-31
"""

BOT = """\
import os
from openai import OpenAI

client = OpenAI(api_key=os.environ['OPENAI_API_KEY'])
other = os.getenv("ANTHROPIC_API_KEY")
"""


@pytest.fixture
def project(tmp_path):
    return write_tree(tmp_path, {"pyproject.toml": PYPROJECT, "support/bot.py": BOT, "billing/bot.py": BOT,
                                 "shared/bot.py": BOT})


def test_the_fix_is_unsafe(run_cli, project):
    result = run_cli("check", "--select", "ATR102", cwd=project)
    assert result.exit_code == 1
    assert "support/bot.py:4:36: ATR102 `OPENAI_API_KEY` is the shared default key variable: read agent " \
           "`support`'s own key, `OPENAI_KEY_SUPPORT`" in result.stdout
    assert "1 hidden fix can be enabled with `--unsafe-fixes`." in result.stdout
    assert run_cli("check", "--fix", "--select", "ATR102", cwd=project).exit_code == 1
    assert (project / "support/bot.py").read_text() == BOT  # --fix alone leaves it


def test_unsafe_fixes_apply_it(run_cli, project):
    diff = run_cli("check", "--diff", "--unsafe-fixes", "--select", "ATR102", cwd=project)
    assert "-client = OpenAI(api_key=os.environ['OPENAI_API_KEY'])" in diff.stdout
    assert "+client = OpenAI(api_key=os.environ['OPENAI_KEY_SUPPORT'])" in diff.stdout  # quotes kept
    run_cli("check", "--fix", "--unsafe-fixes", "--select", "ATR102", cwd=project)
    assert (project / "support/bot.py").read_text() == BOT.replace("'OPENAI_API_KEY'", "'OPENAI_KEY_SUPPORT'")
    # billing has two prod OpenAI keys, shared code has no agent, Anthropic has no registered key
    assert (project / "billing/bot.py").read_text() == BOT
    assert (project / "shared/bot.py").read_text() == BOT


def test_no_fix_without_exactly_one_key(run_cli, project):
    result = run_cli("check", "--select", "ATR102", "billing", "shared", cwd=project)
    assert "hidden fix" not in result.stdout
    assert result.stdout.count("give each agent its own key, e.g. `OPENAI_KEY_<AGENT>`") == 2
