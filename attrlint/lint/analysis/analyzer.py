"""One traversal of a module's `ast` that resolves receivers and collects the facts rules need.

Name resolution is deliberately simple and local: import aliases, assignments in the
same or an enclosing scope (in source order), `self.x = ...` in a class, parameter and
variable annotations, and `attrlint.runtime.instrument(...)`. Whatever cannot be
resolved stays unknown; rules treat unknown as "cannot verify", never as a finding.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from typing import Any
from dataclasses import dataclass, field, replace

from attrlint.core.catalogue import shadowing_roots  # noqa: F401 - re-exported
from attrlint.core.catalogue import Catalogue, ClientSpec, Sdk
from attrlint.lint.analysis.facts import (
    CallSite,
    ClientConstruction,
    EnvRead,
    FieldSource,
    KeyLiteral,
    LLMCall,
    Metadata,
    MetadataEntry,
    Module,
    WrapperDef,
)
from attrlint.core.schema import Schema
from attrlint.lint.analysis.summary import NONE, PARAM, PLACEHOLDER, ArgFact

RUNTIME = "attrlint.runtime"
ATTRIBUTION = f"{RUNTIME}.attribution"
INSTRUMENT = f"{RUNTIME}.instrument"
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "os.environ.pop"})
PROJECT = "<project>."  # prefix of names imported from a project package that shadows an SDK
CHAIN_SKIP = frozenset({"with_raw_response", "with_streaming_response"})


# -- abstract values ------------------------------------------------------------------------


class Value:
    __slots__ = ()


class _Unknown(Value):
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class QName(Value):
    name: str


@dataclass(frozen=True)
class ClientVal(Value):
    sdk: Sdk
    spec: ClientSpec | None
    path: tuple[str, ...] = ()
    instrumented: bool = False
    supplied: tuple[FieldSource, ...] = ()


@dataclass
class DictVal(Value):
    entries: dict[str, MetadataEntry] = field(default_factory=dict)
    complete: bool = True
    node: ast.expr | None = None
    spreads: set[str] = field(default_factory=set)  # names spread into it with ** (a forwarded **kwargs)


@dataclass(frozen=True)
class InstanceVal(Value):
    """An instance of a project class (`Helper()`, `llm: Helper`): its methods may be wrappers."""

    cls: str  # "<local>.Helper" or "pkg.mod.Helper"


@dataclass
class FuncInfo:
    qual: str
    params: list[str]  # positional, without self/cls
    kwonly: list[str]
    kwarg: str | None
    names: frozenset[str]  # every parameter name


@dataclass(frozen=True)
class EnvVal(Value):
    read: EnvRead


@dataclass(frozen=True)
class LocalFunc(Value):
    """A function defined in this module; `returns` is what a call to it evaluates to."""

    name: str
    returns: Value = field(default_factory=lambda: UNKNOWN)


@dataclass
class ClassInfo:
    name: str
    attrs: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class SelfVal(Value):
    cls: ClassInfo


class Scope:
    __slots__ = ("bindings", "cls", "parent")

    def __init__(self, parent: Scope | None, cls: ClassInfo | None = None) -> None:
        self.bindings: dict[str, Value] = {}
        self.parent = parent
        self.cls = cls

    def lookup(self, name: str) -> Value | None:
        scope: Scope | None = self
        while scope is not None:
            if scope.cls is None or scope is self:  # class bodies are not enclosing scopes
                value = scope.bindings.get(name)
                if value is not None:
                    return value
            scope = scope.parent
        return None


def str_const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# -- the analyser ---------------------------------------------------------------------------


_DISPATCH: dict[type, Any] = {}
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


class Analyzer(ast.NodeVisitor):
    def __init__(self, catalogue: Catalogue, schema: Schema, *, local_roots: frozenset[str] = frozenset()) -> None:
        self.cat = catalogue
        self.schema = schema
        # top-level project packages that share a name with an SDK (a local `agents/`)
        self.local_roots = local_roots
        self.returns: list[list[Value]] = []
        self.funcs: list[FuncInfo] = []
        self.quals: list[str] = []
        self.wrappers: dict[str, WrapperDef] = {}
        self.module = Module()
        self.scope = Scope(None)
        self.context: list[list[FieldSource]] = []  # enclosing `with attribution(...)` blocks
        self.context_unresolved: list[str] = []
        self._env_nodes: set[int] = set()

    # -- traversal: ast.NodeVisitor's, with the method lookup cached per node type and the
    # operator and context leaves (Load, Store, Add, ...) never visited --------------------------

    def visit(self, node: ast.AST) -> None:
        method = _DISPATCH.get(node.__class__)
        if method is None:
            method = getattr(Analyzer, "visit_" + node.__class__.__name__, Analyzer.generic_visit)
            _DISPATCH[node.__class__] = method
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        fields = _CHILD_FIELDS.get(node.__class__)
        if fields is None:
            fields = _CHILD_FIELDS[node.__class__] = tuple(
                f for f in node._fields if f not in ("ctx", "op", "ops", "type_comment", "kind"))
        visit = self.visit
        for name in fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item)
            elif isinstance(value, ast.AST):
                visit(value)

    # entry point
    def run(self, tree: ast.Module) -> Module:
        self.visit(tree)
        return self.module

    # -- scopes -----------------------------------------------------------------------------

    def bind(self, target: ast.AST, value: Value) -> None:
        if isinstance(target, ast.Name):
            self.scope.bindings[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt.value if isinstance(elt, ast.Starred) else elt, UNKNOWN)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = self.ev(target.value)
            if isinstance(owner, SelfVal) and value is not UNKNOWN:
                owner.cls.attrs[target.attr] = value

    def imported(self, name: str) -> QName:
        """The value of an imported name; project packages that shadow an SDK stay the project's."""
        if name.split(".", 1)[0] in self.local_roots:
            return QName(PROJECT + name)
        return QName(self.cat.normalise(name))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.scope.bindings[alias.asname] = self.imported(alias.name)
            else:
                root = alias.name.split(".", 1)[0]
                self.scope.bindings[root] = self.imported(root)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                continue
            qname = f"{base}.{alias.name}" if node.module else f"{base}{alias.name}"
            self.scope.bindings[alias.asname or alias.name] = (
                QName(qname) if node.level else self.imported(qname))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        for base in (*node.bases, *node.keywords):
            self.visit(base)
        info = ClassInfo(node.name)
        bases = [self._project_name(b.name) for b in map(self.ev, node.bases) if isinstance(b, QName)]
        if any(bases):
            self.module.classes[".".join((*self.quals, node.name))] = [b for b in bases if b]
        outer = self.scope
        self.scope = Scope(outer, info)
        self._prescan_class(node, info)
        saved = self.context, self.context_unresolved
        self.context, self.context_unresolved = [], []
        self.quals.append(node.name)
        for stmt in node.body:
            self.visit(stmt)
        self.quals.pop()
        self.context, self.context_unresolved = saved
        self.scope = outer
        self.scope.bindings[node.name] = QName(f"<local>.{node.name}")

    def _prescan_class(self, node: ast.ClassDef, info: ClassInfo) -> None:
        """Learn `self.x = Client(...)` and `x: Client` before visiting methods in any order."""
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                value = self.ev(stmt.value) if stmt.value is not None else UNKNOWN
                if value is UNKNOWN:
                    value = self.annotation_value(stmt.annotation)
                if value is not UNKNOWN:
                    info.attrs[stmt.target.id] = value
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = stmt.args.posonlyargs + stmt.args.args
                if not args:
                    continue
                self_name = args[0].arg
                local = Scope(self.scope)
                for arg in args[1:] + stmt.args.kwonlyargs:
                    if arg.annotation is not None:
                        local.bindings[arg.arg] = self.annotation_value(arg.annotation)
                saved, self.scope = self.scope, local
                try:
                    for sub in _assignments(stmt.body):
                        targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                        for t in targets:
                            if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                                    and t.value.id == self_name and sub.value is not None):
                                value = self.ev(sub.value)
                                if value is UNKNOWN and isinstance(sub, ast.AnnAssign):
                                    value = self.annotation_value(sub.annotation)
                                if value is not UNKNOWN and not isinstance(value, DictVal):
                                    info.attrs.setdefault(t.attr, value)
                finally:
                    self.scope = saved

    def annotation_value(self, annotation: ast.expr | None) -> Value:
        if annotation is None:
            return UNKNOWN
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return UNKNOWN
        if isinstance(annotation, ast.Subscript):  # Optional[OpenAI]
            annotation = annotation.slice
        if isinstance(annotation, ast.BinOp):  # OpenAI | None
            left = self.annotation_value(annotation.left)
            return left if left is not UNKNOWN else self.annotation_value(annotation.right)
        value = self.ev(annotation)
        if isinstance(value, QName):
            spec = self.cat.clients.get(value.name)
            if spec is not None:
                return ClientVal(self.cat.sdks[spec.sdk], spec)
            if self._is_project_class(value.name):
                return InstanceVal(value.name)
        return UNKNOWN

    def _is_project_class(self, name: str) -> bool:
        last = name.rsplit(".", 1)[-1]
        return bool(last[:1].isupper()) and self._project_name(name) is not None

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        for default in (*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]):
            self.visit(default)
        outer = self.scope
        self.scope = Scope(outer)
        args = node.args.posonlyargs + node.args.args
        if outer.cls is not None and args and not any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
        ):
            is_classmethod = any(isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list)
            self.scope.bindings[args[0].arg] = (
                QName(f"<local>.{outer.cls.name}") if is_classmethod else SelfVal(outer.cls))
            args = args[1:]
        every = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        every += [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]
        self.quals.append(node.name)
        self.funcs.append(FuncInfo(
            qual=".".join(self.quals), params=[a.arg for a in args],
            kwonly=[a.arg for a in node.args.kwonlyargs],
            kwarg=node.args.kwarg.arg if node.args.kwarg else None, names=frozenset(every)))
        for arg in (*args, *node.args.kwonlyargs):
            self.scope.bindings[arg.arg] = self.annotation_value(arg.annotation)
        for extra in (node.args.vararg, node.args.kwarg):
            if extra is not None:
                self.scope.bindings[extra.arg] = UNKNOWN
        saved = self.context, self.context_unresolved
        self.context, self.context_unresolved = [], []
        self.returns.append([])
        for stmt in node.body:
            self.visit(stmt)
        returned = self.returns.pop()
        self.funcs.pop()
        qual = ".".join(self.quals)
        self.quals.pop()
        wrapper = self.wrappers.get(qual)
        if wrapper is not None:
            wrapper.node = node
            self.module.wrappers.append(wrapper)
        self.context, self.context_unresolved = saved
        self.scope = outer
        result = self.annotation_value(node.returns)
        if result is UNKNOWN and returned and all(r == returned[0] for r in returned):
            result = returned[0]
        if not isinstance(result, ClientVal):
            result = UNKNOWN
        outer.bindings[node.name] = LocalFunc(f"<local>.{qual}", result)

    def visit_Return(self, node: ast.Return) -> None:
        self.generic_visit(node)
        if self.returns and node.value is not None:
            self.returns[-1].append(self.ev(node.value))

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    # -- statements ---------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        value = self.ev(node.value)
        for target in node.targets:
            self._assign(target, node.value, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            value = self.ev(node.value)
        else:
            value = UNKNOWN
        if value is UNKNOWN:
            value = self.annotation_value(node.annotation)
        self._assign(node.target, node.value, value)

    def _assign(self, target: ast.AST, value_node: ast.expr | None, value: Value) -> None:
        if isinstance(target, ast.Subscript):
            # d["k"] = v on a dict built here
            owner = self.ev(target.value)
            key = str_const(target.slice)
            if isinstance(owner, DictVal):
                if key is None:
                    owner.complete = False
                else:
                    owner.entries[key] = MetadataEntry(key, target.slice, value_node)
            self.visit(target)
            return
        if isinstance(target, ast.Attribute):
            owner = self.ev(target.value)
            if isinstance(owner, QName) and target.attr == "api_key":
                module = owner.name
                sdk_name = self.cat.module_receivers.get(module)
                if sdk_name is not None and value_node is not None:
                    self._key_argument(value_node, value, self.cat.sdks[sdk_name].vendor)
            self.visit(target.value)
        self.bind(target, value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            owner = self.scope.lookup(node.target.id)
            if isinstance(owner, DictVal) and isinstance(node.op, ast.BitOr):
                self._merge_into(owner, node.value)

    def visit_Expr(self, node: ast.Expr) -> None:
        # d.update({...}) / d.update(k=v) / d.setdefault("k", v)
        call = node.value
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in ("update", "setdefault")):
            owner = self.ev(call.func.value)
            if isinstance(owner, DictVal):
                if call.func.attr == "update":
                    for arg in call.args:
                        self._merge_into(owner, arg)
                    for kw in call.keywords:
                        if kw.arg is None:
                            self._merge_into(owner, kw.value)
                        else:
                            owner.entries[kw.arg] = MetadataEntry(kw.arg, kw, kw.value)
                else:
                    key = str_const(call.args[0]) if call.args else None
                    if key is None:
                        owner.complete = False
                    else:
                        owner.entries.setdefault(
                            key, MetadataEntry(key, call.args[0], call.args[1] if len(call.args) > 1 else None))
        self.generic_visit(node)

    def _merge_into(self, owner: DictVal, node: ast.expr) -> None:
        other = self.dict_of(node)
        if other is None:
            owner.complete = False
        else:
            owner.entries.update(other.entries)
            owner.complete = owner.complete and other.complete

    def _visit_with(self, node: ast.With | ast.AsyncWith) -> None:
        pushed = 0
        for item in node.items:
            self.visit(item.context_expr)
            value = UNKNOWN
            expr = item.context_expr
            if isinstance(expr, ast.Call):
                func = self.ev(expr.func)
                if isinstance(func, QName) and func.name == ATTRIBUTION:
                    sources, unresolved = self.attribution_sources(expr)
                    self.context.append(sources)
                    self.context_unresolved.extend(unresolved)
                    pushed += 1
                    continue
                value = self.ev(expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, value)
        for stmt in node.body:
            self.visit(stmt)
        for _ in range(pushed):
            self.context.pop()

    visit_With = _visit_with
    visit_AsyncWith = _visit_with

    def attribution_sources(self, call: ast.Call) -> tuple[list[FieldSource], list[str]]:
        sources, unresolved = [], []
        for kw in call.keywords:
            if kw.arg is None:
                spread = self.dict_of(kw.value)
                if spread is None or not spread.complete:
                    unresolved.append("attribution(**...) cannot be read statically")
                if spread is not None:
                    for entry in spread.entries.values():
                        canonical = self.schema.canonical_name(entry.key)
                        if canonical:
                            sources.append(FieldSource(canonical, entry.key, entry.key_node, entry.value, "context"))
                continue
            canonical = self.schema.canonical_name(kw.arg) or kw.arg
            source = FieldSource(canonical, kw.arg, kw, kw.value, "context")
            sources.append(source)
        self.module.context_sources.extend(sources)
        return sources, unresolved

    # -- expressions --------------------------------------------------------------------------

    def visit_Subscript(self, node: ast.Subscript) -> None:
        base = self.ev(node.value)
        if isinstance(base, QName) and base.name == "os.environ":
            name = str_const(node.slice)
            if name is not None:
                self._env_read(name, node.slice, node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and len(node.value) >= 16 and id(node) not in self._env_nodes:
            found = self.cat.key_format(node.value)
            if found is not None and not looks_like_regex(node.value):
                self.module.key_literals.append(KeyLiteral(node, node.value, found[0], "format"))

    def visit_Call(self, node: ast.Call) -> None:
        func = self.ev(node.func)
        if isinstance(func, QName):
            name = func.name
            if name in ENV_GETTERS and node.args:
                env = str_const(node.args[0])
                if env is not None:
                    self._env_read(env, node.args[0], node)
            else:
                spec = self.cat.clients.get(name)
                if spec is not None:
                    self._construction(node, spec)
        call = self.llm_call(node, func)
        if call is not None:
            self.module.calls.append(call)
        else:
            self._call_site(node, func)
        self.generic_visit(node)

    # -- wrappers: functions whose LLM call takes attribution from their parameters ---------------

    def callee(self, node: ast.Call, func: Value) -> str | None:
        """The project function a call resolves to, as far as this module can tell."""
        if isinstance(func, LocalFunc):
            return ":" + func.name[len("<local>."):]
        if isinstance(func, QName):
            return self._project_name(func.name)
        if isinstance(node.func, ast.Attribute):
            owner = self.ev(node.func.value)
            if isinstance(owner, SelfVal):
                return f":{owner.cls.name}.{node.func.attr}"
            if isinstance(owner, InstanceVal):
                base = self._project_name(owner.cls)
                return f"{base}.{node.func.attr}" if base else None
        return None

    def _project_name(self, name: str) -> str | None:
        if name.startswith("<local>."):
            return ":" + name[len("<local>."):]
        if name.startswith(PROJECT):
            return name[len(PROJECT):]
        root = name.split(".", 1)[0]
        if not root or name.startswith("."):
            return name  # a relative import, resolved in the project phase
        if root == "builtins" or root in sys.stdlib_module_names or root in self._known_roots():
            return None
        return name

    def describe(self, node: ast.expr | None) -> ArgFact:
        """What the project phase needs to know about an argument."""
        if node is None:
            return ArgFact()
        if isinstance(node, ast.Constant):
            if node.value is None:
                return ArgFact(NONE)
            if isinstance(node.value, str) and (not node.value.strip() or self.schema.is_placeholder(node.value)):
                return ArgFact(PLACEHOLDER, text=repr(node.value)[:40])
        if isinstance(node, ast.Name) and self.funcs and node.id in self.funcs[-1].names:
            return ArgFact(PARAM, param=node.id)
        d = self.dict_of(node, calls=False)
        if d is not None:
            fields = {}
            for entry in d.entries.values():
                canonical = self.schema.canonical_name(entry.key)
                if canonical:
                    fields[canonical] = self.describe(entry.value)
            return ArgFact(fields=fields, complete=d.complete)
        return ArgFact()

    def _context_fields(self) -> dict[str, ArgFact]:
        return {s.field: self.describe(s.value) for block in self.context for s in block}

    def _call_site(self, node: ast.Call, func: Value) -> None:
        callee = self.callee(node, func)
        if callee is None:
            return
        fn = self.funcs[-1] if self.funcs else None
        star = any(isinstance(a, ast.Starred) for a in node.args)
        forwards = False
        kwargs: dict[str, ArgFact] = {}
        for kw in node.keywords:
            if kw.arg is not None:
                kwargs[kw.arg] = self.describe(kw.value)
                continue
            if fn is not None and isinstance(kw.value, ast.Name) and kw.value.id == fn.kwarg:
                forwards = True
                continue
            spread = self.dict_of(kw.value)
            if spread is None or not spread.complete:
                star = True
            if spread is not None:
                forwards = forwards or (fn is not None and fn.kwarg in spread.spreads)
                for entry in spread.entries.values():
                    kwargs[entry.key] = self.describe(entry.value)
        self.module.call_sites.append(CallSite(
            node=node, callee=callee,
            args=[self.describe(a) for a in node.args if not isinstance(a, ast.Starred)],
            kwargs=kwargs, star=star, context=self._context_fields(),
            context_unresolved=bool(self.context_unresolved),
            func=fn.qual if fn else None, func_kwarg=fn.kwarg if fn else None,
            func_params=list(fn.params) if fn else [], forwards=forwards, scope=".".join(self.quals),
        ))

    def _wrapper_of(self, call: LLMCall) -> None:
        """Mark `call` as a wrapper's body when its attribution comes from the function's parameters."""
        if not self.funcs:
            return
        fn = self.funcs[-1]
        node = call.node
        supplies: dict[str, str] = {}
        fixed: set[str] = set()
        for source in call.sources:
            if isinstance(source.value, ast.Name) and source.value.id in fn.names:
                supplies.setdefault(source.field, source.value.id)
            else:
                fixed.add(source.field)
        spec = call.sdk.metadata
        metadata_param = None
        if spec is not None:
            for kw in node.keywords:
                if kw.arg == spec.param and isinstance(kw.value, ast.Name) and kw.value.id in fn.names:
                    metadata_param = kw.value.id
        forwards = False
        if fn.kwarg is not None:
            for kw in node.keywords:
                if kw.arg is None:
                    if isinstance(kw.value, ast.Name) and kw.value.id == fn.kwarg:
                        forwards = True
                    else:
                        spread = self.dict_of(kw.value)
                        forwards = forwards or (spread is not None and fn.kwarg in spread.spreads)
        if not (supplies or metadata_param or forwards):
            return
        call.in_wrapper = fn.qual
        wrapper = self.wrappers.get(fn.qual)
        if wrapper is None:
            wrapper = self.wrappers[fn.qual] = WrapperDef(
                qual=fn.qual, node=node, params=fn.params, kwonly=fn.kwonly, kwarg=fn.kwarg,
                label=f"{call.sdk.name} `{call.method}`", fixed=fixed)
        else:
            wrapper.fixed &= fixed
        for f, p in supplies.items():
            wrapper.supplies.setdefault(f, p)
        wrapper.metadata_param = wrapper.metadata_param or metadata_param
        if forwards:
            wrapper.forwards_kwargs = True
            wrapper.meta_key = spec.param if spec is not None and not spec.path else wrapper.meta_key

    def _env_read(self, name: str, literal: ast.AST, node: ast.AST) -> EnvRead:
        self._env_nodes.add(id(literal))
        for read in self.module.env_reads:
            if read.call is node:
                return read
        read = EnvRead(name, literal, node)
        self.module.env_reads.append(read)
        return read

    def _construction(self, node: ast.Call, spec: ClientSpec) -> None:
        key_arg, key_param = None, None
        for kw in node.keywords:
            if kw.arg in spec.key_params:
                key_arg, key_param = kw.value, kw.arg
                break
        star = any(kw.arg is None for kw in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args)
        self.module.constructions.append(ClientConstruction(node, spec, key_arg, key_param, star))
        if key_arg is not None and key_param in ("api_key", "openai_api_key", "anthropic_api_key", "auth_token"):
            self._key_argument(key_arg, self.ev(key_arg), self.cat.sdks[spec.sdk].vendor)

    def _key_argument(self, node: ast.expr, value: Value, vendor: str) -> None:
        """An expression passed as a client's key: a literal, or an env var flowing into it."""
        literal = str_const(node)
        if literal is not None:
            self.module.key_literals.append(KeyLiteral(node, literal, None, "api_key"))  # type: ignore[arg-type]
            return
        reads: list[EnvRead] = []
        if isinstance(value, EnvVal):
            reads.append(value.read)
        for sub in ast.walk(node):  # api_key=os.environ["X"] or os.getenv("X", default)
            if isinstance(sub, (ast.Call, ast.Subscript)):
                for read in self.module.env_reads:
                    if read.call is sub:
                        reads.append(read)
            elif isinstance(sub, ast.Name):
                bound = self.scope.lookup(sub.id)
                if isinstance(bound, EnvVal):
                    reads.append(bound.read)
        for read in reads:
            read.vendor = vendor
            read.flows_into_client = True

    def ev(self, node: ast.AST | None) -> Value:
        """The abstract value of an expression (no side effects on the module facts)."""
        if isinstance(node, ast.Name):
            value = self.scope.lookup(node.id)
            if value is not None:
                return value
            return QName(f"builtins.{node.id}") if node.id == "dict" else UNKNOWN
        if isinstance(node, ast.Attribute):
            base = self.ev(node.value)
            if isinstance(base, QName):
                return QName(self.cat.normalise(f"{base.name}.{node.attr}"))
            if isinstance(base, ClientVal):
                if node.attr in CHAIN_SKIP:
                    return base
                return replace(base, path=(*base.path, node.attr))
            if isinstance(base, SelfVal):
                return base.cls.attrs.get(node.attr, UNKNOWN)
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self._ev_call(node)
        if isinstance(node, ast.Dict):
            return self.dict_of(node) or UNKNOWN
        if isinstance(node, ast.Subscript):
            base = self.ev(node.value)
            if isinstance(base, QName) and base.name == "os.environ":
                name = str_const(node.slice)
                if name is not None:
                    return EnvVal(self._env_read(name, node.slice, node))
            return UNKNOWN
        if isinstance(node, ast.Await):
            return self.ev(node.value)
        return UNKNOWN

    def _ev_call(self, node: ast.Call) -> Value:
        func_node = node.func
        func = self.ev(func_node)
        if isinstance(func, LocalFunc):
            return func.returns
        if isinstance(func, QName):
            name = func.name
            spec = self.cat.clients.get(name)
            if spec is not None:
                return ClientVal(self.cat.sdks[spec.sdk], spec)
            factory = self.cat.factory_functions.get(name)
            if factory is not None:
                sdk_name, returns = factory
                if returns == "argument":
                    return self.ev(node.args[0]) if node.args else UNKNOWN
                return ClientVal(self.cat.sdks[sdk_name], None)
            if name == INSTRUMENT and node.args:
                inner = self.ev(node.args[0])
                if isinstance(inner, ClientVal):
                    supplied = []
                    for kw in node.keywords:
                        if kw.arg is None:
                            continue
                        canonical = self.schema.canonical_name(kw.arg)
                        if canonical:
                            supplied.append(FieldSource(canonical, kw.arg, kw, kw.value, "instrument"))
                    return replace(inner, instrumented=True, supplied=tuple(supplied))
                return UNKNOWN
            if name in ENV_GETTERS and node.args:
                env = str_const(node.args[0])
                if env is not None:
                    return EnvVal(self._env_read(env, node.args[0], node))
            if name == "builtins.dict":
                return self.dict_of(node) or UNKNOWN
            if self._is_project_class(name):
                return InstanceVal(name)
        if isinstance(func, ClientVal) and func.path and func.path[-1] == "with_options":
            return replace(func, path=func.path[:-1])
        if isinstance(func_node, ast.Attribute):
            service = str_const(node.args[0]) if node.args else None
            if service is None:
                for kw in node.keywords:
                    if kw.arg == "service_name":
                        service = str_const(kw.value)
            if service is not None:
                sdk_name = self.cat.factories.get((func_node.attr, service))
                if sdk_name is not None:
                    return ClientVal(self.cat.sdks[sdk_name], None)
        return UNKNOWN

    def dict_of(self, node: ast.expr | None, *, calls: bool = False) -> DictVal | None:
        """The keys of a dict expression: a literal, `dict(...)`, or a local name bound to one.

        With `calls`, any call's keyword arguments count as keys (config objects such as
        `GenerateContentConfig(labels=...)` or `RunnableConfig(metadata=...)`)."""
        if isinstance(node, ast.Dict):
            d = DictVal(node=node)
            for key, value in zip(node.keys, node.values):
                if key is None:
                    if isinstance(value, ast.Name):
                        d.spreads.add(value.id)
                    spread = self.dict_of(value)
                    if spread is None:
                        d.complete = False
                    else:
                        d.entries.update(spread.entries)
                        d.complete = d.complete and spread.complete
                    continue
                k = str_const(key)
                if k is None:
                    d.complete = False
                else:
                    d.entries[k] = MetadataEntry(k, key, value)
            return d
        if isinstance(node, ast.Call):
            func = self.ev(node.func)
            if calls or (isinstance(func, QName) and func.name == "builtins.dict"):
                d = DictVal(node=node)
                for arg in node.args:
                    inner = self.dict_of(arg)
                    if inner is None:
                        d.complete = False
                    else:
                        d.entries.update(inner.entries)
                        d.complete = d.complete and inner.complete
                for kw in node.keywords:
                    if kw.arg is None:
                        inner = self.dict_of(kw.value)
                        if inner is None:
                            d.complete = False
                        else:
                            d.entries.update(inner.entries)
                    else:
                        d.entries[kw.arg] = MetadataEntry(kw.arg, kw, kw.value)
                return d
            return None
        if isinstance(node, ast.Name):
            value = self.scope.lookup(node.id)
            if isinstance(value, DictVal):
                return value
        return None

    # -- LLM calls ----------------------------------------------------------------------------

    def llm_call(self, node: ast.Call, func: Value) -> LLMCall | None:
        found = self.classify(node, func)
        if found is None:
            return None
        sdk, operation, method, client = found
        instrumented = isinstance(client, ClientVal) and client.instrumented
        call = LLMCall(
            node=node, sdk=sdk, operation=operation, method=method,
            client=client.spec if isinstance(client, ClientVal) else None,
            instrumented=instrumented, metadata=Metadata(),
        )
        self._collect_sources(call, client if isinstance(client, ClientVal) else None)
        self._wrapper_of(call)
        return call

    def classify(self, node: ast.Call, func: Value) -> tuple[Sdk, str, str, ClientVal | None] | None:
        if isinstance(func, ClientVal):
            method = ".".join(func.path) if func.path else "__call__"
            operation = func.sdk.methods.get(method)
            if operation is not None:
                return func.sdk.for_method(method), operation, method, func
            return None  # a resolved client, but not a billable method
        if isinstance(func, QName):
            name = func.name
            hit = self.cat.functions.get(name)
            if hit is not None:
                sdk = self.cat.sdks[hit[0]]
                method = next((name[len(m) + 1:] for m in sdk.modules if name.startswith(m + ".")),
                              name.rsplit(".", 1)[-1])
                return sdk.for_method(method), hit[1], method, None
            for module, sdk_name in self.cat.module_receivers.items():
                if name.startswith(module + "."):
                    sdk = self.cat.sdks[sdk_name]
                    method = name[len(module) + 1:]
                    operation = sdk.methods.get(method)
                    if operation is not None:
                        return sdk.for_method(method), operation, method, None
            if not name.startswith("<local>") and name.split(".", 1)[0] in self._known_roots():
                return None  # a known SDK's other API
        if isinstance(node.func, ast.Attribute) and node.func.attr in self.cat.method_tails:
            chain = attribute_chain(node.func)
            for i in range(len(chain)):
                method = ".".join(chain[i:])
                sdk_name = self.cat.compatible.get(method)
                if sdk_name is not None:
                    root = self._chain_root_value(node.func)
                    if isinstance(root, (ClientVal, LocalFunc)):
                        return None  # a resolved client (or function) without this method
                    sdk = self.cat.sdks[sdk_name]
                    return sdk.for_method(method), sdk.methods[method], method, None
        return None

    def _known_roots(self) -> frozenset[str]:
        roots = getattr(self, "_roots", None)
        if roots is None:
            roots = frozenset(m.split(".", 1)[0] for sdk in self.cat.sdks.values() for m in sdk.modules)
            self._roots = roots
        return roots

    def _chain_root_value(self, func: ast.expr) -> Value:
        node: ast.AST = func
        while True:
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_options":
                node = node.func.value
            else:
                return self.ev(node)

    def _collect_sources(self, call: LLMCall, client: ClientVal | None) -> None:
        node = call.node
        spec = call.sdk.metadata
        star = [kw.value for kw in node.keywords if kw.arg is None]
        star_dicts = [self.dict_of(s) for s in star]
        if any(d is None or not d.complete for d in star_dicts) or any(isinstance(a, ast.Starred) for a in node.args):
            call.unresolved.append("arguments are passed through ** or * and cannot be read statically")
        if spec is not None:
            arg: ast.expr | None = None
            for kw in node.keywords:
                if kw.arg == spec.param:
                    arg = kw.value
            if arg is None and spec.position is not None and len(node.args) > spec.position:
                arg = node.args[spec.position]
            if arg is None:
                for d in star_dicts:
                    if d is not None and spec.param in d.entries:
                        arg = d.entries[spec.param].value
            if arg is not None:
                call.metadata = self._metadata(arg, spec.path)
                if not call.metadata.complete:
                    call.unresolved.append(f"`{spec.param}=` cannot be read statically")
                for entry in call.metadata.entries:
                    canonical = self.schema.canonical_name(entry.key)
                    if canonical is not None:
                        call.sources.append(FieldSource(canonical, entry.key, entry.key_node, entry.value, "metadata"))
        for block in self.context:
            call.sources.extend(block)
        call.unresolved.extend(self.context_unresolved)
        if client is not None:
            call.sources.extend(client.supplied)

    def _metadata(self, arg: ast.expr, path: tuple[str, ...]) -> Metadata:
        d = self.dict_of(arg, calls=bool(path))
        for step in path:
            if d is None:
                break
            entry = d.entries.get(step)
            if entry is None:
                return Metadata(node=arg, entries=[], complete=d.complete)
            d = self.dict_of(entry.value, calls=True) if entry.value is not None else None
        if d is None:
            return Metadata(node=arg, complete=False)
        return Metadata(node=d.node or arg, entries=list(d.entries.values()), complete=d.complete)


def attribute_chain(func: ast.expr) -> list[str]:
    """`a.b.with_options(x).c.with_raw_response.create` -> ["b", "c", "create"]."""
    names: list[str] = []
    node: ast.AST = func
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr not in CHAIN_SKIP:
                names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_options":
            node = node.func.value
        else:
            break
    names.reverse()
    return names


_REGEX_HINTS = ("[A-Z", "[a-z", "[0-9", "\\d", "\\w", "{3", "(?", "[^", ".*", "\\b", "]{", "]+")


def looks_like_regex(text: str) -> bool:
    """A string that describes a key format (a regex source) rather than holding a key."""
    return any(h in text for h in _REGEX_HINTS)



_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _assignments(body: list[ast.stmt]) -> Iterator[ast.Assign | ast.AnnAssign]:
    """Assignment statements in a function body, through if/for/while/with/try/match blocks
    but not into nested functions or classes: a statement walk, far cheaper than `ast.walk`."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            yield stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        else:
            for name in _BLOCK_FIELDS:
                block = getattr(stmt, name, None)
                if block:
                    stack.extend(reversed(block))
