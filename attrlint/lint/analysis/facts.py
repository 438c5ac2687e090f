"""What per-file analysis extracts from a module: the facts rules look at.

The analyser builds these in one traversal; rules never walk the tree themselves.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from attrlint.core.catalogue import ClientSpec, Sdk
from attrlint.lint.analysis.summary import ModuleSummary, ValueFact


@dataclass
class FieldSource:
    """One place an attribution field is supplied."""

    field: str  # canonical name
    key: str  # as written
    key_node: ast.AST | None  # the dict key / keyword, None when implicit
    value: ast.expr | None
    origin: str  # "metadata", "context", "instrument", "wrapper"


@dataclass
class MetadataEntry:
    key: str
    key_node: ast.AST
    value: ast.expr | None


@dataclass
class Metadata:
    """The provider's metadata argument of one call, as far as it can be read statically."""

    node: ast.expr | None = None  # the argument, None when absent
    entries: list[MetadataEntry] = field(default_factory=list)
    complete: bool = True  # False when part of it cannot be resolved


@dataclass
class LLMCall:
    node: ast.Call
    sdk: Sdk
    operation: str
    method: str  # "chat.completions.create", "completion", ...
    client: ClientSpec | None  # None for module-level functions and unresolved receivers
    instrumented: bool
    metadata: Metadata
    sources: list[FieldSource] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # why attribution cannot be verified
    in_wrapper: str | None = None  # set when the call is the body of a wrapper: its call sites are checked instead
    deferred: bool = False  # its attribution depends on other modules: the project phase judges it
    wrapper_gaps: tuple[str, ...] = ()  # in a wrapper: required fields neither it nor any parameter supplies

    @property
    def fields(self) -> set[str]:
        return {s.field for s in self.sources}


@dataclass
class ClientConstruction:
    node: ast.Call
    spec: ClientSpec
    key_arg: ast.expr | None  # the expression passed as key, None when absent
    key_param: str | None
    has_star_kwargs: bool


@dataclass
class EnvRead:
    """Code that reads (or writes) an environment variable by a name known statically."""

    name: str
    node: ast.AST  # what to report: the literal naming the variable, the constant or f-string, a settings field
    call: ast.AST  # the whole read expression (the assignment, for a write; the field, for a setting)
    vendor: str | None = None  # set when it flows into a client's key parameter
    flows_into_client: bool = False
    kind: str = "read"  # "read"; "write" (os.environ[X] = v, setdefault, putenv, update); "setting" (a BaseSettings field)
    literal: ast.Constant | None = None  # the string literal naming it, when it is written at the read itself
    via: str = ""  # the constant or f-string the name comes from (`KEY_VAR`), when not a literal
    may_be_none: bool = False  # os.getenv(X), os.environ.get(X), an Optional field with default None
    guarded: bool = False  # a None/empty check stops the code before the value is used
    value: ast.expr | None = None  # write: the value written
    scope: str = ""  # the enclosing function or class ("" at module level)
    redirected: bool = False  # write: the same scope points the vendor's base URL elsewhere
    owner: str = ""  # setting: the settings class and field (`Settings.openai_api_key`)


@dataclass
class Fallback:
    """A key argument that may be None at run time, so the SDK silently reads its shared
    default variable instead (the silent-fallback rule)."""

    node: ast.expr  # the key argument
    client: str  # the constructor or module attribute, as shown (`OpenAI()`, `openai.api_key`)
    default_env: str  # what the SDK reads when it is None
    source: str  # the expression, as shown
    why: str  # why it may be None, in words
    env: str | None = None  # the per-agent variable read, when the key comes from the environment


@dataclass
class KeyLiteral:
    node: ast.Constant
    value: str  # the whole string literal
    format_name: str | None  # the vendor key format it holds, None for api_key= literals
    context: str  # "format" or "api_key"
    key: str = ""  # the key itself (a format match inside `value`, or the whole api_key= value)


@dataclass
class WrapperDef:
    """A function of this module whose LLM call takes its attribution from the function's parameters."""

    qual: str  # "ask", "Bot.ask"
    node: ast.AST
    params: list[str]  # positional parameters, without self/cls
    kwonly: list[str]
    kwarg: str | None
    supplies: dict[str, str] = field(default_factory=dict)  # field -> parameter that carries it
    fixed: set[str] = field(default_factory=set)  # fields the wrapper supplies itself
    metadata_param: str | None = None  # parameter passed on as the provider's metadata argument
    forwards_kwargs: bool = False  # **kwargs reaches the provider call
    meta_key: str | None = None  # the provider's metadata keyword (for forwarded **kwargs)
    label: str = ""
    call_node: ast.Call | None = None  # its (first) LLM call
    more_calls: list[ast.Call] = field(default_factory=list)  # its other LLM calls
    more_labels: list[str] = field(default_factory=list)  # what each of them calls
    where: str = ""  # where attribution goes at that call, in words


@dataclass
class ProjectCall:
    """A call the project phase must look at (see `CallFact`), with its node for positions."""

    node: ast.Call
    callee: ValueFact
    args: list[ValueFact]
    kwargs: dict[str, ValueFact]
    spreads: list[ValueFact]
    star: bool
    context: dict[str, ValueFact]
    context_unresolved: bool
    func: str | None
    func_params: list[str]
    func_kwarg: str | None
    forwards: bool
    scope: str = ""
    llm: tuple[str, str] | None = None  # (sdk, method) of an LLM call the file recognised


@dataclass
class Module:
    """All facts of one file."""

    calls: list[LLMCall] = field(default_factory=list)
    constructions: list[ClientConstruction] = field(default_factory=list)
    env_reads: list[EnvRead] = field(default_factory=list)
    key_literals: list[KeyLiteral] = field(default_factory=list)
    fallbacks: list[Fallback] = field(default_factory=list)
    context_sources: list[FieldSource] = field(default_factory=list)  # every attribution(...) keyword
    wrappers: list[WrapperDef] = field(default_factory=list)
    project_calls: list[ProjectCall] = field(default_factory=list)
    summary: ModuleSummary = field(default_factory=lambda: ModuleSummary())  # definitions, for the project phase
