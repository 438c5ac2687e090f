"""A key in the source never appears whole in any output; its redacted form does.

Keys are built at run time: no key-shaped literal is written in this file.
"""

from __future__ import annotations

import pytest
from support.keys import fake_anthropic_key, fake_google_key, fake_openai_key, redacted
from support.source import write_tree

FORMATS = ["text", "json", "sarif", "github", "junit"]


@pytest.fixture
def keys():
    return {"openai": fake_openai_key(), "anthropic": fake_anthropic_key(), "google": fake_google_key()}


@pytest.fixture
def project(tmp_path, keys):
    source = (
        "import os\n"
        "from openai import OpenAI\n"
        "from anthropic import Anthropic\n"
        f'client = OpenAI(api_key="{keys["openai"]}")\n'
        f'claude = Anthropic(api_key=os.getenv("ANTHROPIC_KEY_BOT", "{keys["anthropic"]}"))\n'
        f'GEMINI = "{keys["google"]}"\n'
        f'client.chat.completions.create(model="m", messages=[], metadata={{"ticket_id": "{keys["openai"]}"}})\n'
    )
    return write_tree(tmp_path, {"bot.py": source})


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_leaks_a_key(run_cli, project, keys, fmt):
    result = run_cli("check", "--format", fmt, "--strict", cwd=project)
    assert result.exit_code == 1
    for name, key in keys.items():
        assert key not in result.output, f"{name} key leaked in {fmt}"
        assert key[6:-4] not in result.output
        assert redacted(key) in result.stdout, f"{name} key not shown redacted in {fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_leak_into_output_file(run_cli, project, keys, fmt):
    run_cli("check", "--format", fmt, "--output", "report", cwd=project)
    written = (project / "report").read_text(encoding="utf-8")
    for key in keys.values():
        assert key not in written
    assert redacted(keys["openai"]) in written


def test_atr101_reported_for_each_key(run_cli, project, keys):
    result = run_cli("check", "--select", "ATR101", cwd=project)
    lines = [line for line in result.stdout.splitlines() if " ATR101 " in line]
    assert [line.split(":")[1] for line in lines] == ["4", "5", "6", "7"]


def test_statistics_and_stdin_do_not_leak(run_cli, project, keys):
    source = (project / "bot.py").read_text()
    for args in (("check", "--statistics"), ("check", "-", "--format", "json")):
        result = run_cli(*args, cwd=project, input=source if "-" in args else None)
        for key in keys.values():
            assert key not in result.output


def test_keys_list_does_not_leak(run_cli, project, keys):
    for fmt in ("table", "json", "csv", "markdown"):
        result = run_cli("keys", "list", "--format", fmt, cwd=project)
        for key in keys.values():
            assert key not in result.output
