"""Instrumented SDK clients.

`instrument(client)` returns a copy of the client made with the SDK's own `copy()` (the one
`with_options` uses), so it *is* an `OpenAI`/`Anthropic`/... instance: every method, property,
`with_options`, `with_raw_response` and streaming helper behaves as the SDK defines it. The one
change is the copy's `post`: every resource method of both SDKs (`create`, `parse`, `stream`,
their raw and streaming-response variants) sends its request through the client's `post`, so
one hook sees every covered call, already in its wire form:

* before the request: attribution fields are gathered (instrument < `attribution()` < per-call
  `metadata`), normalised, validated, and taken out of Anthropic's `metadata`;
* after it: usage is read from the parsed response, or from the stream's events as the caller
  iterates them, and a record is queued on the ledger.

Paths other than the covered endpoints pass straight through.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..schema import Schema
from . import context

log = logging.getLogger("attrlint.runtime")

_ROUTES = {
    "openai": {"/chat/completions": "chat", "/responses": "responses", "/embeddings": "embeddings"},
    "anthropic": {"/v1/messages": "messages", "/messages": "messages"},
}
_MAIN_FIELDS = ("agent_id", "ticket_id", "customer_id")
# Called on the caller's thread after each record is queued: hook(ledger, record_kwargs, request_model).
# attrlint.otel adds one; a hook that raises is logged, never seen by the caller.
RECORD_HOOKS: list[Callable[[Any, dict[str, Any], Any], None]] = []
_ZERO = Decimal(0)


class AttributionError(ValueError):
    """A strict instrumented call lacks required attribution fields; nothing was sent."""

    def __init__(self, missing: tuple[str, ...], *, agent_id: str | None, operation: str) -> None:
        self.missing = missing
        self.agent_id = agent_id
        super().__init__(
            f"attrlint: {operation} call for agent {agent_id or '(none)'} is missing attribution "
            f"field(s) {', '.join(missing)}; pass them in metadata=, wrap the call in "
            f"attribution({', '.join(f'{m}=...' for m in missing)}), or instrument(..., strict=False)"
        )


@dataclass(frozen=True)
class Settings:
    """What one `instrument()` call decided: shared by the client and its copies."""

    family: str  # "openai" | "anthropic"
    provider: str  # "openai" | "azure" | "anthropic"
    agent_id: str | None
    strict: bool
    environment: str | None
    key_fingerprint: str | None
    key_env: str | None
    schema: Schema
    required: Callable[[str | None], tuple[str, ...]]
    ledger_fn: Callable[[], Any]
    registry_agent: str | None = None  # the agent `[tool.attrlint.keys.ENV]` names for the client's key

    def __post_init__(self) -> None:
        # Per-call lookups, memoised: metadata keys and values repeat from call to call.
        object.__setattr__(self, "canonical", functools.lru_cache(maxsize=1024)(self.schema.canonical_name))
        object.__setattr__(self, "is_placeholder", functools.lru_cache(maxsize=4096)(self.schema.is_placeholder))


def key_fingerprint(key: str | None) -> str | None:
    """A short, non-reversible tag for an API key: the first 12 hex digits of its SHA-256."""
    if not key or not isinstance(key, str):
        return None
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def key_env_names(key: str | None) -> str | None:
    """Names of environment variables whose value is this key (the value is not kept)."""
    if not key or not isinstance(key, str):
        return None
    names = sorted(name for name, value in os.environ.items() if value == key)
    return ",".join(names) or None


def family_of(client: Any) -> tuple[str, str]:
    root = type(client).__module__.split(".", 1)[0]
    name = type(client).__name__
    if root == "openai" and hasattr(client, "copy"):
        return "openai", ("azure" if "Azure" in name else "openai")
    if root == "anthropic" and hasattr(client, "copy"):
        return "anthropic", "anthropic"
    raise TypeError(f"attrlint.instrument: {type(client).__module__}.{name} is not an OpenAI or Anthropic "
                    "client (OpenAI, AsyncOpenAI, AzureOpenAI, AsyncAzureOpenAI, Anthropic, AsyncAnthropic)")


def patch_client(client: Any, settings: Settings) -> Any:
    """Hook `post` and `copy`/`with_options` on this client instance."""
    is_async = _is_async(client)
    original_post = client.post
    original_copy = client.copy
    routes = _ROUTES[settings.family]

    if is_async:
        async def post(path: str, **kwargs: Any) -> Any:
            operation = routes.get(path.partition("?")[0])
            body = kwargs.get("body")
            if operation is None or not isinstance(body, dict):
                return await original_post(path, **kwargs)
            call = _begin(settings, operation, body)
            if call is None:
                return await original_post(path, **kwargs)
            kwargs["body"] = call.body
            try:
                result = await original_post(path, **kwargs)
            except BaseException as exc:
                call.failed(exc)
                raise
            return await call.async_finished(result, kwargs.get("options") or {})
    else:
        def post(path: str, **kwargs: Any) -> Any:  # type: ignore[misc]
            operation = routes.get(path.partition("?")[0])
            body = kwargs.get("body")
            if operation is None or not isinstance(body, dict):
                return original_post(path, **kwargs)
            call = _begin(settings, operation, body)
            if call is None:
                return original_post(path, **kwargs)
            kwargs["body"] = call.body
            try:
                result = original_post(path, **kwargs)
            except BaseException as exc:
                call.failed(exc)
                raise
            return call.finished(result, kwargs.get("options") or {})

    @functools.wraps(original_copy)
    def copy(*args: Any, **kwargs: Any) -> Any:
        return patch_client(original_copy(*args, **kwargs), settings)

    client.post = post
    client.copy = copy
    client.with_options = copy
    client._attrlint_settings = settings
    client._attrlint_uninstrumented_copy = original_copy
    return client


def uninstrumented_copy(client: Any) -> Any:
    """A plain copy of `client`; of the SDK client underneath if it is already instrumented
    (so instrumenting twice replaces the settings instead of recording every call twice)."""
    return getattr(client, "_attrlint_uninstrumented_copy", client.copy)()


def _begin(settings: Settings, operation: str, body: dict[str, Any]) -> _Call | None:
    """The call's attribution; None (send it as it is, unrecorded) if attrlint itself fails."""
    try:
        return _Call(settings, operation, body)
    except AttributionError:
        raise
    except Exception:
        log.warning("attrlint: could not prepare a %s call; sent unrecorded", operation, exc_info=True)
        return None


def _is_async(client: Any) -> bool:
    return inspect.iscoroutinefunction(type(client).post)


class _Call:
    """One covered call: its attribution (decided before sending) and its record (after)."""

    __slots__ = (
        "agent_source",
        "attributed",
        "body",
        "done",
        "fields",
        "filter_usage_chunk",
        "metadata",
        "operation",
        "settings",
        "started",
        "started_us",
    )

    def __init__(self, settings: Settings, operation: str, body: dict[str, Any]) -> None:
        self.settings = settings
        self.operation = operation
        self.done = False
        self.filter_usage_chunk = False
        fields: dict[str, str] = {}
        source = "instrument"
        canonical = settings.canonical  # type: ignore[attr-defined]
        if settings.agent_id:
            fields["agent_id"] = settings.agent_id
        ctx = context.current()
        for key, value in ctx.items():
            fields[canonical(key) or key] = value
        if "agent_id" in fields and fields["agent_id"] != settings.agent_id:
            source = "context"
        call_meta = body.get("metadata")
        if isinstance(call_meta, Mapping):
            for key, value in call_meta.items():
                if value is not None:
                    name = canonical(key) or key
                    if name == "agent_id":
                        source = "call"
                    fields[name] = str(value)
        if settings.registry_agent and settings.schema.is_placeholder(fields.get("agent_id")):
            fields["agent_id"] = settings.registry_agent
            source = "registry"
        self.agent_source = source if fields.get("agent_id") else None
        is_placeholder = settings.is_placeholder  # type: ignore[attr-defined]
        fields = {k: v for k, v in fields.items() if not is_placeholder(v)}
        agent_id = fields.get("agent_id")
        missing = tuple(f for f in settings.required(agent_id) if f not in fields)
        if missing and settings.strict:
            raise AttributionError(missing, agent_id=agent_id, operation=f"{settings.provider} {operation}")
        self.fields = fields
        self.attributed = not missing
        self.body = self._request_body(body, call_meta)
        self.started_us = time.time_ns() // 1000  # the record's timestamp, and the price's date
        self.started = time.perf_counter()

    def _request_body(self, body: dict[str, Any], call_meta: Any) -> dict[str, Any]:
        if self.settings.family == "anthropic":
            if isinstance(call_meta, Mapping) and set(call_meta) - {"user_id"}:
                body = dict(body)
                kept = {"user_id": call_meta["user_id"]} if call_meta.get("user_id") is not None else None
                if kept:
                    body["metadata"] = kept
                else:
                    del body["metadata"]
            return body
        if isinstance(call_meta, Mapping) and not all(isinstance(v, str) for v in call_meta.values()):
            body = dict(body)
            body["metadata"] = {k: str(v) for k, v in call_meta.items() if v is not None}
        if self.operation == "chat" and body.get("stream") is True:
            options = body.get("stream_options")
            if not (isinstance(options, Mapping) and options.get("include_usage")):
                body = dict(body)
                body["stream_options"] = {**(options if isinstance(options, Mapping) else {}), "include_usage": True}
                self.filter_usage_chunk = True
        return body

    # -- results ------------------------------------------------------------------------------

    def failed(self, exc: BaseException) -> None:
        self.record(status="error", model=self.body.get("model"), request_id=getattr(exc, "request_id", None),
                    cost=_ZERO)

    def finished(self, result: Any, options: Mapping[str, Any]) -> Any:
        try:
            if _is_stream(result):
                _observe_stream(result, self)
            elif _is_api_response(result):
                if _raw_mode(options) == "stream":
                    _hook_parse(result, self)
                else:
                    parsed = result.parse()
                    if _is_stream(parsed):
                        _observe_stream(parsed, self)
                    else:
                        self.record_response(parsed, result)
            else:
                self.record_response(result, None)
        except Exception:  # recording must never change what the caller gets
            log.warning("attrlint: could not record a %s call", self.operation, exc_info=True)
        return result

    async def async_finished(self, result: Any, options: Mapping[str, Any]) -> Any:
        try:
            if _is_api_response(result) and _raw_mode(options) != "stream":
                parsed = result.parse()
                if inspect.isawaitable(parsed):  # anthropic's; openai's raw responses parse synchronously
                    parsed = await parsed
                if _is_stream(parsed):
                    _observe_async_stream(parsed, self)
                else:
                    self.record_response(parsed, result)
            elif _is_api_response(result):
                _hook_async_parse(result, self)
            elif _is_stream(result):
                _observe_async_stream(result, self)
            else:
                self.record_response(result, None)
        except Exception:
            log.warning("attrlint: could not record a %s call", self.operation, exc_info=True)
        return result

    def record_response(self, parsed: Any, raw: Any) -> None:
        usage = getattr(parsed, "usage", None)
        request_id = getattr(parsed, "_request_id", None) or _header_request_id(raw)
        tokens = usage_tokens(self.operation, usage)
        self.record(status="ok", model=getattr(parsed, "model", None) or self.body.get("model"),
                    request_id=request_id, tokens=tokens, service_tier=_service_tier(parsed, usage))

    def record(self, *, status: str, model: Any, request_id: str | None = None,
               tokens: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0), cost: Decimal | None = None,
               service_tier: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        try:
            fields = self.fields
            settings = self.settings
            extra = {k: v for k, v in fields.items() if k not in _MAIN_FIELDS} or None
            ledger = settings.ledger_fn()
            latency_ms = round((time.perf_counter() - self.started) * 1000, 3)
            model = str(model) if model else None
            enqueue = getattr(ledger, "_enqueue", None)
            if enqueue is not None and not RECORD_HOOKS:  # attrlint's Ledger: skip keyword handling
                enqueue(self.started_us, settings.provider, self.operation, model, fields.get("agent_id"),
                        fields.get("ticket_id"), fields.get("customer_id"), extra,
                        fields.get("environment") or settings.environment, *tokens, cost, None,
                        settings.key_fingerprint, request_id, status, latency_ms, settings.key_env,
                        self.agent_source, self.attributed, service_tier)
                return
            record = dict(
                provider=settings.provider, operation=self.operation, model=model,
                agent_id=fields.get("agent_id"), ticket_id=fields.get("ticket_id"),
                customer_id=fields.get("customer_id"), metadata=extra,
                environment=fields.get("environment") or settings.environment,
                input_tokens=tokens[0], cached_input_tokens=tokens[1], cache_write_tokens=tokens[2],
                output_tokens=tokens[3], reasoning_tokens=tokens[4], cost=cost,
                key_fingerprint=settings.key_fingerprint, key_env=settings.key_env,
                agent_source=self.agent_source, request_id=request_id, status=status,
                attributed=self.attributed, latency_ms=latency_ms,
                service_tier=service_tier, timestamp=self.started_us,
            )
            ledger.record(**record)
            for hook in RECORD_HOOKS:
                hook(ledger, record, self.body.get("model"))
        except Exception:
            log.warning("attrlint: could not queue a cost record", exc_info=True)


# -- usage ----------------------------------------------------------------------------------------

def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if type(obj) is dict:
        return obj.get(name)
    return getattr(obj, name, None)


def usage_tokens(operation: str, usage: Any) -> tuple[int, int, int, int, int]:
    """(input incl. cached and cache writes, cached reads, cache writes, output, reasoning)."""
    if usage is None:
        return (0, 0, 0, 0, 0)
    if operation == "messages":
        # Anthropic: input_tokens excludes cache reads and cache writes.
        uncached = _get(usage, "input_tokens") or 0
        read = _get(usage, "cache_read_input_tokens") or 0
        write = _get(usage, "cache_creation_input_tokens") or 0
        return (uncached + read + write, read, write, _get(usage, "output_tokens") or 0, 0)
    if operation in ("chat", "embeddings"):
        # OpenAI chat: prompt_tokens includes prompt_tokens_details.cached_tokens.
        prompt = _get(usage, "prompt_tokens") or 0
        cached = _get(_get(usage, "prompt_tokens_details"), "cached_tokens") or 0
        out = _get(usage, "completion_tokens") or 0
        reasoning = _get(_get(usage, "completion_tokens_details"), "reasoning_tokens") or 0
        return (prompt, cached, 0, out, reasoning)
    # responses: input_tokens includes input_tokens_details.cached_tokens.
    inp = _get(usage, "input_tokens") or 0
    cached = _get(_get(usage, "input_tokens_details"), "cached_tokens") or 0
    out = _get(usage, "output_tokens") or 0
    reasoning = _get(_get(usage, "output_tokens_details"), "reasoning_tokens") or 0
    return (inp, cached, 0, out, reasoning)


def _service_tier(parsed: Any, usage: Any) -> str | None:
    tier = getattr(parsed, "service_tier", None) or _get(usage, "service_tier")
    return tier if isinstance(tier, str) and tier not in ("default", "standard", "auto") else None


def _header_request_id(raw: Any) -> str | None:
    response = getattr(raw, "http_response", None) or getattr(raw, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    return headers.get("x-request-id") or headers.get("request-id")


def _is_stream(obj: Any) -> bool:
    return type(obj).__name__ in ("Stream", "AsyncStream") and hasattr(obj, "response")


def _is_api_response(obj: Any) -> bool:
    # LegacyAPIResponse, APIResponse, AsyncAPIResponse (by name: cheaper than probing a model)
    return type(obj).__name__.endswith("APIResponse") and hasattr(obj, "http_response")


def _raw_mode(options: Mapping[str, Any]) -> str | None:
    headers = options.get("headers") or {}
    return headers.get("X-Stainless-Raw-Response") if isinstance(headers, Mapping) else None


# -- streams --------------------------------------------------------------------------------------

class _StreamUsage:
    """Folds a stream's events into what the record needs."""

    __slots__ = ("anthropic", "call", "model", "operation", "request_id", "tier", "usage")

    def __init__(self, call: _Call, stream: Any) -> None:
        self.call = call
        self.operation = call.operation
        self.model: Any = None
        self.usage: Any = None
        self.tier: str | None = None
        self.request_id = _header_request_id(stream)
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
                self.tier = _service_tier(item, None)
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
                    self.tier = _service_tier(response, None)
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
            self.tier = _service_tier(None, usage)

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


def _observe_stream(stream: Any, call: _Call) -> None:
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


def _observe_async_stream(stream: Any, call: _Call) -> None:
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


def _hook_parse(response: Any, call: _Call) -> None:
    """`with_streaming_response`: the body is the caller's to read; record when they parse it."""
    parse = response.parse

    def parsing(*args: Any, **kwargs: Any) -> Any:
        parsed = parse(*args, **kwargs)
        if not call.done and not args and not kwargs:
            if _is_stream(parsed):
                _observe_stream(parsed, call)
            else:
                call.record_response(parsed, response)
        return parsed

    response.parse = parsing


def _hook_async_parse(response: Any, call: _Call) -> None:
    parse = response.parse

    async def parsing(*args: Any, **kwargs: Any) -> Any:
        parsed = parse(*args, **kwargs)
        if inspect.isawaitable(parsed):
            parsed = await parsed
        if not call.done and not args and not kwargs:
            if _is_stream(parsed):
                _observe_async_stream(parsed, call)
            else:
                call.record_response(parsed, response)
        return parsed

    response.parse = parsing
