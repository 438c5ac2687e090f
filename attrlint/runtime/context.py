"""`attribution(**fields)`: attribution fields for every instrumented call made inside it.

A `contextvars.ContextVar` holds the fields, so each thread and each asyncio task sees its own
(tasks inherit their creator's fields when they start). Nested blocks add to and override the
enclosing ones; leaving a block restores them."""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
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
