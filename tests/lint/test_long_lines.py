"""A generated line of many calls: every finding is reported, and each costs what a finding on a
short line costs (a bounded snippet window, the line's noqa read once), so the run is linear in
the file's size. benchmarks/long_line.py prints the times."""

from __future__ import annotations

from typing import Any

import pytest
from support.keys import fake_openai_key, redacted
from support.source import config

from attrlint.lint import engine, suppression
from attrlint.lint.engine import Linter
from attrlint.lint.rules import base
from attrlint.lint.suppression import Options

CALL = 'client.chat.completions.create(model="gpt-4o", messages=[]); '
HEADER = "from openai import OpenAI\nclient = OpenAI()\n"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many characters snippets redact, and how many times a line's noqa is parsed."""
    seen = {"redacted_chars": 0, "noqa_calls": 0}
    redact_text, line_noqa = base.redact_text, suppression.line_noqa

    def counting_redact(text: str, catalogue: Any) -> str:
        seen["redacted_chars"] += len(text)
        return redact_text(text, catalogue)

    def counting_noqa(line: str) -> str:
        seen["noqa_calls"] += 1
        return line_noqa(line)

    monkeypatch.setattr(base, "redact_text", counting_redact)
    monkeypatch.setattr(engine, "line_noqa", counting_noqa)
    monkeypatch.setattr(suppression, "line_noqa", counting_noqa)
    return seen


def test_a_one_megabyte_line_of_calls_costs_each_finding_a_bounded_window(counted: dict[str, int]) -> None:
    calls = 16_400
    source = HEADER + CALL * calls + "\n"
    assert len(source) > 1_000_000
    result = Linter(config(), Options()).lint_text(source, "long.py")
    findings = [f for f in result.findings if f.code == "ATR001"]
    assert len(findings) == calls
    assert [f.column for f in findings] == [1 + i * len(CALL) for i in range(calls)]
    assert all(f.line == 3 for f in findings)
    assert findings[7].snippet == CALL.rstrip("; ")  # the call itself, from a line of 1 MB
    longest = max(len(f.snippet) for f in result.findings)
    assert longest <= base.SNIPPET_CHARS + 2
    # each snippet redacted a window, never the whole line; the line's noqa was read once by
    # the rules' context and once by suppression, not once per finding
    assert counted["redacted_chars"] <= len(result.findings) * (base.SNIPPET_CHARS + base._KEY_MARGIN)
    assert counted["noqa_calls"] <= 2


def test_a_window_never_cuts_a_key_into_an_unredacted_piece() -> None:
    key = fake_openai_key()
    # a long line where a key sits across the end of a snippet window (it starts 20 characters before)
    filler = "x" * (base.SNIPPET_CHARS - 20 - len('client.chat.completions.create(model="gpt-4o", messages=[], user="", tag="'))
    line = f'client.chat.completions.create(model="gpt-4o", messages=[], user="{filler}", tag="{key}"); '
    source = HEADER + line + CALL * 400 + "\n"
    findings = Linter(config(), Options()).lint_text(source, "long.py").findings
    first = next(f for f in findings if f.line == 3)
    assert first.snippet.endswith(f'tag="{redacted(key)}")')
    for finding in findings:
        assert key[8:30] not in finding.snippet and key[-20:] not in finding.snippet


def test_multibyte_characters_on_a_long_line_keep_character_columns() -> None:
    call = 'client.chat.completions.create(model="gpt-4o", messages=[], user="é€😀"); '
    source = HEADER + call * 3000 + "\n"
    findings = Linter(config(), Options()).lint_text(source, "long.py").findings
    calls = [f for f in findings if f.code == "ATR001"]
    assert [f.column for f in calls] == [1 + i * len(call) for i in range(3000)]
    assert calls[-1].end_column == 3000 * len(call) - 1


def test_short_lines_keep_their_whole_snippet() -> None:
    source = HEADER + "x = client.chat.completions.create(\n    model='gpt-4o',\n    messages=[],\n)\n"
    (finding,) = [f for f in Linter(config(), Options()).lint_text(source, "m.py").findings
                  if f.code == "ATR001"]
    assert finding.snippet == "x = client.chat.completions.create( model='gpt-4o', messages=[], )"
