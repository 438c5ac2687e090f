"""Notebook code cells are checked like a module; findings name their cell."""

from __future__ import annotations

import json

from click.testing import CliRunner

from attrlint.cli import cli


def _nb(*cells: tuple[str, str]) -> str:
    return json.dumps({"cells": [{"cell_type": kind, "source": src.splitlines(keepends=True), "metadata": {}}
                                 for kind, src in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


NOTEBOOK = _nb(
    ("markdown", "# Demo\n"),
    ("code", "!pip install openai\n%load_ext autoreload\nfrom openai import OpenAI\nclient = OpenAI(api_key=KEY)\n"),
    ("code", "%%bash\necho hi\n"),
    ("code", "x = 1\nresp = client.chat.completions.create(model='gpt-4o', messages=[])\n"),
    ("code", "%%time\nfor i in range(2):\n    !echo $i\n    client.responses.create(model='m', input='x')\n"),
)


def _check(tmp_path, text: str, *args: str):
    import os

    (tmp_path / "pyproject.toml").write_text("[tool.attrlint]\n")
    (tmp_path / "demo.ipynb").write_text(text)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(cli, ["check", "demo.ipynb", "--no-cache", *args])
    finally:
        os.chdir(cwd)


def test_findings_name_the_cell(tmp_path):
    result = _check(tmp_path, NOTEBOOK)
    assert "demo.ipynb:cell 4:2:8: ATR001" in result.output
    assert "demo.ipynb:cell 5:4:5: ATR001" in result.output
    assert result.exit_code == 1


def test_cell_in_json_and_sarif(tmp_path):
    data = json.loads(_check(tmp_path, NOTEBOOK, "--format", "json").output)
    findings = data["findings"] if isinstance(data, dict) else data
    assert sorted((f["cell"], f["line"]) for f in findings if f["code"] == "ATR001") == [(4, 2), (5, 4)]
    sarif = json.loads(_check(tmp_path, NOTEBOOK, "--format", "sarif").output)
    cells = [r["properties"]["cell"] for r in sarif["runs"][0]["results"] if r["ruleId"] == "ATR001"]
    assert sorted(cells) == [4, 5]


def test_invalid_json_is_atr000(tmp_path):
    result = _check(tmp_path, '{"cells": [')
    assert "ATR000" in result.output and "invalid notebook JSON" in result.output


def test_not_a_notebook_shape(tmp_path):
    result = _check(tmp_path, '{"foo": 1}')
    assert "ATR000" in result.output and "no `cells` list" in result.output


def test_syntax_error_in_one_cell_keeps_the_others(tmp_path):
    text = _nb(("code", ("from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n"
                        "client.chat.completions.create(model='m', messages=[])\n")),
               ("code", "def broken(:\n    pass\n"))
    result = _check(tmp_path, text)
    assert "demo.ipynb:cell 1:3:1: ATR001" in result.output
    assert "demo.ipynb:cell 2:1:" in result.output and "ATR000" in result.output


def test_noqa_in_a_cell(tmp_path):
    text = _nb(("code", ("from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n"
                        "client.chat.completions.create(model='m', messages=[])  # noqa: ATR001\n")))
    assert "ATR001" not in _check(tmp_path, text).output


def test_deeply_nested_notebook_json_is_atr000_not_an_internal_error(tmp_path):
    result = _check(tmp_path, "[" * 200_000)
    assert "ATR000" in result.output and "nested too deeply" in result.output
    assert "internal error" not in result.output
