"""Key governance (ATR103-ATR105) on multi-agent projects built in tmp_path."""

from __future__ import annotations

import json
import textwrap

import pytest
from support.source import write_tree

AGENTS = '''
[tool.attrlint]

[tool.attrlint.agents.support]
paths = ["services/support/**"]

[tool.attrlint.agents.billing]
paths = ["services/billing/**"]

[tool.attrlint.agents.research]
paths = ["services/research/**"]
'''


def client(env: str, ctor: str = "OpenAI") -> str:
    module = {"OpenAI": "openai", "Anthropic": "anthropic"}[ctor]
    return f'import os\nfrom {module} import {ctor}\nc = {ctor}(api_key=os.environ["{env}"])\n'


def key(env: str, **fields: str) -> str:
    body = "\n".join(f"{k} = {v}" if k == "expires" else f'{k} = "{v}"' for k, v in fields.items())
    return f"\n[tool.attrlint.keys.{env}]\n{body}\n"


def findings(run_cli, root, *args: str) -> list[tuple[str, int, str]]:
    result = run_cli("check", "--format", "json", "--select", "ATR1", *args, cwd=root)
    assert result.exit_code in (0, 1), result.stderr
    return sorted((f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"])


def messages(run_cli, root, code: str, *args: str) -> list[str]:
    result = run_cli("check", "--format", "json", "--select", code, *args, cwd=root)
    return [f["message"] for f in json.loads(result.stdout)["findings"]]


# -- ATR103 -----------------------------------------------------------------------------------


def test_atr103_registered_owner_and_other_agents(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": AGENTS + key("OPENAI_KEY_SUPPORT", agent="support", provider="openai",
                                       owner="s@example.com", expires="2099-01-01"),
        "services/support/bot.py": client("OPENAI_KEY_SUPPORT"),
        "services/billing/inv.py": client("OPENAI_KEY_SUPPORT"),
        "services/research/paper.py": client("OPENAI_KEY_SUPPORT"),
        "shared/llm.py": client("OPENAI_KEY_SUPPORT"),
    })
    assert findings(run_cli, tmp_path) == [
        ("services/billing/inv.py", 3, "ATR103"),
        ("services/research/paper.py", 3, "ATR103"),
    ]
    assert messages(run_cli, tmp_path, "ATR103")[0] == (
        "`OPENAI_KEY_SUPPORT` is registered to agent `support` but used by agent `billing`: "
        "give `billing` its own key")


def test_atr103_registered_key_used_only_by_another_agent(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": AGENTS + key("OPENAI_KEY_SUPPORT", agent="support", owner="s@example.com",
                                       expires="2099-01-01"),
        "services/billing/inv.py": client("OPENAI_KEY_SUPPORT"),
    })
    assert findings(run_cli, tmp_path) == [("services/billing/inv.py", 3, "ATR103")]


def test_atr103_unregistered_key_used_by_two_agents(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": AGENTS,
        "services/support/bot.py": client("OPENAI_KEY_TEAM"),
        "services/billing/inv.py": client("OPENAI_KEY_TEAM"),
        "shared/llm.py": client("OPENAI_KEY_TEAM"),
    })
    assert findings(run_cli, tmp_path) == [
        ("services/billing/inv.py", 3, "ATR103"),
        ("services/support/bot.py", 3, "ATR103"),
    ]
    assert messages(run_cli, tmp_path, "ATR103")[0].startswith("`OPENAI_KEY_TEAM` is used by agents billing, support")


def test_shared_library_files_never_count(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": AGENTS,
        "services/support/bot.py": client("OPENAI_KEY_TEAM"),
        "shared/llm.py": client("OPENAI_KEY_TEAM"),
        "lib/other.py": client("OPENAI_KEY_TEAM"),
    })
    assert findings(run_cli, tmp_path) == []


def test_noqa_silences_project_rules_on_that_line(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": AGENTS,
        "services/support/bot.py": client("OPENAI_KEY_TEAM"),
        "services/billing/inv.py": client("OPENAI_KEY_TEAM").replace('"])\n', '"])  # noqa: ATR103\n'),
    })
    assert findings(run_cli, tmp_path) == [("services/support/bot.py", 3, "ATR103")]


# -- ATR104 -----------------------------------------------------------------------------------

REGISTRY = AGENTS + key("OPENAI_KEY_SUPPORT", agent="support", owner="s@example.com", expires="2026-06-30")


def test_atr104_unregistered_key(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": REGISTRY,
        "services/support/bot.py": client("OPENAI_KEY_SUPPORT") + 'g = os.getenv("GEMINI_KEY_SUPPORT")\n',
    })
    assert findings(run_cli, tmp_path, "--today", "2026-01-01") == [("services/support/bot.py", 4, "ATR104")]
    assert messages(run_cli, tmp_path, "ATR104", "--today", "2026-01-01") == [
        "`GEMINI_KEY_SUPPORT` is not in the key registry: add [tool.attrlint.keys.GEMINI_KEY_SUPPORT] "
        "with agent, owner and expires"]


def test_atr104_needs_a_registry(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": AGENTS, "services/support/bot.py": client("OPENAI_KEY_SUPPORT")})
    assert findings(run_cli, tmp_path) == []


@pytest.mark.parametrize(("today", "expired"), [("2026-07-01", True), ("2026-06-30", False), ("2025-01-01", False)])
def test_atr104_expiry_follows_today(run_cli, tmp_path, today, expired):
    write_tree(tmp_path, {"pyproject.toml": REGISTRY, "services/support/bot.py": client("OPENAI_KEY_SUPPORT")})
    got = findings(run_cli, tmp_path, "--today", today)
    assert got == ([("services/support/bot.py", 3, "ATR104")] if expired else [])
    if expired:
        assert messages(run_cli, tmp_path, "ATR104", "--today", today) == [
            "`OPENAI_KEY_SUPPORT` expired on 2026-06-30 (owner: s@example.com): rotate it and update `expires`"]


def test_atr104_registry_problems_at_the_table_header(run_cli, tmp_path):
    pyproject = REGISTRY + key("OPENAI_KEY_BILLING", agent="billing") + key(
        "OPENAI_KEY_RESEARCH", agent="research", owner="r@example.com") + key(
        "OPENAI_KEY_GHOST", agent="ghost", owner="g@example.com", expires="2099-01-01")
    write_tree(tmp_path, {"pyproject.toml": pyproject, "services/support/bot.py": client("OPENAI_KEY_SUPPORT")})
    lines = textwrap.dedent(pyproject).lstrip("\n").splitlines()

    def header(env: str) -> int:
        return lines.index(f"[tool.attrlint.keys.{env}]") + 1

    result = run_cli("check", "--select", "ATR104", "--today", "2026-01-01", cwd=tmp_path)
    assert result.stdout.splitlines()[:-1] == [
        f"pyproject.toml:{header('OPENAI_KEY_BILLING')}:1: ATR104 key `OPENAI_KEY_BILLING` has no owner and no "
        "expires: every key needs an owner to call and an expiry date to rotate by",
        f"pyproject.toml:{header('OPENAI_KEY_RESEARCH')}:1: ATR104 key `OPENAI_KEY_RESEARCH` has no expires: "
        "every key needs an owner to call and an expiry date to rotate by",
        f"pyproject.toml:{header('OPENAI_KEY_GHOST')}:1: ATR104 key `OPENAI_KEY_GHOST` names agent `ghost`, "
        "which is not declared in [tool.attrlint.agents] (billing, research, support)",
    ]
    assert result.exit_code == 1


@pytest.mark.parametrize("generic", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"])
def test_generic_variables_are_atr102_only(run_cli, tmp_path, generic):
    ctor = "Anthropic" if generic.startswith("ANTHROPIC") else "OpenAI"
    write_tree(tmp_path, {
        "pyproject.toml": REGISTRY,
        "services/support/bot.py": client(generic, ctor) + client("OPENAI_KEY_SUPPORT"),
        "services/billing/inv.py": client(generic, ctor) + client(generic, ctor),
    })
    got = findings(run_cli, tmp_path, "--today", "2026-01-01")
    assert {code for _, _, code in got} == {"ATR102"}
    assert len(got) == 3


# -- ATR105 -----------------------------------------------------------------------------------


def _atr105(run_cli, tmp_path, pyproject: str, files: dict[str, str]) -> list[tuple[str, int, str]]:
    write_tree(tmp_path, {"pyproject.toml": pyproject, **files})
    return [f for f in findings(run_cli, tmp_path) if f[2] == "ATR105"]


def test_atr105_two_keys_same_provider_same_environment(run_cli, tmp_path):
    got = _atr105(run_cli, tmp_path, AGENTS, {
        "services/support/triage.py": client("OPENAI_KEY_SUPPORT_TRIAGE"),
        "services/support/replies.py": client("OPENAI_KEY_SUPPORT_REPLIES"),
        "services/billing/inv.py": client("OPENAI_KEY_BILLING"),
    })
    assert got == [("services/support/replies.py", 3, "ATR105"), ("services/support/triage.py", 3, "ATR105")]
    assert messages(run_cli, tmp_path, "ATR105")[0] == (
        "agent `support` uses 2 OpenAI prod keys (OPENAI_KEY_SUPPORT_REPLIES, OPENAI_KEY_SUPPORT_TRIAGE): "
        "one key per provider and environment per agent")


def test_atr105_not_for_two_providers(run_cli, tmp_path):
    assert _atr105(run_cli, tmp_path, AGENTS, {
        "services/support/a.py": client("OPENAI_KEY_SUPPORT"),
        "services/support/b.py": client("ANTHROPIC_KEY_SUPPORT", "Anthropic"),
    }) == []


def test_atr105_not_for_dev_and_prod(run_cli, tmp_path):
    assert _atr105(run_cli, tmp_path, AGENTS, {
        "services/support/a.py": client("OPENAI_KEY_SUPPORT_DEV"),
        "services/support/b.py": client("OPENAI_KEY_SUPPORT_PROD"),
    }) == []
    # `_PRODUCTION` and no suffix are both prod
    assert _atr105(run_cli, tmp_path, AGENTS, {
        "services/support/a.py": client("OPENAI_KEY_SUPPORT_PRODUCTION"),
        "services/support/b.py": client("OPENAI_KEY_SUPPORT"),
    }) != []


def test_atr105_environment_from_registry_beats_the_name(run_cli, tmp_path):
    common = dict(agent="support", owner="s@example.com", expires="2099-01-01")
    files = {"services/support/a.py": client("OPENAI_KEY_SUPPORT_A"),
             "services/support/b.py": client("OPENAI_KEY_SUPPORT_B")}
    # no suffix on either name: both prod unless the registry says otherwise
    assert _atr105(run_cli, tmp_path, AGENTS, files) != []
    assert _atr105(run_cli, tmp_path, AGENTS + key("OPENAI_KEY_SUPPORT_A", environment="staging", **common)
                   + key("OPENAI_KEY_SUPPORT_B", **common), files) == []
    # the registry can also put a `_DEV`-named key in prod
    assert _atr105(run_cli, tmp_path, AGENTS + key("OPENAI_KEY_SUPPORT_DEV", environment="prod", **common)
                   + key("OPENAI_KEY_SUPPORT", **common), {
        "services/support/a.py": client("OPENAI_KEY_SUPPORT_DEV"),
        "services/support/b.py": client("OPENAI_KEY_SUPPORT"),
    }) != []


def test_atr105_provider_from_registry_name_or_constructor(run_cli, tmp_path):
    common = dict(agent="support", owner="s@example.com", expires="2099-01-01")
    # provider from the constructor: a neutral name flowing into OpenAI() is an OpenAI key
    assert _atr105(run_cli, tmp_path, AGENTS, {
        "services/support/a.py": client("LLM_KEY_SUPPORT_A"),
        "services/support/b.py": client("OPENAI_KEY_SUPPORT"),
    }) != []
    # ... and the constructor beats the name
    assert _atr105(run_cli, tmp_path, AGENTS, {
        "services/support/a.py": client("OPENAI_KEY_SUPPORT_CLAUDE", "Anthropic"),
        "services/support/b.py": client("OPENAI_KEY_SUPPORT"),
    }) == []
    # provider from the registry, for a key read without a constructor
    reads = {"services/support/a.py": 'import os\nk = os.environ["SUPPORT_SECRET_A"]\n',
             "services/support/b.py": 'import os\nk = os.environ["SUPPORT_SECRET_B"]\n'}
    assert _atr105(run_cli, tmp_path, AGENTS + key("SUPPORT_SECRET_A", provider="openai", **common)
                   + key("SUPPORT_SECRET_B", provider="anthropic", **common), reads) == []
    assert _atr105(run_cli, tmp_path, AGENTS + key("SUPPORT_SECRET_A", provider="openai", **common)
                   + key("SUPPORT_SECRET_B", provider="openai", **common), reads) != []
