"""Abstract values: what one file's analysis knows an expression to be, and its scopes.

Concrete values (an SDK client, an SDK name, a dict with known keys) are resolved in the file.
A `SymVal` stands for what only the whole project can tell (the result of a project function,
an attribute set in another module, a parameter filled by the callers); it carries the
`ValueFact` that the project phase resolves.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from attrlint.core.catalogue import ClientSpec, Sdk
from attrlint.lint.analysis.facts import EnvRead, FieldSource, MetadataEntry
from attrlint.lint.analysis.summary import (
    ATTR,
    CALL,
    CLIENT,
    DICT,
    MOCK,
    NAME,
    NONE,
    SDK,
    UNION,
    UNKNOWN_VALUE,
    ValueFact,
    union,
)


class Value:
    __slots__ = ()


class _Unknown(Value):
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class _NoneVal(Value):
    __slots__ = ()

    def __repr__(self) -> str:
        return "None"


NONE_VALUE = _NoneVal()


class _Mock(Value):
    """A test double (`MagicMock()`, `AsyncMock()`, `create_autospec(...)`): nothing called on it bills."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MOCK"


MOCK_VALUE = _Mock()


@dataclass(frozen=True)
class QName(Value):
    """An imported name or an attribute of one: `litellm`, `openai.OpenAI`, `app.llm.client`."""

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
    symbolic: list[ValueFact] = field(default_factory=list)  # spread values only the project can resolve


@dataclass(frozen=True)
class InstanceVal(Value):
    """An instance of a project class (`Helper()`, `llm: Helper`): its methods may be wrappers."""

    cls: str  # "<local>.Helper" or "pkg.mod.Helper"
    exact: bool = True  # False when only a base class is known (`llm: BaseProvider`): any subclass


@dataclass(frozen=True)
class EnvVal(Value):
    read: EnvRead


@dataclass(frozen=True)
class LocalFunc(Value):
    """A function defined in this module; `returns` is what a call to it evaluates to."""

    name: str  # "<local>.f"
    returns: Value = field(default_factory=lambda: UNKNOWN)


@dataclass
class ClassInfo:
    name: str
    qual: str = ""
    attrs: dict[str, Value] = field(default_factory=dict)
    sdk_bases: list[ClientSpec] = field(default_factory=list)  # SDK clients it extends
    methods: set[str] = field(default_factory=set)  # methods defined in its body
    optional: dict[str, str] = field(default_factory=dict)  # fields typed Optional with default None -> env name ("" if none)


@dataclass(frozen=True)
class SelfVal(Value):
    cls: ClassInfo


@dataclass(frozen=True)
class SymVal(Value):
    """A value the project phase resolves."""

    fact: ValueFact


@dataclass(frozen=True)
class UnionVal(Value):
    """Any of `members` (branches of an `if`, `a or b`, an optional import)."""

    members: tuple[Value, ...]


def join(values: list[Value]) -> Value:
    """The value that is any of `values`; unknown alternatives add nothing."""
    flat: list[Value] = []
    for value in values:
        for member in (value.members if isinstance(value, UnionVal) else (value,)):
            if member is not UNKNOWN and member not in flat:
                flat.append(member)
    if not flat:
        return UNKNOWN
    if len(flat) == 1:
        return flat[0]
    return UnionVal(tuple(flat[:8]))


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


def local_name(name: str) -> str:
    """`<local>.f` -> `:f` (a name of this module, as the project phase writes it)."""
    return ":" + name[len("<local>."):] if name.startswith("<local>.") else name


def to_fact(value: Value, project_name: object = None) -> ValueFact:
    """The serialisable form of a value, for the module summary. `project_name(qname)` tells
    whether an imported name is the project's (a symbol) and how to write it."""
    if isinstance(value, SymVal):
        return value.fact
    if isinstance(value, ClientVal):
        return ValueFact(CLIENT, text=value.sdk.name, spec=value.spec.name if value.spec else "", path=value.path,
                         instrumented=value.instrumented, supplied=tuple(sorted({s.field for s in value.supplied})))
    if isinstance(value, QName):
        named = project_name(value.name) if callable(project_name) else None
        if named:
            return ValueFact(NAME, text=named)
        return ValueFact(SDK, text=value.name)
    if isinstance(value, LocalFunc):
        return ValueFact(NAME, text=local_name(value.name))
    if isinstance(value, InstanceVal):
        named = local_name(value.cls) if value.cls.startswith("<local>.") else value.cls
        if not value.exact:
            return ValueFact("self", text=named)
        return ValueFact(CALL, members=(ValueFact(NAME, text=named),))
    if isinstance(value, SelfVal):
        return ValueFact("self", text=":" + (value.cls.qual or value.cls.name))
    if isinstance(value, DictVal):
        entries = []
        for key, entry in value.entries.items():
            entries.append((key, UNKNOWN_VALUE))
        return ValueFact(DICT, entries=tuple(entries), complete=value.complete and not value.symbolic,
                         spreads=tuple(sorted(value.spreads)))
    if value is NONE_VALUE:
        return ValueFact(NONE)
    if value is MOCK_VALUE:
        return ValueFact(MOCK)
    if isinstance(value, UnionVal):
        return union([to_fact(m, project_name) for m in value.members])
    return UNKNOWN_VALUE


def sym_attr(fact: ValueFact, attr: str) -> SymVal:
    return SymVal(ValueFact(ATTR, text=attr, members=(fact,)))


def sym_call(fact: ValueFact) -> SymVal:
    return SymVal(ValueFact(CALL, members=(fact,)))


__all__ = [
    "MOCK_VALUE", "NONE_VALUE", "UNION", "UNKNOWN", "ClassInfo", "ClientVal", "DictVal", "EnvVal", "InstanceVal",
    "LocalFunc", "QName", "Scope", "SelfVal", "SymVal", "UnionVal", "Value", "join", "local_name", "sym_attr",
    "sym_call", "to_fact", "DICT", "MOCK", "NAME", "NONE", "SDK",
]
