"""Amazon Bedrock through boto3 / botocore `bedrock-runtime` clients, by botocore's event hooks.

botocore gives every client its own event system (`client.meta.events`). attrlint registers
three handlers on a `bedrock-runtime` client, for the model calls (`converse`, `converse_stream`,
`invoke_model`, `invoke_model_with_response_stream`):

* `before-parameter-build`: the call's attribution (the enclosing `attribution(...)`, the call's
  `requestMetadata`), decided before anything is sent; `strict` raises `AttributionError` here;
* `after-call`: the record, from the response's `usage` (Converse), the token-count headers
  (InvokeModel), or the event stream, read as the caller reads it (the streaming calls);
* `after-call-error`: a request that failed before any response, recorded `error` at no cost.

`instrument(client)` registers them on that client. `install()` registers them on every
`bedrock-runtime` client at its first call (botocore's `BaseClient._make_api_call`, looked up at
call time, so clients made before `install()` are covered too). The provider is
`bedrock/REGION`, from the client's endpoint.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from attrlint.runtime.call import Call, begin
from attrlint.runtime.settings import Settings
from attrlint.runtime.streams import end_of_stream, ending, observe_iterator
from attrlint.runtime.usage import NO_TOKENS, Tokens

log = logging.getLogger("attrlint.runtime")

SERVICE = "bedrock-runtime"
# botocore operation -> the ledger operation
OPERATIONS = {"Converse": "chat", "ConverseStream": "chat", "InvokeModel": "chat",
              "InvokeModelWithResponseStream": "chat"}
_CALL = "attrlint_call"  # the key of the call in botocore's per-request context
_INSTRUMENT_ID = "attrlint-instrument"
_INSTALL_ID = "attrlint-install"
_HEADERS = ("x-amzn-bedrock-input-token-count", "x-amzn-bedrock-cache-read-input-token-count",
            "x-amzn-bedrock-cache-write-input-token-count", "x-amzn-bedrock-output-token-count")


def is_client(client: Any) -> bool:
    """A botocore client of the `bedrock-runtime` service."""
    model = getattr(getattr(client, "meta", None), "service_model", None)
    return getattr(model, "service_name", None) == SERVICE


def endpoint(client: Any) -> Any:
    return client.meta.endpoint_url


def access_key(client: Any) -> str | None:
    """The client's AWS access key id (an identifier; the secret key is never read)."""
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    key = getattr(credentials, "access_key", None)
    return key if isinstance(key, str) else None


# -- registration ---------------------------------------------------------------------------------

def instrument(client: Any, settings: Settings) -> Any:
    """Record the calls of this `bedrock-runtime` client with `settings` (in place: botocore
    clients cannot be copied). Instrumenting it again replaces the settings."""
    client.__dict__["_attrlint_settings"] = settings
    _register(client, _INSTRUMENT_ID, lambda: settings)
    return client


def hook_for_install(client: Any, settings_of: Callable[[Any], Settings | None]) -> None:
    """Register `install()`'s handlers on a client at its first call (once)."""
    if client.__dict__.get("_attrlint_install_hooked") or client.__dict__.get("_attrlint_settings") is not None:
        return
    client.__dict__["_attrlint_install_hooked"] = True
    ref = weakref.ref(client)

    def settings() -> Settings | None:
        target = ref()
        if target is None or target.__dict__.get("_attrlint_settings") is not None:
            return None  # instrument()ed since: its own handlers record it
        return settings_of(target)

    _register(client, _INSTALL_ID, settings)


def _register(client: Any, unique_id: str, settings: Callable[[], Settings | None]) -> None:
    events = client.meta.events
    handlers = {
        f"before-parameter-build.{SERVICE}": _before(settings),
        f"after-call.{SERVICE}": _after,
        f"after-call-error.{SERVICE}": _error,
    }
    for event, handler in handlers.items():
        events.unregister(event, unique_id=f"{unique_id}-{event}")
        events.register(event, handler, unique_id=f"{unique_id}-{event}")


# -- the handlers ---------------------------------------------------------------------------------

def _before(settings_fn: Callable[[], Settings | None]) -> Callable[..., None]:
    def before_parameter_build(params: Mapping[str, Any], model: Any, context: dict[str, Any],
                               **kwargs: Any) -> None:
        if OPERATIONS.get(model.name) is None or _CALL in context:
            return
        settings = settings_fn()
        if settings is None:
            return
        model_id = _model_name(params.get("modelId"))
        body: dict[str, Any] = {"model": model_id}
        for key in ("messages", "system"):
            if key in params:
                body[key] = params[key]
        if "body" in params:
            body["_raw"] = params["body"]  # InvokeModel's provider-native body, read only for an estimate
        meta = params.get("requestMetadata")
        call = begin(settings, "chat", body, call_metadata=meta if isinstance(meta, Mapping) else {})
        if call is not None:
            context[_CALL] = call

    return before_parameter_build


def _after(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **kwargs: Any) -> None:
    call: Call | None = context.pop(_CALL, None)
    if call is None:
        return
    try:
        metadata = parsed.get("ResponseMetadata") or {}
        request_id = metadata.get("RequestId")
        if getattr(http_response, "status_code", 200) >= 300:
            call.record(status="error", model=call.body.get("model"), request_id=request_id, cost=_zero())
        elif model.name == "Converse":
            call.record(status="ok", model=call.body.get("model"), request_id=request_id,
                        tokens=converse_tokens(parsed.get("usage")), extra=cache_ttls(parsed.get("usage")))
        elif model.name == "InvokeModel":
            _record_invoke(call, metadata.get("HTTPHeaders") or getattr(http_response, "headers", {}), request_id)
        elif model.name == "ConverseStream":
            _observe(parsed.get("stream"), call, request_id, converse=True)
        else:
            _observe(parsed.get("body"), call, request_id, converse=False)
    except Exception:  # recording must never change what the caller gets
        log.warning("attrlint: could not record a Bedrock %s call", model.name, exc_info=True)


def _error(exception: BaseException, context: dict[str, Any], **kwargs: Any) -> None:
    call: Call | None = context.pop(_CALL, None)
    if call is not None:
        call.failed(exception)


def _zero() -> Any:
    from attrlint.runtime.call import ZERO

    return ZERO


def _model_name(model_id: Any) -> str | None:
    """The model of a `modelId`: an inference profile or model ARN names it after its last `/`."""
    if not isinstance(model_id, str):
        return None
    return model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id


# -- usage ----------------------------------------------------------------------------------------

def converse_tokens(usage: Any) -> Tokens:
    """Converse usage (`inputTokens` excludes cache reads and writes, as genai-prices reads it)."""
    if not isinstance(usage, Mapping):
        return NO_TOKENS
    read = int(usage.get("cacheReadInputTokens") or 0)
    write = int(usage.get("cacheWriteInputTokens") or 0)
    return (int(usage.get("inputTokens") or 0) + read + write, read, write, int(usage.get("outputTokens") or 0), 0)


def cache_ttls(usage: Any) -> dict[str, int] | None:
    """Cache writes by TTL (`cacheDetails`), which genai-prices prices apart."""
    details = usage.get("cacheDetails") if isinstance(usage, Mapping) else None
    if not details:
        return None
    extra: dict[str, int] = {}
    for item in details:
        ttl = item.get("ttl") if isinstance(item, Mapping) else None
        if ttl in ("5m", "1h") and item.get("inputTokens"):
            key = f"cache_write_{ttl}_tokens"
            extra[key] = extra.get(key, 0) + int(item["inputTokens"])
    return extra or None


def metric_tokens(metrics: Mapping[str, Any]) -> Tokens:
    """`amazon-bedrock-invocationMetrics` (the last chunk of InvokeModelWithResponseStream)."""
    read = int(metrics.get("cacheReadInputTokenCount") or 0)
    write = int(metrics.get("cacheWriteInputTokenCount") or 0)
    return (int(metrics.get("inputTokenCount") or 0) + read + write, read, write,
            int(metrics.get("outputTokenCount") or 0), 0)


def _record_invoke(call: Call, headers: Mapping[str, Any], request_id: str | None) -> None:
    """InvokeModel: the body is the caller's stream; the token counts are in the headers."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    counts = [int(lowered.get(name) or 0) for name in _HEADERS]
    inp, read, write, out = counts
    tokens = (inp + read + write, read, write, out, 0)
    if not any(tokens):
        _unpack_raw(call.body)
        end_of_stream(call, "incomplete", model=call.body.get("model"), request_id=request_id, tokens=tokens)
        return
    call.record(status="ok", model=call.body.get("model"), request_id=request_id, tokens=tokens)


# -- event streams --------------------------------------------------------------------------------

class _StreamState:
    """What a Bedrock event stream has reported so far."""

    __slots__ = ("anthropic", "call", "converse", "extra", "request_id", "text", "tokens")

    def __init__(self, call: Call, request_id: str | None, converse: bool) -> None:
        self.call = call
        self.request_id = request_id
        self.converse = converse
        self.tokens: Tokens = NO_TOKENS
        self.extra: dict[str, int] | None = None
        self.anthropic: dict[str, int] = {}  # an Anthropic model's own usage events, before the metrics
        self.text: list[str] = []

    def see(self, event: Any) -> None:
        if not isinstance(event, Mapping):
            return
        if self.converse:
            delta = (event.get("contentBlockDelta") or {}).get("delta") or {}
            if isinstance(delta.get("text"), str):
                self.text.append(delta["text"])
            metadata = event.get("metadata")
            if isinstance(metadata, Mapping) and "usage" in metadata:
                self.tokens = converse_tokens(metadata["usage"])
                self.extra = cache_ttls(metadata["usage"])
            return
        chunk = (event.get("chunk") or {}).get("bytes")
        if not chunk:
            return
        data = json.loads(chunk)
        metrics = data.get("amazon-bedrock-invocationMetrics")
        if isinstance(metrics, Mapping):
            self.tokens = metric_tokens(metrics)
        kind = data.get("type")
        usage = (data.get("message") or {}).get("usage") if kind == "message_start" else data.get("usage")
        if kind in ("message_start", "message_delta") and isinstance(usage, Mapping):
            for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"):
                if usage.get(name) is not None:
                    self.anthropic[name] = int(usage[name])
        piece = (data.get("delta") or {}).get("text") if kind == "content_block_delta" else data.get("outputText")
        if isinstance(piece, str):
            self.text.append(piece)

    def end(self, status: str, exc: BaseException | None) -> None:
        if self.call.done:
            return
        tokens = self.tokens
        if not any(tokens) and "_raw" in self.call.body:
            _unpack_raw(self.call.body)
        if not any(tokens) and self.anthropic.get("input_tokens") and status != "ok":
            a = self.anthropic  # broke off before the metrics: what the model's own events said
            read, write = a.get("cache_read_input_tokens", 0), a.get("cache_creation_input_tokens", 0)
            tokens = (a["input_tokens"] + read + write, read, write, a.get("output_tokens", 0), 0)
        end_of_stream(self.call, status, model=self.call.body.get("model"), request_id=self.request_id,
                      tokens=tokens, text="".join(self.text), extra=self.extra)


def _unpack_raw(body: dict[str, Any]) -> None:
    """An InvokeModel body, for a local estimate: its prompt under the names the estimate reads."""
    raw = body.pop("_raw", None)
    if not isinstance(raw, (bytes, bytearray, str)):
        return  # a file object, already sent: not read twice
    try:
        data = json.loads(raw)
    except ValueError:
        return
    if isinstance(data, Mapping):
        for key in ("messages", "system", "prompt"):
            if key in data:
                body[key] = data[key]
        if "inputText" in data:
            body["input"] = data["inputText"]


def _observe(stream: Any, call: Call, request_id: str | None, *, converse: bool) -> None:
    """Read the events of botocore's `EventStream` as the caller iterates it; record at its end
    (or when the caller closes it or drops it early)."""
    if stream is None or not hasattr(stream, "_event_generator"):
        call.record(status="incomplete", model=call.body.get("model"), request_id=request_id, cost=_zero())
        return
    state = _StreamState(call, request_id, converse)
    parse = stream._parse_event

    def parse_event(event: Any) -> Any:
        try:
            parsed = parse(event)
        except BaseException as exc:  # an error event (throttling, model error) mid-stream
            state.end(ending(exc), exc)
            raise
        if parsed:
            try:
                state.see(parsed)
            except Exception:
                log.warning("attrlint: could not read a Bedrock stream event", exc_info=True)
        return parsed

    stream._parse_event = parse_event
    stream._event_generator = observe_iterator(stream._event_generator, lambda _raw: None, state.end)
    close = stream.close

    def closing() -> None:
        state.end("incomplete", None)
        close()

    stream.close = closing


# -- install() --------------------------------------------------------------------------------------

def install(hooks: Any) -> None:
    """Hook every `bedrock-runtime` client at its first call, through `BaseClient._make_api_call`."""
    from botocore.client import BaseClient

    def make_wrapper(original: Any) -> Any:
        def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
            if "_attrlint_install_hooked" not in self.__dict__ and is_client(self):
                hook_for_install(self, hooks.settings_of)
            return original(self, operation_name, api_params)

        return _make_api_call

    hooks.patch(BaseClient, "_make_api_call", make_wrapper)
