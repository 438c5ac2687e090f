"""Project wrappers: functions whose LLM call takes its attribution from their own parameters.

Per file, the analyser finds wrapper definitions (a `**kwargs` forwarded to the provider
call, a parameter passed as the provider's metadata or into `attribution(...)`) and every
call the project phase must resolve; both travel in the file's `ModuleSummary`.

Here, after every file is analysed:

1. `Project` resolves what every recorded call calls. Calls that turn out to be LLM calls
   (`calls.classify`) are judged, or make their enclosing function a wrapper.
2. The wrappers declared in `[tool.attrlint.wrappers]` are added, and wrappers of wrappers
   are followed to a fixed point: a function that passes its own parameters on to a wrapper
   is one too.
3. Each remaining call site of a wrapper is judged by the rules that run at wrapper call
   sites, as is every LLM call no file could judge.
4. Fail closed: a wrapper no call site in the project reaches is judged at its own LLM call
   (nothing checks what its callers pass), and fields that no parameter of a wrapper can
   carry are reported where the wrapper calls the provider.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from attrlint.lint.analysis.attribution import AttributionCheck
from attrlint.lint.analysis.summary import (
    NONE,
    PARAM,
    PLACEHOLDER,
    CallFact,
    Position,
    ValueFact,
    WrapperFact,
)
from attrlint.lint.diagnostics import FileResult, Finding
from attrlint.lint.project import calls as project_calls
from attrlint.lint.project.context import ProjectContext
from attrlint.lint.project.inference import DictOf, Module, Project
from attrlint.lint.project.modules import module_names
from attrlint.lint.rules.base import Rule
from attrlint.lint.source import decode

MAX_ROUNDS = 4  # rounds of analysing prefilter-skipped files the project turns out to need

# How a required field reaches the provider call from a site
SUPPLIED, MISSING, PLACEHOLDER_GIVEN = "supplied", "missing", "placeholder"
VIA_PARAM, VIA_METADATA, VIA_KWARGS = "param", "metadata", "kwargs"  # carried on by the caller's own parameters


@dataclass(eq=False)
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
    origin: Position | None = None  # the LLM call the wrapper makes (its innermost, for wrappers of wrappers)
    origin_path: str = ""
    where: str = ""  # where attribution goes at that call, in words
    calls: list[tuple[str, Position, str]] = field(default_factory=list)  # every LLM call it makes (path, position, label)

    @classmethod
    def from_fact(cls, module: str, fact: WrapperFact, path: str) -> Wrapper:
        wrapper = cls(name=f"{module}:{fact.qual}", params=list(fact.params), kwonly=list(fact.kwonly),
                      kwarg=fact.kwarg, supplies=dict(fact.supplies), fixed=set(fact.fixed),
                      metadata_param=fact.metadata_param, forwards_kwargs=fact.forwards_kwargs,
                      meta_key=fact.meta_key, label=fact.label, origin=fact.origin, origin_path=path,
                      where=fact.where, calls=[(path, fact.origin, fact.label)] if fact.origin else [])
        labels = fact.more_labels if len(fact.more_labels) == len(fact.more) else [fact.label] * len(fact.more)
        wrapper.calls.extend((path, at, label) for at, label in zip(fact.more, labels))
        return wrapper

    def fixes(self, f: str) -> bool:
        """The wrapper supplies `f` itself."""
        return (self.fixed is None and f not in self.supplies) or bool(self.fixed and f in self.fixed)

    def gaps(self, required: Iterable[str]) -> list[str]:
        """Required fields neither the wrapper nor any of its parameters can supply."""
        if self.declared or self.forwards_kwargs or self.metadata_param:
            return []
        return [f for f in required if not self.fixes(f) and f not in self.supplies]

    def describe(self) -> str:
        if self.declared:
            return self.label
        where = f", {self.origin_path}:{self.origin.line}" if self.origin is not None and self.origin_path else ""
        return f"wrapper `{self.name}` ({self.label}{where})" if self.label else f"wrapper `{self.name}`"

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
        if text.endswith("in an enclosing `with attribution(...)`"):
            return text
        return f"{text}, or wrap the call in `with attribution(...)`"


@dataclass(eq=False)
class Site:
    path: str
    fact: CallFact  # with `**spreads` built elsewhere merged into its keyword arguments
    targets: list[str]  # the project functions it calls
    caller: list[str]  # qualified names of the enclosing function
    internal: bool = False  # carries attribution on to its own caller: checked there
    unverifiable: str = ""  # why what it passes cannot be read


Status = tuple[str, str | None]  # (how the field arrives, detail: placeholder text or parameter)


def _status(arg: ValueFact | None) -> Status:
    if arg is None:
        return MISSING, None
    if arg.kind == NONE:
        return PLACEHOLDER_GIVEN, "None"
    if arg.kind == PLACEHOLDER:
        return PLACEHOLDER_GIVEN, arg.text or "''"
    if arg.kind == PARAM:
        return VIA_PARAM, arg.text
    return SUPPLIED, None


def _argument(site: CallFact, wrapper: Wrapper, param: str) -> ValueFact | None:
    if param in site.kwargs:
        return site.kwargs[param]
    if param in wrapper.params:
        index = wrapper.params.index(param)
        if index < len(site.args):
            return site.args[index]
    return None


def field_statuses(site: CallFact, wrapper: Wrapper, required: Iterable[str],
                   schema_canonical: object = None) -> dict[str, Status]:
    statuses: dict[str, Status] = {}
    metadata: ValueFact | None = None
    if wrapper.metadata_param:
        metadata = _argument(site, wrapper, wrapper.metadata_param)
    if metadata is None and wrapper.forwards_kwargs and wrapper.meta_key:
        metadata = site.kwargs.get(wrapper.meta_key)
    fields: dict[str, ValueFact] = {}
    if metadata is not None and metadata.entries:
        canonical = schema_canonical if callable(schema_canonical) else (lambda key: key)
        for key, value in metadata.entries:
            name = canonical(key)
            if name:
                fields.setdefault(name, value)
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
                status = (VIA_METADATA, metadata.text)
            elif f in fields:
                status = _status(fields[f])
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


def _rescan(ctx: ProjectContext, wrapper_names: set[str], project: Project) -> None:
    """Files the prefilter skipped (no SDK in sight) may still call a wrapper: analyse those.

    A call site resolves its callee through an import, so a file can call `pkg.mod.ask` only
    if its text names both `ask` and `mod` (or, for `pkg.mod.Client.ask`, `ask` and `Client`
    or a base class of `Client`, through which the call may reach it); files that do not are
    not read twice."""
    if not wrapper_names:
        return
    anchors: dict[str, set[str]] = {}
    for name in wrapper_names:
        parts = name.replace(":", ".").split(".")
        names = anchors.setdefault(parts[-1], set())
        names.add(parts[-2] if len(parts) > 1 else parts[-1])
        owner = ".".join(parts[:-1])
        if owner in project.classes:
            names.update(base.rsplit(".", 1)[-1] for base in project.mro(owner))
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


def _referenced(ctx: ProjectContext, project: Project) -> list[FileResult]:
    """Prefilter-skipped files that define a name some analysed module uses."""
    skipped: dict[str, FileResult] = {}
    for result in ctx.results:
        if result.skipped and not result.path.endswith(".ipynb") and result.path not in ctx.rescanned:
            for name in module_names(result.path, ctx.config.root):
                skipped.setdefault(name, result)
    if not skipped:
        return []
    wanted: dict[str, FileResult] = {}
    tails = ctx.catalogue.method_tails
    for module in project.modules.values():
        summary = module.summary
        # what a possible LLM call's receiver, or a value it may come from, names
        roots: list[object] = [c.callee for c in summary.calls if c.callee.kind == "attr" and c.callee.text in tails]
        roots += [c.callee for c in summary.calls if c.callee.kind == "name"]
        roots += [summary.globals, [c.attrs for c in summary.classes], [f.returns for f in summary.functions]]
        for fact in _names_in(roots):
            for full in project.qualify(module, fact):
                parts = full.split(".")
                for cut in range(len(parts), 0, -1):
                    result = skipped.get(".".join(parts[:cut]))
                    if result is not None:
                        wanted[result.path] = result
                        break
    return list(wanted.values())


def _names_in(summary: object) -> Iterator[str]:
    """Every project name a module summary refers to."""
    stack: list[object] = [summary]
    while stack:
        item = stack.pop()
        if isinstance(item, ValueFact):
            if item.kind in ("name", "self"):
                yield item.text
            stack.extend(item.members)
            stack.extend(v for _, v in item.entries or ())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif hasattr(item, "__slots__"):
            stack.extend(getattr(item, name) for name in item.__slots__ if not name.startswith("_"))


def _analyse_skipped(ctx: ProjectContext, results: list[FileResult]) -> None:
    if not results:
        return
    for result in results:
        ctx.rescanned.add(result.path)
    analysed = ctx.analyse_fully([r.path for r in results])
    for result in results:
        fresh = analysed.get(result.path)
        if fresh is not None and fresh.summary:
            result.summary = fresh.summary


def check_project_calls(ctx: ProjectContext, rules: list[Rule]) -> Iterator[Finding]:
    """Resolve every recorded call over the project; judge the LLM calls no file could judge
    and every call site of a wrapper; fail closed on wrappers nothing checkable calls."""
    scanned: set[str] = set()
    for round_ in range(MAX_ROUNDS + 1):
        project = Project(ctx.catalogue, ctx.config.root,
                          [(r.path, r.summary) for r in ctx.results if r.summary])
        project.sites()
        wrappers: dict[str, Wrapper] = _declared(ctx)
        for module in project.modules.values():
            for fact in module.summary.wrappers:
                wrapper = Wrapper.from_fact(module.names[-1], fact, module.path)  # one wrapper, every name
                for name in module.names:
                    key = f"{name}.{fact.qual}"
                    if key not in wrappers or not wrappers[key].declared:
                        wrappers[key] = wrapper
        judged, found_wrappers = _llm_calls(ctx, project)
        for name, wrapper in found_wrappers.items():
            if name not in wrappers or not wrappers[name].declared:
                wrappers[name] = wrapper
        sites = _fixpoint(ctx, project, wrappers)
        if round_ == MAX_ROUNDS:
            break
        # modules the analysed ones import from, which the prefilter skipped (a re-export, a
        # lazy proxy, a factory with no SDK name in it), and files that may call a new wrapper
        before = len(ctx.rescanned)
        _analyse_skipped(ctx, _referenced(ctx, project))
        wanted = set(wrappers) | _helpers(ctx, project)
        _rescan(ctx, wanted - scanned, project)
        scanned |= wanted
        if len(ctx.rescanned) == before:
            break
    findings: list[Finding] = []
    # a call judged as an LLM call (here or in its file) is not judged again as a call of a
    # wrapper the same expression may also reach; its finding names the wrapper instead
    as_llm_call = {(path, at.line, at.col) for path, at, _ in judged}
    as_llm_call |= {(r.path, f.line, f.column) for r in ctx.results for f in r.findings
                    if f.code in ("ATR001", "ATR002", "ATR008")}
    through: dict[tuple[str, int, int], str] = {}
    targeted: set[int] = set()
    for site in sites:
        wrapper = _target(site, wrappers)
        if wrapper is None:
            continue
        for reached in _all_targets(site, wrappers):
            if not any(wrappers.get(c) is reached for c in site.caller):  # a recursive call does not reach it
                targeted.add(id(reached))
        if site.internal:
            continue
        position = (site.path, site.fact.at.line, site.fact.at.col)
        if position in as_llm_call:
            through.setdefault(position, wrapper.describe())
            continue
        findings.extend(_judge(ctx, rules, site.path, site.fact.at,
                               _site_check(ctx, site, wrapper, _all_targets(site, wrappers)[1:])))
    for path, at, check in judged:
        via = through.get((path, at.line, at.col))
        if via:
            check = dataclasses.replace(check, subject=f"{check.subject} (through {via})")
        findings.extend(_judge(ctx, rules, path, at, check))
    findings.extend(_unchecked_wrappers(ctx, rules, wrappers, targeted, sites))
    yield from _with_callers(ctx, project, sites, findings)


def _helpers(ctx: ProjectContext, project: Project) -> set[str]:
    """Functions holding a per-file ATR001/ATR002 finding: their callers are named in it, so
    files that may call them are analysed too."""
    by_path = {module.path: module for module in project.modules.values()}
    names: set[str] = set()
    for result in ctx.results:
        module = by_path.get(result.path)
        if module is None:
            continue
        for finding in result.findings:
            if finding.scope and finding.code in ("ATR001", "ATR002"):
                names.update(f"{name}.{finding.scope}" for name in module.names
                             if f"{name}.{finding.scope}" in project.functions)
    return names


def _with_callers(ctx: ProjectContext, project: Project, sites: list[Site],
                  findings: list[Finding]) -> list[Finding]:
    """A call with no attribution in a helper that has none of the required fields in scope
    (no parameter names them) is fixed where the helper is called: name those callers.

    Returns the project findings with the callers added, plus a copy of each per-file finding
    that gains them (the runner keeps a project-phase finding in place of a per-file one at
    the same position and code)."""
    by_path = {module.path: module for module in project.modules.values()}
    callers: dict[str, list[Site]] = {}
    for site in sites:
        for target in site.targets:
            if target not in site.caller:  # a recursive call is no caller
                callers.setdefault(target, []).append(site)

    def hint(finding: Finding) -> str:
        module = by_path.get(finding.path)
        if module is None or not finding.scope or finding.code not in ("ATR001", "ATR002"):
            return ""
        names = [f"{name}.{finding.scope}" for name in module.names]
        definition = next((project.functions[n] for n in names if n in project.functions), None)
        if definition is None:
            return ""
        fact = definition.fact
        required = ctx.config.required_for(finding.path)
        params = [*getattr(fact, "params", ()), *getattr(fact, "kwonly", ())]
        stems = list(dict.fromkeys(f.removesuffix("_id") for f in required))
        if any(stem in param.lower() for param in params for stem in stems):
            return ""  # a field is in scope: the remedy at the call applies
        found: dict[tuple[str, int], Site] = {}
        for name in names:
            for site in callers.get(name, ()):
                found.setdefault((site.path, site.fact.at.line), site)
        if not found:
            return ""
        shown = sorted(found.values(), key=lambda s: (s.path, s.fact.at.line))
        listed = ", ".join(f"`{s.fact.func or '<module>'}` ({s.path.removeprefix('./')}:{s.fact.at.line})"
                           for s in shown[:3])
        more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
        short = finding.scope.rsplit(".", 1)[-1]
        named = ", ".join(stems[:-1]) + f" or {stems[-1]}" if len(stems) > 1 else stems[0]
        return (f"; `{short}` has no {named} in scope: its callers can wrap their call in "
                f"`with attribution(...)`: {listed}{more}")

    out: list[Finding] = []
    replaced: set[tuple[str, int, int, str]] = set()
    for finding in findings:
        extra = hint(finding)
        out.append(dataclasses.replace(finding, message=finding.message + extra) if extra else finding)
        replaced.add((finding.path, finding.line, finding.column, finding.code))
    for result in ctx.results:
        for finding in result.findings:
            if (finding.path, finding.line, finding.column, finding.code) in replaced:
                continue
            extra = hint(finding)
            if extra:
                out.append(dataclasses.replace(finding, message=finding.message + extra))
    return out


def _llm_calls(ctx: ProjectContext, project: Project
               ) -> tuple[list[tuple[str, Position, AttributionCheck]], dict[str, Wrapper]]:
    """The recorded calls that resolve to LLM calls: each is judged, or is a wrapper's call."""
    judged: list[tuple[str, Position, AttributionCheck]] = []
    wrappers: dict[str, Wrapper] = {}
    schema = ctx.config.schema
    for module in project.modules.values():
        for call in module.summary.calls:
            found = project_calls.classify(project, module, call)
            if found is None:
                continue
            reading = project_calls.read_attribution(project, found, schema)
            carried = {f: s for f, s in reading.statuses.items() if s[0] == project_calls.VIA_PARAM}
            if call.func and (carried or reading.metadata_param or reading.forwards):
                fixed = {f for f, s in reading.statuses.items() if s[0] != project_calls.VIA_PARAM}
                spec = found.sdk.metadata
                keys = [f"{name}.{call.func}" for name in module.names]
                existing = next((wrappers[k] for k in keys if k in wrappers), None)
                w = existing or Wrapper(
                    name=f"{module.names[-1]}:{call.func}", params=list(call.func_params), kwarg=call.func_kwarg,
                    label=found.label, fixed=fixed, origin=call.at, origin_path=module.path,
                    where=project_calls.where_to_put(found.sdk))
                if existing is not None and w.fixed is not None:
                    w.fixed &= fixed
                w.calls.append((module.path, call.at, found.label))
                for f, (_, param) in carried.items():
                    w.supplies.setdefault(f, param)
                w.metadata_param = w.metadata_param or reading.metadata_param
                if reading.forwards:
                    w.forwards_kwargs = True
                    w.meta_key = spec.param if spec is not None and not spec.path else w.meta_key
                for key in keys:
                    wrappers[key] = w
                continue
            judged.append((module.path, call.at, project_calls.check(found, reading, ctx.config.required_for(module.path))))
    return judged, wrappers


def _judge(ctx: ProjectContext, rules: list[Rule], path: str, at: Position, check: AttributionCheck) -> Iterator[Finding]:
    for rule in rules:
        message = rule.judge(check)
        if message and ctx.suppressor.keep(rule.code, path, at.noqa):
            yield Finding(code=rule.code, name=rule.name, message=message, path=path, line=at.line,
                          column=at.col, end_line=at.end_line, end_column=at.end_col, snippet=at.snippet,
                          cell=at.cell, scope=at.scope)


def _site_check(ctx: ProjectContext, site: Site, wrapper: Wrapper, others: list[Wrapper] = ()) -> AttributionCheck:
    """The attribution a call site gives `wrapper`; `others` are the other wrappers it may
    reach (overrides of a method called through a base class), named in the finding."""
    required = ctx.config.required_for(site.path)
    gaps = set(wrapper.gaps(required))  # reported where the wrapper calls the provider
    statuses = field_statuses(site.fact, wrapper, required, ctx.config.schema.canonical_name)
    missing = [f for f, s in statuses.items() if s[0] == MISSING and f not in gaps]
    placeholders = tuple((f, s[1] or "''") for f, s in statuses.items() if s[0] == PLACEHOLDER_GIVEN)
    return AttributionCheck(
        subject=f"call to {wrapper.describe()}" + _alternatives(others), required=tuple(required),
        missing=tuple(missing), remedy=wrapper.how(missing), placeholders=placeholders, unverifiable=site.unverifiable,
        responsible=tuple(f for f in required
                          if f not in gaps and (statuses[f][0] != SUPPLIED or not wrapper.fixes(f))),
        supplied=tuple(f for f, s in statuses.items() if s[0] == SUPPLIED),
    )


def _alternatives(others: list[Wrapper], shown: int = 3) -> str:
    if not others:
        return ""
    more = f" and {len(others) - shown} more" if len(others) > shown else ""
    return " or to " + " or ".join(w.describe() for w in others[:shown]) + more


def _unchecked_wrappers(ctx: ProjectContext, rules: list[Rule], wrappers: dict[str, Wrapper],
                        targeted: set[int], sites: list[Site]) -> Iterator[Finding]:
    """Fail closed at a wrapper's own LLM call: fields it takes from its callers cannot be
    verified when no call in the project reaches it (ATR008), and fields no parameter of it
    can carry are missing (unless every caller sets them in an enclosing `with attribution(...)`)."""
    seen: set[tuple[str, int, int, str]] = set()
    for wrapper in {id(w): w for w in wrappers.values()}.values():
        if wrapper.declared or wrapper.origin is None:
            continue
        at = wrapper.origin
        required = ctx.config.required_for(wrapper.origin_path)
        gaps = wrapper.gaps(required)
        where = wrapper.where or "an enclosing `with attribution(...)`"
        short = wrapper.name.rpartition(":")[2] or wrapper.name
        if id(wrapper) not in targeted:
            carried = [f for f in required if not wrapper.fixes(f) and f not in gaps]
            pronoun = "it" if len(carried) == 1 else "them"
            for path, call_at, label in wrapper.calls or [(wrapper.origin_path, at, wrapper.label)]:
                key = (path, call_at.line, call_at.col, "carried")
                if carried and key not in seen:
                    seen.add(key)
                    yield from _judge(ctx, rules, path, call_at, AttributionCheck(
                        subject=f"{label} in `{wrapper.name}`", required=required, missing=tuple(carried),
                        remedy="", unverifiable=(f"`{short}` takes {pronoun} from its callers, and no call in this "
                                                 f"project that attrlint can follow reaches it (a framework or "
                                                 f"another service may call it); add {pronoun} here, or declare "
                                                 f"the wrapper in [tool.attrlint.wrappers]")))
        else:
            callers = [s for s in sites if not s.internal and wrapper in _all_targets(s, wrappers)]
            if callers and all(all(g in s.fact.context for g in gaps) for s in callers):
                continue
        key = (wrapper.origin_path, at.line, at.col, "gaps")
        if not gaps or key in seen:
            continue
        seen.add(key)
        yield from _judge(ctx, rules, wrapper.origin_path, at, AttributionCheck(
            subject=f"{wrapper.label} in `{wrapper.name}`", required=required, missing=tuple(gaps),
            remedy=(f"no parameter of `{short}` carries {', '.join(gaps)}; add "
                    f"{'it' if len(gaps) == 1 else 'them'} here in {where}"),
        ))


def _fixpoint(ctx: ProjectContext, project: Project, wrappers: dict[str, Wrapper]) -> list[Site]:
    sites: list[Site] = []
    for module in project.modules.values():
        for call in module.summary.calls:
            targets = project.targets(module, call)
            if not targets:
                continue
            caller = [f"{m}.{call.func}" for m in module.names] if call.func else []
            merged, unverifiable = _with_spreads(project, module, call)
            sites.append(Site(module.path, merged, targets, caller, unverifiable=unverifiable))
    canonical = ctx.config.schema.canonical_name
    # a function that hands its own parameters (or **kwargs) on to a wrapper is a wrapper too
    changed = True
    rounds = 0
    while changed and rounds < 50:
        rounds += 1
        changed = False
        for site in sites:
            wrapper = _target(site, wrappers)
            if wrapper is None or not site.caller or site.internal:
                continue
            statuses = field_statuses(site.fact, wrapper, ctx.config.required_for(site.path), canonical)
            carried = {f: s for f, s in statuses.items() if s[0] in (VIA_PARAM, VIA_KWARGS, VIA_METADATA)}
            if not carried:
                continue
            site.internal = True
            changed = True
            existing = next((wrappers[c] for c in site.caller if c in wrappers), None)
            module_name, func = site.caller[-1][: -len(site.fact.func or "") - 1], site.fact.func
            w = existing or Wrapper(name=f"{module_name}:{func}", params=[], label=wrapper.label,
                                    origin=wrapper.origin, origin_path=wrapper.origin_path, where=wrapper.where)
            for call in wrapper.calls:
                if call not in w.calls:
                    w.calls.append(call)
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
            for caller in site.caller:
                wrappers[caller] = w
    return sites


def _with_spreads(project: Project, module: Module, call: CallFact) -> tuple[CallFact, str]:
    """The call with its `**spreads` (dicts built by other functions) merged into its keyword
    arguments, and why what it passes cannot be read ("" when it can)."""
    unverifiable = ""
    if call.star or call.context_unresolved:
        unverifiable = "arguments are passed through * or ** and cannot be read statically"
    if not call.spreads:
        return call, unverifiable
    kwargs = dict(call.kwargs)
    for spread in call.spreads:
        dicts = [v for v in project.resolve(module, spread) if isinstance(v, DictOf)]
        if not dicts or not all(d.complete for d in dicts):
            unverifiable = "arguments are passed through ** and cannot be read statically"
        for d in dicts:
            for key, value, _ in d.entries:
                # a builder's own parameter is a value its caller gave it: supplied here
                kwargs.setdefault(key, ValueFact() if value.kind == PARAM else value)
    return dataclasses.replace(call, kwargs=kwargs), unverifiable


def _target(site: Site, wrappers: dict[str, Wrapper]) -> Wrapper | None:
    """The wrapper a site is judged against: the first of its targets (sorted by name)."""
    for name in site.targets:
        w = wrappers.get(name)
        if w is not None:
            return w
    return None


def _all_targets(site: Site, wrappers: dict[str, Wrapper]) -> list[Wrapper]:
    """Every wrapper a site may call: a call through a base class reaches each override."""
    found: dict[int, Wrapper] = {}
    for name in site.targets:
        w = wrappers.get(name)
        if w is not None:
            found.setdefault(id(w), w)
    return list(found.values())
