"""Per-file analysis: decode → prefilter → parse → analyse → rules → suppress → summarise.

Everything here is a pure function of (file content, configuration), so it runs in a
process pool and its results are cacheable by content hash.
"""

from __future__ import annotations

import ast

from attrlint.core.catalogue import Catalogue, is_key_shaped, load_catalogue, shadowing_roots
from attrlint.core.config import Config
from attrlint.core.keyscan import find_keys_by_line
from attrlint.keys.governance import KeyRef
from attrlint.lint.analysis.summary import CallFact, ModuleSummary, Position, WrapperFact
from attrlint.lint.diagnostics import FileResult, Finding
from attrlint.lint.noqa import UNUSED_NOQA, NoqaUse, may_have_noqa, noqa_comments
from attrlint.lint.prefilter import Prefilter
from attrlint.lint.rules import all_rules, file_rules
from attrlint.lint.rules.base import FileContext
from attrlint.lint.source import decode, parse, with_scopes
from attrlint.lint.suppression import (
    NOQA_NONE,
    Options,
    Suppressor,
    enabled_codes,
    file_noqa,
    line_noqa,
    noqa_map,
)


class Linter:
    """The per-file core shared by the CLI, the flake8 plugin and library callers."""

    def __init__(self, config: Config, options: Options | None = None, catalogue: Catalogue | None = None,
                 *, use_prefilter: bool = True, project_phase: bool = False) -> None:
        """`use_prefilter=False` analyses every file even when its text shows nothing to check
        (the project phase asks for that when a skipped file may call a wrapper).
        `project_phase=True` (the CLI's runs) leaves to the project phase the calls whose
        attribution depends on other modules; without it (the flake8 plugin, library calls)
        they are judged from the file alone."""
        self.config = config
        self.use_prefilter = use_prefilter
        self.project_phase = project_phase
        self.options = options or Options()
        self.catalogue = catalogue or load_catalogue()
        self.codes = enabled_codes(config, self.options, all_rules())
        self.rules = file_rules(self.codes)
        self.suppressor = Suppressor(config, self.codes)
        self.prefilter = Prefilter(self.catalogue, config)
        self.strict = self.options.strict or config.strict
        self.local_roots = shadowing_roots(config.root, self.catalogue)
        self.track_noqa = UNUSED_NOQA in self.codes
        # ATR101 in git-tracked data files and notebook outputs (`check-data-files`)
        self.check_data_files = (config.check_data_files if self.options.check_data_files is None
                                 else self.options.check_data_files)
        # A whole run (attrlint.lint.runner) judges unused noqa after the project phase; a
        # single file (stdin, the editor, library calls) judges it here, for the per-file rules.
        self.defer_unused_noqa = False

    # -- entry points ---------------------------------------------------------------------

    def lint_bytes(self, data: bytes, path: str, *, real_path: str | None = None) -> FileResult:
        try:
            if b"\x00" in data:
                raise ValueError("source contains NUL bytes (is it a binary file?)")
            text = decode(data)
        except (UnicodeDecodeError, SyntaxError, LookupError, ValueError) as exc:
            reason = str(exc).split("\n")[0]
            if isinstance(exc, UnicodeDecodeError):
                reason = f"cannot decode as {exc.encoding} at byte {exc.start}; add a coding line or save as UTF-8"
            elif "encoding declaration" in reason:
                reason = "not valid UTF-8 and no coding line; add a coding line or save as UTF-8"
            return self.unparsable(path, 1, 1, f"cannot read source: {reason}")
        return self.lint_text(text, path, real_path=real_path)

    def lint_text(self, text: str, path: str, *, real_path: str | None = None,
                  tree: ast.Module | None = None, cell: int | None = None,
                  keep_noqa: bool = False) -> FileResult:
        """Lint source text. `tree` skips the parse (the flake8 plugin passes flake8's);
        `keep_noqa` leaves `# noqa` to the caller (flake8 applies its own)."""
        result = FileResult(path=path)
        if file_noqa(text):
            return result
        tracking = (self.track_noqa and cell is None and not keep_noqa and may_have_noqa(text)
                    and not (real_path or path).endswith(".ipynb"))
        if tree is None and self.use_prefilter and not self.prefilter(text) and not (tracking and "ATR" in text):
            result.skipped = True
            return result
        lines = text.splitlines()
        if tree is None:
            try:
                tree = parse(text, path)
            except SyntaxError as exc:
                return self.unparsable(path, exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}")
            except (RecursionError, MemoryError, ValueError) as exc:
                return self.unparsable(path, 1, 1, f"cannot parse: {type(exc).__name__}: {exc}"[:200])
        try:
            from attrlint.lint.analysis.analyzer import (
                Analyzer,  # only files past the prefilter need it
            )

            module = Analyzer(self.catalogue, self.config.schema, local_roots=self.local_roots).run(tree)
        except RecursionError:
            return self.unparsable(path, 1, 1, "too deeply nested to analyse")
        required = self.config.required_for(real_path or path)
        ctx = FileContext(path=path, source=text, lines=lines, module=module, config=self.config,
                          catalogue=self.catalogue, required=required, strict=self.strict, cell=cell,
                          project_phase=self.project_phase)
        for rule in self.rules:
            rule.check(ctx)
        result.llm_calls = len(module.calls)
        use = NoqaUse(noqa_comments(text), noqa_map(lines)) if tracking else None
        if use is not None and not use.comments:
            use = None
        kept = self._suppress(ctx.findings, lines, real_path or path, keep_noqa, use)
        if use is not None:
            result.noqa = use
            if not self.defer_unused_noqa:
                kept = sorted(kept + self.unused_noqa(path, use, real_path=real_path), key=Finding.sort_key)
        result.findings = with_scopes(kept, tree)
        result.key_refs = self._key_refs(ctx)
        summary = summarise(ctx)
        if summary:
            result.summary = summary
        return result

    def lint_data(self, data: bytes, path: str, *, real_path: str | None = None) -> FileResult:
        """A data file (`.env*`, YAML, JSON, TOML, INI): keys committed in it (ATR101), each
        shown redacted, with `# noqa` and `per-file-ignores` applied as in Python files."""
        result = FileResult(path=path)
        if "ATR101" not in self.codes:
            return result
        text = data.decode("utf-8", "replace")
        if file_noqa(text):
            return result
        from attrlint.lint.rules.keys import HardcodedApiKey

        findings = [HardcodedApiKey.text_finding(path, line, col, found, HardcodedApiKey.in_data_file)
                    for line, col, found in find_keys_by_line(text, self.catalogue)]
        result.findings = self.suppress(findings, text.splitlines(), real_path or path)
        return result

    def suppress(self, findings: list[Finding], lines: list[str], path: str) -> list[Finding]:
        """The findings `# noqa` on their line (in `lines`) and the configuration keep, sorted."""
        return self._suppress(findings, lines, path, keep_noqa=False)

    def unparsable(self, path: str, line: int, col: int, message: str) -> FileResult:
        """A result holding only ATR000 (when enabled) for a file that cannot be read or parsed."""
        result = FileResult(path=path)
        if "ATR000" in self.codes:
            result.findings.append(Finding("ATR000", "unparsable-file", message, path, line, col, line, col))
        return result

    # -- helpers --------------------------------------------------------------------------

    def unused_noqa(self, path: str, use: NoqaUse, *, real_path: str | None = None,
                    whole_run: bool = False) -> list[Finding]:
        """ATR900 findings for a file's noqa comments, through the usual suppression. Without
        `whole_run`, codes of rules that also report in the project phase are not judged."""
        from attrlint.lint.noqa import unused_noqa_findings
        from attrlint.lint.rules import Phase, rules_by_code

        known = rules_by_code()
        undecidable = () if whole_run else [code for code, rule in known.items() if rule.phases != Phase.FILE]
        found = unused_noqa_findings(path, use, known=known, enabled=self.codes, undecidable=undecidable)
        return [f for f in found if self.suppressor.keep(f.code, real_path or path, use.lines.get(f.line, NOQA_NONE))]

    def _suppress(self, findings: list[Finding], lines: list[str], path: str, keep_noqa: bool,
                  use: NoqaUse | None = None) -> list[Finding]:
        kept = []
        seen: dict[int, str] = {}  # a line's noqa, read once however many findings it holds
        for finding in findings:
            noqa = NOQA_NONE
            if not keep_noqa and 0 < finding.line <= len(lines):
                noqa = seen.get(finding.line)  # type: ignore[assignment]
                if noqa is None:
                    noqa = seen[finding.line] = line_noqa(lines[finding.line - 1])
            if self.suppressor.keep(finding.code, path, noqa):
                kept.append(finding)
            elif use is not None and noqa and self.suppressor.keep(finding.code, path):
                use.used.add((finding.line, finding.code))  # the noqa is what suppressed it
        kept.sort(key=Finding.sort_key)
        return kept

    def _key_refs(self, ctx: FileContext) -> list[KeyRef]:
        refs = []
        generic = self.catalogue.generic_envs
        for read in ctx.module.env_reads:
            if read.kind not in ("read", "setting"):
                continue  # a write, or a value saved to restore it later
            vendor = read.vendor or self.catalogue.vendor_of_env(read.name)
            registered = read.name in self.config.keys
            if not (read.flows_into_client or registered or (vendor and is_key_shaped(read.name))):
                continue
            line, col, end_line, end_col = ctx.position(read.node)
            refs.append(KeyRef(
                env=read.name, path=ctx.path, line=line, column=col, end_line=end_line,
                end_column=end_col, vendor=vendor, flows_into_client=read.flows_into_client,
                generic=read.name in generic, snippet=ctx.snippet(read.node), cell=ctx.cell,
                noqa=ctx.noqa(line),  # `# noqa` on the line silences the project-wide rules there too
            ))
        return refs


def summarise(ctx: FileContext) -> ModuleSummary:
    """The file's summary for the project phase: its definitions, its wrappers and the calls
    the project phase resolves, placed and redacted."""
    module = ctx.module
    summary = module.summary

    def position(node: ast.AST, scope: str = "") -> Position:
        line, col, end_line, end_col = ctx.position(node)
        return Position(line, col, end_line, end_col, ctx.cell, ctx.snippet(node), scope, ctx.noqa(line))

    summary.wrappers = [
        WrapperFact(qual=w.qual, params=list(w.params), kwonly=list(w.kwonly), kwarg=w.kwarg,
                    supplies=dict(w.supplies), fixed=sorted(w.fixed), metadata_param=w.metadata_param,
                    forwards_kwargs=w.forwards_kwargs, meta_key=w.meta_key, label=w.label, where=w.where,
                    origin=position(w.call_node, w.qual) if w.call_node is not None else None,
                    more=[position(n, w.qual) for n in w.more_calls], more_labels=list(w.more_labels))
        for w in module.wrappers]
    summary.calls = [
        CallFact(callee=c.callee, args=c.args, kwargs=c.kwargs, spreads=c.spreads, star=c.star,
                 context=c.context, context_unresolved=c.context_unresolved, func=c.func,
                 func_params=c.func_params, func_kwarg=c.func_kwarg, forwards=c.forwards,
                 at=position(c.node, c.scope), llm=c.llm)
        for c in module.project_calls]
    return summary
