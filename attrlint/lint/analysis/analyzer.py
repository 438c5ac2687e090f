"""One traversal of a module's `ast` that resolves receivers and collects the facts rules need.

Name resolution within the file: import aliases (wherever the import is, inside a function or
a `try`), assignments in the same or an enclosing scope, `self.x = ...` in a class, parameter,
variable and return annotations, branches of `if`/`try` (a name bound differently in each
branch is any of those values), `a or b`, `x if c else y`, LCEL pipes (`prompt | llm`), and
`attrlint.runtime.instrument(...)`.

What the file alone cannot tell stays symbolic (`SymVal`): the result of a project function,
an attribute a class sets from its constructor's parameters, a name imported from another
project module, an unannotated parameter. Calls through symbolic values are handed to the
project phase (`Module.project_calls`), which resolves them over every file's summary. Rules
treat what stays unknown as "cannot verify", never as a finding by itself.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from attrlint.core.catalogue import Catalogue, ClientSpec, Sdk, carries_fields, client_label
from attrlint.core.keyscan import find_keys
from attrlint.core.schema import Schema
from attrlint.lint.analysis.attribution import where_to_put
from attrlint.lint.analysis.facts import (
    ClientConstruction,
    EnvRead,
    Fallback,
    FieldSource,
    KeyLiteral,
    LLMCall,
    Metadata,
    MetadataEntry,
    Module,
    ProjectCall,
    WrapperDef,
)
from attrlint.lint.analysis.summary import (
    ARG,
    DICT,
    NAME,
    NONE,
    PARAM,
    PLACEHOLDER,
    SDK,
    SELF,
    STRING,
    UNKNOWN_VALUE,
    ClassFact,
    FunctionFact,
    ValueFact,
    union,
)
from attrlint.lint.analysis.values import (
    MOCK_VALUE,
    NONE_VALUE,
    UNKNOWN,
    ClassInfo,
    ClientVal,
    DictVal,
    EnvVal,
    InstanceVal,
    LocalFunc,
    QName,
    Scope,
    SelfVal,
    SymVal,
    UnionVal,
    Value,
    join,
    local_name,
    sym_attr,
    sym_call,
    to_fact,
)

RUNTIME = "attrlint.runtime"
ATTRIBUTION = f"{RUNTIME}.attribution"
INSTRUMENT = f"{RUNTIME}.instrument"
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get"})
# Calls that set a variable: name at argument 0, the value at argument 1. `os.environ.pop`,
# `del os.environ[X]` and `X in os.environ` read no key.
ENV_SETTERS = frozenset({"os.environ.setdefault", "os.putenv"})
# pydantic settings classes: every field reads the environment variable of its name
SETTINGS_BASES = frozenset({"pydantic_settings.BaseSettings", "pydantic_settings.main.BaseSettings",
                            "pydantic.BaseSettings", "pydantic.v1.BaseSettings", "pydantic.env_settings.BaseSettings"})
PROJECT = "<project>."  # prefix of names imported from a project package that shadows an SDK
CHAIN_SKIP = frozenset({"with_raw_response", "with_streaming_response"})
# Test doubles: whatever is called on them is not a billable call.
MOCKS = frozenset({"MagicMock", "Mock", "AsyncMock", "NonCallableMock", "NonCallableMagicMock", "create_autospec"})
DEPTH = 3  # how deep dict values are described for the project phase


@dataclass
class FuncInfo:
    qual: str
    params: list[str]  # positional, without self/cls
    kwonly: list[str]
    kwarg: str | None
    names: frozenset[str]  # every parameter name


def str_const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


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
        self.classes: list[ClassInfo] = []
        self.wrappers: dict[str, WrapperDef] = {}
        self.module = Module()
        self.scope = Scope(None)
        self.context: list[list[FieldSource]] = []  # enclosing `with attribution(...)` blocks
        self.context_unresolved: list[str] = []
        self._env_nodes: set[int] = set()
        self._checks: set[int] = set()  # env reads whose value is only tested or compared (not a use)
        self._strs: dict[tuple[int, str], tuple[Scope, str | None]] = {}  # names bound to a string constant
        self._redirects: set[tuple[str, str]] = set()  # (scope, vendor) that write a base-URL variable
        self._truthy: list[set[str]] = [set()]  # names an enclosing `if name:` proved set
        self._class_infos: dict[str, ClassInfo] = {}  # "<local>.qual" -> info
        self._settings: dict[str, tuple[str, bool]] = {}  # settings class qual -> (env_prefix, case_sensitive)
        self._scope_nodes: list[ast.AST] = []  # the module, then each enclosing function
        self._bound_reads: list[tuple[EnvRead, str, ast.AST]] = []  # `key = os.getenv(X)`: (read, name, scope)
        self.narrowed: list[dict[str, Value]] = [{}]  # isinstance() checks in force: expression -> value
        self._roots = frozenset(m.split(".", 1)[0] for sdk in catalogue.sdks.values() for m in sdk.modules)
        self._sdk_modules = frozenset(m for sdk in catalogue.sdks.values() for m in sdk.modules)

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
        self._scope_nodes.append(tree)
        self.visit(tree)
        for read, name, scope in self._bound_reads:
            if read.kind == "read" and _only_tested(name, scope):
                read.kind = "check"  # `key = os.getenv(X)` then only `if not key: ...`: a check, not a use
        for read in self.module.env_reads:
            if read.kind == "write" and (read.scope, self.cat.generic_envs.get(read.name)) in self._redirects:
                read.redirected = True  # this scope points the SDK at another server: its key, not the vendor's
        summary = self.module.summary
        for name, value in self.scope.bindings.items():
            if isinstance(value, LocalFunc) or value is UNKNOWN:
                continue
            if isinstance(value, QName) and (value.name.startswith("<local>.") or (
                    self._project_name(value.name) is None and value.name.split(".", 1)[0] not in self._roots)):
                continue  # a class of this module (known by its ClassFact), or the standard library
            fact = self.fact_of(value)
            if fact.kind not in ("unknown", STRING):
                summary.globals[name] = fact
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
                known = owner.cls.attrs.get(target.attr)
                owner.cls.attrs[target.attr] = join([known, value]) if known is not None else value

    def _branches(self, bodies: list[list[ast.stmt]]) -> None:
        """Visit alternative blocks (if/else, try/except/else, match cases) each from the same
        bindings; afterwards a name any branch rebound is any of the branches' values."""
        scope = self.scope
        before = dict(scope.bindings)
        outcomes = []
        for body in bodies:
            scope.bindings = dict(before)
            for stmt in body:
                self.visit(stmt)
            outcomes.append(scope.bindings)
        merged = dict(before)
        changed = {name for outcome in outcomes for name, value in outcome.items() if before.get(name) is not value}
        for name in changed:
            values = [outcome.get(name, before.get(name, UNKNOWN)) for outcome in outcomes]
            merged[name] = join(values)
        scope.bindings = merged

    def visit_If(self, node: ast.If) -> None:
        self._mark_checks(node.test)
        if _stops(node.body):
            self._guard(_missing_tests(node.test))  # `if not key: raise`: from here on key is set
        present = _present_tests(node.test)
        if present:
            self._truthy.append(self._truthy[-1] | present)
        try:
            self._visit_if(node)
        finally:
            if present:
                self._truthy.pop()

    def _visit_if(self, node: ast.If) -> None:
        self.visit(node.test)
        positive = self._isinstance(node.test)
        if positive is not None and _terminates(node.body) and isinstance(node.test, ast.UnaryOp):
            # `if not isinstance(x, C): raise`: from here on x is a C
            self._branches([node.body, node.orelse])
            self.narrowed[-1][positive[0]] = positive[1]
            return
        if positive is not None and not isinstance(node.test, ast.UnaryOp):
            self.narrowed.append({**self.narrowed[-1], positive[0]: positive[1]})
            try:
                self._branches([node.body, node.orelse])
            finally:
                self.narrowed.pop()
            return
        self._branches([node.body, node.orelse])

    def visit_Assert(self, node: ast.Assert) -> None:
        self._mark_checks(node.test)
        self._guard(_present_tests(node.test))
        self.generic_visit(node)
        positive = self._isinstance(node.test)
        if positive is not None and not isinstance(node.test, ast.UnaryOp):
            self.narrowed[-1][positive[0]] = positive[1]

    # -- env reads that are only tested, and the tests that make a value known to be set ---------

    def _mark_checks(self, test: ast.expr) -> None:
        """A read whose value is only tested (`if os.getenv("X"):`, `not os.environ.get("X")`)
        or compared checks that the variable is set; it does not use the key."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self._mark_checks(test.operand)
        elif isinstance(test, ast.BoolOp):
            for value in test.values:
                self._mark_checks(value)
        elif isinstance(test, ast.Compare):
            for operand in (test.left, *test.comparators):
                self._checks.add(id(operand))
        elif isinstance(test, (ast.Call, ast.Subscript)):
            self._checks.add(id(test))

    def visit_While(self, node: ast.While) -> None:
        self._mark_checks(node.test)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._mark_checks(node.test)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        self._mark_checks(node)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._mark_checks(node.operand)
        self.generic_visit(node)

    def _guard(self, tested: set[str]) -> None:
        """Names (or `self.x`) a check proved set: the env reads bound to them are guarded."""
        for text in tested:
            try:
                expr = ast.parse(text, mode="eval").body
            except SyntaxError:  # pragma: no cover - the text is an ast.unparse
                continue
            value = self.ev(expr)
            for member in value.members if isinstance(value, UnionVal) else (value,):
                if isinstance(member, EnvVal):
                    member.read.guarded = True

    def _isinstance(self, test: ast.expr) -> tuple[str, Value] | None:
        """`isinstance(x, C)` or `not isinstance(x, C)` with C (or a tuple of them) a client or
        project class: (the expression x, what it then is)."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test = test.operand
        if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance"
                and len(test.args) == 2 and isinstance(test.args[0], (ast.Name, ast.Attribute))):
            return None
        kinds = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
        value = join([self.annotation_value(k) for k in kinds])
        if value is UNKNOWN:
            return None
        return ast.dump(test.args[0]), value

    def visit_Try(self, node: ast.Try) -> None:
        # the handlers run after part of the body: each is an alternative to the body's end
        self._branches([node.body + node.orelse, *[h.body for h in node.handlers]])
        for handler in node.handlers:
            if handler.type is not None:
                self.visit(handler.type)
        for stmt in node.finalbody:
            self.visit(stmt)

    visit_TryStar = visit_Try

    def visit_Match(self, node: ast.Match) -> None:
        self.visit(node.subject)
        for case in node.cases:
            if case.guard is not None:
                self.visit(case.guard)
        self._branches([case.body for case in node.cases] + [[]])

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
        qual = ".".join((*self.quals, node.name))
        info = ClassInfo(node.name, qual=qual)
        base_values = [self.ev(b) for b in node.bases]
        bases = [self.fact_of(b) for b in base_values]
        fact = ClassFact(qual=qual, bases=[b for b in bases if b.kind in (NAME, SDK)])
        info.sdk_bases = [self.cat.clients[b.name] for b in base_values
                          if isinstance(b, QName) and b.name in self.cat.clients]
        self._class_infos[f"<local>.{qual}"] = info
        settings = self._settings_config(node, base_values)
        if settings is not None:
            self._settings[qual] = settings
        self._fields(node, info, settings)
        outer = self.scope
        self.scope = Scope(outer, info)
        info.methods = {b.name for b in node.body if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self._prescan_class(node, info)
        fact.proxy_of = self._proxy_of(node)
        saved = self.context, self.context_unresolved
        self.context, self.context_unresolved = [], []
        self.quals.append(node.name)
        self.classes.append(info)
        for stmt in node.body:
            self.visit(stmt)
        self.classes.pop()
        self.quals.pop()
        self.context, self.context_unresolved = saved
        self.scope = outer
        for name, value in info.attrs.items():
            attr = self.fact_of(value)
            if attr.kind != "unknown":
                fact.attrs[name] = attr
        self.module.summary.classes.append(fact)
        self.scope.bindings[node.name] = QName(f"<local>.{qual}")

    # -- pydantic settings classes and Optional fields -----------------------------------------

    def _settings_config(self, node: ast.ClassDef, bases: list[Value]) -> tuple[str | None, bool] | None:
        """(env_prefix, case_sensitive) of a pydantic settings class, None for other classes;
        the prefix is None when it cannot be read statically."""
        inherited: tuple[str | None, bool] | None = None
        for base in bases:
            if isinstance(base, QName) and base.name in SETTINGS_BASES:
                inherited = inherited or ("", False)
            elif isinstance(base, QName) and base.name.startswith("<local>.") and base.name[8:] in self._settings:
                inherited = inherited or self._settings[base.name[8:]]
        if inherited is None:
            return None
        prefix, case_sensitive = inherited
        options: dict[str, ast.expr] = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        for stmt in node.body:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
            if value is not None and any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                if isinstance(value, ast.Call):  # SettingsConfigDict(env_prefix=...)
                    options.update({kw.arg: kw.value for kw in value.keywords if kw.arg})
                elif isinstance(value, ast.Dict):
                    options.update({k.value: v for k, v in zip(value.keys, value.values)
                                    if isinstance(k, ast.Constant) and isinstance(k.value, str)})
            elif isinstance(stmt, ast.ClassDef) and stmt.name == "Config":  # pydantic v1
                for sub in stmt.body:
                    if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                        options[sub.targets[0].id] = sub.value
        if "env_prefix" in options:
            prefix = self._str_value(options["env_prefix"])
        flag = options.get("case_sensitive")
        if isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
            case_sensitive = flag.value
        return prefix, case_sensitive

    def _fields(self, node: ast.ClassDef, info: ClassInfo, settings: tuple[str | None, bool] | None) -> None:
        """The fields of a settings class: the environment variable each reads, and those typed
        Optional with a default of None (a key there is None when its variable is unset)."""
        if settings is None:
            return
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            name = stmt.target.id
            if name.startswith("_") or name == "model_config" or _is_classvar(stmt.annotation):
                continue
            aliases: list[tuple[str, ast.AST]] = []
            default: ast.expr | None = stmt.value
            if isinstance(stmt.value, ast.Call) and _call_name(stmt.value.func) == "Field":
                default = stmt.value.args[0] if stmt.value.args else None
                for kw in stmt.value.keywords:
                    if kw.arg == "default":
                        default = kw.value
                    elif kw.arg in ("alias", "validation_alias", "env"):
                        aliases.extend(_alias_strings(kw.value))
            optional = (_is_optional(stmt.annotation) and isinstance(default, ast.Constant)
                        and default.value is None)
            env = ""
            if aliases or settings[0] is not None:
                prefix, case_sensitive = settings
                names = aliases or [(f"{prefix}{name}", stmt)]
                for env_name, where in names:
                    env = env_name if case_sensitive else env_name.upper()
                    read = self._env_read(env, stmt.target, where, kind="setting", may_be_none=optional)
                    read.owner = f"{node.name}.{name}"
            if optional:  # filled from the environment, so None when the variable is unset
                info.optional[name] = env

    def _proxy_of(self, node: ast.ClassDef) -> str:
        """The SDK module a lazy proxy class stands for: it has a `__getattr__`, and one of its
        methods imports the module (`importlib.import_module("litellm")`)."""
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if not any(m.name == "__getattr__" for m in methods):
            return ""
        for method in methods:
            for sub in ast.walk(method):
                names: list[str] = []
                if isinstance(sub, ast.Import):
                    names = [a.name for a in sub.names]
                elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
                    names = [sub.module]
                elif (isinstance(sub, ast.Call) and isinstance(sub.func, (ast.Attribute, ast.Name))
                      and (getattr(sub.func, "attr", None) or getattr(sub.func, "id", None)) == "import_module"
                      and sub.args):
                    names = [str_const(sub.args[0]) or ""]
                for name in names:
                    if name in self._sdk_modules or name.split(".", 1)[0] in self._roots:
                        return self.cat.normalise(name)
        return ""

    def _prescan_class(self, node: ast.ClassDef, info: ClassInfo) -> None:
        """Learn `self.x = Client(...)` and `x: Client` before visiting methods in any order.

        An attribute assigned several times (in `__init__` and a setter, in branches) is any
        of those values; one assigned from a constructor parameter is what the class's
        construction sites pass (resolved in the project phase)."""
        found: dict[str, list[Value]] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                value = self.ev(stmt.value) if stmt.value is not None else UNKNOWN
                if value is UNKNOWN or value is NONE_VALUE:
                    value = join([value, self.annotation_value(stmt.annotation)])
                if value is not UNKNOWN:
                    found.setdefault(stmt.target.id, []).append(value)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = stmt.args.posonlyargs + stmt.args.args
                if not args or _decorated(stmt, "staticmethod"):
                    continue
                self_name = args[0].arg
                local = Scope(self.scope)
                method_qual = ".".join((*self.quals, node.name, stmt.name))
                for arg in args[1:] + stmt.args.kwonlyargs:
                    local.bindings[arg.arg] = self._param_value(method_qual, arg)
                saved, self.scope = self.scope, local
                self.narrowed.append({})
                try:
                    for sub in _assignments(stmt.body):
                        if isinstance(sub, (ast.Import, ast.ImportFrom)):
                            self.visit(sub)  # `from google import genai` inside __init__
                            continue
                        if isinstance(sub, (ast.If, ast.Assert)):
                            positive = self._isinstance(sub.test)
                            if positive is not None and (isinstance(sub, ast.Assert) or (
                                    isinstance(sub.test, ast.UnaryOp) and _terminates(sub.body))):
                                self.narrowed[-1][positive[0]] = positive[1]
                            continue
                        targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                        for t in targets:
                            if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                                    and t.value.id == self_name and sub.value is not None):
                                value = self.ev(sub.value)
                                if isinstance(sub, ast.AnnAssign) and value in (UNKNOWN, NONE_VALUE):
                                    value = join([value, self.annotation_value(sub.annotation)])
                                if value is not UNKNOWN and not isinstance(value, DictVal):
                                    found.setdefault(t.attr, []).append(value)
                finally:
                    self.scope = saved
                    self.narrowed.pop()
        if info.sdk_bases or any(isinstance(b, QName) and self._project_name(b.name) is None
                                 and b.name.split(".", 1)[0] in self._roots for b in map(self.ev, node.bases)):
            self._super_init_attrs(node, info, found)
        for name, values in found.items():
            info.attrs[name] = join(values)

    def _super_init_attrs(self, node: ast.ClassDef, info: ClassInfo, found: dict[str, list[Value]]) -> None:
        """A class extending a framework class passes its constructor's arguments on with
        `super().__init__(llm=llm)`; the framework stores them as `self.llm` or `self._llm`."""
        init = next((s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and s.name == "__init__"), None)
        if init is None:
            return
        params = {a.arg: a for a in init.args.args[1:] + init.args.kwonlyargs}
        qual = ".".join((*self.quals, node.name, "__init__"))
        for sub in ast.walk(init):
            if not (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "__init__"
                    and isinstance(sub.func.value, ast.Call) and isinstance(sub.func.value.func, ast.Name)
                    and sub.func.value.func.id == "super"):
                continue
            for kw in sub.keywords:
                if kw.arg and isinstance(kw.value, ast.Name) and kw.value.id in params:
                    value = self._param_value(qual, params[kw.value.id])
                    for attr in (kw.arg, "_" + kw.arg):
                        found.setdefault(attr, []).append(value)

    def _param_value(self, func_qual: str, arg: ast.arg) -> Value:
        """A parameter: its annotation, else what the function's callers pass (symbolic)."""
        value = self.annotation_value(arg.annotation)
        if value is UNKNOWN:
            return SymVal(ValueFact(ARG, text=":" + func_qual, param=arg.arg))
        return value

    def annotation_value(self, annotation: ast.expr | None) -> Value:
        if annotation is None:
            return UNKNOWN
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return UNKNOWN
        if isinstance(annotation, ast.Subscript):  # Optional[OpenAI], Union[A, B]
            inner = annotation.slice
            if isinstance(inner, ast.Tuple):
                return join([self.annotation_value(e) for e in inner.elts])
            return self.annotation_value(inner)
        if isinstance(annotation, ast.BinOp):  # OpenAI | None
            return join([self.annotation_value(annotation.left), self.annotation_value(annotation.right)])
        value = self.ev(annotation)
        if isinstance(value, QName):
            spec = self.cat.clients.get(value.name)
            if spec is not None:
                return ClientVal(self.cat.sdks[spec.sdk], spec)
            if self._is_project_class(value.name):
                return InstanceVal(value.name, exact=False)
        if isinstance(value, SymVal) and value.fact.kind == NAME and value.fact.text[1:2].isupper():
            return SymVal(ValueFact(SELF, text=value.fact.text))  # a class of this module defined further down
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
        in_class = outer.cls is not None
        if in_class and args and not _decorated(node, "staticmethod"):
            owner = outer.cls
            assert owner is not None
            self.scope.bindings[args[0].arg] = (
                QName(f"<local>.{owner.qual}") if _decorated(node, "classmethod") else SelfVal(owner))
            args = args[1:]
        every = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        every += [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]
        self.quals.append(node.name)
        qual = ".".join(self.quals)
        self._scope_nodes.append(node)
        self.funcs.append(FuncInfo(
            qual=qual, params=[a.arg for a in args],
            kwonly=[a.arg for a in node.args.kwonlyargs],
            kwarg=node.args.kwarg.arg if node.args.kwarg else None, names=frozenset(every)))
        for arg in (*args, *node.args.kwonlyargs):
            self.scope.bindings[arg.arg] = self._param_value(qual, arg)
        for extra in (node.args.vararg, node.args.kwarg):
            if extra is not None:
                self.scope.bindings[extra.arg] = UNKNOWN
        saved = self.context, self.context_unresolved
        self.context, self.context_unresolved = [], []
        self.returns.append([])
        saved_classes, self.classes = self.classes, [outer.cls] if outer.cls is not None else []
        self.narrowed.append({})
        for stmt in node.body:
            self.visit(stmt)
        self.narrowed.pop()
        self.classes = saved_classes
        returned = self.returns.pop()
        info = self.funcs.pop()
        self._scope_nodes.pop()
        self.quals.pop()
        wrapper = self.wrappers.get(qual)
        if wrapper is not None:
            wrapper.node = node
            self.module.wrappers.append(wrapper)
        self.context, self.context_unresolved = saved
        self.scope = outer
        result = self.annotation_value(node.returns)
        if result is UNKNOWN and returned:
            result = join(returned)
        self.module.summary.functions.append(FunctionFact(
            qual=qual, params=info.params, kwonly=info.kwonly, kwarg=info.kwarg,
            returns=self._return_fact(node, result),
            is_property=any(_decorator_name(d) in ("property", "cached_property") for d in node.decorator_list)))
        local = result if isinstance(result, (ClientVal, QName, InstanceVal)) or result is MOCK_VALUE else UNKNOWN
        outer.bindings[node.name] = LocalFunc(f"<local>.{qual}", local)

    def _return_fact(self, node: ast.FunctionDef | ast.AsyncFunctionDef, result: Value) -> ValueFact:
        """What a call of the function gives: its value, or a dict it returns (described, so
        the project phase knows the keys of `**self._build_request(...)`)."""
        if isinstance(result, DictVal) and result.node is not None:
            return self.describe(result.node, depth=DEPTH - 1)
        return self.fact_of(result)

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
            self._record_str(target, node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(value, EnvVal) \
                and value.read.call is node.value:
            self._bound_reads.append((value.read, node.targets[0].id, self._scope_nodes[-1]))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            value = self.ev(node.value)
        else:
            value = UNKNOWN
        if value is UNKNOWN or value is NONE_VALUE:
            value = join([value, self.annotation_value(node.annotation)])
        self._assign(node.target, node.value, value)
        self._record_str(node.target, node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target, self.ev(node.value))

    def _assign(self, target: ast.AST, value_node: ast.expr | None, value: Value) -> None:
        if isinstance(target, ast.Subscript):
            # d["k"] = v on a dict built here
            owner = self.ev(target.value)
            if isinstance(owner, QName) and owner.name == "os.environ":
                found = self._env_name(target.slice)
                saved = [m.read for m in (value.members if isinstance(value, UnionVal) else (value,))
                         if isinstance(m, EnvVal) and found is not None and m.read.name == found[0]]
                if saved:  # `old = os.environ.get(X)` ... `os.environ[X] = old`: saved and restored
                    for read in saved:
                        read.kind = "saved"
                elif found is not None:  # os.environ["OPENAI_API_KEY"] = ...: every library in the process uses it
                    self._env_read(found[0], target.slice, target, via=found[1], kind="write", value=value_node)
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
                    sdk = self.cat.sdks[sdk_name]
                    self._key_argument(value_node, value, sdk.vendor)
                    default = next((c.default_key_env for c in sdk.clients if c.default_key_env), "")
                    self._fallback(value_node, value, f"{module}.api_key", default)
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
            value = self.ev(node)
            if isinstance(value, SymVal):
                owner.symbolic.append(value.fact)
            else:
                owner.complete = False
        else:
            owner.entries.update(other.entries)
            owner.complete = owner.complete and other.complete
            owner.symbolic.extend(other.symbolic)

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
        if isinstance(node.ctx, ast.Load):  # a write is recorded by its assignment; `del` reads nothing
            self._environ_item(node)
        self.generic_visit(node)

    def _environ_item(self, node: ast.Subscript) -> EnvRead | None:
        """`os.environ[NAME]`, read."""
        base = self.ev(node.value)
        if not (isinstance(base, QName) and base.name == "os.environ"):
            return None
        found = self._env_name(node.slice)
        if found is None:
            return None
        return self._env_read(found[0], node.slice, node, via=found[1])

    def visit_Constant(self, node: ast.Constant) -> None:
        if (isinstance(node.value, str) and len(node.value) >= 16 and id(node) not in self._env_nodes
                and self.cat.key_format(node.value) is not None and not looks_like_regex(node.value)):
            for found in find_keys(node.value, self.cat):  # the first real key; fixtures are not keys
                self.module.key_literals.append(
                    KeyLiteral(node, node.value, found.format_name, "format", key=found.key))
                break

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "bool" and len(node.args) == 1:
            self._mark_checks(node.args[0])  # bool(os.getenv("X")): is it set?
        elif isinstance(node.func, ast.Attribute) and node.func.attr.startswith("assert"):
            for arg in node.args:  # self.assertEqual(os.environ.get("X"), "v"): compared, not used
                self._mark_checks(arg)
        func = self.ev(node.func)
        if isinstance(func, QName):
            name = func.name
            if name in ENV_GETTERS:
                self._env_get(node)
            elif name in ENV_SETTERS or name == "os.environ.update":
                self._env_set(node, name)
            else:
                spec = self.cat.clients.get(name)
                if spec is not None:
                    self._construction(node, spec)
        func = self._run_now(node, func)
        call = self.llm_call(node, func)
        if call is not None:
            self.module.calls.append(call)
            if call.deferred:
                self._project_call(node, self.fact_of(func), llm=(call.sdk.name, call.method))
        else:
            callee = self._callee(node, func)
            if callee is not None:
                self._project_call(node, callee)
        self.generic_visit(node)

    # -- calls the project phase resolves ----------------------------------------------------------

    def _callee(self, node: ast.Call, func: Value) -> ValueFact | None:
        """What a call calls, for the project phase: a project function or class, a method of
        a project object (a possible wrapper), or a possibly billable method on a receiver only
        the project can resolve. None for everything else (builtins, the stdlib, SDK calls
        that are not billable, methods of unknown objects)."""
        if isinstance(func, LocalFunc):
            return ValueFact(NAME, text=local_name(func.name))
        if isinstance(func, QName):
            named = self._project_name(func.name)
            return ValueFact(NAME, text=named) if named else None
        if isinstance(func, SymVal):
            return func.fact
        if isinstance(func, UnionVal):
            facts = [self._callee(node, m) for m in func.members]
            known = [f for f in facts if f is not None]
            return union(known) if known else None
        if isinstance(node.func, ast.Attribute):
            owner = self.ev(node.func.value)
            if isinstance(owner, SelfVal):
                return ValueFact("attr", text=node.func.attr,
                                 members=(ValueFact(SELF, text=":" + (owner.cls.qual or owner.cls.name)),))
            if isinstance(owner, InstanceVal):
                base = self._project_name(owner.cls)
                if base:
                    return ValueFact("attr", text=node.func.attr, members=(self.fact_of(InstanceVal(base, owner.exact)),))
        return None

    def _project_call(self, node: ast.Call, callee: ValueFact, llm: tuple[str, str] | None = None) -> None:
        fn = self.funcs[-1] if self.funcs else None
        star = any(isinstance(a, ast.Starred) for a in node.args)
        forwards = False
        kwargs: dict[str, ValueFact] = {}
        spreads: list[ValueFact] = []
        for kw in node.keywords:
            if kw.arg is not None:
                kwargs[kw.arg] = self.describe(kw.value)
                continue
            if fn is not None and isinstance(kw.value, ast.Name) and kw.value.id == fn.kwarg:
                forwards = True
                continue
            spread = self.dict_of(kw.value)
            if spread is not None:
                forwards = forwards or (fn is not None and fn.kwarg in spread.spreads)
                for key, entry in spread.entries.items():
                    kwargs[key] = self.describe(entry.value)
                spreads.extend(spread.symbolic)
                star = star or not spread.complete
                continue
            value = self.ev(kw.value)
            if isinstance(value, SymVal):
                spreads.append(value.fact)
            else:
                star = True
        self.module.project_calls.append(ProjectCall(
            node=node, callee=callee,
            args=[self.describe(a) for a in node.args if not isinstance(a, ast.Starred)],
            kwargs=kwargs, spreads=spreads, star=star, context=self._context_fields(),
            context_unresolved=bool(self.context_unresolved),
            func=fn.qual if fn else None, func_kwarg=fn.kwarg if fn else None,
            func_params=list(fn.params) if fn else [], forwards=forwards, scope=".".join(self.quals), llm=llm,
        ))

    def _project_name(self, name: str) -> str | None:
        """How the project phase names an imported name, or None when it is no project name
        (an SDK, the standard library, a builtin)."""
        if name.startswith("<local>."):
            return ":" + name[len("<local>."):]
        if name.startswith(PROJECT):
            return name[len(PROJECT):]
        root = name.split(".", 1)[0]
        if not root or name.startswith("."):
            return name  # a relative import, resolved in the project phase
        if root == "builtins" or root in sys.stdlib_module_names or root in self._roots:
            return None
        return name

    def fact_of(self, value: Value) -> ValueFact:
        return to_fact(value, self._project_name)

    def describe(self, node: ast.expr | None, depth: int = DEPTH) -> ValueFact:
        """What the project phase needs to know about an argument: a parameter of the enclosing
        function, None or a placeholder, a dict's entries (a few levels deep), else its value."""
        if node is None:
            return UNKNOWN_VALUE
        if isinstance(node, ast.Constant):
            if node.value is None:
                return ValueFact(NONE)
            if isinstance(node.value, str):
                if not node.value.strip() or self.schema.is_placeholder(node.value):
                    return ValueFact(PLACEHOLDER, text=repr(node.value)[:40])
                return ValueFact(STRING)
            return UNKNOWN_VALUE
        if isinstance(node, ast.Name) and self.funcs and node.id in self.funcs[-1].names:
            return ValueFact(PARAM, text=node.id)
        if depth > 0:
            d = self.dict_of(node, calls=self._is_config(node))
            if d is not None:
                entries = tuple((key, self.describe(entry.value, depth - 1)) for key, entry in d.entries.items())
                return ValueFact(DICT, entries=entries, complete=d.complete, spreads=tuple(sorted(d.spreads)),
                                 members=tuple(d.symbolic))
        return self.fact_of(self.ev(node))

    def _is_config(self, node: ast.expr) -> bool:
        """`GenerateContentConfig(labels=...)`, `RunnableConfig(metadata=...)`, `RunConfig(...)`:
        an SDK's configuration object, whose keywords are its entries."""
        if not isinstance(node, ast.Call):
            return False
        func = self.ev(node.func)
        return (isinstance(func, QName) and self._project_name(func.name) is None
                and func.name.rsplit(".", 1)[-1].endswith(("Config", "Options")))

    def _context_fields(self) -> dict[str, ValueFact]:
        return {s.field: self.describe(s.value) for block in self.context for s in block}

    # -- wrappers: functions whose LLM call takes attribution from their parameters ---------------

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
        if fn.kwarg is not None and carries_fields(spec):  # else **kwargs cannot carry attribution
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
                label=f"{call.sdk.name} `{call.method}`", fixed=fixed, call_node=node, where=where_to_put(call))
        else:
            wrapper.fixed &= fixed
            wrapper.more_calls.append(node)
            wrapper.more_labels.append(f"{call.sdk.name} `{call.method}`")
        for f, p in supplies.items():
            wrapper.supplies.setdefault(f, p)
        wrapper.metadata_param = wrapper.metadata_param or metadata_param
        if forwards:
            wrapper.forwards_kwargs = True
            wrapper.meta_key = spec.param if spec is not None and not spec.path else wrapper.meta_key

    # -- environment variables: reads, writes, the names they use ------------------------------

    def _env_get(self, node: ast.Call) -> EnvRead | None:
        """`os.getenv(NAME[, default])`, `os.environ.get(NAME[, default])`."""
        if not node.args:
            return None
        found = self._env_name(node.args[0])
        if found is None:
            return None
        default: ast.expr | None = node.args[1] if len(node.args) > 1 else None
        for kw in node.keywords:
            if kw.arg == "default":
                default = kw.value
        may_be_none = default is None or (isinstance(default, ast.Constant) and default.value is None)
        return self._env_read(found[0], node.args[0], node, via=found[1], may_be_none=may_be_none)

    def _env_set(self, node: ast.Call, func: str) -> None:
        """`os.environ.setdefault(NAME, v)`, `os.putenv(NAME, v)`, `os.environ.update(NAME=v)`."""
        if func != "os.environ.update":
            found = self._env_name(node.args[0]) if len(node.args) >= 2 else None
            if found is not None:
                self._env_read(found[0], node.args[0], node, via=found[1], kind="write", value=node.args[1])
            return
        for kw in node.keywords:
            if kw.arg is not None:
                self._env_read(kw.arg, kw, kw, kind="write", value=kw.value)
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                for key, value in zip(arg.keys, arg.values):
                    found = self._env_name(key) if key is not None else None
                    if found is not None:
                        self._env_read(found[0], key, key, via=found[1], kind="write", value=value)  # type: ignore[arg-type]

    def _env_read(self, name: str, where: ast.AST, node: ast.AST, *, via: str = "", kind: str = "read",
                  may_be_none: bool = False, value: ast.expr | None = None) -> EnvRead:
        """Record that `node` reads (or writes) variable `name`; `where` is what to report."""
        literal = where if isinstance(where, ast.Constant) else None
        if literal is not None:
            self._env_nodes.add(id(literal))
        scope = ".".join(self.quals)
        if kind == "read" and id(node) in self._checks:
            return EnvRead(name, where, node, kind="check", scope=scope)  # only tested: not a use
        for read in self.module.env_reads:
            if read.call is node:
                return read
        read = EnvRead(name, where, node, kind=kind, literal=literal, via=via, may_be_none=may_be_none,
                       value=value, scope=scope)
        if kind == "write" and name in self.cat.base_url_envs:
            self._redirects.add((scope, self.cat.base_url_envs[name]))
            return read
        self.module.env_reads.append(read)
        return read

    def _env_name(self, node: ast.AST) -> tuple[str, str] | None:
        """The variable name `node` holds, and, when it is not a literal, the expression it
        comes from: a name bound to a string constant, a simple f-string or `+` of those."""
        text = str_const(node)
        if text is not None:
            return text, ""
        text = self._str_value(node)
        if text is None or not text:
            return None
        return text, ast.unparse(node)  # type: ignore[arg-type]

    def _str_value(self, node: ast.AST | None, depth: int = 0) -> str | None:
        if depth > 8 or node is None:
            return None
        text = str_const(node)
        if text is not None:
            return text
        if isinstance(node, ast.Name):
            return self._const_str(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    if part.conversion != -1 or part.format_spec is not None:
                        return None
                    part_text = self._str_value(part.value, depth + 1)
                else:
                    part_text = str_const(part)
                if part_text is None:
                    return None
                parts.append(part_text)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._str_value(node.left, depth + 1), self._str_value(node.right, depth + 1)
            return left + right if left is not None and right is not None else None
        return None

    def _const_str(self, name: str) -> str | None:
        """The string constant a name is bound to in this or an enclosing scope (not through a
        class body), or None when it is bound to anything else or to different constants."""
        scope: Scope | None = self.scope
        while scope is not None:
            if scope.cls is None or scope is self.scope:
                known = self._strs.get((id(scope), name))
                if known is not None:
                    return known[1]
                if name in scope.bindings:
                    return None
            scope = scope.parent
        return None

    def _record_str(self, target: ast.AST, value_node: ast.expr | None) -> None:
        if not isinstance(target, ast.Name):
            return
        key = (id(self.scope), target.id)
        text = self._str_value(value_node)
        if text is None:
            self._strs.pop(key, None)
            return
        known = self._strs.get(key)
        self._strs[key] = (self.scope, text if known is None or known[1] == text else None)

    def _construction(self, node: ast.Call, spec: ClientSpec) -> None:
        key_arg, key_param = None, None
        for kw in node.keywords:
            if kw.arg in spec.key_params:
                key_arg, key_param = kw.value, kw.arg
                break
        position = spec.key_position
        if (key_arg is None and position is not None and len(node.args) > position
                and not any(isinstance(a, ast.Starred) for a in node.args[:position + 1])):
            key_arg, key_param = node.args[position], spec.key_params[0]  # `cohere.Client(key)`
        star = any(kw.arg is None for kw in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args)
        explicit_none = isinstance(key_arg, ast.Constant) and key_arg.value is None  # `api_key=None` is no key
        self.module.constructions.append(
            ClientConstruction(node, spec, None if explicit_none else key_arg, key_param, star))
        if key_arg is not None and not explicit_none and key_param is not None and _carries_key(key_param):
            value = self.ev(key_arg)
            self._key_argument(key_arg, value, spec.vendor or self.cat.sdks[spec.sdk].vendor)
            self._fallback(key_arg, value, client_label(spec.name) + "()", spec.default_key_env)

    def _fallback(self, node: ast.expr, value: Value, client: str, default_env: str) -> None:
        """A key argument that may be None at run time: the SDK then reads `default_env`."""
        if not default_env:
            return
        found = self._may_be_none(node, value)
        if found is not None:
            why, env = found
            self.module.fallbacks.append(Fallback(node, client, default_env, ast.unparse(node), why, env))

    def _may_be_none(self, node: ast.expr, value: Value) -> tuple[str, str | None] | None:
        """Why `node` may be None (and the variable it reads), or None when it cannot be."""
        if ast.unparse(node) in self._truthy[-1]:
            return None  # inside `if key:`
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.Or):  # `a or b` is None only when b is
                return self._may_be_none(node.values[-1], self.ev(node.values[-1]))
            return None
        if isinstance(node, ast.IfExp):
            return (self._may_be_none(node.body, self.ev(node.body))
                    or self._may_be_none(node.orelse, self.ev(node.orelse)))
        generic = self.cat.generic_envs
        for member in value.members if isinstance(value, UnionVal) else (value,):
            if isinstance(member, EnvVal):
                read = member.read
                if read.may_be_none and not read.guarded and read.name not in generic:
                    return f"is None when `{read.name}` is unset", read.name
        if isinstance(node, ast.Attribute):
            owner = self.ev(node.value)
            info = owner.cls if isinstance(owner, SelfVal) else (
                self._class_infos.get(owner.cls) if isinstance(owner, InstanceVal) else None)
            if info is not None and node.attr in info.optional:
                env = info.optional[node.attr] or None
                if env in generic:
                    return None
                return f"is typed Optional with a default of None on `{info.name}`", env
        return None

    def _key_argument(self, node: ast.expr, value: Value, vendor: str) -> None:
        """An expression passed as a client's key: a literal, or an env var flowing into it."""
        literal = str_const(node)
        if literal is not None:
            self.module.key_literals.append(KeyLiteral(node, literal, None, "api_key", key=literal))  # type: ignore[arg-type]
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
        narrowed = self.narrowed[-1]
        if narrowed and isinstance(node, (ast.Name, ast.Attribute)):
            known = narrowed.get(ast.dump(node))
            if known is not None:
                return known
        if isinstance(node, ast.Name):
            value = self.scope.lookup(node.id)
            if value is not None:
                return value
            if node.id == "dict":
                return QName("builtins.dict")
            if node.id in _BUILTINS:
                return UNKNOWN
            # not bound yet: a module-level name defined further down (or a star import)
            return SymVal(ValueFact(NAME, text=":" + node.id))
        if isinstance(node, ast.Attribute):
            return self._attribute(self.ev(node.value), node.attr)
        if isinstance(node, ast.Call):
            return self._ev_call(node)
        if isinstance(node, ast.Dict):
            return self.dict_of(node) or UNKNOWN
        if isinstance(node, ast.Subscript):
            read = self._environ_item(node)
            return EnvVal(read) if read is not None else UNKNOWN
        if isinstance(node, ast.Await):
            return self.ev(node.value)
        if isinstance(node, ast.Constant):
            return NONE_VALUE if node.value is None else UNKNOWN
        if isinstance(node, ast.IfExp):
            return join([self.ev(node.body), self.ev(node.orelse)])
        if isinstance(node, ast.BoolOp):
            return join([self.ev(v) for v in node.values]) if isinstance(node.op, ast.Or) else UNKNOWN
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self.ev(node.left), self.ev(node.right)
            if isinstance(left, DictVal) and isinstance(right, DictVal):
                return self.dict_of(node) or UNKNOWN
            return join([left, right])  # an LCEL pipe is its model, wherever it stands
        if isinstance(node, ast.NamedExpr):
            return self.ev(node.value)
        return UNKNOWN

    def _attribute(self, base: Value, attr: str) -> Value:
        if isinstance(base, QName):
            return QName(self.cat.normalise(f"{base.name}.{attr}"))
        if isinstance(base, ClientVal):
            if attr in CHAIN_SKIP:
                return base
            return replace(base, path=(*base.path, attr))
        if isinstance(base, SelfVal):
            known = base.cls.attrs.get(attr)
            if known is not None and known is not NONE_VALUE:
                return known
            if base.cls.sdk_bases and attr not in base.cls.methods:
                spec = base.cls.sdk_bases[0]  # inherited from the SDK class it extends
                return ClientVal(self.cat.sdks[spec.sdk], spec, path=(attr,))
            return sym_attr(ValueFact(SELF, text=":" + (base.cls.qual or base.cls.name)), attr)
        if isinstance(base, SymVal):
            return sym_attr(base.fact, attr)
        if isinstance(base, InstanceVal):
            named = self._project_name(base.cls)
            if named:  # `llm: BaseProvider` may be any subclass: the fact says so
                return sym_attr(self.fact_of(InstanceVal(named, base.exact)), attr)
            return UNKNOWN
        if isinstance(base, UnionVal):
            return join([self._attribute(m, attr) for m in base.members])
        if base is MOCK_VALUE:
            return MOCK_VALUE
        return UNKNOWN

    def _ev_call(self, node: ast.Call) -> Value:
        func_node = node.func
        func = self.ev(func_node)
        if isinstance(func_node, ast.Attribute) and func_node.attr in MOCKS or (
                isinstance(func, QName) and func.name.rsplit(".", 1)[-1] in MOCKS):
            return MOCK_VALUE
        return self._call_value(node, func)

    def _super(self) -> Value:
        """`super()` in a method: the SDK client the class extends, else its class (whose
        bases the project phase knows)."""
        if not self.classes:
            return UNKNOWN
        info = self.classes[-1]
        if info.sdk_bases:
            spec = info.sdk_bases[0]
            return ClientVal(self.cat.sdks[spec.sdk], spec)
        return SymVal(ValueFact(SELF, text=":" + (info.qual or info.name)))

    def _call_value(self, node: ast.Call, func: Value) -> Value:
        if isinstance(node.func, ast.Name) and node.func.id == "super" and func is UNKNOWN:
            return self._super()
        if isinstance(func, LocalFunc):
            if func.returns is not UNKNOWN:
                return func.returns
            return sym_call(ValueFact(NAME, text=local_name(func.name)))
        if isinstance(func, UnionVal):
            return join([self._call_value(node, m) for m in func.members])
        if isinstance(func, SymVal):
            return sym_call(func.fact)
        if func is MOCK_VALUE:
            return MOCK_VALUE
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
            if name in ENV_GETTERS:
                read = self._env_get(node)
                if read is not None:
                    return EnvVal(read)
            if name == "builtins.dict":
                return self.dict_of(node) or UNKNOWN
            if name in ("functools.partial", "asgiref.sync.sync_to_async", "importlib.import_module", "typing.cast") and node.args:
                if name == "importlib.import_module":
                    module = str_const(node.args[0])
                    return self.imported(module) if module else UNKNOWN
                # partial(f, ...) calls f; cast(T, x) is x
                return self.ev(node.args[-1] if name == "typing.cast" else node.args[0])
            if self._is_project_class(name):
                return InstanceVal(name)
            named = self._project_name(name)
            if named:
                return sym_call(ValueFact(NAME, text=named))
        if isinstance(func, ClientVal) and func.path and func.path[-1] in func.sdk.modifiers:
            return replace(func, path=func.path[:-1])  # with_options(...), with_structured_output(...)
        func_node = node.func
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
        """The keys of a dict expression: a literal, `dict(...)`, `a | b`, or a local name bound
        to one. A `**spread` of a dict only the project can resolve is kept as symbolic.

        With `calls`, any call's keyword arguments count as keys (config objects such as
        `GenerateContentConfig(labels=...)` or `RunnableConfig(metadata=...)`)."""
        if isinstance(node, ast.Dict):
            d = DictVal(node=node)
            for key, value in zip(node.keys, node.values):
                if key is None:
                    if isinstance(value, ast.Name):
                        d.spreads.add(value.id)
                    self._spread_into(d, value)
                    continue
                k = str_const(key)
                if k is None:
                    d.complete = False
                else:
                    d.entries[k] = MetadataEntry(k, key, value)
            return d
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self.dict_of(node.left), self.dict_of(node.right)
            if left is None or right is None:
                return None
            d = DictVal(node=node, complete=left.complete and right.complete,
                        spreads=left.spreads | right.spreads, symbolic=left.symbolic + right.symbolic)
            d.entries.update(left.entries)
            d.entries.update(right.entries)
            return d
        if isinstance(node, ast.Call):
            func = self.ev(node.func)
            if calls or (isinstance(func, QName) and func.name == "builtins.dict"):
                d = DictVal(node=node)
                for arg in node.args:
                    self._spread_into(d, arg)
                for kw in node.keywords:
                    if kw.arg is None:
                        self._spread_into(d, kw.value)
                    else:
                        d.entries[kw.arg] = MetadataEntry(kw.arg, kw, kw.value)
                return d
            return None
        if isinstance(node, ast.Name):
            value = self.scope.lookup(node.id)
            if isinstance(value, DictVal):
                return value
        return None

    def _spread_into(self, d: DictVal, node: ast.expr) -> None:
        spread = self.dict_of(node)
        if spread is not None:
            d.entries.update(spread.entries)
            d.complete = d.complete and spread.complete
            d.symbolic.extend(spread.symbolic)
            return
        value = self.ev(node)
        if isinstance(value, SymVal):
            d.symbolic.append(value.fact)
        else:
            d.complete = False

    # -- LLM calls ----------------------------------------------------------------------------

    def _run_now(self, node: ast.Call, func: Value) -> Value:
        """`asyncio.to_thread(client.x.create, ...)`, `loop.run_in_executor(None, f, ...)`:
        calling the runner calls the callable it is given, now."""
        runner = _RUNNERS.get(func.name) if isinstance(func, QName) else None
        if runner is None and isinstance(node.func, ast.Attribute) and node.func.attr == "run_in_executor":
            runner = 1
        if runner is not None and len(node.args) > runner:
            return self.ev(node.args[runner])
        return func

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
        if isinstance(func, UnionVal):
            for member in func.members:  # an LCEL pipe, or an attribute set in branches
                found = self.classify(node, member)
                if found is not None:
                    return found
            return None
        if func is MOCK_VALUE:
            return None
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
            if not name.startswith("<local>") and name.split(".", 1)[0] in self._roots:
                return None  # a known SDK's other API
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in self.cat.method_tails:
            return None
        chain = attribute_chain(node.func)
        root = self._chain_root_value(node.func)
        if isinstance(root, (ClientVal, LocalFunc)) or root is MOCK_VALUE:
            return None  # a resolved client (or function) without this method
        for i in range(len(chain)):
            method = ".".join(chain[i:])
            sdk_name = self.cat.compatible.get(method)
            if sdk_name is not None:
                sdk = self.cat.sdks[sdk_name]
                return sdk.for_method(method), sdk.methods[method], method, None
        keywords = {kw.arg for kw in node.keywords if kw.arg}
        for method, required, sdk_name in self.cat.shapes.get(node.func.attr, ()):
            if ".".join(chain).endswith(method) and required <= keywords:
                sdk = self.cat.sdks[sdk_name]  # `.messages.create(model=, max_tokens=, messages=)`
                return sdk.for_method(method), sdk.methods[method], method, None
        return None

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
        for value, d in zip(star, star_dicts):
            if d is None and isinstance(self.ev(value), SymVal) or d is not None and d.symbolic:
                call.deferred = True  # `**self._build_request(...)`: the project phase knows its keys
        if carries_fields(spec) and (any(d is None or not d.complete or d.symbolic for d in star_dicts)
                                     or any(isinstance(a, ast.Starred) for a in node.args)):
            # (arguments the provider cannot take attribution in need no reading)
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
                    if isinstance(self.ev(arg), SymVal):
                        call.deferred = True
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
                return Metadata(node=arg, entries=[], complete=d.complete and not d.symbolic)
            d = self.dict_of(entry.value, calls=True) if entry.value is not None else None
        if d is None:
            return Metadata(node=arg, complete=False)
        return Metadata(node=d.node or arg, entries=list(d.entries.values()), complete=d.complete and not d.symbolic)


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


# Functions that call the callable they are given (at this index), now: the call is that callable's.
_RUNNERS = {
    "asyncio.to_thread": 0, "anyio.to_thread.run_sync": 0, "starlette.concurrency.run_in_threadpool": 0,
    "fastapi.concurrency.run_in_threadpool": 0,
}
_BUILTINS = frozenset(dir(builtins))


def _decorated(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    return any(isinstance(d, ast.Name) and d.id == name for d in node.decorator_list)


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _carries_key(param: str) -> bool:
    """A constructor parameter that takes the API key itself (not a token provider or a flag)."""
    return param in ("api_key", "auth_token", "api_token") or param.endswith("_api_key")


def _call_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return _call_name(target) == "ClassVar"


def _is_optional(annotation: ast.expr) -> bool:
    """`Optional[X]`, `X | None`, `Union[X, None]` (also as a string)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _is_optional(annotation.left) or _is_optional(annotation.right)
    if isinstance(annotation, ast.Constant):
        return annotation.value is None
    if isinstance(annotation, ast.Subscript):
        name = _call_name(annotation.value)
        if name == "Optional":
            return True
        if name == "Union":
            inner = annotation.slice
            return any(_is_optional(e) for e in (inner.elts if isinstance(inner, ast.Tuple) else [inner]))
        if name == "Annotated" and isinstance(annotation.slice, ast.Tuple) and annotation.slice.elts:
            return _is_optional(annotation.slice.elts[0])
    return False


def _alias_strings(node: ast.expr) -> list[tuple[str, ast.AST]]:
    """The names an alias gives: `"X"`, `["X", "Y"]` (pydantic v1 `env=`), `AliasChoices("X", "Y")`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value, node)]
    items: list[ast.expr] = []
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    elif isinstance(node, ast.Call) and _call_name(node.func) == "AliasChoices":
        items = node.args
    return [(item.value, item) for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]


def _terminates(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Raise, ast.Return, ast.Continue, ast.Break))


def _stops(body: list[ast.stmt]) -> bool:
    """The block ends the function or the program: raise, return, continue, break, exit()."""
    if _terminates(body):
        return True
    last = body[-1] if body else None
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        func = last.value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in ("exit", "quit", "abort", "fail", "skip")
    return False


def _only_tested(name: str, scope: ast.AST) -> bool:
    """Whether `name` is used in `scope`, and every use only tests it (`if not key`, `key is
    None`, `assert key`, `len(key) < 20`): the value itself goes nowhere."""
    parents: dict[int, ast.AST] = {}
    loads = []
    for node in ast.walk(scope):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            loads.append(node)
    for load in loads:
        node: ast.AST = load
        while True:
            parent = parents.get(id(node))
            if isinstance(parent, ast.Call) and _call_name(parent.func) in ("len", "bool") and node in parent.args:
                break  # its length or truth, not the key
            if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and node is parent.test:
                break
            if isinstance(parent, ast.Compare):
                break
            if isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
                node = parent  # a test only if the whole expression is one
                continue
            return False
    return bool(loads)  # a value never used here may be used by an importer


def _tested(node: ast.expr) -> str | None:
    """A name or `self.x`, as the text tests refer to it."""
    if isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        return ast.unparse(node)
    return None


def _missing_tests(test: ast.expr) -> set[str]:
    """What `test` is true for when unset: `not x`, `x is None`, `x == ""`, joined by `or`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return set().union(*(_missing_tests(v) for v in test.values))
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        name = _tested(test.operand)
        return {name} if name else set()
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq))
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value in (None, "")):
        name = _tested(test.left)
        return {name} if name else set()
    return set()


def _present_tests(test: ast.expr) -> set[str]:
    """What `test` proves set when true: `x`, `x is not None`, joined by `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return set().union(*(_present_tests(v) for v in test.values))
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.IsNot, ast.NotEq))
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value in (None, "")):
        test = test.left
    name = _tested(test)
    return {name} if name else set()


def _assignments(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Assignments, imports and isinstance checks (`if`, `assert`) in a function body, in
    order, through if/for/while/with/try/match blocks but not into nested functions or
    classes: a statement walk, far cheaper than `ast.walk`."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.If, ast.Assert)):
            yield stmt
            if isinstance(stmt, ast.Assert):
                continue
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom)):
            yield stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        else:
            for name in _BLOCK_FIELDS:
                block = getattr(stmt, name, None)
                if block:
                    stack.extend(reversed(block))
