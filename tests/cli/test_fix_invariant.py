"""`check --fix` reports exactly what a fresh `check` reports on the fixed tree, with the same
exit code: on the examples project, and on a project whose wrapper call sites have findings
(project-phase findings that a fix elsewhere must not hide)."""

from __future__ import annotations

import json
import shutil

import pytest
from support.cli import EXAMPLES
from support.source import write_tree

WRAPPED = {
    "pyproject.toml": "[tool.attrlint]\n",
    "app/__init__.py": "",
    "app/llm.py": '''
        from openai import OpenAI

        client = OpenAI(api_key=KEY)


        def ask(question, **kwargs):
            return client.chat.completions.create(model="gpt-4o", messages=[question], **kwargs)


        def tagged(t):
            return client.chat.completions.create(model="gpt-4o", messages=[],
                                                  metadata={"ticketId": t, "customer_id": "c", "agent_id": "a"})


        def warm_up():
            return ask("ping")  # a wrapper call site in the file the fix rewrites
    ''',
    "app/jobs.py": '''
        from app.llm import ask


        def nightly():
            return ask("summarise")


        def per_ticket(ticket):
            return ask("triage", metadata={"ticket_id": ticket.id})
    ''',
}


def _findings(result) -> list[tuple]:
    data = json.loads(result.stdout)
    return [(f["path"], f["line"], f["column"], f["code"], f["message"]) for f in data["findings"]]


@pytest.mark.parametrize("command", [("check", "--fix"), ("fix",)])
@pytest.mark.parametrize("tree", ["examples", "wrapped"])
def test_fix_reports_what_a_fresh_check_reports(run_cli, tmp_path, tree, command):
    if tree == "examples":
        root = tmp_path / "examples"
        shutil.copytree(EXAMPLES, root)
    else:
        root = write_tree(tmp_path / "wrapped", WRAPPED)
    before = run_cli("check", "--format", "json", "--today", "2026-11-26", cwd=root)
    assert any(f[3] == "ATR003" for f in _findings(before)), "the tree needs something to fix"

    fixed = run_cli(*command, "--format", "json", "--today", "2026-11-26", cwd=root)
    fresh = run_cli("check", "--format", "json", "--today", "2026-11-26", "--no-cache", cwd=root)

    assert "Fixed" in fixed.stderr
    assert _findings(fixed) == _findings(fresh)
    assert fixed.exit_code == fresh.exit_code == 1
    if tree == "wrapped":  # the wrapper call sites' findings survive the fix of another file
        assert {(f[0].removeprefix("./"), f[3]) for f in _findings(fixed)} >= {
            ("app/jobs.py", "ATR001"), ("app/jobs.py", "ATR002"), ("app/llm.py", "ATR001")}
