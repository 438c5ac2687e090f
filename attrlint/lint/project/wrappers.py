"""Project wrappers: functions whose LLM call takes its attribution from their own parameters.

Per file, the analyser finds wrapper definitions (a `**kwargs` forwarded to the provider
call, a parameter passed as the provider's metadata or into `attribution(...)`) and every
call to a project function; both travel in the file's `ModuleSummary`.

Here, after every file is analysed, each module is named from its path, the wrappers
declared in `[tool.attrlint.wrappers]` are added, wrappers of wrappers are followed to a
fixed point (a function that passes its own parameters on to a wrapper is one too), and each
remaining call site is judged by the rules that run at wrapper call sites.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from attrlint.lint.analysis.attribution import AttributionCheck
from attrlint.lint.analysis.summary import NONE, PARAM, PLACEHOLDER, ArgFact, ModuleSummary, SiteFact, WrapperFact
from attrlint.lint.diagnostics import FileResult, Finding
from attrlint.lint.project.context import ProjectContext
from attrlint.lint.project.modules import module_names, resolve_callee
from attrlint.lint.rules.base import Rule
from attrlint.lint.source import decode

# How a required field reaches the provider call from a site
SUPPLIED, MISSING, PLACEHOLDER_GIVEN = "supplied", "missing", "placeholder"
VIA_PARAM, VIA_METADATA, VIA_KWARGS = "param", "metadata", "kwargs"  # carried on by the caller's own parameters


@dataclass
class Wrapper:
    name: str  # "pkg.mod:ask" (display)
    params: list[str]
    kwonly: list[str] = field(default_factory=list)
    kwarg: str | None = None
    supplies: dict[str, str] = field(default_factory=dict)
    fixed: set[str] | None = field(default_factory=set)  # None: every field not in supplies
    metadata_param: str | None = None
    forwards_kwargs: bool = False
    meta_key: str | None = None
    label: str = ""
    declared: bool = False

    @classmethod
    def from_fact(cls, module: str, fact: WrapperFact) -> Wrapper:
        return cls(name=f"{module}:{fact.qual}", params=list(fact.params), kwonly=list(fact.kwonly),
                   kwarg=fact.kwarg, supplies=dict(fact.supplies), fixed=set(fact.fixed),
                   metadata_param=fact.metadata_param, forwards_kwargs=fact.forwards_kwargs,
                   meta_key=fact.meta_key, label=fact.label)

    def fixes(self, f: str) -> bool:
        """The wrapper supplies `f` itself."""
        return (self.fixed is None and f not in self.supplies) or bool(self.fixed and f in self.fixed)

    def describe(self) -> str:
        if self.declared:
            return self.label
        return f"wrapper `{self.name}` ({self.label})" if self.label else f"wrapper `{self.name}`"

    def how(self, missing: list[str]) -> str:
        """How a caller adds the missing fields."""
        parts = []
        via_param = [f"`{self.supplies[f]}=` ({f})" for f in missing if f in self.supplies]
        if via_param:
            parts.append("pass " + ", ".join(via_param))
        rest = [f for f in missing if f not in self.supplies]
        if rest:
            if self.metadata_param:
                parts.append(f"add {', '.join(rest)} to `{self.metadata_param}=`")
            elif self.forwards_kwargs and self.meta_key:
                parts.append(f"add {', '.join(rest)} in `{self.meta_key}=`")
            else:
                parts.append(f"add {', '.join(rest)} in an enclosing `with attribution(...)`")
        text = "; ".join(parts)
        return f"{text}, or wrap the call in `with attribution(...)`" if via_param else text


@dataclass
class Site:
    path: str
    fact: SiteFact
    targets: list[str]  # candidate qualified names of the callee
    caller: list[str]  # candidate qualified names of the enclosing function
    internal: bool = False  # carries attribution on to its own caller: checked there


Status = tuple[str, str | None]  # (how the field arrives, detail: placeholder text or parameter)


def _status(arg: ArgFact | None) -> Status:
    if arg is None:
        return MISSING, None
    if arg.kind == NONE:
        return PLACEHOLDER_GIVEN, "None"
    if arg.kind == PLACEHOLDER:
        return PLACEHOLDER_GIVEN, arg.text or "''"
    if arg.kind == PARAM:
        return VIA_PARAM, arg.param
    return SUPPLIED, None


def _argument(site: SiteFact, wrapper: Wrapper, param: str) -> ArgFact | None:
    if param in site.kwargs:
        return site.kwargs[param]
    if param in wrapper.params:
        index = wrapper.params.index(param)
        if index < len(site.args):
            return site.args[index]
    return None


def field_statuses(site: SiteFact, wrapper: Wrapper, required: Iterable[str]) -> dict[str, Status]:
    statuses: dict[str, Status] = {}
    metadata: ArgFact | None = None
    if wrapper.metadata_param:
        metadata = _argument(site, wrapper, wrapper.metadata_param)
    if metadata is None and wrapper.forwards_kwargs and wrapper.meta_key:
        metadata = site.kwargs.get(wrapper.meta_key)
    for f in required:
        status: Status = (MISSING, None)
        if wrapper.fixes(f):
            status = (SUPPLIED, None)
        elif f in site.context:
            status = _status(site.context[f])
        elif f in wrapper.supplies:
            status = _status(_argument(site, wrapper, wrapper.supplies[f]))
            if status[0] == MISSING and wrapper.forwards_kwargs and site.forwards:
                status = (VIA_KWARGS, wrapper.supplies[f])
        if status[0] == MISSING and metadata is not None:
            if metadata.kind == PARAM:
                status = (VIA_METADATA, metadata.param)
            elif metadata.fields and f in metadata.fields:
                status = _status(metadata.fields[f])
        if status[0] == MISSING and wrapper.forwards_kwargs and site.forwards:
            status = (VIA_KWARGS, None)
        if status[0] == MISSING and f in site.kwargs and wrapper.forwards_kwargs:
            status = _status(site.kwargs[f])
        statuses[f] = status
    return statuses


def _declared(ctx: ProjectContext) -> dict[str, Wrapper]:
    out = {}
    for target, spec in ctx.config.wrappers.items():
        module, _, qual = target.partition(":")
        # declared wrappers say which parameters carry which fields; the rest is the wrapper's job
        out[f"{module}.{qual}"] = Wrapper(name=target, params=[], supplies=dict(spec.supplies), fixed=None,
                                          label=f"declared wrapper `{target}`", declared=True)
    return out


def _rescan(ctx: ProjectContext, wrapper_names: set[str]) -> None:
    """Files the prefilter skipped (no SDK in sight) may still call a wrapper: analyse those.

    A call site resolves its callee through an import, so a file can call `pkg.mod.ask` only
    if its text names both `ask` and `mod` (or, for `pkg.mod.Client.ask`, `ask` and `Client`);
    files that do not are not read twice."""
    if not wrapper_names:
        return
    anchors: dict[str, set[str]] = {}
    for name in wrapper_names:
        parts = name.replace(":", ".").split(".")
        anchors.setdefault(parts[-1], set()).add(parts[-2] if len(parts) > 1 else parts[-1])
    # Searched in the raw bytes: most skipped files are rejected without being decoded.
    pattern = re.compile(rb"\b(?:" + b"|".join(sorted(re.escape(a.encode()) for a in anchors)) + rb")\b")
    words = re.compile(rb"\w+")
    todo: list[FileResult] = []
    for result in ctx.results:
        if not result.skipped or result.path.endswith(".ipynb") or result.path in ctx.rescanned:
            continue
        try:
            with open(result.path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        found = {m.decode() for m in pattern.findall(data)}
        if not found:
            continue
        present = {m.decode() for m in set(words.findall(data))}
        if not any(anchors[name] & present for name in found):
            continue
        try:
            decode(data)
        except (UnicodeDecodeError, SyntaxError, LookupError):
            continue
        ctx.rescanned.add(result.path)
        todo.append(result)
    if todo:
        analysed = ctx.analyse_fully([r.path for r in todo])
        for result in todo:
            fresh = analysed.get(result.path)
            if fresh is not None and fresh.summary:
                result.summary = fresh.summary


def check_wrapper_sites(ctx: ProjectContext, rules: list[Rule]) -> Iterator[Finding]:
    """Infer the project's wrappers and judge each call site that must supply attribution."""
    root = ctx.config.root
    wrappers: dict[str, Wrapper] = _declared(ctx)
    names_of: dict[str, list[str]] = {}

    def names(path: str) -> list[str]:
        if path not in names_of:
            names_of[path] = module_names(path, root)
        return names_of[path]

    for result in ctx.results:
        for fact in result.summary.wrappers if result.summary else ():
            for module in names(result.path):
                name = f"{module}.{fact.qual}"
                if name in wrappers and wrappers[name].declared:
                    continue
                wrappers[name] = Wrapper.from_fact(module, fact)
    if not wrappers:
        return
    scanned: set[str] = set()
    sites: list[Site] = []
    while True:  # wrappers found below may be called from files the prefilter skipped
        fresh = set(wrappers) - scanned
        if not fresh:
            break
        scanned |= fresh
        _rescan(ctx, fresh)
        sites = _fixpoint(ctx, wrappers, names)
    for site in sites:
        wrapper = _target(site, wrappers)
        if wrapper is None or site.internal:
            continue
        check = _site_check(ctx, site, wrapper)
        for rule in rules:
            message = rule.judge(check)
            if message and ctx.suppressor.keep(rule.code, site.path, site.fact.noqa):
                fact = site.fact
                yield Finding(code=rule.code, name=rule.name, message=message, path=site.path,
                              line=fact.line, column=fact.col, end_line=fact.end_line, end_column=fact.end_col,
                              snippet=fact.snippet, cell=fact.cell, scope=fact.scope)


def _site_check(ctx: ProjectContext, site: Site, wrapper: Wrapper) -> AttributionCheck:
    required = ctx.config.required_for(site.path)
    statuses = field_statuses(site.fact, wrapper, required)
    missing = [f for f, s in statuses.items() if s[0] == MISSING]
    placeholders = tuple((f, s[1] or "''") for f, s in statuses.items() if s[0] == PLACEHOLDER_GIVEN)
    unverifiable = ""
    if site.fact.star or site.fact.context_unresolved:
        unverifiable = "arguments are passed through * or ** and cannot be read statically"
    return AttributionCheck(
        subject=f"call to {wrapper.describe()}", required=tuple(required), missing=tuple(missing),
        remedy=wrapper.how(missing), placeholders=placeholders, unverifiable=unverifiable,
        responsible=tuple(f for f in required if statuses[f][0] != SUPPLIED or not wrapper.fixes(f)),
        supplied=tuple(f for f, s in statuses.items() if s[0] == SUPPLIED),
    )


def _fixpoint(ctx: ProjectContext, wrappers: dict[str, Wrapper], names: Callable[[str], list[str]]) -> list[Site]:
    bases = _class_bases(ctx.results, names)
    sites: list[Site] = []
    for result in ctx.results:
        for fact in result.summary.sites if result.summary else ():
            targets = resolve_callee(fact.callee, result.path, names(result.path))
            caller = [f"{m}.{fact.func}" for m in names(result.path)] if fact.func else []
            sites.append(Site(result.path, fact, targets, caller))
    # a function that hands its own parameters (or **kwargs) on to a wrapper is a wrapper too
    changed = True
    rounds = 0
    while changed and rounds < 50:
        rounds += 1
        known = len(wrappers)
        _inherit(bases, wrappers)
        changed = len(wrappers) != known
        for site in sites:
            wrapper = _target(site, wrappers)
            if wrapper is None or not site.caller or site.internal:
                continue
            statuses = field_statuses(site.fact, wrapper, ctx.config.required_for(site.path))
            carried = {f: s for f, s in statuses.items() if s[0] in (VIA_PARAM, VIA_KWARGS, VIA_METADATA)}
            if not carried:
                continue
            site.internal = True
            changed = True
            for caller in site.caller:
                existing = wrappers.get(caller)
                w = existing or Wrapper(name=caller, params=[], label=wrapper.label)
                if existing is None:
                    w.params, w.kwarg = list(site.fact.func_params), site.fact.func_kwarg
                    w.fixed = {f for f, s in statuses.items() if s[0] == SUPPLIED}
                for f, (kind, detail) in carried.items():
                    if kind == VIA_PARAM:
                        w.supplies.setdefault(f, detail or "")
                    elif kind == VIA_METADATA:
                        w.metadata_param = w.metadata_param or detail
                    else:
                        w.forwards_kwargs = True
                        w.meta_key = w.meta_key or wrapper.meta_key
                        if detail:
                            w.supplies.setdefault(f, detail)
                wrappers[caller] = w
    return sites


def _class_bases(results: list[FileResult], names: Callable[[str], list[str]]) -> dict[str, list[str]]:
    bases: dict[str, list[str]] = {}
    for result in results:
        summary: ModuleSummary | None = result.summary
        for qual, raw in summary.classes.items() if summary else ():
            resolved = [t for b in raw for t in resolve_callee(b, result.path, names(result.path))]
            for module in names(result.path):
                bases[f"{module}.{qual}"] = resolved
    return bases


def _inherit(bases: dict[str, list[str]], wrappers: dict[str, Wrapper]) -> None:
    """Class hierarchies: a subclass inherits its bases' wrapper methods, and a call through a
    base class (`provider: BaseProvider`) reaches the subclasses' wrapper methods."""
    if not bases:
        return
    by_owner: dict[str, dict[str, Wrapper]] = {}
    for name, wrapper in wrappers.items():
        owner, _, method = name.rpartition(".")
        by_owner.setdefault(owner, {})[method] = wrapper
    for cls in bases:
        seen: set[str] = set()
        todo = list(bases[cls])
        own = by_owner.get(cls, {})
        while todo:
            base = todo.pop()
            if base in seen:
                continue
            seen.add(base)
            todo.extend(bases.get(base, ()))
            for method, wrapper in by_owner.get(base, {}).items():  # inherited
                wrappers.setdefault(f"{cls}.{method}", wrapper)
            for method, wrapper in own.items():  # dispatched from a base-typed receiver
                wrappers.setdefault(f"{base}.{method}", wrapper)


def _target(site: Site, wrappers: dict[str, Wrapper]) -> Wrapper | None:
    for name in site.targets:
        w = wrappers.get(name)
        if w is not None:
            return w
    return None
