"""Project-wide inference: what the symbolic values in every file's summary are.

Each file's summary says what its functions return, what its classes' attributes and its
module globals hold, and which calls it makes, with symbolic values where the file alone
could not tell (`ValueFact` kinds NAME, SELF, CALL, ATTR, ARG). This module resolves them over
the whole project, on demand and memoised:

- a name: a function, a class, a module, or a module global of the project (through imports,
  re-exports and relative imports);
- a call of a function: what its `return`s give (or its annotation); of a class: an instance;
- an attribute of an instance: what the class, its bases, or (for `self`) its subclasses
  assign to it; an instance of a lazy proxy class is the SDK module it stands for;
- a parameter: what every call site of the function passes for it (for `__init__`, every
  construction site of the class): how `self.llm = llm` learns it is a `ChatOpenAI`.

Nothing here reads a file: the summaries are all it knows. Recursion is cut (a value being
resolved while it is resolved is unknown there), and unions are capped, so it always ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from attrlint.core.catalogue import Catalogue, ClientSpec, Sdk
from attrlint.lint.analysis.summary import (
    ARG,
    ATTR,
    CALL,
    CLIENT,
    DICT,
    MOCK,
    NAME,
    PARAM,
    SDK,
    SELF,
    UNION,
    CallFact,
    ClassFact,
    FunctionFact,
    ModuleSummary,
    ValueFact,
)
from attrlint.lint.project.modules import module_names, resolve_callee

CHAIN_SKIP = frozenset({"with_raw_response", "with_streaming_response"})
MAX_VALUES = 12  # alternatives kept per value: more means nothing useful is known
MAX_SITES = 64  # call sites read to learn what a parameter is


# -- resolved values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    sdk: Sdk
    spec: ClientSpec | None
    path: tuple[str, ...] = ()
    instrumented: bool = False
    supplied: tuple[str, ...] = ()


@dataclass(frozen=True)
class SdkName:
    name: str  # `litellm`, `openai.OpenAI`, `litellm.completion`


@dataclass(frozen=True)
class Func:
    name: str  # "pkg.mod.f", "pkg.mod.Cls.m"


@dataclass(frozen=True)
class Cls:
    name: str


@dataclass(frozen=True)
class Inst:
    cls: str
    exact: bool = True  # False for `self`: an instance of the class or of any subclass


@dataclass(frozen=True)
class ModuleRef:
    name: str


@dataclass(frozen=True)
class DictOf:
    """A dict whose entries are known: (key, value fact, the module that wrote it)."""

    entries: tuple[tuple[str, ValueFact, str], ...]
    complete: bool


Resolved = Client | SdkName | Func | Cls | Inst | ModuleRef | DictOf


@dataclass
class Module:
    path: str
    names: list[str]  # the names it can be imported by
    summary: ModuleSummary


@dataclass
class Def:
    module: Module
    fact: FunctionFact | ClassFact | ValueFact


class Project:
    """Every file's summary, indexed by qualified name, and the resolver over them."""

    def __init__(self, catalogue: Catalogue, root: Path, modules: Iterable[tuple[str, ModuleSummary]]) -> None:
        self.cat = catalogue
        self.modules: dict[str, Module] = {}
        self.functions: dict[str, Def] = {}
        self.classes: dict[str, Def] = {}
        self.globals: dict[str, Def] = {}
        self.module_names: dict[str, Module] = {}
        for path, summary in modules:
            module = Module(path, module_names(path, root) or [Path(path).stem], summary)
            self.modules[path] = module
            for name in module.names:
                self.module_names.setdefault(name, module)
                for fn in summary.functions:
                    self.functions.setdefault(f"{name}.{fn.qual}", Def(module, fn))
                for cls in summary.classes:
                    self.classes.setdefault(f"{name}.{cls.qual}", Def(module, cls))
                for gname, value in summary.globals.items():
                    self.globals.setdefault(f"{name}.{gname}", Def(module, value))
        self._by_leaf: dict[str, list[str]] = {}  # "LLMEndpoint" -> every definition of that name
        for table in (self.functions, self.classes, self.globals):
            for full in table:
                self._by_leaf.setdefault(full.rpartition(".")[2], []).append(full)
        self._memo: dict[tuple[str, ValueFact], frozenset[Resolved]] = {}
        self._active: set[tuple[str, ValueFact]] = set()
        self._bases: dict[str, list[str]] = {}
        self._subclasses: dict[str, list[str]] = {}
        self._sites: dict[str, list[tuple[Module, CallFact]]] | None = None
        self._use_args = False
        self._index_classes()

    # -- names ----------------------------------------------------------------------------------

    def qualify(self, module: Module, name: str) -> list[str]:
        """The absolute names a name written in `module` may mean."""
        return resolve_callee(name, module.path, module.names)

    def lookup(self, module: Module, name: str) -> frozenset[Resolved]:
        found: set[Resolved] = set()
        for full in self.qualify(module, name):
            found |= self._lookup_absolute(full)
        return frozenset(found)

    def _lookup_absolute(self, full: str, prefixes: bool = True) -> set[Resolved]:
        if full in self.functions:
            return {Func(full)}
        if full in self.classes:
            return {Cls(full)}
        if full in self.globals:
            definition = self.globals[full]
            assert isinstance(definition.fact, ValueFact)
            return set(self.resolve(definition.module, definition.fact))
        if full in self.module_names:
            return {ModuleRef(full)}
        if not prefixes:
            return set()
        # `pkg.sub.Name` re-exported by `pkg/sub/__init__.py`, which nothing needed to analyse:
        # the one definition of `Name` inside `pkg.sub`
        package, _, leaf = full.rpartition(".")
        inside = [d for d in self._by_leaf.get(leaf, ()) if package and d.startswith(package + ".")]
        if inside and len({d.rpartition(".")[0] for d in inside}) == 1:
            return self._lookup_absolute(inside[0], prefixes=False)
        # `pkg.mod.client.chat`: the longest known prefix, then attributes
        parts = full.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:cut])
            if head in self.functions or head in self.classes or head in self.globals or head in self.module_names:
                values = self._lookup_absolute(head, prefixes=False)
                for attr in parts[cut:]:
                    values = {v for value in values for v in self.attribute(value, attr)}
                return values
        return set()

    # -- resolution -------------------------------------------------------------------------------

    def resolve(self, module: Module, fact: ValueFact) -> frozenset[Resolved]:
        key = (module.path, fact)
        known = self._memo.get(key)
        if known is not None:
            return known
        if key in self._active:
            return frozenset()  # a value defined through itself: nothing more is known here
        self._active.add(key)
        try:
            result = frozenset(list(self._resolve(module, fact))[:MAX_VALUES])
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _resolve(self, module: Module, fact: ValueFact) -> Iterator[Resolved]:
        kind = fact.kind
        if kind == NAME:
            yield from self.lookup(module, fact.text)
        elif kind == ATTR:
            for value in self.resolve(module, fact.inner):
                yield from self.attribute(value, fact.text)
        elif kind == CALL:
            for value in self.resolve(module, fact.inner):
                yield from self.call(value)
        elif kind == SELF:
            for value in self.lookup(module, fact.text):
                if isinstance(value, Cls):
                    yield Inst(value.name, exact=False)
        elif kind == ARG:
            if self._use_args:
                yield from self._argument(module, fact.text, fact.param)
        elif kind == UNION:
            for member in fact.members:
                yield from self.resolve(module, member)
        elif kind == CLIENT:
            sdk = self.cat.sdks.get(fact.text)
            if sdk is not None:
                yield Client(sdk, self.cat.clients.get(fact.spec), fact.path, fact.instrumented, fact.supplied)
        elif kind == SDK:
            yield SdkName(fact.text)
        elif kind == DICT:
            entries = [(key, value, module.path) for key, value in fact.entries or ()]
            complete = fact.complete
            for member in fact.members:  # `**spread` of a dict built elsewhere
                spread = [v for v in self.resolve(module, member) if isinstance(v, DictOf)]
                if not spread:
                    complete = False
                for d in spread:
                    entries.extend(d.entries)
                    complete = complete and d.complete
            yield DictOf(tuple(entries), complete)

    def attribute(self, value: Resolved, attr: str) -> Iterator[Resolved]:
        if isinstance(value, Client):
            yield value if attr in CHAIN_SKIP else Client(value.sdk, value.spec, (*value.path, attr),
                                                             value.instrumented, value.supplied)
        elif isinstance(value, SdkName):
            yield SdkName(self.cat.normalise(f"{value.name}.{attr}"))
        elif isinstance(value, ModuleRef):
            yield from self._lookup_absolute(f"{value.name}.{attr}", prefixes=False)
        elif isinstance(value, (Inst, Cls)):
            cls_name = value.cls if isinstance(value, Inst) else value.name
            proxy = self._proxy(cls_name)
            if proxy and isinstance(value, Inst):
                yield SdkName(self.cat.normalise(f"{proxy}.{attr}"))
                return
            owners = self.mro(cls_name)
            if isinstance(value, Inst) and not value.exact:
                owners = owners + [s for s in self.subclasses(cls_name) if s not in owners]
            found = False
            for owner in owners:
                method = f"{owner}.{attr}"
                if method in self.functions:
                    found = True
                    definition = self.functions[method]
                    assert isinstance(definition.fact, FunctionFact)
                    if definition.fact.is_property and isinstance(value, Inst):
                        yield from self.call(Func(method))
                    else:
                        yield Func(method)
                definition = self.classes.get(owner)
                if definition is not None:
                    assert isinstance(definition.fact, ClassFact)
                    assigned = definition.fact.attrs.get(attr)
                    if assigned is not None:
                        found = True
                        yield from self.resolve(definition.module, assigned)
                nested = f"{owner}.{attr}"
                if nested in self.classes:
                    found = True
                    yield Cls(nested)
            if not found:  # inherited from an SDK class the project class extends
                for base in self.sdk_bases(cls_name):
                    spec = self.cat.clients.get(base)
                    if spec is not None and isinstance(value, Inst):
                        yield Client(self.cat.sdks[spec.sdk], spec, (attr,))
                    else:
                        yield SdkName(self.cat.normalise(f"{base}.{attr}"))

    def call(self, value: Resolved) -> Iterator[Resolved]:
        if isinstance(value, Func):
            definition = self.functions[value.name]
            assert isinstance(definition.fact, FunctionFact)
            yield from self.resolve(definition.module, definition.fact.returns)
        elif isinstance(value, Cls):
            proxy = self._proxy(value.name)
            if proxy:
                yield SdkName(proxy)
            else:
                yield Inst(value.name)
        elif isinstance(value, SdkName):
            spec = self.cat.clients.get(value.name)
            if spec is not None:
                yield Client(self.cat.sdks[spec.sdk], spec)
                return
            factory = self.cat.factory_functions.get(value.name)
            if factory is not None and factory[1] == "client":
                yield Client(self.cat.sdks[factory[0]], None)
        elif isinstance(value, Client):
            if value.path and value.path[-1] in value.sdk.modifiers:
                yield Client(value.sdk, value.spec, value.path[:-1], value.instrumented, value.supplied)
        elif isinstance(value, Inst):
            yield from self.call_results(Func(f"{value.cls}.__call__")) if f"{value.cls}.__call__" in self.functions else ()

    def call_results(self, func: Func) -> Iterator[Resolved]:
        yield from self.call(func)

    # -- classes -----------------------------------------------------------------------------------

    def _index_classes(self) -> None:
        for full, definition in self.classes.items():
            assert isinstance(definition.fact, ClassFact)
            bases = []
            for base in definition.fact.bases:
                for value in self.resolve(definition.module, base):
                    if isinstance(value, Cls):
                        bases.append(value.name)
            self._bases[full] = bases
            for base in bases:
                self._subclasses.setdefault(base, []).append(full)

    def mro(self, cls: str) -> list[str]:
        order, todo = [], [cls]
        while todo:
            name = todo.pop(0)
            if name in order:
                continue
            order.append(name)
            todo.extend(self._bases.get(name, ()))
        return order

    def subclasses(self, cls: str) -> list[str]:
        found, todo = [], list(self._subclasses.get(cls, ()))
        while todo:
            name = todo.pop()
            if name not in found:
                found.append(name)
                todo.extend(self._subclasses.get(name, ()))
        return found

    def sdk_bases(self, cls: str) -> list[str]:
        """The SDK classes a project class extends, directly or through project bases."""
        found = []
        for owner in self.mro(cls):
            definition = self.classes.get(owner)
            if definition is not None and isinstance(definition.fact, ClassFact):
                found.extend(b.text for b in definition.fact.bases if b.kind == SDK)
        return found

    def _proxy(self, cls: str) -> str:
        for owner in self.mro(cls):
            definition = self.classes.get(owner)
            if definition is not None and isinstance(definition.fact, ClassFact) and definition.fact.proxy_of:
                return definition.fact.proxy_of
        return ""

    # -- parameters: what the call sites pass ------------------------------------------------------

    def sites(self) -> dict[str, list[tuple[Module, CallFact]]]:
        """Call sites by the project function (or class) they call: the callee index. Built
        in two passes: callees that need no parameter, then those that do."""
        if self._sites is None:
            index: dict[str, list[tuple[Module, CallFact]]] = {}
            deferred: list[tuple[Module, CallFact]] = []
            for module in self.modules.values():
                for call in module.summary.calls:
                    if _uses_args(call.callee):
                        deferred.append((module, call))
                        continue
                    for target in self.targets(module, call):
                        index.setdefault(target, []).append((module, call))
            self._sites = index
            self._use_args = True
            self._memo.clear()
            for module, call in deferred:
                for target in self.targets(module, call):
                    index.setdefault(target, []).append((module, call))
            self._memo.clear()
        return self._sites

    def targets(self, module: Module, call: CallFact) -> list[str]:
        """The project functions and classes a call calls."""
        out = set()
        for value in self.resolve(module, call.callee):
            if isinstance(value, (Func, Cls)):
                out.add(value.name)
        return sorted(out)  # the same order in every run

    def _argument(self, module: Module, func_text: str, param: str) -> Iterator[Resolved]:
        index = self._sites if self._sites is not None else {}
        for full in self.qualify(module, func_text):
            target, params = full, None
            if full.endswith(".__init__"):
                target = full[: -len(".__init__")]
            definition = self.functions.get(full)
            if definition is not None and isinstance(definition.fact, FunctionFact):
                params = definition.fact.params
            for site_module, site in index.get(target, [])[:MAX_SITES]:
                arg = site.kwargs.get(param)
                if arg is None and params is not None and param in params:
                    position = params.index(param)
                    if position < len(site.args):
                        arg = site.args[position]
                if arg is None:
                    continue
                if arg.kind == PARAM and site.func:  # the caller passes its own parameter on
                    arg = ValueFact(ARG, text=":" + site.func, param=arg.text)
                yield from self.resolve(site_module, arg)


def _uses_args(fact: ValueFact) -> bool:
    if fact.kind == ARG:
        return True
    return any(_uses_args(m) for m in fact.members)


__all__ = ["MOCK", "Client", "Cls", "DictOf", "Func", "Inst", "ModuleRef", "Project", "Resolved", "SdkName"]
