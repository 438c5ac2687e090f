"""What per-file analysis extracts from a module: the facts rules look at.

The analyser builds these in one traversal; rules never walk the tree themselves.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .catalogue import ClientSpec, Sdk


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
    via_wrapper: str | None = None  # the wrapper function when this is a wrapper call site

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
    name: str
    node: ast.AST  # the string literal naming the variable
    call: ast.AST  # the whole read expression
    vendor: str | None = None  # set when it flows into a client's key parameter
    flows_into_client: bool = False


@dataclass
class KeyLiteral:
    node: ast.Constant
    value: str
    format_name: str | None  # the vendor key format it matches, None for api_key= literals
    context: str  # "format" or "api_key"


@dataclass
class Module:
    """All facts of one file."""

    calls: list[LLMCall] = field(default_factory=list)
    constructions: list[ClientConstruction] = field(default_factory=list)
    env_reads: list[EnvRead] = field(default_factory=list)
    key_literals: list[KeyLiteral] = field(default_factory=list)
    context_sources: list[FieldSource] = field(default_factory=list)  # every attribution(...) keyword
