"""ATR900 unused-noqa: judged after every phase in a run, only for per-file rules on one file;
its fix takes the unused codes out; unknown codes are reported; other linters' codes are not."""

from __future__ import annotations

import json
import textwrap

from support.source import write_tree

from attrlint.core.config import Config
from attrlint.lint.engine import Linter
from attrlint.lint.fixes import apply_fixes
from attrlint.lint.suppression import Options

WRAPPER = """
from openai import OpenAI
client = OpenAI(api_key=KEY)

def get_completion(prompt, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}], **kwargs)
"""

VIEWS = """\
from app.llm import get_completion
import litellm

def silenced(q):
    return get_completion(q)  # noqa: ATR001

def stale(q):
    return get_completion(q, metadata={"ticket_id": T, "customer_id": C, "agent_id": "a"})  # noqa: ATR001

def typo():
    litellm.completion(model="m", messages=[])  # noqa: ATR01, E501

def other_tools():
    x = 1  # noqa: E501
    y = 2  # noqa
"""


def _run(run_cli, tmp_path, *args):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint]\nextend-select = ["ATR900"]\n',
        "app/__init__.py": "",
        "app/llm.py": WRAPPER,
        "app/views.py": VIEWS,
    })
    result = run_cli("check", "--output-format", "json", *args, cwd=tmp_path)
    return result, [(f["path"], f["line"], f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]]


def test_a_whole_run_knows_which_noqa_the_project_phase_used(run_cli, tmp_path):
    result, found = _run(run_cli, tmp_path)
    assert [(p, line, code) for p, line, code, _ in found] == [
        ("app/views.py", 8, "ATR900"),  # the wrapper call is attributed now: its noqa is stale
        ("app/views.py", 11, "ATR001"),  # ATR01 is no code: nothing is suppressed
        ("app/views.py", 11, "ATR900"),
    ]  # line 5's noqa suppresses a wrapper call-site finding of the project phase: used
    assert found[0][3] == "unused `noqa` directive (unused: ATR001): remove it"
    assert found[2][3] == "unused `noqa` directive (unknown: ATR01): remove it"
    assert result.exit_code == 1


def test_the_cache_gives_the_same_answer(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTRLINT_CACHE_DIR", str(tmp_path / "cache"))
    _, cold = _run(run_cli, tmp_path)
    _, warm = _run(run_cli, tmp_path)
    assert warm == cold


def test_fix_removes_only_the_unused_codes(run_cli, tmp_path):
    result, _ = _run(run_cli, tmp_path, "--fix")
    text = (tmp_path / "app/views.py").read_text()
    assert 'metadata={"ticket_id": T, "customer_id": C, "agent_id": "a"})\n' in text
    assert 'litellm.completion(model="m", messages=[])  # noqa: E501\n' in text
    assert "return get_completion(q)  # noqa: ATR001\n" in text  # used: kept
    assert "x = 1  # noqa: E501\n    y = 2  # noqa\n" in text
    assert result.exit_code == 1  # the real ATR001 on line 11 remains
    again = run_cli("check", "--output-format", "json", cwd=tmp_path)
    assert [f["code"] for f in json.loads(again.stdout)["findings"]] == ["ATR001"]


def test_one_file_judges_only_per_file_rules():
    linter = Linter(Config(), Options(extend_select=("ATR900",)))
    source = textwrap.dedent("""\
        import os
        from app.llm import get_completion
        get_completion("q")  # noqa: ATR001
        key = os.environ["OPENAI_KEY_X"]  # noqa: ATR104, ATR101
    """)
    found = [(f.line, f.code, f.message) for f in linter.lint_text(source, "one.py").findings]
    # ATR001 may be a wrapper call site and ATR104 is project-wide: neither can be judged here
    assert found == [(4, "ATR900", "unused `noqa` directive (unused: ATR101): remove it")]


def test_off_by_default_and_not_turned_on_by_strict():
    source = "x = 1  # noqa: ATR101\n"
    assert Linter(Config(), Options()).lint_text(source, "a.py").findings == []
    assert Linter(Config(), Options(strict=True)).lint_text(source, "a.py").findings == []


def test_the_fix_keeps_other_comment_text():
    linter = Linter(Config(), Options(extend_select=("ATR900",)))
    source = 'import os\nkey = os.environ["OPENAI_KEY_X"]  # type: ignore  # noqa: ATR101, ATR102  why\n'
    findings = linter.lint_text(source, "a.py").findings
    assert [f.code for f in findings] == ["ATR900"]
    fixed, count = apply_fixes(source, findings)
    assert count == 1
    assert fixed == 'import os\nkey = os.environ["OPENAI_KEY_X"]  # type: ignore  why\n'


def test_noqa_atr900_keeps_a_directive():
    linter = Linter(Config(), Options(extend_select=("ATR900",)))
    source = "x = 1  # noqa: ATR101, ATR900\n"
    assert linter.lint_text(source, "a.py").findings == []
