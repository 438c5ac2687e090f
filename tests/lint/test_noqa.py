"""Suppression: `# noqa` forms, file-level `# attrlint: noqa`, per-file-ignores."""

from __future__ import annotations

from support.source import assert_annotated, lint, write_tree

HEAD = '''
import os
import litellm
from openai import OpenAI
'''


def test_noqa_forms():
    assert_annotated(HEAD + '''
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # error: ATR001,ATR102
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # noqa
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # NOQA
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # noqa: ATR001,ATR102
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # noqa: ATR001  # error: ATR102
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # noqa:ATR102  # error: ATR001
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # noqa: ATR001, ATR102
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]); litellm.completion(model="m", messages=[])  # noqa: E501  # error: ATR001,ATR102
''')


def test_noqa_on_the_first_line_of_a_multiline_call():
    assert_annotated(HEAD + '''
litellm.completion(  # noqa: ATR001
    model="m",
    messages=[],
)
litellm.completion(  # error: ATR001
    model="m",
    messages=[],
)
litellm.completion(  # error: ATR001
    model="m",
    messages=[],  # noqa: ATR001 (only the first line counts)
)
''')


def test_file_level_noqa():
    source = HEAD + '# attrlint: noqa\nlitellm.completion(model="m", messages=[])\n'
    assert lint(source) == []
    # `# attrlint: noqa: CODE` is not the file-level form
    source = HEAD + '# attrlint: noqa: ATR002\nlitellm.completion(model="m", messages=[])\n'
    assert [f.code for f in lint(source)] == ["ATR001"]


def test_per_file_ignores(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": '''
            [tool.attrlint]
            per-file-ignores = { "scripts/*.py" = ["ATR001"], "legacy/**" = ["ATR"] }
        ''',
        "scripts/one.py": HEAD + 'litellm.completion(model="m", messages=[], metadata={"ticket_id": t})\n'
                                 'litellm.completion(model="m", messages=[])\n',
        "legacy/old/two.py": HEAD + 'litellm.completion(model="m", messages=[])\n',
        "app.py": HEAD + 'litellm.completion(model="m", messages=[])\n',
    })
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    import json

    found = sorted((f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"])
    assert found == [("app.py", 4, "ATR001"), ("scripts/one.py", 4, "ATR002")]
    assert result.exit_code == 1
