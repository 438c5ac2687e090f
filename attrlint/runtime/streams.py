"""Streams: usage is folded in from the events as the caller iterates them, and the call is
recorded when the stream ends, fails or is closed early. A stream (or a streaming response)
that is never read is recorded `incomplete` when it is closed or garbage-collected."""

from __future__ import annotations

import inspect
import weakref
from decimal import Decimal
from typing import Any, Protocol

from attrlint.runtime.usage import header_request_id, is_stream, service_tier_of, usage_tokens


class Call(Protocol):
    """What a stream needs of the call it belongs to (attrlint.runtime.call.Call)."""

    operation: str
    body: dict[str, Any]
    done: bool
    filter_usage_chunk: bool

    def record(self, *, status: str, model: Any, request_id: str | None = ...,
               tokens: tuple[int, int, int, int, int] = ..., cost: Decimal | None = ...,
               service_tier: str | None = ...) -> None: ...

    def record_response(self, parsed: Any, raw: Any) -> None: ...

_ZERO = Decimal(0)


class _StreamUsage:
    """Folds a stream's events into what the record needs."""

    __slots__ = ("anthropic", "call", "model", "operation", "request_id", "tier", "usage")

    def __init__(self, call: Call, stream: Any) -> None:
        self.call = call
        self.operation = call.operation
        self.model: Any = None
        self.usage: Any = None
        self.tier: str | None = None
        self.request_id = header_request_id(stream)
        self.anthropic: dict[str, int] = {}

    def see(self, item: Any) -> bool:
        """Take in one event; False when the caller must not see it (the usage chunk we asked for)."""
        op = self.operation
        if op == "chat":
            if self.model is None:
                self.model = getattr(item, "model", None)
            usage = getattr(item, "usage", None)
            if usage is not None:
                self.usage = usage
                self.tier = service_tier_of(item, None)
                if self.call.filter_usage_chunk and not getattr(item, "choices", None):
                    return False
        elif op == "messages":
            kind = getattr(item, "type", None)
            if kind == "message_start":
                message = item.message
                self.model = message.model
                self._merge(message.usage)
            elif kind == "message_delta":
                self._merge(getattr(item, "usage", None))
        else:  # responses
            response = getattr(item, "response", None)
            if response is not None:
                self.model = getattr(response, "model", None) or self.model
                if getattr(response, "usage", None) is not None:
                    self.usage = response.usage
                    self.tier = service_tier_of(response, None)
        return True

    def _merge(self, usage: Any) -> None:
        if usage is None:
            return
        for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"):
            value = getattr(usage, name, None)
            if value is not None:
                self.anthropic[name] = value
        tier = getattr(usage, "service_tier", None)
        if tier:
            self.tier = service_tier_of(None, usage)

    def end(self, status: str, exc: BaseException | None = None) -> None:
        if self.call.done:
            return
        usage = self.anthropic if self.operation == "messages" else self.usage
        if status == "ok" and not usage:
            status = "incomplete"
        tokens = usage_tokens(self.operation, usage or None)
        request_id = self.request_id or getattr(exc, "request_id", None)
        self.call.record(status=status, model=self.model or self.call.body.get("model"),
                         request_id=request_id, tokens=tokens, service_tier=self.tier,
                         cost=_ZERO if status == "error" else None)


def observe_stream(stream: Any, call: Call) -> None:
    state = _StreamUsage(call, stream)
    inner = stream._iterator

    def observed() -> Any:
        try:
            for item in inner:
                if state.see(item):
                    yield item
        except GeneratorExit:
            state.end("incomplete")
            raise
        except BaseException as exc:
            state.end("error", exc)
            raise
        state.end("ok")

    stream._iterator = observed()
    close = type(stream).close
    ref = weakref.ref(stream)

    def closing() -> None:
        state.end("incomplete")
        target = ref()
        if target is not None:
            close(target)

    stream.close = closing
    weakref.finalize(stream, state.end, "incomplete")  # never iterated, never closed


def observe_async_stream(stream: Any, call: Call) -> None:
    state = _StreamUsage(call, stream)
    inner = stream._iterator

    async def observed() -> Any:
        try:
            async for item in inner:
                if state.see(item):
                    yield item
        except GeneratorExit:
            state.end("incomplete")
            raise
        except BaseException as exc:
            state.end("error", exc)
            raise
        state.end("ok")

    stream._iterator = observed()
    close = type(stream).close
    ref = weakref.ref(stream)

    async def closing() -> None:
        state.end("incomplete")
        target = ref()
        if target is not None:
            await close(target)

    stream.close = closing
    weakref.finalize(stream, state.end, "incomplete")  # never iterated, never closed


def hook_parse(response: Any, call: Call) -> None:
    """`with_streaming_response`: the body is the caller's to read; record when they parse it."""
    parse = response.parse
    observed: list[bool] = []

    def parsing(*args: Any, **kwargs: Any) -> Any:
        parsed = parse(*args, **kwargs)
        if not call.done and not args and not kwargs:
            observed.append(True)
            if is_stream(parsed):
                observe_stream(parsed, call)
            else:
                call.record_response(parsed, response)
        return parsed

    response.parse = parsing
    weakref.finalize(response, _unread, call, observed)


def _unread(call: Call, observed: list[bool]) -> None:
    """A streaming response dropped before attrlint saw its body (never parsed): the request
    was sent all the same, so it is recorded, `incomplete`."""
    if not call.done and not observed:
        call.record(status="incomplete", model=call.body.get("model"))


def hook_async_parse(response: Any, call: Call) -> None:
    parse = response.parse
    observed: list[bool] = []

    async def parsing(*args: Any, **kwargs: Any) -> Any:
        parsed = parse(*args, **kwargs)
        if inspect.isawaitable(parsed):
            parsed = await parsed
        if not call.done and not args and not kwargs:
            observed.append(True)
            if is_stream(parsed):
                observe_async_stream(parsed, call)
            else:
                call.record_response(parsed, response)
        return parsed

    response.parse = parsing
    weakref.finalize(response, _unread, call, observed)

