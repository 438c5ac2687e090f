"""A module's summary: what the project-wide phase needs from one file, without its tree.

Per-file analysis produces it; the cache stores it as plain data (`to_data` / `from_data`,
JSON-compatible, validated on load); the project phase reads it and never re-reads the file.

- `ValueFact`: what an expression is, as far as one file can tell: a concrete value (an SDK
  client, a dict with known keys, `None`, a placeholder, one of the enclosing function's
  parameters) or a symbolic one that only the whole project can resolve (a name imported from
  another module, the result of calling a project function, an attribute of a project object).
- `FunctionFact`, `ClassFact`: what the module's functions return and its classes hold.
- `CallFact`: a call the project phase must look at: a call of a project function (a possible
  wrapper) or a call whose receiver is symbolic and whose method could bill (a possible LLM
  call), with what each argument is.
- `WrapperFact`: a function whose LLM call takes its attribution from its own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SummaryError(ValueError):
    """Stored summary data of the wrong shape (a damaged or foreign cache entry)."""


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise SummaryError(what)


def _str_list(value: Any, what: str) -> list[str]:
    _expect(isinstance(value, list) and all(isinstance(v, str) for v in value), what)
    return value


def _opt_str(value: Any, what: str) -> str | None:
    _expect(value is None or isinstance(value, str), what)
    return value


def _list(value: Any, what: str) -> list[Any]:
    _expect(isinstance(value, list), what)
    return value


def _int(value: Any, what: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool), what)
    return value


# -- values ------------------------------------------------------------------------------------

# Concrete kinds
UNKNOWN = "unknown"  # nothing known
NONE = "none"  # the literal None
PLACEHOLDER = "placeholder"  # "", "TODO", "unknown", ... (the schema's placeholders); `text` as written
STRING = "string"  # any other string constant; `text`
PARAM = "param"  # a parameter of the enclosing function; `text` its name
DICT = "dict"  # a dict (literal, dict(...), built with subscripts/update); `entries`, `complete`, `spreads`
CLIENT = "client"  # an SDK client; `text` the sdk, `spec` the constructor, `path`, `instrumented`, `supplied`
SDK = "sdk"  # an SDK module or name (`litellm`, `openai.OpenAI`); `text` its qualified name
MOCK = "mock"  # a test double (MagicMock(), ...): nothing called on it bills
# Symbolic kinds (resolved in the project phase, relative to the module that wrote them)
NAME = "name"  # a project name: ":f" (this module), ".mod.f" (relative), "pkg.mod.f"; `text`
SELF = "self"  # the instance of the enclosing class; `text` the class (":Cls")
CALL = "call"  # the result of calling `inner`
ATTR = "attr"  # attribute `text` of `inner`
ARG = "arg"  # parameter `param` of project function `text` (":f", ":Cls.__init__"), from its call sites
UNION = "union"  # any of `members`

KINDS = frozenset({UNKNOWN, NONE, PLACEHOLDER, STRING, PARAM, DICT, CLIENT, SDK, MOCK, NAME, SELF, CALL, ATTR,
                   ARG, UNION})
SYMBOLIC = frozenset({NAME, SELF, CALL, ATTR, ARG})


@dataclass(frozen=True, slots=True)
class ValueFact:
    kind: str = UNKNOWN
    text: str = ""
    param: str = ""
    entries: tuple[tuple[str, ValueFact], ...] | None = None  # DICT: (raw key, value), in order
    complete: bool = True  # DICT: False when part of it cannot be read
    spreads: tuple[str, ...] = ()  # DICT: parameters spread into it with ** (a forwarded **kwargs)
    spec: str = ""  # CLIENT: the constructor's qualified name ("" from a factory)
    path: tuple[str, ...] = ()  # CLIENT: attributes taken on it ("chat", "completions")
    instrumented: bool = False  # CLIENT: made by attrlint.runtime.instrument()
    supplied: tuple[str, ...] = ()  # CLIENT: attribution fields instrument() supplies
    members: tuple[ValueFact, ...] = ()  # UNION: the alternatives; CALL/ATTR: (inner,)

    @property
    def inner(self) -> ValueFact:
        return self.members[0]

    @property
    def symbolic(self) -> bool:
        if self.kind in SYMBOLIC:
            return True
        return self.kind == UNION and any(m.symbolic for m in self.members)

    def entry_map(self) -> dict[str, ValueFact]:
        return dict(self.entries or ())

    def to_data(self) -> Any:
        if self.kind == UNKNOWN:
            return 0
        data: dict[str, Any] = {"k": self.kind}
        for name in ("text", "param", "spec"):
            value = getattr(self, name)
            if value:
                data[name[0] if name != "spec" else "sp"] = value
        if self.entries is not None:
            data["e"] = [[key, value.to_data()] for key, value in self.entries]
        if not self.complete:
            data["c"] = False
        if self.spreads:
            data["s"] = list(self.spreads)
        if self.path:
            data["pa"] = list(self.path)
        if self.instrumented:
            data["i"] = True
        if self.supplied:
            data["su"] = list(self.supplied)
        if self.members:
            data["m"] = [m.to_data() for m in self.members]
        return data

    @classmethod
    def from_data(cls, data: Any) -> ValueFact:
        if data == 0:
            return UNKNOWN_VALUE
        _expect(isinstance(data, dict) and data.get("k") in KINDS, "value")
        entries = data.get("e")
        if entries is not None:
            _expect(isinstance(entries, list) and all(isinstance(e, list) and len(e) == 2
                                                      and isinstance(e[0], str) for e in entries), "entries")
            entries = tuple((key, cls.from_data(value)) for key, value in entries)
        members = data.get("m", [])
        _expect(isinstance(members, list), "members")
        complete, instrumented = data.get("c", True), data.get("i", False)
        _expect(isinstance(complete, bool) and isinstance(instrumented, bool), "flags")
        return cls(
            kind=data["k"], text=_opt_str(data.get("t", ""), "text") or "",
            param=_opt_str(data.get("p", ""), "param") or "", entries=entries, complete=complete,
            spreads=tuple(_str_list(data.get("s", []), "spreads")), spec=_opt_str(data.get("sp", ""), "spec") or "",
            path=tuple(_str_list(data.get("pa", []), "path")), instrumented=instrumented,
            supplied=tuple(_str_list(data.get("su", []), "supplied")),
            members=tuple(cls.from_data(m) for m in members),
        )


UNKNOWN_VALUE = ValueFact()


def union(values: list[ValueFact]) -> ValueFact:
    """The value that is any of `values` (unknown alternatives are dropped unless nothing else is known)."""
    flat: list[ValueFact] = []
    for value in values:
        for member in (value.members if value.kind == UNION else (value,)):
            if member not in flat:
                flat.append(member)
    known = [v for v in flat if v.kind != UNKNOWN]
    if not known:
        return UNKNOWN_VALUE
    if len(known) == 1:
        return known[0]
    return ValueFact(UNION, members=tuple(known[:8]))


def _values_from(data: Any, what: str) -> dict[str, ValueFact]:
    _expect(isinstance(data, dict), what)
    return {str(k): ValueFact.from_data(v) for k, v in data.items()}


# -- definitions --------------------------------------------------------------------------------


@dataclass(slots=True)
class FunctionFact:
    qual: str  # "f", "Cls.m"
    params: list[str]  # positional parameters, without self/cls
    kwonly: list[str] = field(default_factory=list)
    kwarg: str | None = None
    returns: ValueFact = UNKNOWN_VALUE  # from its annotation, else the union of its `return`s
    is_property: bool = False  # `@property`: reading the attribute calls it

    def to_data(self) -> dict[str, Any]:
        return {"q": self.qual, "p": self.params, "ko": self.kwonly, "kw": self.kwarg, "r": self.returns.to_data(),
                "pr": self.is_property}

    @classmethod
    def from_data(cls, data: Any) -> FunctionFact:
        _expect(isinstance(data, dict) and isinstance(data.get("q"), str), "function")
        _expect(isinstance(data.get("pr", False), bool), "property")
        return cls(qual=data["q"], params=_str_list(data.get("p", []), "params"),
                   kwonly=_str_list(data.get("ko", []), "kwonly"), kwarg=_opt_str(data.get("kw"), "kwarg"),
                   returns=ValueFact.from_data(data.get("r", 0)), is_property=data.get("pr", False))


@dataclass(slots=True)
class ClassFact:
    qual: str  # "Cls", "Outer.Inner"
    bases: list[ValueFact] = field(default_factory=list)  # project base classes, as names
    attrs: dict[str, ValueFact] = field(default_factory=dict)  # `self.x = ...`, `x: T` in the body
    proxy_of: str = ""  # an SDK module its instances stand for (a lazy `__getattr__` proxy)

    def to_data(self) -> dict[str, Any]:
        return {"q": self.qual, "b": [b.to_data() for b in self.bases],
                "a": {k: v.to_data() for k, v in self.attrs.items()}, "x": self.proxy_of}

    @classmethod
    def from_data(cls, data: Any) -> ClassFact:
        _expect(isinstance(data, dict) and isinstance(data.get("q"), str), "class")
        bases = data.get("b", [])
        _expect(isinstance(bases, list), "bases")
        return cls(qual=data["q"], bases=[ValueFact.from_data(b) for b in bases],
                   attrs=_values_from(data.get("a", {}), "attrs"), proxy_of=_opt_str(data.get("x", ""), "proxy") or "")


@dataclass(slots=True)
class WrapperFact:
    qual: str  # "ask", "Bot.ask"
    params: list[str]  # positional parameters, without self/cls
    kwonly: list[str] = field(default_factory=list)
    kwarg: str | None = None
    supplies: dict[str, str] = field(default_factory=dict)  # field -> parameter that carries it
    fixed: list[str] = field(default_factory=list)  # fields the wrapper supplies itself
    metadata_param: str | None = None  # parameter passed on as the provider's metadata argument
    forwards_kwargs: bool = False  # **kwargs reaches the provider call
    meta_key: str | None = None  # the provider's metadata keyword (for forwarded **kwargs)
    label: str = ""  # what it calls: "openai `chat.completions.create`"
    origin: Position | None = None  # the LLM call inside it
    where: str = ""  # where attribution goes at that call, in words
    more: list[Position] = field(default_factory=list)  # its other LLM calls
    more_labels: list[str] = field(default_factory=list)  # what each of them calls

    def to_data(self) -> dict[str, Any]:
        return {"qual": self.qual, "params": self.params, "kwonly": self.kwonly, "kwarg": self.kwarg,
                "supplies": self.supplies, "fixed": self.fixed, "metadata_param": self.metadata_param,
                "forwards_kwargs": self.forwards_kwargs, "meta_key": self.meta_key, "label": self.label,
                "origin": self.origin.to_data() if self.origin else None, "where": self.where,
                "more": [m.to_data() for m in self.more], "more_labels": self.more_labels}

    @classmethod
    def from_data(cls, data: Any) -> WrapperFact:
        _expect(isinstance(data, dict) and isinstance(data.get("qual"), str), "wrapper")
        supplies = data.get("supplies", {})
        _expect(isinstance(supplies, dict) and all(isinstance(v, str) for v in supplies.values()), "supplies")
        _expect(isinstance(data.get("forwards_kwargs", False), bool), "forwards_kwargs")
        origin = data.get("origin")
        return cls(
            qual=data["qual"], params=_str_list(data.get("params", []), "params"),
            kwonly=_str_list(data.get("kwonly", []), "kwonly"), kwarg=_opt_str(data.get("kwarg"), "kwarg"),
            supplies={str(k): v for k, v in supplies.items()}, fixed=_str_list(data.get("fixed", []), "fixed"),
            metadata_param=_opt_str(data.get("metadata_param"), "metadata_param"),
            forwards_kwargs=data.get("forwards_kwargs", False), meta_key=_opt_str(data.get("meta_key"), "meta_key"),
            label=_opt_str(data.get("label", ""), "label") or "",
            origin=Position.from_data(origin) if origin is not None else None,
            where=_opt_str(data.get("where", ""), "where") or "",
            more=[Position.from_data(m) for m in _list(data.get("more", []), "more")],
            more_labels=_str_list(data.get("more_labels", []), "more_labels"),
        )


@dataclass(frozen=True, slots=True)
class Position:
    """Where a call is, already in display form: 1-based line and column (characters)."""

    line: int
    col: int
    end_line: int
    end_col: int
    cell: int | None = None  # notebook cell
    snippet: str = ""  # the call's source, normalised and redacted
    scope: str = ""  # qualified name of the enclosing function or class
    noqa: str = ""  # the line's noqa (see attrlint.lint.suppression)

    def to_data(self) -> list[Any]:
        return [self.line, self.col, self.end_line, self.end_col, self.cell, self.snippet, self.scope, self.noqa]

    @classmethod
    def from_data(cls, data: Any) -> Position:
        _expect(isinstance(data, list) and len(data) == 8, "position")
        cell = data[4]
        _expect(cell is None or isinstance(cell, int), "cell")
        return cls(_int(data[0], "line"), _int(data[1], "col"), _int(data[2], "line"), _int(data[3], "col"), cell,
                   _opt_str(data[5], "snippet") or "", _opt_str(data[6], "scope") or "",
                   _opt_str(data[7], "noqa") or "")


@dataclass(slots=True)
class CallFact:
    """A call the project phase resolves: `callee` is what is called (a project function,
    or a method on a symbolic receiver), with what its arguments are."""

    callee: ValueFact
    args: list[ValueFact]  # positional arguments
    kwargs: dict[str, ValueFact]  # keyword arguments
    spreads: list[ValueFact]  # `**mapping` arguments
    star: bool  # a `*args`, or a `**mapping` that cannot be read
    context: dict[str, ValueFact]  # fields from enclosing attribution(...) blocks, canonical names
    context_unresolved: bool  # an enclosing attribution(**...) that cannot be read
    func: str | None  # enclosing function's qualified name
    func_params: list[str]  # its positional parameters
    func_kwarg: str | None  # its **kwargs parameter
    forwards: bool  # passes the enclosing function's **kwargs on
    at: Position
    llm: tuple[str, str] | None = None  # (sdk, method) when the file already knows it is an LLM call

    def to_data(self) -> dict[str, Any]:
        return {
            "llm": list(self.llm) if self.llm else None,
            "callee": self.callee.to_data(), "args": [a.to_data() for a in self.args],
            "kwargs": {k: a.to_data() for k, a in self.kwargs.items()},
            "spreads": [s.to_data() for s in self.spreads], "star": self.star,
            "context": {k: a.to_data() for k, a in self.context.items()},
            "context_unresolved": self.context_unresolved, "func": self.func, "func_params": self.func_params,
            "func_kwarg": self.func_kwarg, "forwards": self.forwards, "at": self.at.to_data(),
        }

    @classmethod
    def from_data(cls, data: Any) -> CallFact:
        _expect(isinstance(data, dict), "call")
        args, spreads = data.get("args", []), data.get("spreads", [])
        _expect(isinstance(args, list) and isinstance(spreads, list), "args")
        for name in ("star", "context_unresolved", "forwards"):
            _expect(isinstance(data.get(name), bool), name)
        llm = data.get("llm")
        _expect(llm is None or (isinstance(llm, list) and len(llm) == 2 and all(isinstance(v, str) for v in llm)), "llm")
        return cls(
            llm=(llm[0], llm[1]) if llm else None,
            callee=ValueFact.from_data(data.get("callee", 0)), args=[ValueFact.from_data(a) for a in args],
            kwargs=_values_from(data.get("kwargs", {}), "kwargs"), spreads=[ValueFact.from_data(s) for s in spreads],
            star=data["star"], context=_values_from(data.get("context", {}), "context"),
            context_unresolved=data["context_unresolved"], func=_opt_str(data.get("func"), "func"),
            func_params=_str_list(data.get("func_params", []), "func_params"),
            func_kwarg=_opt_str(data.get("func_kwarg"), "func_kwarg"), forwards=data["forwards"],
            at=Position.from_data(data.get("at")),
        )


@dataclass(slots=True)
class ModuleSummary:
    """Everything the project phase needs from one file."""

    functions: list[FunctionFact] = field(default_factory=list)
    classes: list[ClassFact] = field(default_factory=list)
    globals: dict[str, ValueFact] = field(default_factory=dict)  # module-level names worth knowing
    wrappers: list[WrapperFact] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.functions or self.classes or self.globals or self.wrappers or self.calls)

    def extend(self, other: ModuleSummary) -> None:
        self.functions.extend(other.functions)
        self.classes.extend(other.classes)
        self.globals.update(other.globals)
        self.wrappers.extend(other.wrappers)
        self.calls.extend(other.calls)

    def to_data(self) -> dict[str, Any]:
        return {"functions": [f.to_data() for f in self.functions], "classes": [c.to_data() for c in self.classes],
                "globals": {k: v.to_data() for k, v in self.globals.items()},
                "wrappers": [w.to_data() for w in self.wrappers], "calls": [c.to_data() for c in self.calls]}

    @classmethod
    def from_data(cls, data: Any) -> ModuleSummary:
        _expect(isinstance(data, dict), "summary")
        lists = {name: data.get(name, []) for name in ("functions", "classes", "wrappers", "calls")}
        _expect(all(isinstance(v, list) for v in lists.values()), "summary")
        return cls(functions=[FunctionFact.from_data(f) for f in lists["functions"]],
                   classes=[ClassFact.from_data(c) for c in lists["classes"]],
                   globals=_values_from(data.get("globals", {}), "globals"),
                   wrappers=[WrapperFact.from_data(w) for w in lists["wrappers"]],
                   calls=[CallFact.from_data(c) for c in lists["calls"]])
