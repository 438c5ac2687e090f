"""Driving `attrlint server` from a test: pygls's language client over stdio."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient
from pygls.uris import from_fs_path

from support.cli import subprocess_env

TIMEOUT = 60


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions; the test text is ASCII) to `text`."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        return offsets[min(position.line, len(lines))] + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


class Session:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = BaseLanguageClient("attrlint-test", "1")
        self.diagnostics: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()
        self.applied: list[types.ApplyWorkspaceEditParams] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics.put_nowait(params)

        @self.client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params)
            return types.ApplyWorkspaceEditResult(applied=True)

    async def open(self, uri: str, text: str, version: int = 1) -> types.PublishDiagnosticsParams:
        """didOpen, then the first diagnostics of that version."""
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=version, text=text)))
        return await self.until(uri, lambda p: p.version == version, "for the open buffer")

    async def start(self, **options) -> types.InitializeResult:
        await self.client.start_io(sys.executable, "-m", "attrlint", "server", cwd=str(self.root),
                                   env=subprocess_env(ATTRLINT_CACHE_DIR=str(self.root / ".cache")))
        result = await self.client.initialize_async(types.InitializeParams(
            process_id=None, root_uri=from_fs_path(str(self.root)),
            capabilities=types.ClientCapabilities(), initialization_options=options))
        self.client.initialized(types.InitializedParams())
        return result

    async def until(self, uri: str, predicate, what: str) -> types.PublishDiagnosticsParams:
        seen = []
        while True:
            try:
                params = await asyncio.wait_for(self.diagnostics.get(), TIMEOUT)
            except asyncio.TimeoutError:
                raise AssertionError(f"no diagnostics {what}; saw {seen}") from None
            if params.uri == uri:
                seen.append(sorted(str(d.code) for d in params.diagnostics))
                if predicate(params):
                    return params

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), TIMEOUT)


