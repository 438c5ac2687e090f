"""Per-file analysis: decode → prefilter → parse → analyse → rules → suppress → summarise.

Everything here is a pure function of (file content, configuration), so it runs in a
process pool and its results are cacheable by content hash.
"""

from __future__ import annotations

import ast

from attrlint.core.catalogue import Catalogue, is_key_shaped, load_catalogue, shadowing_roots
from attrlint.core.config import Config
from attrlint.lint.analysis.summary import ModuleSummary, SiteFact
from attrlint.keys.governance import KeyRef
from attrlint.lint.diagnostics import FileResult, Finding
from attrlint.lint.prefilter import Prefilter
from attrlint.lint.rules import all_rules, file_rules
from attrlint.lint.rules.base import FileContext
from attrlint.lint.source import decode, with_scopes
from attrlint.lint.suppression import NOQA_NONE, Options, Suppressor, enabled_codes, file_noqa, line_noqa


class Linter:
    """The per-file core shared by the CLI, the flake8 plugin and library callers."""

    def __init__(self, config: Config, options: Options | None = None, catalogue: Catalogue | None = None,
                 *, use_prefilter: bool = True) -> None:
        """`use_prefilter=False` analyses every file even when its text shows nothing to check
        (the project phase asks for that when a skipped file may call a wrapper)."""
        self.config = config
        self.use_prefilter = use_prefilter
        self.options = options or Options()
        self.catalogue = catalogue or load_catalogue()
        self.codes = enabled_codes(config, self.options, all_rules())
        self.rules = file_rules(self.codes)
        self.suppressor = Suppressor(config, self.codes)
        self.prefilter = Prefilter(self.catalogue, config)
        self.strict = self.options.strict or config.strict
        self.local_roots = shadowing_roots(config.root, self.catalogue)

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
        if tree is None and self.use_prefilter and not self.prefilter(text):
            result.skipped = True
            return result
        lines = text.splitlines()
        if tree is None:
            try:
                tree = ast.parse(text, filename=path)
            except SyntaxError as exc:
                return self.unparsable(path, exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}")
            except (RecursionError, MemoryError, ValueError) as exc:
                return self.unparsable(path, 1, 1, f"cannot parse: {type(exc).__name__}: {exc}"[:200])
        try:
            from attrlint.lint.analysis.analyzer import Analyzer  # only files past the prefilter need it

            module = Analyzer(self.catalogue, self.config.schema, local_roots=self.local_roots).run(tree)
        except RecursionError:
            return self.unparsable(path, 1, 1, "too deeply nested to analyse")
        required = self.config.required_for(real_path or path)
        ctx = FileContext(path=path, source=text, lines=lines, module=module, config=self.config,
                          catalogue=self.catalogue, required=required, strict=self.strict, cell=cell)
        for rule in self.rules:
            rule.check(ctx)
        result.llm_calls = len(module.calls)
        result.findings = with_scopes(self._suppress(ctx.findings, lines, real_path or path, keep_noqa), tree)
        result.key_refs = self._key_refs(ctx)
        if module.wrappers or module.call_sites or module.classes:
            result.summary = summarise(ctx)
        return result

    def unparsable(self, path: str, line: int, col: int, message: str) -> FileResult:
        """A result holding only ATR000 (when enabled) for a file that cannot be read or parsed."""
        result = FileResult(path=path)
        if "ATR000" in self.codes:
            result.findings.append(Finding("ATR000", "unparsable-file", message, path, line, col, line, col))
        return result

    # -- helpers --------------------------------------------------------------------------

    def _suppress(self, findings: list[Finding], lines: list[str], path: str, keep_noqa: bool) -> list[Finding]:
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
        kept.sort(key=Finding.sort_key)
        return kept

    def _key_refs(self, ctx: FileContext) -> list[KeyRef]:
        refs = []
        generic = self.catalogue.generic_envs
        for read in ctx.module.env_reads:
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
    """The file's summary for the project phase: wrappers, call sites (placed, redacted), classes."""
    from attrlint.lint.analysis.summary import WrapperFact

    module = ctx.module
    wrappers = [WrapperFact(qual=w.qual, params=list(w.params), kwonly=list(w.kwonly), kwarg=w.kwarg,
                            supplies=dict(w.supplies), fixed=sorted(w.fixed), metadata_param=w.metadata_param,
                            forwards_kwargs=w.forwards_kwargs, meta_key=w.meta_key, label=w.label)
                for w in module.wrappers]
    sites = []
    for site in module.call_sites:
        line, col, end_line, end_col = ctx.position(site.node)
        sites.append(SiteFact(
            callee=site.callee, args=list(site.args), kwargs=dict(site.kwargs), star=site.star,
            context=dict(site.context), context_unresolved=site.context_unresolved, func=site.func,
            func_params=list(site.func_params), func_kwarg=site.func_kwarg, forwards=site.forwards,
            line=line, col=col, end_line=end_line, end_col=end_col, cell=ctx.cell,
            snippet=ctx.snippet(site.node), scope=site.scope, noqa=ctx.noqa(line),
        ))
    return ModuleSummary(wrappers=wrappers, sites=sites, classes=dict(module.classes))
