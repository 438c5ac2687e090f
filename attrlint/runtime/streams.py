"""Streams: usage is folded in from the events as the caller iterates them, and the call is
recorded when the stream ends, fails or is closed early. A stream (or a streaming response)
that is never read is recorded `incomplete` when it is closed or garbage-collected.

The status says how it ended: `ok`; `failed` (a Responses stream ending in `response.failed`);
`incomplete` (closed early by the caller, a dropped connection, `response.incomplete`); `error`
(the provider sent an error event). An unfinished stream is billed for what the provider
processed: the usage reported so far, and where none was reported the prompt and the text
received so far, counted locally and marked `estimated`."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Protocol

from attrlint.runtime.usage import (
    Tokens,
    extras_for_response,
    get,
    header_request_id,
    is_stream,
    service_tier_of,
    usage_of,
)

_ZERO = Decimal(0)


class Call(Protocol):
    """What a stream needs of the call it belongs to (attrlint.runtime.call.Call)."""

    operation: str
    body: dict[str, Any]
    done: bool
    filter_usage_chunk: bool

    def record(self, *, status: str, model: Any, request_id: str | None = ..., tokens: Tokens = ...,
               cost: Decimal | None = ..., service_tier: str | None = ..., extra: dict[str, int] | None = ...,
               estimated: bool = ...) -> str | None: ...

    def record_response(self, parsed: Any, raw: Any) -> None: ...


class StreamUsage:
    """Folds a stream's events (SDK objects or plain dicts) into what the record needs."""

    __slots__ = ("anthropic", "call", "final", "model", "operation", "request_id", "text", "tier", "usage")

    def __init__(self, call: Call, stream: Any = None) -> None:
        self.call = call
        self.operation = call.operation
        self.model: Any = None
        self.usage: Any = None
        self.tier: str | None = None
        self.request_id = header_request_id(stream) if stream is not None else None
        self.anthropic: dict[str, Any] = {}
        self.text: list[str] = []  # what the caller received, for an estimate if no usage comes
        self.final: str | None = None  # the status a terminal event gave

    def see(self, item: Any) -> bool:
        """Take in one event; False when the caller must not see it (the usage chunk we asked for)."""
        op = self.operation
        if op in ("chat", "completions"):
            if self.model is None:
                self.model = get(item, "model")
            choices = get(item, "choices")
            if choices:
                first = choices[0]
                piece = get(get(first, "delta"), "content") if op == "chat" else get(first, "text")
                if isinstance(piece, str):
                    self.text.append(piece)
            usage = get(item, "usage")
            if usage is not None:
                self.usage = usage
                self.tier = service_tier_of(item, None)
                if self.call.filter_usage_chunk and not choices:
                    return False
        elif op == "messages":
            kind = get(item, "type")
            if kind == "message_start":
                message = get(item, "message")
                self.model = get(message, "model")
                self.request_id = self.request_id or get(message, "id")
                self._merge(get(message, "usage"))
            elif kind == "message_delta":
                self._merge(get(item, "usage"))
            elif kind == "content_block_delta":
                piece = get(get(item, "delta"), "text")
                if isinstance(piece, str):
                    self.text.append(piece)
        else:  # responses
            kind = get(item, "type")
            if kind == "response.output_text.delta":
                piece = get(item, "delta")
                if isinstance(piece, str):
                    self.text.append(piece)
            response = get(item, "response")
            if response is not None:
                self.model = get(response, "model") or self.model
                if get(response, "usage") is not None:
                    self.usage = response
                    self.tier = service_tier_of(response, None)
                if kind == "response.failed":
                    self.final = "failed"
                elif kind == "response.incomplete":
                    self.final = "incomplete"
        return True

    def _merge(self, usage: Any) -> None:
        if usage is None:
            return
        for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens",
                     "cache_creation", "server_tool_use"):
            value = get(usage, name)
            if value is not None:
                self.anthropic[name] = value
        tier = get(usage, "service_tier")
        if tier:
            self.tier = service_tier_of(None, usage)

    def end(self, status: str, exc: BaseException | None = None) -> None:
        call = self.call
        if call.done:
            return
        if status == "ok" and self.final:
            status = self.final
        estimated = False
        extra = None
        if self.operation == "messages":
            tokens, extra = usage_of("messages", self.anthropic or None)
            if status != "ok" and "output_tokens" in self.anthropic and not self._delta_seen():
                # message_start's output_tokens is a placeholder: count what was streamed
                tokens = (*tokens[:3], max(tokens[3], self._count_text()), tokens[4])
                estimated = True
        else:
            source = self.usage
            if self.operation == "responses" and source is not None:
                extra = extras_for_response(source)
                source = get(source, "usage")
            tokens, found = usage_of(self.operation, source)
            if found:
                extra = {**(extra or {}), **found}
        if status == "ok" and not any(tokens):
            status = "incomplete"  # the stream ended without its usage: an estimate follows
        if not any(tokens) and status in ("incomplete", "error", "failed"):
            tokens = self._estimate()
            estimated = any(tokens)
        request_id = self.request_id or getattr(exc, "request_id", None)
        billed = any(tokens) or extra
        call.record(status=status, model=self.model or call.body.get("model"), request_id=request_id,
                    tokens=tokens, service_tier=self.tier, extra=extra, estimated=estimated,
                    cost=None if billed else _ZERO)

    def _delta_seen(self) -> bool:
        return bool(self.anthropic.get("_delta"))

    def _count_text(self) -> int:
        from attrlint.runtime.estimate import count_text

        return count_text(str(self.model or self.call.body.get("model") or ""), "".join(self.text))

    def _estimate(self) -> Tokens:
        from attrlint.runtime.estimate import prompt_tokens

        model = str(self.model or self.call.body.get("model") or "")
        prompt = prompt_tokens(model, self.call.body)
        return (prompt, 0, 0, self._count_text(), 0)


def _ending(exc: BaseException) -> str:
    """`error` when the provider reported an error; `incomplete` when the stream broke off."""
    return "error" if getattr(exc, "status_code", None) is not None or getattr(exc, "body", None) is not None \
        else "incomplete"


def observe_stream(stream: Any, call: Call) -> None:
    state = StreamUsage(call, stream)
    inner = stream._iterator

    def observed() -> Any:
        try:
            for item in inner:
                if state.operation == "messages" and get(item, "type") == "message_delta":
                    state.anthropic["_delta"] = True
                if state.see(item):
                    yield item
        except GeneratorExit:
            state.end("incomplete")
            raise
        except BaseException as exc:
            state.end(_ending(exc), exc)
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
    state = StreamUsage(call, stream)
    inner = stream._iterator

    async def observed() -> Any:
        try:
            async for item in inner:
                if state.operation == "messages" and get(item, "type") == "message_delta":
                    state.anthropic["_delta"] = True
                if state.see(item):
                    yield item
        except GeneratorExit:
            state.end("incomplete")
            raise
        except BaseException as exc:
            state.end(_ending(exc), exc)
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


# -- with_streaming_response: the body is the caller's to read ------------------------------------

def hook_streaming_response(response: Any, call: Call, *, asynchronous: bool) -> None:
    """Record when the caller reads the body, however they read it: `parse()`, `json()`,
    `text()`/`read()`, or line by line with `iter_lines()` (a stream's events or a JSON body)."""
    if asynchronous:
        _hook_async(response, call)
    else:
        _hook_sync(response, call)
    # a body never read: the request was sent all the same, so it is recorded, `incomplete`
    weakref.finalize(response, _unread, call, response.__dict__.setdefault("_attrlint_read", []))


def _unread(call: Call, read: list[bool]) -> None:
    if call.done or read:
        return
    if call.body.get("stream"):
        StreamUsage(call).end("incomplete")  # billed for the prompt: an estimate, marked so
    else:
        call.record(status="incomplete", model=call.body.get("model"))


def _from_bytes(call: Call, data: bytes | str) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    if call.body.get("stream"):
        state = StreamUsage(call)
        for line in text.splitlines():
            _see_line(state, line)
        state.end("ok")
        return
    try:
        call.record_response(json.loads(text), None)
    except ValueError:
        call.record_response(text, None)


def _see_line(state: StreamUsage, line: str) -> None:
    if line.startswith("data:"):
        payload = line[5:].strip()
        if payload and payload != "[DONE]":
            try:
                state.see(json.loads(payload))
            except ValueError:
                pass


def _observe_lines(lines: Iterator[str], call: Call) -> Iterator[str]:
    streaming = bool(call.body.get("stream"))
    state = StreamUsage(call) if streaming else None
    seen: list[str] = []
    try:
        for line in lines:
            if state is not None:
                _see_line(state, line)
            else:
                seen.append(line)
            yield line
    except GeneratorExit:
        if state is not None:
            state.end("incomplete")
        raise
    if state is not None:
        state.end("ok")
    elif not call.done:
        _from_bytes(call, "\n".join(seen))


def _hook_sync(response: Any, call: Call) -> None:
    parse, read, iter_lines = response.parse, response.read, response.iter_lines
    was_read = response.__dict__.setdefault("_attrlint_read", [])

    def parsing(*args: Any, **kwargs: Any) -> Any:
        was_read.append(True)
        parsed = parse(*args, **kwargs)
        if not call.done and not args and not kwargs:
            if is_stream(parsed):
                observe_stream(parsed, call)
            else:
                call.record_response(parsed, response)
        return parsed

    def reading() -> Any:
        was_read.append(True)
        data = read()
        if not call.done:
            _from_bytes(call, data)
        return data

    def lines() -> Any:
        was_read.append(True)
        return _observe_lines(iter_lines(), call)

    def as_json(**kwargs: Any) -> Any:
        return json.loads(reading(), **kwargs)

    def as_text() -> Any:
        data = reading()
        return data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data

    response.parse = parsing
    response.read = reading
    response.iter_lines = lines
    response.json = as_json
    response.text = as_text


def _hook_async(response: Any, call: Call) -> None:
    parse, read, iter_lines = response.parse, response.read, response.iter_lines
    was_read = response.__dict__.setdefault("_attrlint_read", [])

    async def parsing(*args: Any, **kwargs: Any) -> Any:
        was_read.append(True)
        parsed = parse(*args, **kwargs)
        if hasattr(parsed, "__await__"):
            parsed = await parsed
        if not call.done and not args and not kwargs:
            if is_stream(parsed):
                observe_async_stream(parsed, call)
            else:
                call.record_response(parsed, response)
        return parsed

    async def reading() -> Any:
        was_read.append(True)
        data = await read()
        if not call.done:
            _from_bytes(call, data)
        return data

    async def lines() -> Any:
        was_read.append(True)
        streaming = bool(call.body.get("stream"))
        state = StreamUsage(call) if streaming else None
        seen: list[str] = []
        try:
            async for line in iter_lines():
                if state is not None:
                    _see_line(state, line)
                else:
                    seen.append(line)
                yield line
        except GeneratorExit:
            if state is not None:
                state.end("incomplete")
            raise
        if state is not None:
            state.end("ok")
        elif not call.done:
            _from_bytes(call, "\n".join(seen))

    async def as_json(**kwargs: Any) -> Any:
        return json.loads(await reading(), **kwargs)

    async def as_text() -> Any:
        data = await reading()
        return data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data

    response.parse = parsing
    response.read = reading
    response.iter_lines = lines
    response.json = as_json
    response.text = as_text
