"""Project wrappers: functions whose LLM call takes its attribution from their own parameters.

Per file, the analyser finds wrapper definitions (a `**kwargs` forwarded to the provider
call, a parameter passed as the provider's metadata or into `attribution(...)`) and every
call to a project function; `module_facts` stores both in `FileResult.facts` as JSON.

After every file is analysed, `check_wrapper_calls` names each module from its path, adds
the wrappers declared in `[tool.attrlint.wrappers]`, follows wrappers of wrappers to a fixed
point (a function that passes its own parameters on to a wrapper is one too) and checks
each remaining call site with the attribution rules, reporting at the call site.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrlint.lint.engine import Linter, noqa_map
from attrlint.lint.rules.base import FileContext
from attrlint.lint.diagnostics import FileResult, Finding

FACT_WRAPPERS = "wrapper_defs"
FACT_CALLS = "wrapper_calls"
FACT_CLASSES = "class_bases"


# -- per file -----------------------------------------------------------------------------------


def module_facts(ctx: FileContext, tree: ast.Module) -> dict[str, Any]:
    module = ctx.module
    if not module.wrappers and not module.call_sites and not module.classes:
        return {}
    facts: dict[str, Any] = {}
    if module.classes:
        facts[FACT_CLASSES] = module.classes
    if module.wrappers:
        facts[FACT_WRAPPERS] = [{
            "qual": w.qual, "params": w.params, "kwonly": w.kwonly, "kwarg": w.kwarg,
            "supplies": dict(w.supplies), "fixed": sorted(w.fixed), "metadata_param": w.metadata_param,
            "forwards_kwargs": w.forwards_kwargs, "meta_key": w.meta_key, "label": w.label,
        } for w in module.wrappers]
    if module.call_sites:
        noqa = noqa_map(ctx.lines)
        sites = []
        for site in module.call_sites:
            line, col, end_line, end_col = ctx.position(site.node)
            codes = noqa.get(line, ())
            sites.append({
                "callee": site.callee, "args": site.args, "kwargs": site.kwargs, "star": site.star,
                "context": site.context, "context_unresolved": site.context_unresolved,
                "func": site.func, "func_params": site.func_params, "func_kwarg": site.func_kwarg,
                "forwards": site.forwards,
                "line": line, "col": col, "end_line": end_line, "end_col": end_col,
                "cell": ctx.cell, "snippet": ctx.snippet(site.node), "scope": site.scope,
                "noqa": None if codes is None else sorted(codes) if codes else [],
                "has_noqa": line in noqa,
            })
        facts[FACT_CALLS] = sites
    return facts


# -- module names -------------------------------------------------------------------------------


def module_names(path: str, root: Path) -> list[str]:
    """Names the module at `path` can be imported by: from its package root (the first
    directory up without `__init__.py`), and relative to the config root (with and without
    a leading `src.`)."""
    absolute = Path(os.path.abspath(path))
    stem = absolute.with_suffix("")
    parts = [] if stem.name == "__init__" else [stem.name]
    directory = absolute.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    names = [".".join(parts)] if parts else []
    try:
        rel = stem.relative_to(root.resolve())
        rel_parts = [p for p in rel.parts if p != "__init__"] if rel.name == "__init__" else list(rel.parts)
        if rel.name == "__init__":
            rel_parts = list(rel.parts[:-1])
        if rel_parts:
            names.append(".".join(rel_parts))
            if rel_parts[0] == "src" and len(rel_parts) > 1:
                names.append(".".join(rel_parts[1:]))
    except ValueError:
        pass
    return list(dict.fromkeys(n for n in names if n))


def _package(path: str, module: str) -> str:
    return module if os.path.basename(path) == "__init__.py" else module.rpartition(".")[0]


def resolve_callee(callee: str, path: str, names: list[str]) -> list[str]:
    if callee.startswith(":"):
        return [f"{n}.{callee[1:]}" for n in names] or [callee[1:]]
    if callee.startswith("."):
        level = len(callee) - len(callee.lstrip("."))
        rest = callee[level:]
        out = []
        for n in names[:1]:
            package = _package(path, n)
            for _ in range(level - 1):
                package = package.rpartition(".")[0]
            out.append(f"{package}.{rest}" if package else rest)
        return out
    return [callee]


# -- the project phase --------------------------------------------------------------------------


@dataclass
class Wrapper:
    name: str  # "pkg.mod.ask" (display)
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

    def signature(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.supplies.items())), None if self.fixed is None else tuple(sorted(self.fixed)),
                self.metadata_param, self.forwards_kwargs, self.meta_key)


@dataclass
class Site:
    path: str
    data: dict[str, Any]
    targets: list[str]  # candidate qualified names of the callee
    caller: list[str]  # candidate qualified names of the enclosing function
    internal: bool = False


def _status(desc: dict | None) -> tuple[str, Any]:
    """("supplied" | "missing" | "placeholder" | "param", detail)."""
    if desc is None:
        return "missing", None
    kind = desc.get("v")
    if kind == "none":
        return "placeholder", "None"
    if kind == "placeholder":
        return "placeholder", desc.get("text", "''")
    if kind == "param":
        return "param", desc["p"]
    return "supplied", None


def _argument(site: dict, wrapper: Wrapper, param: str) -> dict | None:
    if param in site["kwargs"]:
        return site["kwargs"][param]
    if param in wrapper.params:
        index = wrapper.params.index(param)
        if index < len(site["args"]):
            return site["args"][index]
    return None


def field_statuses(site: dict, wrapper: Wrapper, required: Iterable[str]) -> dict[str, tuple[str, Any]]:
    statuses: dict[str, tuple[str, Any]] = {}
    metadata: dict | None = None
    if wrapper.metadata_param:
        metadata = _argument(site, wrapper, wrapper.metadata_param)
    if metadata is None and wrapper.forwards_kwargs and wrapper.meta_key:
        metadata = site["kwargs"].get(wrapper.meta_key)
    for f in required:
        status: tuple[str, Any] = ("missing", None)
        if (wrapper.fixed is None and f not in wrapper.supplies) or (wrapper.fixed and f in wrapper.fixed):
            status = ("supplied", None)
        elif f in site["context"]:
            status = _status(site["context"][f])
        elif f in wrapper.supplies:
            status = _status(_argument(site, wrapper, wrapper.supplies[f]))
            if status[0] == "missing" and wrapper.forwards_kwargs and site["forwards"]:
                status = ("kwargs", wrapper.supplies[f])
        if status[0] == "missing" and metadata is not None:
            if metadata.get("v") == "param":
                status = ("metadata", metadata["p"])
            elif f in metadata.get("fields", {}):
                status = _status(metadata["fields"][f])
        if status[0] == "missing" and wrapper.forwards_kwargs and site["forwards"]:
            status = ("kwargs", None)
        if status[0] == "missing" and f in site["kwargs"] and wrapper.forwards_kwargs:
            status = _status(site["kwargs"][f])
        statuses[f] = status
    return statuses


def _declared(linter: Linter) -> dict[str, Wrapper]:
    out = {}
    for target, spec in linter.config.wrappers.items():
        module, _, qual = target.partition(":")
        name = f"{module}.{qual}"
        # declared wrappers say which parameters carry which fields; the rest is the wrapper's job
        out[name] = Wrapper(name=target, params=[], supplies={f: p for f, p in spec.supplies.items()},
                            fixed=None, label=f"declared wrapper `{target}`", declared=True)
    return out


def _missing_facts(linter: Linter, results: list[FileResult], wrapper_names: set[str]) -> None:
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
    analyse = getattr(linter, "analyse_fully", None)  # the runner's: in the process pool
    _rescanned = linter.__dict__.setdefault("_wrapper_rescanned", set())
    todo: list[FileResult] = []
    for result in results:
        if not result.skipped or result.path.endswith(".ipynb") or result.path in _rescanned:
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
            from attrlint.lint.engine import decode

            text = decode(data)
        except (UnicodeDecodeError, SyntaxError, LookupError):
            continue
        _rescanned.add(result.path)
        if analyse is not None:
            todo.append(result)
            continue
        try:
            tree = ast.parse(text, filename=result.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        fresh = linter.lint_text(text, result.path, tree=tree)
        result.facts.update(fresh.facts)
    if todo:
        analysed = analyse([r.path for r in todo])  # type: ignore[misc]
        for result in todo:
            result.facts.update(analysed[result.path].facts)


def check_wrapper_calls(linter: Linter, results: list[FileResult]) -> list[Finding]:
    codes = linter.codes
    if not codes & {"ATR001", "ATR002", "ATR004", "ATR008"}:
        return []
    root = linter.config.root
    wrappers: dict[str, Wrapper] = _declared(linter)
    names_of: dict[str, list[str]] = {}

    def names(path: str) -> list[str]:
        if path not in names_of:
            names_of[path] = module_names(path, root)
        return names_of[path]

    for result in results:
        for w in result.facts.get(FACT_WRAPPERS, []):
            for module in names(result.path):
                name = f"{module}.{w['qual']}"
                if name in wrappers and wrappers[name].declared:
                    continue
                wrappers[name] = Wrapper(
                    name=f"{module}:{w['qual']}", params=w["params"], kwonly=w["kwonly"], kwarg=w["kwarg"],
                    supplies=dict(w["supplies"]), fixed=set(w["fixed"]), metadata_param=w["metadata_param"],
                    forwards_kwargs=w["forwards_kwargs"], meta_key=w["meta_key"], label=w["label"])
    if not wrappers:
        return []
    scanned: set[str] = set()
    while True:  # wrappers found below may be called from files the prefilter skipped
        fresh = set(wrappers) - scanned
        if not fresh:
            break
        scanned |= fresh
        _missing_facts(linter, results, fresh)
        sites = _wrapper_fixpoint(linter, results, wrappers, names)
    return _site_findings(linter, sites, wrappers)


def _wrapper_fixpoint(linter: Linter, results: list[FileResult], wrappers: dict[str, Wrapper],
                      names: Any) -> list[Site]:
    bases = _class_bases(results, names)

    sites: list[Site] = []
    for result in results:
        for data in result.facts.get(FACT_CALLS, []):
            targets = resolve_callee(data["callee"], result.path, names(result.path))
            caller = [f"{m}.{data['func']}" for m in names(result.path)] if data["func"] else []
            sites.append(Site(result.path, data, targets, caller))
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
            required = linter.config.required_for(site.path)
            statuses = field_statuses(site.data, wrapper, required)
            carried = {f: s for f, s in statuses.items() if s[0] in ("param", "kwargs", "metadata")}
            if not carried:
                continue
            site.internal = True
            changed = True
            for caller in site.caller:
                existing = wrappers.get(caller)
                w = existing or Wrapper(name=caller, params=[], label=wrapper.label)
                if existing is None:
                    w.params, w.kwarg = list(site.data.get("func_params", [])), site.data.get("func_kwarg")
                    w.fixed = {f for f, s in statuses.items() if s[0] == "supplied"}
                for f, (kind, detail) in carried.items():
                    if kind == "param":
                        w.supplies.setdefault(f, detail)
                    elif kind == "metadata":
                        w.metadata_param = w.metadata_param or detail
                    else:
                        w.forwards_kwargs = True
                        w.meta_key = w.meta_key or wrapper.meta_key
                        if detail:
                            w.supplies.setdefault(f, detail)
                wrappers[caller] = w
    return sites


def _site_findings(linter: Linter, sites: list[Site], wrappers: dict[str, Wrapper]) -> list[Finding]:
    findings: list[Finding] = []
    from attrlint.lint.rules.base import rules_by_code

    rules = rules_by_code()
    for site in sites:
        wrapper = _target(site, wrappers)
        if wrapper is None or site.internal:
            continue
        findings.extend(_check_site(linter, site, wrapper, rules))
    return findings


def _class_bases(results: list[FileResult], names: Any) -> dict[str, list[str]]:
    bases: dict[str, list[str]] = {}
    for result in results:
        for qual, raw in result.facts.get(FACT_CLASSES, {}).items():
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


def _check_site(linter: Linter, site: Site, wrapper: Wrapper, rules: dict) -> list[Finding]:
    data = site.data
    required = linter.config.required_for(site.path)
    statuses = field_statuses(data, wrapper, required)
    out: list[tuple[str, str]] = []
    missing = [f for f, s in statuses.items() if s[0] == "missing"]
    placeholders = [(f, s[1]) for f, s in statuses.items() if s[0] == "placeholder"]
    if placeholders:
        shown = ", ".join(f"`{f}` is {text}" for f, text in placeholders)
        out.append(("ATR004", f"{shown} in this call to {_describe(wrapper)}: pass the real identifier"))
    responsible = [f for f in required if statuses[f][0] != "supplied" or not _fixed(wrapper, f)]
    if missing:
        how = _how(wrapper, missing)
        if data["star"] or data["context_unresolved"]:
            if linter.strict:
                out.append(("ATR008", (f"call to {_describe(wrapper)}: cannot verify {', '.join(missing)} "
                                      "(arguments are passed through * or ** and cannot be read statically)")))
        elif len(missing) == len(responsible) and not placeholders:
            out.append(("ATR001", f"call to {_describe(wrapper)} has no attribution: {how}"))
        else:
            have = ", ".join(f for f in required if f not in missing)
            out.append(("ATR002", (f"call to {_describe(wrapper)} supplies {have} but not "
                                  f"{', '.join(missing)}: {how}")))
    findings = []
    ignored = linter.config.ignored_codes_for(site.path) if linter.config.per_file_ignores else ()
    for code, message in out:
        if code not in linter.codes or any(code.startswith(p) for p in ignored):
            continue
        if data.get("has_noqa") and (data["noqa"] is None or code in data["noqa"]):
            continue
        findings.append(Finding(
            code=code, name=rules[code].name, message=message, path=site.path,
            line=data["line"], column=data["col"], end_line=data["end_line"], end_column=data["end_col"],
            snippet=data["snippet"], cell=data.get("cell"), scope=data.get("scope", ""),
        ))
    return findings


def _fixed(wrapper: Wrapper, f: str) -> bool:
    """The wrapper supplies `f` itself."""
    return (wrapper.fixed is None and f not in wrapper.supplies) or bool(wrapper.fixed and f in wrapper.fixed)


def _describe(wrapper: Wrapper) -> str:
    if wrapper.declared:
        return wrapper.label
    return f"wrapper `{wrapper.name}` ({wrapper.label})" if wrapper.label else f"wrapper `{wrapper.name}`"


def _how(wrapper: Wrapper, missing: list[str]) -> str:
    parts = []
    via_param = [f"`{wrapper.supplies[f]}=` ({f})" for f in missing if f in wrapper.supplies]
    if via_param:
        parts.append("pass " + ", ".join(via_param))
    rest = [f for f in missing if f not in wrapper.supplies]
    if rest:
        if wrapper.metadata_param:
            parts.append(f"add {', '.join(rest)} to `{wrapper.metadata_param}=`")
        elif wrapper.forwards_kwargs and wrapper.meta_key:
            parts.append(f"add {', '.join(rest)} in `{wrapper.meta_key}=`")
        else:
            parts.append(f"add {', '.join(rest)} in an enclosing `with attribution(...)`")
    text = "; ".join(parts)
    return f"{text}, or wrap the call in `with attribution(...)`" if via_param else text
