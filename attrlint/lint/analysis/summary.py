"""A module's summary: what the project-wide phase needs from one file, without its tree.

Per-file analysis produces it; the cache stores it as plain data (`to_data` / `from_data`,
JSON-compatible, validated on load); the project phase reads it and never re-reads the file.

- `WrapperFact`: a function whose LLM call takes its attribution from its own parameters.
- `SiteFact`: a call to a project function (a possible wrapper), with what each argument is.
- `ArgFact`: what one argument is, as far as attribution goes.
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


def _int(value: Any, what: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool), what)
    return value


# Argument kinds
VALUE = "value"  # anything else: a real value as far as attribution can tell
NONE = "none"  # the literal None
PLACEHOLDER = "placeholder"  # "", "TODO", "unknown", ... (the schema's placeholders)
PARAM = "param"  # a parameter of the enclosing function (it may carry the field onwards)


@dataclass(frozen=True, slots=True)
class ArgFact:
    kind: str = VALUE
    text: str = ""  # a placeholder as written, for messages
    param: str = ""  # the enclosing function's parameter, for PARAM
    fields: dict[str, ArgFact] | None = None  # a dict argument: the attribution fields it carries
    complete: bool = True  # False when part of that dict cannot be read

    def to_data(self) -> Any:
        if self.kind == VALUE and self.fields is None:
            return VALUE
        data: dict[str, Any] = {"k": self.kind}
        if self.text:
            data["t"] = self.text
        if self.param:
            data["p"] = self.param
        if self.fields is not None:
            data["f"] = {name: arg.to_data() for name, arg in self.fields.items()}
        if not self.complete:
            data["c"] = False
        return data

    @classmethod
    def from_data(cls, data: Any) -> ArgFact:
        if data == VALUE:
            return _VALUE
        _expect(isinstance(data, dict) and data.get("k") in (VALUE, NONE, PLACEHOLDER, PARAM), "argument")
        fields = data.get("f")
        if fields is not None:
            _expect(isinstance(fields, dict), "argument fields")
            fields = {str(k): cls.from_data(v) for k, v in fields.items()}
        text, param, complete = data.get("t", ""), data.get("p", ""), data.get("c", True)
        _expect(isinstance(text, str) and isinstance(param, str) and isinstance(complete, bool), "argument")
        return cls(kind=data["k"], text=text, param=param, fields=fields, complete=complete)


_VALUE = ArgFact()


def _args_from(data: Any, what: str) -> dict[str, ArgFact]:
    _expect(isinstance(data, dict), what)
    return {str(k): ArgFact.from_data(v) for k, v in data.items()}


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

    def to_data(self) -> dict[str, Any]:
        return {"qual": self.qual, "params": self.params, "kwonly": self.kwonly, "kwarg": self.kwarg,
                "supplies": self.supplies, "fixed": self.fixed, "metadata_param": self.metadata_param,
                "forwards_kwargs": self.forwards_kwargs, "meta_key": self.meta_key, "label": self.label}

    @classmethod
    def from_data(cls, data: Any) -> WrapperFact:
        _expect(isinstance(data, dict) and isinstance(data.get("qual"), str), "wrapper")
        supplies = data.get("supplies", {})
        _expect(isinstance(supplies, dict) and all(isinstance(v, str) for v in supplies.values()), "supplies")
        _expect(isinstance(data.get("forwards_kwargs", False), bool), "forwards_kwargs")
        return cls(
            qual=data["qual"], params=_str_list(data.get("params", []), "params"),
            kwonly=_str_list(data.get("kwonly", []), "kwonly"), kwarg=_opt_str(data.get("kwarg"), "kwarg"),
            supplies={str(k): v for k, v in supplies.items()}, fixed=_str_list(data.get("fixed", []), "fixed"),
            metadata_param=_opt_str(data.get("metadata_param"), "metadata_param"),
            forwards_kwargs=data.get("forwards_kwargs", False), meta_key=_opt_str(data.get("meta_key"), "meta_key"),
            label=_opt_str(data.get("label", ""), "label") or "",
        )


@dataclass(slots=True)
class SiteFact:
    callee: str  # ":f" / ":Cls.m" (this module), ".mod.f" (relative), "pkg.mod.f"
    args: list[ArgFact]  # positional arguments
    kwargs: dict[str, ArgFact]
    star: bool  # *args or an unresolvable **mapping
    context: dict[str, ArgFact]  # fields from enclosing attribution(...) blocks
    context_unresolved: bool
    func: str | None  # enclosing function's qualified name
    func_params: list[str]  # its positional parameters
    func_kwarg: str | None  # its **kwargs parameter
    forwards: bool  # passes the enclosing function's **kwargs on
    line: int = 0
    col: int = 0
    end_line: int = 0
    end_col: int = 0
    cell: int | None = None
    snippet: str = ""  # redacted
    scope: str = ""  # qualified name of the enclosing function or class
    noqa: str = ""  # the line's noqa (see attrlint.lint.suppression)

    def to_data(self) -> dict[str, Any]:
        return {
            "callee": self.callee, "args": [a.to_data() for a in self.args],
            "kwargs": {k: a.to_data() for k, a in self.kwargs.items()}, "star": self.star,
            "context": {k: a.to_data() for k, a in self.context.items()},
            "context_unresolved": self.context_unresolved, "func": self.func, "func_params": self.func_params,
            "func_kwarg": self.func_kwarg, "forwards": self.forwards,
            "pos": [self.line, self.col, self.end_line, self.end_col], "cell": self.cell,
            "snippet": self.snippet, "scope": self.scope, "noqa": self.noqa,
        }

    @classmethod
    def from_data(cls, data: Any) -> SiteFact:
        _expect(isinstance(data, dict) and isinstance(data.get("callee"), str), "call site")
        args = data.get("args", [])
        _expect(isinstance(args, list), "args")
        pos = data.get("pos")
        _expect(isinstance(pos, list) and len(pos) == 4, "position")
        cell = data.get("cell")
        _expect(cell is None or isinstance(cell, int), "cell")
        for name in ("star", "context_unresolved", "forwards"):
            _expect(isinstance(data.get(name), bool), name)
        return cls(
            callee=data["callee"], args=[ArgFact.from_data(a) for a in args],
            kwargs=_args_from(data.get("kwargs", {}), "kwargs"), star=data["star"],
            context=_args_from(data.get("context", {}), "context"), context_unresolved=data["context_unresolved"],
            func=_opt_str(data.get("func"), "func"), func_params=_str_list(data.get("func_params", []), "func_params"),
            func_kwarg=_opt_str(data.get("func_kwarg"), "func_kwarg"), forwards=data["forwards"],
            line=_int(pos[0], "line"), col=_int(pos[1], "col"), end_line=_int(pos[2], "line"),
            end_col=_int(pos[3], "col"), cell=cell, snippet=_opt_str(data.get("snippet", ""), "snippet") or "",
            scope=_opt_str(data.get("scope", ""), "scope") or "", noqa=_opt_str(data.get("noqa", ""), "noqa") or "",
        )


@dataclass(slots=True)
class ModuleSummary:
    """Everything the project phase needs from one file."""

    wrappers: list[WrapperFact] = field(default_factory=list)
    sites: list[SiteFact] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=dict)  # class qualname -> project base classes

    def __bool__(self) -> bool:
        return bool(self.wrappers or self.sites or self.classes)

    def extend(self, other: ModuleSummary) -> None:
        self.wrappers.extend(other.wrappers)
        self.sites.extend(other.sites)
        self.classes.update(other.classes)

    def to_data(self) -> dict[str, Any]:
        return {"wrappers": [w.to_data() for w in self.wrappers], "sites": [s.to_data() for s in self.sites],
                "classes": self.classes}

    @classmethod
    def from_data(cls, data: Any) -> ModuleSummary:
        _expect(isinstance(data, dict), "summary")
        wrappers, sites, classes = data.get("wrappers", []), data.get("sites", []), data.get("classes", {})
        _expect(isinstance(wrappers, list) and isinstance(sites, list) and isinstance(classes, dict), "summary")
        return cls(wrappers=[WrapperFact.from_data(w) for w in wrappers],
                   sites=[SiteFact.from_data(s) for s in sites],
                   classes={str(k): _str_list(v, "class bases") for k, v in classes.items()})
