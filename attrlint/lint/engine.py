"""Per-file analysis: read, prefilter, parse, analyse, run the rules, apply suppressions.

Everything here is a pure function of (file content, configuration), so it runs in a
process pool and its results are cacheable by content hash.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Iterable

from attrlint.core.catalogue import Catalogue, is_key_shaped, key_prefixes, load_catalogue, shadowing_roots
from attrlint.core.config import Config
from attrlint.lint.rules.base import FileContext, Rule, all_rules, iter_file_rules
from attrlint.lint.diagnostics import FileResult, Finding, KeyRef

_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"#\s*attrlint\s*:\s*noqa\b(?!\s*:)", re.IGNORECASE)


def _call_of(names: set[str]) -> re.Pattern[str]:
    """`name(` for any of `names`, as a regex that starts with the literal `(` (so the regex
    engine skips to each parenthesis) and checks the name behind it, grouped by length
    because a look-behind must have a fixed width. Whitespace before the parenthesis
    (`create (`, pycodestyle E211) is not admitted."""
    by_length: dict[int, list[str]] = {}
    for name in sorted(names):
        by_length.setdefault(len(name), []).append(re.escape(name))
    behind = "|".join(f"(?<=(?<!\\w)(?:{'|'.join(group)})\\()" for group in by_length.values())
    return re.compile(f"\\((?:{behind})")


class Prefilter:
    """Decides from the text alone, before any parse, whether a file can produce a finding
    or a project-wide fact. Plain substring tests (C speed) come first; regexes run only
    on the few files those admit.

    A file passes when it has any of:
    - an SDK module name (or a re-exporting module, or a duck-typed chain's `completions`
      or `responses`) and a call of a billable method, a client constructor or a factory
      (`create(`, `completion(`, `OpenAI(`, ...);
    - `attrlint` (the runtime's attribution blocks);
    - an environment read (`environ`/`getenv`) of a key-shaped name that names a vendor,
      or of a key declared in the configuration;
    - a literal in one of the catalogue's key formats;
    - a call of a configured wrapper.
    """

    def __init__(self, catalogue: Catalogue, config: Config) -> None:
        self.catalogue = catalogue
        modules = {m for sdk in catalogue.sdks.values() for m in sdk.modules}
        words = {m.split(".")[0] for m in modules} | {m.split(".")[-1] for m in modules}
        words |= {m.split(".")[0] for m in catalogue.reexports}
        # duck-typed chains (`x.chat.completions.create(...)`) count without any import
        words |= {path.split(".")[-2] for path in catalogue.compatible if "." in path}
        self.sdk_words = tuple(sorted(words, key=len, reverse=True))
        tails = set(catalogue.method_tails)
        tails |= {name.split(".")[-1] for name in catalogue.clients}
        tails |= {name.split(".")[-1] for name in catalogue.functions}
        tails |= {attr for sdk in catalogue.sdks.values() for attr, _ in sdk.factories}
        tails |= {name.split(".")[-1] for name in getattr(catalogue, "factory_functions", {})}
        self.calls = _call_of(tails)
        wrappers = {w.target.split(":")[-1].split(".")[-1] for w in config.wrappers.values()}
        self.wrapper_calls = _call_of(wrappers) if wrappers else None
        self.declared_envs = tuple(sorted(config.keys))
        self.key_prefixes = key_prefixes(catalogue.key_regex)

    def __call__(self, text: str) -> bool:
        if any(word in text for word in self.sdk_words) and self.calls.search(text):
            return True
        if "attrlint" in text:
            return True
        if ("environ" in text or "getenv" in text) and self._env_key(text):
            return True
        if (self.key_prefixes is None or any(p in text for p in self.key_prefixes)) \
                and self.catalogue.key_regex.search(text):
            return True
        return bool(self.wrapper_calls is not None and self.wrapper_calls.search(text))

    def _env_key(self, text: str) -> bool:
        if any(env in text for env in self.declared_envs):
            return True
        low = text.lower()
        names: set[str] = set()
        for needle in ("key", "token"):
            at = low.find(needle)
            while at >= 0:
                start, end = at, at + len(needle)
                while start and (low[start - 1] == "_" or low[start - 1].isalnum()):
                    start -= 1
                while end < len(low) and (low[end] == "_" or low[end].isalnum()):
                    end += 1
                names.add(text[start:end])
                at = low.find(needle, end)
        vendor_of = self.catalogue.vendor_of_env
        return any(is_key_shaped(name) and vendor_of(name) for name in names)


@dataclass
class Options:
    strict: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


def enabled_codes(config: Config, options: Options, rules: Iterable[type[Rule]] | None = None) -> frozenset[str]:
    """Ruff's selection semantics: select replaces the default set, extend-select adds, ignore removes.

    Rules that are off by default are on only under --strict or when selected by exact code."""
    rules = list(rules or all_rules())
    select = options.select or config.select
    extend = (*config.extend_select, *options.extend_select)
    ignore = (*config.ignore, *options.ignore)
    strict = options.strict or config.strict
    chosen = set()
    for rule in rules:
        exact = rule.code in select or rule.code in extend
        if rule.default_enabled:
            on = any(rule.code.startswith(p) for p in select) if select else True
            on = on or any(rule.code.startswith(p) for p in extend)
        else:
            on = exact or strict
        if on and not any(rule.code.startswith(p) for p in ignore):
            chosen.add(rule.code)
    return frozenset(chosen)


def decode(data: bytes) -> str:
    """Decode Python source honouring a coding line or BOM; raises UnicodeDecodeError/SyntaxError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def noqa_map(lines: list[str]) -> dict[int, frozenset[str] | None]:
    """line -> codes suppressed there (None: all)."""
    result: dict[int, frozenset[str] | None] = {}
    for number, line in enumerate(lines, 1):
        if "noqa" not in line and "NOQA" not in line:
            continue
        match = _NOQA.search(line)
        if match:
            codes = match.group("codes")
            result[number] = (
                frozenset(c.upper() for c in re.split(r"[,\s]+", codes) if c) if codes else None
            )
    return result


def scope_index(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class, outermost first."""
    spans: list[tuple[int, int, str]] = []

    def walk(body: list[ast.stmt], prefix: str) -> None:  # definitions are statements: skip expressions
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{stmt.name}"
                spans.append((stmt.lineno, stmt.end_lineno or stmt.lineno, name))
                walk(stmt.body, name + ".")
                continue
            for attr in ("body", "orelse", "finalbody", "handlers", "cases"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    for item in inner:
                        if isinstance(item, (ast.ExceptHandler, ast.match_case)):
                            walk(item.body, prefix)
                        elif isinstance(item, ast.stmt):
                            walk([item], prefix)

    walk(tree.body, "")
    return spans


def with_scopes(findings: list[Finding], tree: ast.Module) -> list[Finding]:
    """Name each finding's enclosing function (the baseline keys on it, never on line numbers)."""
    if not findings:
        return findings
    spans = scope_index(tree)
    out = []
    for finding in findings:
        scope = ""
        for first, last, name in spans:
            if first <= finding.line <= last:
                scope = name  # later spans are nested deeper
        out.append(replace(finding, scope=scope) if scope else finding)
    return out


class Linter:
    """The per-file core shared by the CLI, the flake8 plugin and library callers."""

    def __init__(self, config: Config, options: Options | None = None, catalogue: Catalogue | None = None) -> None:
        self.config = config
        self.options = options or Options()
        self.catalogue = catalogue or load_catalogue()
        self.codes = enabled_codes(config, self.options)
        self.rules = [r for r in iter_file_rules(all_rules()) if r.code in self.codes]
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
            return self._unparsable(path, 1, 1, f"cannot read source: {reason}")
        return self.lint_text(text, path, real_path=real_path)

    def lint_text(self, text: str, path: str, *, real_path: str | None = None,
                  tree: ast.Module | None = None, cell: int | None = None,
                  keep_noqa: bool = False) -> FileResult:
        """Lint source text. `tree` skips the parse (the flake8 plugin passes flake8's);
        `keep_noqa` leaves `# noqa` to the caller (flake8 applies its own)."""
        result = FileResult(path=path)
        if _FILE_NOQA.search(text[:4096]) or (len(text) > 4096 and _FILE_NOQA.search(text)):
            return result
        if tree is None and not self.prefilter(text):
            result.skipped = True
            return result
        lines = text.splitlines()
        if tree is None:
            try:
                tree = ast.parse(text, filename=path)
            except SyntaxError as exc:
                line = exc.lineno or 1
                col = exc.offset or 1
                return self._unparsable(path, line, col, f"syntax error: {exc.msg}")
            except (RecursionError, MemoryError, ValueError) as exc:
                return self._unparsable(path, 1, 1, f"cannot parse: {type(exc).__name__}: {exc}"[:200])
        try:
            from attrlint.lint.analysis.analyzer import Analyzer  # only files past the prefilter need it

            module = Analyzer(self.catalogue, self.config.schema, local_roots=self.local_roots).run(tree)
        except RecursionError:
            return self._unparsable(path, 1, 1, "too deeply nested to analyse")
        required = self.config.required_for(real_path or path)
        ctx = FileContext(path=path, source=text, lines=lines, module=module, config=self.config,
                          catalogue=self.catalogue, required=required, strict=self.strict, cell=cell)
        for rule in self.rules:
            rule.check(ctx)
        result.llm_calls = len(module.calls)
        result.findings = with_scopes(
            self._suppress(ctx.findings, lines, real_path or path, keep_noqa=keep_noqa), tree)
        result.key_refs = self._key_refs(ctx)
        if module.wrappers or module.call_sites or module.classes:
            from attrlint.lint.project.wrappers import module_facts

            result.facts.update(module_facts(ctx, tree))
        return result

    # -- helpers --------------------------------------------------------------------------

    def _unparsable(self, path: str, line: int, col: int, message: str) -> FileResult:
        result = FileResult(path=path)
        if "ATR000" in self.codes:
            result.findings.append(Finding("ATR000", "unparsable-file", message, path, line, col, line, col))
        return result

    def _suppress(self, findings: list[Finding], lines: list[str], path: str,
                  keep_noqa: bool = False) -> list[Finding]:
        if not findings:
            return findings
        noqa = {} if keep_noqa else noqa_map(lines)
        ignored = self.config.ignored_codes_for(path) if self.config.per_file_ignores else ()
        kept = []
        for finding in findings:
            if finding.code not in self.codes:
                continue
            if any(finding.code.startswith(p) for p in ignored):
                continue
            codes = noqa.get(finding.line, ())
            if codes is None or (codes and finding.code in codes):
                continue
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
            noqa = noqa_map(ctx.lines[line - 1:line])
            suppressed = ""
            if noqa:  # `# noqa` on the line silences the project-wide rules there too
                codes = noqa.get(1)
                suppressed = "*" if codes is None else ",".join(sorted(codes))
            refs.append(KeyRef(
                env=read.name, path=ctx.path, line=line, column=col, end_line=end_line,
                end_column=end_col, vendor=vendor, flows_into_client=read.flows_into_client,
                generic=read.name in generic, snippet=ctx.snippet(read.node), cell=ctx.cell,
                noqa=suppressed,
            ))
        return refs
