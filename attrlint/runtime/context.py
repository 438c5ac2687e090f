"""`attribution(**fields)`: attribution fields for every instrumented call made inside it.

A `contextvars.ContextVar` holds the fields, so each thread and each asyncio task sees its own
(tasks inherit their creator's fields when they start). Nested blocks add to and override the
enclosing ones; leaving a block restores them."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

_EMPTY: Mapping[str, str] = {}
_fields: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("attrlint_attribution", default=_EMPTY)


def current() -> Mapping[str, str]:
    """The fields in effect here (read-only)."""
    return _fields.get()


class attribution:
    """Supply attribution fields (ticket_id, customer_id, agent_id, or any schema field or
    alias) to instrumented calls in this block. Works with `with` and `async with`."""

    __slots__ = ("_add", "_tokens")

    def __init__(self, **fields: Any) -> None:
        self._add = {k: str(v) for k, v in fields.items() if v is not None}
        self._tokens: list[contextvars.Token[Mapping[str, str]]] = []

    def __enter__(self) -> attribution:
        merged = {**_fields.get(), **self._add}
        self._tokens.append(_fields.set(merged))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _fields.reset(self._tokens.pop())

    async def __aenter__(self) -> attribution:
        return self.__enter__()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"attribution({', '.join(f'{k}={v!r}' for k, v in self._add.items())})"


# -- what a framework says about the call in progress ---------------------------------------------

class Scope:
    """Attribution a framework gives the model calls made inside one of its runs: LangChain's
    `config["metadata"]`, openai-agents' `RunConfig(trace_metadata=...)`, litellm's `metadata=`.
    The SDK hook underneath reads it before sending (`framework_fields()`); `claimed` tells the
    framework's own recorder (litellm's logger) that an SDK hook recorded the request itself;
    `overrides` are settings the SDK hook records the request with (an instrumented litellm
    Router's agent, ledger and strictness), in place of its own."""

    __slots__ = ("claimed", "fields", "live", "overrides")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.live = True
        self.claimed = False
        self.overrides: dict[str, Any] | None = None


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("attrlint_framework_scope", default=None)


# Functions that find the framework run a request belongs to when this context does not say
# (litellm sometimes decides a call in a worker thread and sends it from the event loop).
FINDERS: list[Callable[[], Scope | None]] = []


def current_scope() -> Scope | None:
    """The framework run in progress here, if it has not ended."""
    scope = _scope.get()
    if scope is not None and scope.live:
        return scope
    for finder in FINDERS:
        found = finder()
        if found is not None and found.live:
            return found
    return None


def enter_scope(fields: Mapping[str, Any]) -> tuple[Scope, contextvars.Token[Scope | None]]:
    """Start a framework run's scope here: its fields on top of the enclosing run's. End it with
    `exit_scope` (which also works from another context: the scope is then only marked ended)."""
    outer = current_scope()
    merged = {**outer.fields, **fields} if outer is not None else dict(fields)
    scope = Scope(merged)
    return scope, _scope.set(scope)


def exit_scope(scope: Scope, token: contextvars.Token[Scope | None] | None) -> None:
    scope.live = False
    if token is not None:
        try:
            _scope.reset(token)
        except (ValueError, RuntimeError):  # ended in another context than it started in: marking it is enough
            pass


def reset_scope(token: contextvars.Token[Scope | None]) -> None:
    """Take a scope out of this context, leaving it live where a task took a copy of it."""
    try:
        _scope.reset(token)
    except (ValueError, RuntimeError):
        pass
