"""`attrlint init` reads the code: agents from agent_id values, key names and sub-packages; the
key registry; the wrappers; then `check` works on what it wrote, with no hand edits."""

from __future__ import annotations

import json
import random

import pytest
from support.source import write_tree

from attrlint.core.config import load_config

AGENTS = ("support", "billing", "research", "sales")
FOLDERS = ("bots", "jobs", "api", "flows")  # folders by function: none of them is an agent


def _attributed_call(agent: str, style: int) -> tuple[str, str]:
    """(imports, code) of an LLM call that says which agent it is, in one of three ways."""
    if style == 0:
        return ("", "def run(ticket, customer, text):\n"
                    "    return client.chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': text}],\n"
                    f"        metadata={{'ticket_id': ticket, 'customer_id': customer, 'agent_id': '{agent}'}})\n")
    if style == 1:
        return ("from attrlint.runtime import attribution\n",
                "def run(ticket, customer, text):\n"
                f"    with attribution(ticket_id=ticket, customer_id=customer, agent_id='{agent}'):\n"
                "        return client.chat.completions.create(model='gpt-4o', messages=[])\n")
    return ("from attrlint.runtime import attribution, instrument\n",
            f"client = instrument(client, agent_id='{agent}')\n\n"
            "def run(ticket, customer, text):\n"
            "    with attribution(ticket_id=ticket, customer_id=customer):\n"
            "        return client.chat.completions.create(model='gpt-4o', messages=[])\n")


def generated_project(seed: int) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """A multi-agent package whose folders do not match its agents: each agent's files are
    spread over function folders shared with other agents. Some files read another agent's
    key. Returns the files and the (path, key) pairs that share a key across agents."""
    rng = random.Random(seed)
    files = {"pyproject.toml": '[project]\nname = "helpdesk"\n', "helpdesk/__init__.py": ""}
    shared: set[tuple[str, str]] = set()
    for folder in FOLDERS:
        files[f"helpdesk/{folder}/__init__.py"] = ""
    for index, agent in enumerate(AGENTS):
        for n, folder in enumerate(rng.sample(FOLDERS, 3)):
            path = f"helpdesk/{folder}/{agent}_{n}.py"
            key = f"OPENAI_KEY_{agent.upper()}"
            if n == 2 and index % 2 == 0:  # borrows the next agent's key
                key = f"OPENAI_KEY_{AGENTS[index + 1].upper()}"
                shared.add((path, key))
            imports, code = _attributed_call(agent, rng.randrange(3))
            files[path] = (f"import os\nfrom openai import OpenAI\n{imports}\n"
                           f"client = OpenAI(api_key=os.environ[\"{key}\"])\n\n{code}")
    files["helpdesk/common.py"] = "def clean(text):\n    return text.strip()\n"
    files["tests/test_flows.py"] = "from helpdesk.bots import support_0\n\n" + "\n".join(
        f"def test_{a}():\n    assert '{a}'\n" for a in AGENTS)
    return files, shared


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_init_then_check_reports_cross_agent_key_sharing(run_cli, tmp_path, seed):
    files, shared = generated_project(seed)
    write_tree(tmp_path, files)
    result = run_cli("init", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    config = load_config(tmp_path / "pyproject.toml")
    assert sorted(config.agents) == sorted(AGENTS)
    for path in files:
        agent = path.rsplit("/", 1)[-1].split("_")[0]
        if agent in AGENTS:
            assert config.agent_for(tmp_path / path) == agent, path
    assert config.agent_for(tmp_path / "helpdesk/common.py") is None  # shared code is no agent's
    check = run_cli("check", "--select", "ATR103", "--format", "json", cwd=tmp_path)
    found = {(f["path"], f["message"].split("`")[1]) for f in json.loads(check.stdout)["findings"]}
    assert found == shared
    assert check.exit_code == 1


def _call(agent_kw: str = "") -> str:
    meta = f", metadata={{'agent_id': '{agent_kw}'}}" if agent_kw else ""
    return f"client.chat.completions.create(model='m', messages=[]{meta})\n"


def test_agents_named_by_their_keys(run_cli, tmp_path):
    write_tree(tmp_path, {
        "app/one.py": 'import os\nfrom anthropic import Anthropic\nc = Anthropic(api_key=os.environ["ANTHROPIC_KEY_TRIAGE_PROD"])\n',
        "app/two.py": 'import os\nfrom openai import OpenAI\nc = OpenAI(api_key=os.environ["OPENAI_KEY_REPLIES_DEV"])\n',
        "app/three.py": 'import os\nfrom openai import OpenAI\nc = OpenAI(api_key=os.environ["OPENAI_KEY_REPLIES_PROD"])\n',
    })
    result = run_cli("init", "--stdout", cwd=tmp_path)
    assert '[tool.attrlint.agents.triage]\npaths = ["app/one.py"]' in result.stdout
    assert '[tool.attrlint.agents.replies]\npaths = ["app/three.py", "app/two.py"]' in result.stdout
    assert "agent triage: app/one.py  (key ANTHROPIC_KEY_TRIAGE_PROD in app/one.py)" in result.stderr


def test_sub_packages_when_the_code_names_no_agent(run_cli, tmp_path):
    call = "from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n" + _call()
    write_tree(tmp_path, {
        "helpdesk/__init__.py": "", "helpdesk/llm.py": call,
        "helpdesk/support/__init__.py": "", "helpdesk/support/bot.py": call,
        "helpdesk/billing/__init__.py": "", "helpdesk/billing/deep/inv.py": call,
        "services/search/run.py": call,
    })
    text = run_cli("init", "--stdout", cwd=tmp_path).stdout
    assert '[tool.attrlint.agents.support]\npaths = ["helpdesk/support/**"]' in text
    assert '[tool.attrlint.agents.billing]\npaths = ["helpdesk/billing/**"]' in text
    assert '[tool.attrlint.agents.search]\npaths = ["services/search/**"]' in text
    assert "agents.helpdesk" not in text  # the top-level package itself is shared code


def test_two_agents_reading_one_key_stay_two_agents(run_cli, tmp_path):
    head = 'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.environ["OPENAI_PROJECT_KEY"])\n'
    write_tree(tmp_path, {"svc/a.py": head + _call("support"), "svc/b.py": head + _call("billing")})
    text = run_cli("init", "--stdout", cwd=tmp_path).stdout
    assert '[tool.attrlint.agents.support]\npaths = ["svc/a.py"]' in text
    assert '[tool.attrlint.agents.billing]\npaths = ["svc/b.py"]' in text
    assert '# agent = ""  # read by billing, support: pick the one agent it belongs to' in text


def test_the_key_registry(run_cli, tmp_path):
    write_tree(tmp_path, {"bots/support.py": (
        "import os\nfrom openai import OpenAI\nfrom anthropic import Anthropic\n"
        'a = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT_DEV"])\n'
        'b = Anthropic(api_key=os.getenv("CLAUDE_KEY_SUPPORT_STAGING"))\n'
        'c = OpenAI(api_key=os.environ["OPENAI_API_KEY"])\n' + _call("support"))})
    text = run_cli("init", "--stdout", cwd=tmp_path).stdout
    assert ('[tool.attrlint.keys.OPENAI_KEY_SUPPORT_DEV]\n# used at bots/support.py:4\nagent = "support"  # from its name\n'
            'provider = "openai"\nenvironment = "dev"\n'
            'owner = ""  # fill in: who to call when this key leaks (ATR104 until then)\n'
            "# expires = YYYY-MM-DD  # fill in: the date this key is rotated by (ATR104 until then)\n") in text
    assert 'provider = "anthropic"\nenvironment = "staging"' in text
    assert "[tool.attrlint.keys.OPENAI_API_KEY]" not in text
    assert "# OPENAI_API_KEY is a shared default variable (ATR102)" in text


def test_inferred_wrappers_are_listed(run_cli, tmp_path):
    write_tree(tmp_path, {
        "app/__init__.py": "",
        "app/llm.py": ("from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n\n"
                       "def ask(prompt, ticket, customer):\n"
                       "    return client.chat.completions.create(model='m', messages=[],\n"
                       "        metadata={'ticket_id': ticket, 'customer_id': customer, 'agent_id': 'support'})\n"),
    })
    result = run_cli("init", "--stdout", cwd=tmp_path)
    assert "#   app.llm:ask (customer_id from `customer`, ticket_id from `ticket`)" in result.stdout
    assert "wrapper app.llm:ask" in result.stderr


def test_force_replaces_only_attrlint_and_diff_writes_nothing(run_cli, tmp_path):
    write_tree(tmp_path, {"svc/a.py": 'import os\nfrom openai import OpenAI\nc = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])\n'})
    before = ('[project]\nname = "x"\n\n[tool.attrlint]\nstrict = true\n\n[tool.attrlint.agents.old]\n'
              'paths = ["old/**"]\n\n[tool.ruff]\nline-length = 100\n')
    (tmp_path / "pyproject.toml").write_text(before)
    refused = run_cli("init", cwd=tmp_path)
    assert refused.exit_code == 2 and "--force replaces it" in refused.stderr
    diff = run_cli("init", "--diff", cwd=tmp_path)
    assert diff.exit_code == 0
    assert "-strict = true" in diff.stdout and "+[tool.attrlint.agents.support]" in diff.stdout
    assert (tmp_path / "pyproject.toml").read_text() == before
    assert run_cli("init", "--force", cwd=tmp_path).exit_code == 0
    after = (tmp_path / "pyproject.toml").read_text()
    assert after.startswith('[project]\nname = "x"\n\n[tool.attrlint]\n')
    assert "agents.old" not in after and "strict" not in after
    assert after.endswith("[tool.ruff]\nline-length = 100\n")
    assert sorted(load_config(tmp_path / "pyproject.toml").agents) == ["support"]


def test_force_replaces_a_configuration_that_does_not_load(run_cli, tmp_path):
    write_tree(tmp_path, {"pyproject.toml": "[tool.attrlint]\ncolour = 'red'\n", "a.py": "x = 1\n"})
    assert run_cli("init", "--force", cwd=tmp_path).exit_code == 0
    load_config(tmp_path / "pyproject.toml")
