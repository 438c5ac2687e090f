"""mistralai (`Mistral`, the Speakeasy-generated SDK), through its own SDK hooks.

Each `Mistral` client has an `SDKHooks` object that every request passes through:
`before_request` (the request, before it is sent), `after_success` (the response: its body read,
or still streaming) and `after_error`. attrlint registers one hook object on a client, which:

* before the request, decides the call's attribution (the enclosing `attribution(...)`);
  `strict` raises `AttributionError` there and nothing is sent;
* after it, records the call from the response's `usage` (chat, FIM, agents, embeddings), or,
  for a stream, from the server-sent events as the caller reads them (the last carries the usage);
  a stream closed early is `incomplete`, billed for an estimate of what was processed;
* on an error, records it at no cost.

`instrument(client)` registers it on that client; `install()` on every client at its first
request (`BaseSDK.do_request` / `do_request_async`, looked up at call time).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from attrlint.runtime.call import Call, begin
from attrlint.runtime.settings import Settings
from attrlint.runtime.streams import SSEWatcher, end_of_stream, watch_response
from attrlint.runtime.usage import NO_TOKENS, get, usage_of

log = logging.getLogger("attrlint.runtime")

# Speakeasy operation id -> the ledger operation
OPERATIONS = {
    "chat_completion_v1_chat_completions_post": "chat", "stream_chat": "chat",
    "fim_completion_v1_fim_completions_post": "completions", "stream_fim": "completions",
    "agents_completion_v1_agents_completions_post": "chat", "stream_agents": "chat",
    "embeddings_v1_embeddings_post": "embeddings",
}
_CALL = "attrlint_call"


class Hook:
    """attrlint's before-request, after-success and after-error hook for one client."""

    def __init__(self, settings: Callable[[], Settings | None]) -> None:
        self.settings = settings

    def before_request(self, hook_ctx: Any, request: Any) -> Any:
        operation = OPERATIONS.get(getattr(hook_ctx, "operation_id", ""))
        if operation is None:
            return request
        settings = self.settings()
        if settings is None:
            return request
        call = begin(settings, operation, {"_raw": request.content}, call_metadata={})
        if call is not None:
            request.extensions[_CALL] = call
        return request

    def after_success(self, hook_ctx: Any, response: Any) -> Any:
        call: Call | None = response.request.extensions.pop(_CALL, None)
        if call is None:
            return response
        try:
            if hook_ctx.operation_id.startswith("stream_"):
                _watch(response, call)
            else:
                data = response.json()
                call.record_usage(get(data, "usage"), model=get(data, "model") or _request_model(call),
                                  request_id=get(data, "id") or response.headers.get("mistral-correlation-id"))
        except Exception:  # recording must never change what the caller gets
            log.warning("attrlint: could not record a Mistral %s call", call.operation, exc_info=True)
        return response

    def after_error(self, hook_ctx: Any, response: Any, error: Any) -> Any:
        request = getattr(response, "request", None) if response is not None else getattr(error, "request", None)
        call = request.extensions.pop(_CALL, None) if request is not None else None
        if call is not None:
            call.record(status="error", model=_request_model(call),
                        request_id=response.headers.get("mistral-correlation-id") if response is not None else None,
                        cost=_zero())
        return response, error


def _zero() -> Any:
    from attrlint.runtime.call import ZERO

    return ZERO


def _request_model(call: Call) -> Any:
    """The model named in the request body (read only when the response did not say)."""
    model = call.body.get("model")
    if model is None and "_raw" in call.body:
        _unpack(call)
        model = call.body.get("model")
    return model


def _unpack(call: Call) -> None:
    import json

    raw = call.body.pop("_raw", None)
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        call.body.update({k: data[k] for k in ("model", "messages", "prompt", "suffix", "input") if k in data})


# -- streams --------------------------------------------------------------------------------------

class _StreamState:
    __slots__ = ("call", "model", "request_id", "text", "usage", "watcher")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.model: Any = None
        self.request_id: str | None = None
        self.usage: Any = None
        self.text: list[str] = []
        self.watcher = SSEWatcher(self.see)

    def see(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            return
        self.model = self.model or data.get("model")
        self.request_id = self.request_id or data.get("id")
        if data.get("usage"):
            self.usage = data["usage"]
        for choice in data.get("choices") or ():
            piece = (choice.get("delta") or {}).get("content") if isinstance(choice, Mapping) else None
            if isinstance(piece, str):
                self.text.append(piece)

    def end(self, status: str) -> None:
        call = self.call
        if call.done:
            return
        self.watcher.close()
        if status == "ok" and self.usage is None and not self.watcher.finished:
            status = "incomplete"
        tokens, extra = usage_of(call.operation, self.usage) if self.usage is not None else (NO_TOKENS, None)
        if not any(tokens):
            _unpack(call)
        end_of_stream(call, status, model=self.model or _request_model(call), request_id=self.request_id,
                      tokens=tokens, text="".join(self.text), extra=extra)


def _watch(response: Any, call: Call) -> None:
    """Show each chunk of the response body to the stream's state as the caller reads it."""
    state = _StreamState(call)
    watch_response(response, state.watcher.feed, lambda status: state.end(status),
                   lambda: state.usage is not None)


# -- registration ---------------------------------------------------------------------------------

def _hooks_of(sdk: Any) -> Any:
    return sdk.sdk_configuration.__dict__["_hooks"]


def _add(sdk: Any, hook: Hook) -> None:
    hooks = _hooks_of(sdk)
    for name in ("before_request_hooks", "after_success_hooks", "after_error_hooks"):
        registered = getattr(hooks, name)
        registered[:] = [h for h in registered if not isinstance(h, Hook) or h is hook]
    if hook not in hooks.before_request_hooks:
        hooks.register_before_request_hook(hook)
        hooks.register_after_success_hook(hook)
        hooks.register_after_error_hook(hook)


def instrument(client: Any, settings: Settings) -> Any:
    """Record this client's calls with `settings`, in place (its hooks are the client's own);
    instrumenting it again replaces the settings."""
    client.sdk_configuration.__dict__["_attrlint_settings"] = settings
    _add(client, Hook(lambda: settings))
    return client


def install(hooks: Any) -> None:
    """Register attrlint's hook on each client at its first request."""
    from mistralai.client.basesdk import BaseSDK

    def ensure(sdk: Any) -> None:
        config = sdk.sdk_configuration
        if "_attrlint_hooked" in config.__dict__ or config.__dict__.get("_attrlint_settings") is not None:
            return
        config.__dict__["_attrlint_hooked"] = True
        ref = weakref.ref(sdk)

        def settings() -> Settings | None:
            target = ref()
            if target is None or target.sdk_configuration.__dict__.get("_attrlint_settings") is not None:
                return None  # instrument()ed since: its own hook records it
            return hooks.settings_of(target)  # type: ignore[no-any-return]

        _add(sdk, Hook(settings))

    def sync(original: Any) -> Any:
        def do_request(self: Any, *args: Any, **kwargs: Any) -> Any:
            ensure(self)
            return original(self, *args, **kwargs)

        return do_request

    def asynchronous(original: Any) -> Any:
        async def do_request_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            ensure(self)
            return await original(self, *args, **kwargs)

        return do_request_async

    hooks.patch(BaseSDK, "do_request", sync)
    hooks.patch(BaseSDK, "do_request_async", asynchronous)
