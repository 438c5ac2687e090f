"""ATR003's autofix through `attrlint check --fix`, `--diff` and `attrlint fix`."""

from __future__ import annotations

import pytest
from support.source import write_tree

SOURCE = '''\
from attrlint.runtime import attribution
from openai import OpenAI

client = OpenAI(api_key=KEY)
client.chat.completions.create(model="m", messages=[],
    metadata={'ticketId': t, "cust_id": c, "agent_id": "a"})
with attribution(TicketID=t, customer_id=c, agent_id="a"):
    pass
'''

FIXED = '''\
from attrlint.runtime import attribution
from openai import OpenAI

client = OpenAI(api_key=KEY)
client.chat.completions.create(model="m", messages=[],
    metadata={'ticket_id': t, "customer_id": c, "agent_id": "a"})
with attribution(ticket_id=t, customer_id=c, agent_id="a"):
    pass
'''


@pytest.fixture
def project(tmp_path):
    return write_tree(tmp_path, {"app.py": SOURCE})


@pytest.mark.parametrize("command", [("check", "--fix"), ("fix",)])
def test_fix_rewrites_the_file_keeping_quotes(run_cli, project, command):
    before = run_cli("check", "app.py", "--select", "ATR003", cwd=project)
    assert before.exit_code == 1
    assert before.stdout.count("ATR003") == 3
    assert before.stdout.count("[*]") == 3

    result = run_cli(*command, "app.py", cwd=project)
    assert (project / "app.py").read_text() == FIXED
    assert "Fixed 3 findings." in result.stderr
    assert "ATR003" not in result.stdout

    again = run_cli("check", "app.py", cwd=project)
    assert "ATR003" not in again.stdout
    assert again.exit_code == 0, again.stdout


@pytest.mark.parametrize("command", [("check", "--fix", "--diff"), ("check", "--diff")])
def test_diff_prints_the_change_and_leaves_the_file(run_cli, project, command):
    result = run_cli(*command, "app.py", cwd=project)
    assert result.exit_code == 1  # something to fix (ruff's --diff)
    assert (project / "app.py").read_text() == SOURCE
    assert "--- a/app.py" in result.stdout and "+++ b/app.py" in result.stdout
    assert "-    metadata={'ticketId': t, \"cust_id\": c, \"agent_id\": \"a\"})" in result.stdout
    assert "+    metadata={'ticket_id': t, \"customer_id\": c, \"agent_id\": \"a\"})" in result.stdout
    assert "+with attribution(ticket_id=t, customer_id=c, agent_id=\"a\"):" in result.stdout


def test_diff_with_nothing_to_fix_exits_zero(run_cli, tmp_path):
    write_tree(tmp_path, {"app.py": FIXED})
    result = run_cli("check", "--diff", "app.py", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""


def test_fix_from_stdin_prints_the_fixed_source(run_cli, tmp_path):
    result = run_cli("check", "--fix", "-", "--stdin-filename", "app.py", cwd=tmp_path, input=SOURCE)
    assert result.exit_code == 0
    assert result.stdout == FIXED


def test_fix_from_stdin_reports_what_remains(run_cli, tmp_path):
    source = SOURCE + "client.chat.completions.create(model='m', messages=[])\n"
    result = run_cli("check", "--fix", "-", "--stdin-filename", "app.py", cwd=tmp_path, input=source)
    assert result.stdout == FIXED + "client.chat.completions.create(model='m', messages=[])\n"
    assert "app.py:9:1: ATR001" in result.stderr
    assert result.exit_code == 1


def test_no_fix_when_the_canonical_key_is_already_present(run_cli, tmp_path):
    source = ('import litellm\n'
              'litellm.completion(model="m", messages=[],\n'
              '    metadata={"ticket_id": t, "ticketId": t, "customer_id": c, "agent_id": "a"})\n')
    write_tree(tmp_path, {"app.py": source})
    result = run_cli("check", "app.py", cwd=tmp_path)
    assert "3:31: ATR003 `ticketId` is a nonstandard spelling of `ticket_id`" in result.stdout
    assert "[*]" not in result.stdout
    fixed = run_cli("check", "--fix", "app.py", cwd=tmp_path)
    assert (tmp_path / "app.py").read_text() == source
    assert fixed.exit_code == 1


def test_fixable_flag_in_json(run_cli, project):
    import json

    data = json.loads(run_cli("check", "--format", "json", "--select", "ATR003", "app.py", cwd=project).stdout)
    assert [f["fixable"] for f in data["findings"]] == [True, True, True]
    assert data["findings"][0]["fix"]["replacement"] == "'ticket_id'"
