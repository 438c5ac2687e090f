"""`attrlint server`: a Language Server Protocol server on pygls, over stdio.

- Diagnostics on open, change and save. The per-file rules run on the editor's buffer, off
  the event loop (one worker thread), so the server answers hovers and code actions while a
  large file is checked. A change that arrives while the buffer is idle is checked at once;
  changes that arrive while a check runs, or within `debounce` ms of the last one starting,
  are coalesced into one check of the latest text. Results for an outdated version are
  dropped.
- Project-wide findings (key governance, wrapper call sites) need every file: on open and
  save the workspace is checked as `attrlint check` would, with the result cache, and those
  findings are shown for files whose buffer matches the disk.
- Code actions: every fix, "disable CODE for this line" (`# noqa: CODE`), and fix-all (as
  `source.fixAll.attrlint` and the `attrlint.applyAllFixes` command, which applies its edit
  through `workspace/applyEdit`).
- Hover over a finding shows its rule's documentation.

Initialization options: `select`, `extendSelect`, `ignore` (lists of codes), `strict`,
`unsafeFixes`, `project` (default true), `debounce` (ms, default 50).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from attrlint import __version__
from attrlint.lint.diagnostics import Finding
from attrlint.lint.suppression import Options

log = logging.getLogger("attrlint.server")

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.attrlint"
APPLY_ALL_FIXES = "attrlint.applyAllFixes"
_ERRORS = {"ATR000", "ATR101"}


@dataclass
class Settings:
    options: Options = field(default_factory=Options)
    unsafe_fixes: bool = False
    project: bool = True
    debounce: float = 0.05

    @classmethod
    def from_init(cls, value: Any) -> Settings:
        value = value if isinstance(value, dict) else {}

        def codes(key: str) -> tuple[str, ...]:
            items = value.get(key) or []
            return tuple(str(c).upper() for c in items if isinstance(c, str))

        return cls(
            options=Options(strict=bool(value.get("strict", False)), select=codes("select"),
                            ignore=codes("ignore"), extend_select=codes("extendSelect")),
            unsafe_fixes=bool(value.get("unsafeFixes", False)),
            project=bool(value.get("project", True)),
            debounce=max(0.0, float(value.get("debounce", 50))) / 1000,
        )


@dataclass
class DocumentState:
    version: int | None = None
    findings: list[Finding] = field(default_factory=list)  # per-file, of `version`'s text
    text: str = ""
    running: bool = False
    pending: bool = False
    last_start: float = 0.0
    timer: asyncio.TimerHandle | None = None


class AttrlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("attrlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = Settings()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attrlint-check")
        self.project_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attrlint-project")
        self.documents: dict[str, DocumentState] = {}
        self.project_findings: dict[str, list[Finding]] = {}  # absolute path -> findings of the last whole run
        self.project_texts: dict[str, str] = {}  # absolute path -> its text on disk at that run
        self.project_running = False
        self.project_again = False
        self._linters: dict[Any, Any] = {}
        self._resolver: Any = None

    # -- checking ---------------------------------------------------------------------------------

    def resolver(self) -> Any:
        if self._resolver is None:
            from attrlint.lint.runner import ConfigResolver

            self._resolver = ConfigResolver(None)
        return self._resolver

    def forget_configuration(self) -> None:
        self._resolver = None
        self._linters.clear()

    def linter_for(self, path: str) -> Any:
        from attrlint.lint.engine import Linter

        config = self.resolver().for_path(path)
        linter = self._linters.get(id(config))
        if linter is None:
            linter = self._linters[id(config)] = Linter(config, self.settings.options)
        return linter

    def check_text(self, path: str, text: str) -> list[Finding]:
        """The per-file findings of a buffer (runs in the worker thread)."""
        from attrlint.core.config import ConfigError

        try:
            linter = self.linter_for(path)
        except ConfigError as exc:
            return [Finding("ATR000", "configuration", f"attrlint configuration: {exc}", path, 1, 1, 1, 1)]
        if path.endswith(".ipynb"):
            return []
        return list(linter.lint_text(text, path, real_path=path).findings)

    def schedule(self, uri: str, *, now: bool = False) -> None:
        """Check a document: at once when idle, else coalesced (see the module docstring)."""
        state = self.documents.setdefault(uri, DocumentState())
        if state.running:
            state.pending = True
            return
        if state.timer is not None:
            return  # a check is already due; it will read the latest text
        wait = 0.0 if now else max(0.0, state.last_start + self.settings.debounce - time.monotonic())
        loop = asyncio.get_running_loop()
        if wait <= 0:
            loop.create_task(self._check(uri))
        else:
            state.timer = loop.call_later(wait, lambda: loop.create_task(self._check(uri)))

    async def _check(self, uri: str) -> None:
        state = self.documents.setdefault(uri, DocumentState())
        state.timer = None
        document = self.workspace.get_text_document(uri)
        text, version = document.source, document.version
        path = to_fs_path(uri) or uri
        state.running, state.pending = True, False
        state.last_start = time.monotonic()
        try:
            findings = await asyncio.get_running_loop().run_in_executor(self.executor, self.check_text, path, text)
        except Exception:
            log.exception("attrlint: checking %s failed", path)
            findings = []
        finally:
            state.running = False
        current = self.workspace.get_text_document(uri)
        if current.version == version and current.source == text:
            state.version, state.findings, state.text = version, findings, text
            self.publish(uri)
        if state.pending or current.source != text:
            state.pending = False
            self.schedule(uri)

    def publish(self, uri: str) -> None:
        state = self.documents.get(uri)
        if state is None:
            return
        findings = state.findings + self.project_only(uri, state)
        lines = state.text.splitlines()
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=state.version, diagnostics=[self.diagnostic(lines, f) for f in findings]))

    def project_only(self, uri: str, state: DocumentState) -> list[Finding]:
        """The last whole run's findings for this file that per-file rules do not give, while
        the buffer still has the text that run saw."""
        path = os.path.abspath(to_fs_path(uri) or uri)
        found = self.project_findings.get(path)
        if not found or self.project_texts.get(path) != state.text:
            return []
        own = {(f.line, f.column, f.code, f.message) for f in state.findings}
        return [f for f in found if (f.line, f.column, f.code, f.message) not in own]

    def schedule_project(self) -> None:
        if not self.settings.project:
            return
        if self.project_running:
            self.project_again = True
            return
        asyncio.get_running_loop().create_task(self._project())

    async def _project(self) -> None:
        root = self.workspace.root_path
        if not root:
            return
        self.project_running, self.project_again = True, False
        try:
            findings, texts = await asyncio.get_running_loop().run_in_executor(
                self.project_executor, self.check_project, root)
        except Exception:
            log.exception("attrlint: checking the workspace failed")
            findings, texts = {}, {}
        finally:
            self.project_running = False
        self.project_findings, self.project_texts = findings, texts
        for uri in list(self.documents):
            self.publish(uri)
        if self.project_again:
            self.schedule_project()

    def check_project(self, root: str) -> tuple[dict[str, list[Finding]], dict[str, str]]:
        """`attrlint check` over the workspace with the result cache (runs in its own thread)."""
        from attrlint.core.config import ConfigError
        from attrlint.lint.runner import run

        cache_dir = os.environ.get("ATTRLINT_CACHE_DIR") or os.path.join(root, ".attrlint_cache")
        try:
            result = run([root], options=self.settings.options, use_cache=True, cache_dir=cache_dir, jobs=1,
                         warn=lambda message: log.info("%s", message))
        except ConfigError as exc:
            log.warning("attrlint: %s", exc)
            return {}, {}
        by_path: dict[str, list[Finding]] = {}
        for finding in result.findings:
            if finding.cell is None:
                by_path.setdefault(os.path.abspath(finding.path), []).append(finding)
        texts = {}
        for path in by_path:
            try:
                texts[path] = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        return by_path, texts

    # -- positions --------------------------------------------------------------------------------

    def column(self, lines: list[str], line: int, column: int) -> int:
        """A 1-based character column as the client counts (UTF-16 unless negotiated otherwise)."""
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        head = text[:max(0, column - 1)]
        encoding = self.workspace.position_encoding
        if encoding == types.PositionEncodingKind.Utf8:
            return len(head.encode("utf-8"))
        if encoding == types.PositionEncodingKind.Utf32:
            return len(head)
        return len(head.encode("utf-16-le")) // 2

    def range(self, text: str | list[str], line: int, column: int, end_line: int, end_column: int) -> types.Range:
        lines = text.splitlines() if isinstance(text, str) else text
        return types.Range(
            start=types.Position(line=max(0, line - 1), character=self.column(lines, line, column)),
            end=types.Position(line=max(0, end_line - 1), character=self.column(lines, end_line, end_column)),
        )

    def diagnostic(self, text: str | list[str], finding: Finding) -> types.Diagnostic:
        return types.Diagnostic(
            range=self.range(text, finding.line, finding.column, finding.end_line, finding.end_column),
            message=finding.message,
            severity=types.DiagnosticSeverity.Error if finding.code in _ERRORS else types.DiagnosticSeverity.Warning,
            code=finding.code,
            source="attrlint",
            tags=[types.DiagnosticTag.Unnecessary] if finding.code == "ATR900" else None,
            data={"fixable": finding.has_fix(unsafe=self.settings.unsafe_fixes)},
        )

    # -- code actions and hover -------------------------------------------------------------------

    def findings_at(self, uri: str, selection: types.Range) -> tuple[DocumentState | None, list[Finding]]:
        state = self.documents.get(uri)
        if state is None:
            return None, []
        first, last = selection.start.line + 1, selection.end.line + 1
        return state, [f for f in state.findings + self.project_only(uri, state)
                       if f.line <= last and f.end_line >= first]

    def fix_edit(self, uri: str, text: str, finding: Finding) -> types.WorkspaceEdit:
        edit = finding.fix
        assert edit is not None
        line, column = edit.line, edit.column
        if not edit.replacement:  # a removed comment takes the spaces before it along
            lines = text.splitlines()
            before = lines[line - 1][:column - 1] if 0 < line <= len(lines) else ""
            column -= len(before) - len(before.rstrip())
        new = types.TextEdit(range=self.range(text, line, column, edit.end_line, edit.end_column),
                             new_text=edit.replacement)
        return types.WorkspaceEdit(changes={uri: [new]})

    def noqa_edit(self, uri: str, text: str, finding: Finding) -> types.WorkspaceEdit | None:
        from attrlint.lint.noqa import add_noqa

        new_text, changed, _ = add_noqa(text, [finding])
        if not changed:
            return None
        old_line = text.splitlines()[finding.line - 1]
        new_line = new_text.splitlines()[finding.line - 1]
        return types.WorkspaceEdit(changes={uri: [types.TextEdit(
            range=self.range(text, finding.line, 1, finding.line, len(old_line) + 1), new_text=new_line)]})

    def fix_all_edit(self, uri: str) -> types.WorkspaceEdit | None:
        from attrlint.lint.fixes import apply_fixes

        state = self.documents.get(uri)
        if state is None or not state.findings:
            return None
        fixed, count = apply_fixes(state.text, state.findings, unsafe=self.settings.unsafe_fixes)
        if not count or fixed == state.text:
            return None
        lines = state.text.splitlines()
        end = types.Position(line=len(lines), character=0)
        return types.WorkspaceEdit(changes={uri: [types.TextEdit(
            range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=fixed)]})


def _wanted(kinds: Iterable[str] | None, kind: str) -> bool:
    if not kinds:
        return True
    return any(kind == k or kind.startswith(k + ".") for k in kinds)


def build_server() -> AttrlintServer:
    server = AttrlintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: AttrlintServer, params: types.InitializeParams) -> None:
        ls.settings = Settings.from_init(params.initialization_options)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: AttrlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, now=True)
        if not ls.project_findings:
            ls.schedule_project()

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: AttrlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: AttrlintServer, params: types.DidSaveTextDocumentParams) -> None:
        name = os.path.basename(to_fs_path(params.text_document.uri) or "")
        if name in ("pyproject.toml", "attrlint.toml", ".attrlint.toml"):
            ls.forget_configuration()
            for uri in list(ls.documents):
                ls.schedule(uri, now=True)
        else:
            ls.schedule(params.text_document.uri, now=True)
        ls.schedule_project()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AttrlintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                           diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: AttrlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.forget_configuration()
        ls.schedule_project()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, FIX_ALL_KIND],
        resolve_provider=False))
    def code_action(ls: AttrlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        state, findings = ls.findings_at(uri, params.range)
        if state is None:
            return []
        kinds = params.context.only
        actions: list[types.CodeAction] = []
        if _wanted(kinds, types.CodeActionKind.QuickFix.value):
            for finding in findings:
                diagnostic = ls.diagnostic(state.text, finding)
                if finding.has_fix(unsafe=ls.settings.unsafe_fixes):
                    actions.append(types.CodeAction(
                        title=f"Fix {finding.code} ({finding.name})", kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic], edit=ls.fix_edit(uri, state.text, finding), is_preferred=True))
                noqa = ls.noqa_edit(uri, state.text, finding)
                if noqa is not None:
                    actions.append(types.CodeAction(
                        title=f"Disable {finding.code} for this line", kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic], edit=noqa))
        if _wanted(kinds, FIX_ALL_KIND) or (kinds and types.CodeActionKind.SourceFixAll.value in kinds):
            edit = ls.fix_all_edit(uri)
            if edit is not None:
                actions.append(types.CodeAction(title="attrlint: fix all", kind=FIX_ALL_KIND, edit=edit))
        return actions

    @server.command(APPLY_ALL_FIXES)
    async def apply_all_fixes(ls: AttrlintServer, *args: Any) -> bool:
        uri = args[0] if args and isinstance(args[0], str) else (
            args[0][0] if args and isinstance(args[0], list) and args[0] else None)
        if uri is None:
            return False
        edit = ls.fix_all_edit(uri)
        if edit is None:
            return False
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="attrlint: fix all"))
        return bool(result.applied)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: AttrlintServer, params: types.HoverParams) -> types.Hover | None:
        from attrlint.lint.rules import rules_by_code

        position = types.Range(start=params.position, end=params.position)
        state, findings = ls.findings_at(params.text_document.uri, position)
        if state is None:
            return None
        rules = rules_by_code()
        lines = state.text.splitlines()
        docs = []
        for finding in findings:
            start = ls.column(lines, finding.line, finding.column) if finding.line == params.position.line + 1 else 0
            end = (ls.column(lines, finding.end_line, finding.end_column)
                   if finding.end_line == params.position.line + 1 else 10**9)
            rule = rules.get(finding.code)
            if rule is not None and start <= params.position.character <= end:
                text = f"**{finding.code} {rule.name}**: {finding.message}\n\n```text\n{rule.documentation()}\n```"
                if text not in docs:
                    docs.append(text)
        if not docs:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(docs)))

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client exits."""
    logging.basicConfig(level=os.environ.get("ATTRLINT_SERVER_LOG", "WARNING").upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build_server().start_io()
