"""Placeholders are not keys; literals in a real key format are, wherever they are passed."""

from __future__ import annotations

import pytest

from attrlint.lint.rules.keys import is_key_placeholder

HEX = "9f2c47e1b83d06a5c7e29b41f08d3a6e5b1c"  # hexadecimal, in no order
B62 = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz"


@pytest.mark.parametrize("value", [
    "sk-1234", "My API Key", "<OpenAI API Key>", "<your-key>", "anything", "ollama", "not-needed",
    "EMPTY", "sk-...", "", "sk-xxxxxxxxxxxxxxxxxxxxxxxx", "synthetic-local-reader",
    "sk-0123456789abcdef0123456789abcdef01234567", "abcdefghijklmnop1234567890",
])
def test_placeholders(value):
    assert is_key_placeholder(value)


@pytest.mark.parametrize("value", ["sk-" + HEX[:40], "sk-" + B62, "AIza" + "Sy" + B62[:33]])
def test_real_looking_keys_are_not_placeholders(value):
    assert not is_key_placeholder(value)


@pytest.mark.parametrize("value", ["sk-1234", "My API Key", "<OpenAI API Key>", "anything", "ollama", "not-needed", "EMPTY"])
def test_placeholder_api_key_is_not_reported(lint, value):
    assert lint(f'from openai import OpenAI\nclient = OpenAI(api_key="{value}")\n') == []


@pytest.mark.parametrize("key", ["sk-" + HEX[:40], "sk-" + B62, "AIza" + "Sy" + B62[:33]])
@pytest.mark.parametrize("template", [
    'from openai import OpenAI\nclient = OpenAI(api_key="{k}")\n',
    'import litellm\nlitellm.completion(model="m", messages=[], api_key="{k}")\n',
    'settings = Settings(llm_key="{k}")\n',
    'import openai\nopenai.api_key = "{k}"\n',
])
def test_key_shaped_literals_anywhere(lint, key, template):
    found = lint(template.format(k=key), select=("ATR101",))
    assert [c for c, _ in found] == ["ATR101"]
