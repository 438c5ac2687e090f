"""The policy comparison of PR mode (ATR201, ATR202): each rule's examples, and where each
relaxation is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from attrlint.core.config import Config
from attrlint.lint import baseline
from attrlint.lint.policy import Locator, baseline_additions, config_relaxations, parse_config_text
from attrlint.lint.rules.policy import BaselineEntryAdded, PolicyRelaxed, split_example

HERE = Config(path=Path("pyproject.toml"), root=Path.cwd())


def _config(text: str) -> Config:
    return parse_config_text(text, rel="pyproject.toml", ref="REF", like=HERE) or HERE


def relaxations(before: str, after: str):
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    return config_relaxations(_config(before), _config(after), after, ref="main")


def additions(before: str, after: str):
    parse = (lambda text: baseline.parse(text, "b.json") if text.strip() else baseline.Counter())
    return baseline_additions(parse(before), parse(after), after, ref="main")


@pytest.mark.parametrize("example", PolicyRelaxed.invalid, ids=lambda e: "")
def test_policy_relaxed_invalid_examples(example: str) -> None:
    assert relaxations(*split_example(example)), example


@pytest.mark.parametrize("example", PolicyRelaxed.valid, ids=lambda e: "")
def test_policy_relaxed_valid_examples(example: str) -> None:
    assert relaxations(*split_example(example)) == [], example


@pytest.mark.parametrize("example", BaselineEntryAdded.invalid, ids=lambda e: "")
def test_baseline_entry_added_invalid_examples(example: str) -> None:
    assert additions(*split_example(example)), example


@pytest.mark.parametrize("example", BaselineEntryAdded.valid, ids=lambda e: "")
def test_baseline_entry_added_valid_examples(example: str) -> None:
    assert additions(*split_example(example)) == [], example


def test_every_rule_has_examples() -> None:
    for rule in (BaselineEntryAdded, PolicyRelaxed):
        assert rule.valid and rule.invalid


def test_each_relaxation_is_found_at_its_line() -> None:
    after = """\
        [tool.ruff]
        ignore = ["E501"]

        [tool.attrlint]
        required-fields = ["ticket_id"]
        ignore = ["ATR001"]
        extend-exclude = ["legacy"]

        [tool.attrlint.per-file-ignores]
        "billing/*" = ["ATR0"]

        [tool.attrlint.agents.support]
        paths = ["support/bot.py"]

        [tool.attrlint.keys.OPENAI_KEY_SUPPORT]
        expires = 2031-01-01
        agent = "billing"
    """
    before = """\
        [tool.attrlint]

        [tool.attrlint.agents.support]
        paths = ["support/**"]

        [tool.attrlint.keys.OPENAI_KEY_SUPPORT]
        expires = 2030-01-01
        agent = "support"
    """
    found = {(r.line, r.message.split(":")[0].split(";")[0]) for r in relaxations(before, after)}
    assert found == {
        (5, "`required-fields` no longer requires `customer_id`, `agent_id` (required at main)"),
        (6, "`ignore` now disables ATR001 (missing-attribution) through `ATR001`"),
        (7, "`extend-exclude` adds `legacy`"),
        (10, "`per-file-ignores` adds `billing/*`"),
        (13, "agent `support` `paths` changed (adds `support/bot.py`"),
        (16, "key `OPENAI_KEY_SUPPORT` `expires` is moved from 2030-01-01 to 2031-01-01"),
        (17, "key `OPENAI_KEY_SUPPORT` `agent` changes from support to billing"),
    }


def test_a_code_disabled_by_a_prefix_is_reported_once_per_rule() -> None:
    found = relaxations("[tool.attrlint]\n", '[tool.attrlint]\nignore = ["ATR1"]\n')
    codes = sorted(r.message.split()[3] for r in found)
    assert codes == ["ATR101", "ATR102", "ATR103", "ATR104", "ATR105", "ATR106"]
    assert {r.line for r in found} == {2}
    assert all(r.snippet == 'ignore = ["ATR1"]' for r in found)


def test_strict_turned_off_is_one_finding() -> None:
    [found] = relaxations("[tool.attrlint]\nstrict = true\n", "[tool.attrlint]\nstrict = false\n")
    assert found.line == 2 and found.message.startswith("`strict` is turned off (it was on at main)")


def test_strict_turned_off_names_the_rules_it_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    from attrlint.lint.rules.attribution import UnverifiableMetadata

    monkeypatch.setattr(UnverifiableMetadata, "default_enabled", False)  # as ATR008 was before 0.2
    [found] = relaxations("[tool.attrlint]\nstrict = true\n", "[tool.attrlint]\nstrict = false\n")
    assert "which disables `ATR008`" in found.message


def test_the_baseline_entry_is_found_at_its_line() -> None:
    before = '{"version": 1, "entries": []}\n'
    after = ('{\n "version": 1,\n "entries": [\n  {\n   "path": "app.py",\n   "code": "ATR001",\n'
             '   "hash": "0123456789abcdef01234567"\n  }\n ]\n}\n')
    [found] = additions(before, after)
    assert found.line == 7 and "ATR001 in app.py" in found.message


def test_a_raised_count_is_reported_as_more() -> None:
    one = '{"entries": [{"path": "a.py", "code": "ATR001", "hash": "ab"}]}'
    three = '{"entries": [{"path": "a.py", "code": "ATR001", "hash": "ab", "count": 3}]}'
    [found] = additions(one, three)
    assert "accepts 2 more for ATR001" in found.message


@pytest.mark.parametrize("text", ['{"entries": [{"path": "a.py", "code": "ATR001", "hash": 1}]}',
                                  '{"entries": [{"path": "a.py", "code": "ATR001", "hash": "ab", "count": 0}]}',
                                  '{"entries": [{"path": "a.py", "code": "ATR001", "hash": "ab", "count": "2"}]}',
                                  '{"entries": ["a.py"]}', "[]", "{", "[" * 100_000])
def test_a_malformed_baseline_is_a_clear_error(text: str) -> None:
    with pytest.raises(baseline.ConfigError, match="b.json"):
        baseline.parse(text, "b.json")


def test_locator_reads_quoted_and_spaced_tables() -> None:
    where = Locator(textwrap.dedent("""\
        [ tool . attrlint ]
        ignore = []
        [tool."attrlint".wrappers."app.llm:ask"]
        supplies = {}
        [tool.other]
        ignore = []
    """))
    assert where.top() == 1 and where.key("ignore") == 2
    assert where.table("wrappers", "app.llm:ask") == 3
    assert where.key("supplies", "wrappers", "app.llm:ask") == 4
    standalone = Locator('ignore = ["ATR001"]\n[agents.support]\npaths = []\n', standalone=True)
    assert standalone.key("ignore") == 1 and standalone.table("agents", "support") == 2
