"""`attrlint server` end to end: pygls's language client starts it over stdio, and a whole
session runs: initialize, didOpen, diagnostics (per-file on the buffer, then the project-wide
ones from the workspace run), codeAction (fix and noqa), the edits applied, didChange,
hover, the fix-all command answered through workspace/applyEdit, shutdown."""

from __future__ import annotations

import asyncio

import pytest
from support.source import write_tree

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402
from support.lsp import Session, apply_edits  # noqa: E402

BOT = '''\
import os

import litellm
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_KEY_UNREGISTERED"])


def ask(ticket):
    return client.chat.completions.create(
        model="gpt-4o", messages=[], metadata={"ticketId": ticket.id, "customer_id": "c", "agent_id": "bot"})


def summarise():
    return litellm.completion(model="m", messages=[])
'''
PYPROJECT = """\
[tool.attrlint.agents.bot]
paths = ["bot.py"]

[tool.attrlint.keys.OPENAI_KEY_BOT]
agent = "bot"
owner = "bot-team@example.com"
expires = 2099-01-01
"""


def codes(params: types.PublishDiagnosticsParams) -> list[str]:
    return sorted(str(d.code) for d in params.diagnostics)


def test_an_lsp_session_end_to_end(tmp_path):
    write_tree(tmp_path, {"pyproject.toml": PYPROJECT, "bot.py": BOT})
    path = tmp_path / "bot.py"
    uri = from_fs_path(str(path))

    async def session() -> None:
        lsp = Session(tmp_path)
        init = await lsp.start(project=True)
        assert init.server_info.name == "attrlint"
        lsp.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=BOT)))
        first = await lsp.until(uri, lambda p: p.version == 1 and "ATR003" in codes(p), "for the open buffer")
        assert {"ATR001", "ATR003"} <= set(codes(first))
        # the workspace run adds the project-wide finding (the key is not in the registry)
        await lsp.until(uri, lambda p: "ATR104" in codes(p), "from the workspace run")

        renamed = next(d for d in first.diagnostics if d.code == "ATR003")
        assert renamed.range.start == types.Position(line=10, character=BOT.splitlines()[10].index('"ticketId"'))
        actions = await lsp.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=renamed.range,
            context=types.CodeActionContext(diagnostics=[renamed])))
        titles = [a.title for a in actions]
        assert "Fix ATR003 (nonstandard-field-name)" in titles
        assert "Disable ATR003 for this line" in titles
        fix = next(a for a in actions if a.title.startswith("Fix ATR003"))
        fixed = apply_edits(BOT, fix.edit.changes[uri])
        assert fixed == BOT.replace('"ticketId"', '"ticket_id"')
        noqa = next(a for a in actions if a.title == "Disable ATR003 for this line")
        silenced = apply_edits(BOT, noqa.edit.changes[uri])
        assert silenced.splitlines()[10].endswith('"agent_id": "bot"})  # noqa: ATR003')

        hover = await lsp.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=renamed.range.start))
        assert "ATR003 nonstandard-field-name" in hover.contents.value and "What it does" in hover.contents.value

        lsp.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
        second = await lsp.until(uri, lambda p: p.version == 2, "after the change")
        assert "ATR003" not in codes(second) and "ATR001" in codes(second)
        assert "ATR104" not in codes(second)  # the buffer differs from the disk the workspace run saw

        # fix-all through the command: the server asks the client to apply the edit
        lsp.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BOT)]))
        await lsp.until(uri, lambda p: p.version == 3, "after the undo")
        done = await lsp.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="attrlint.applyAllFixes", arguments=[uri]))
        assert done is True
        assert len(lsp.applied) == 1
        assert apply_edits(BOT, lsp.applied[0].edit.changes[uri]) == fixed
        await lsp.stop()

    asyncio.run(session())


def test_code_actions_for_unused_noqa_and_fix_all(tmp_path):
    source = 'import os\nkey = os.environ["OPENAI_KEY_X"]  # noqa: ATR101\n'
    write_tree(tmp_path, {"pyproject.toml": '[tool.attrlint]\nextend-select = ["ATR900"]\n', "a.py": source})
    uri = from_fs_path(str(tmp_path / "a.py"))

    async def session() -> None:
        lsp = Session(tmp_path)
        await lsp.start(project=False)
        lsp.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=source)))
        published = await lsp.until(uri, lambda p: p.version == 1, "for the open buffer")
        assert codes(published) == ["ATR900"]
        assert list(published.diagnostics[0].tags) == [types.DiagnosticTag.Unnecessary]
        actions = await lsp.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=2, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll])))
        assert [a.kind for a in actions] == ["source.fixAll.attrlint"]
        assert apply_edits(source, actions[0].edit.changes[uri]) == 'import os\nkey = os.environ["OPENAI_KEY_X"]\n'
        await lsp.stop()

    asyncio.run(session())


def test_server_without_pygls_says_how_to_install_it(run_cli, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pygls(name, *args, **kwargs):
        if name.startswith(("pygls", "attrlint.server")):
            raise ModuleNotFoundError(f"No module named {name!r}", name="pygls")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pygls)
    result = run_cli("server")
    assert result.exit_code == 2
    assert result.stderr == "attrlint: error: attrlint server needs pygls: pip install 'attrlint[server]'\n"
