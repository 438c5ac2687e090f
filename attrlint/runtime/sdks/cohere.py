"""cohere (the Fern-generated SDK: `ClientV2`, `Client` and their async forms), through its HTTP
client.

Every cohere call goes through the client's `HttpClient` (or `AsyncHttpClient`): `request(path,
method=..., json=...)` for a whole response, `stream(...)` (a context manager yielding the
streaming response) for `chat_stream`. attrlint wraps those two: on the client's own HTTP client
for `instrument(client)` (in place), on the classes for `install()`. Routing is on the path:

* `v2/chat`, `v1/chat`: `chat`; `v1/generate`: `completions`; priced from the billed units
  (`usage.billed_units` in v2, `meta.billed_units` in v1), as genai-prices reads them;
* `v2/embed`, `v1/embed`: `embeddings`;
* `v2/rerank`, `v1/rerank`: `rerank`, billed per search unit, which genai-prices does not price:
  recorded unpriced, with the search units counted.

A stream is read as the caller reads it (its `message-end` / `stream-end` event carries the
usage); one closed early is `incomplete`, billed for an estimate of what was processed. Cohere's
retries call `request` again from inside it: only the outer call is recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from attrlint.runtime.call import Call, begin
from attrlint.runtime.settings import Settings
from attrlint.runtime.streams import SSEWatcher, end_of_stream, watch_response
from attrlint.runtime.usage import NO_TOKENS, Tokens

log = logging.getLogger("attrlint.runtime")

ROUTES = {"v2/chat": "chat", "v1/chat": "chat", "chat": "chat", "v1/generate": "completions",
          "generate": "completions", "v2/embed": "embeddings", "v1/embed": "embeddings", "embed": "embeddings",
          "v2/rerank": "rerank", "v1/rerank": "rerank", "rerank": "rerank"}


def billed(data: Any) -> tuple[Tokens, dict[str, int] | None]:
    """Token counts from a response (or a stream's last event): v2's `usage.billed_units`, v1's
    `meta.billed_units`; rerank's search units as `rerank_searches`."""
    if not isinstance(data, Mapping):
        return NO_TOKENS, None
    usage = data.get("usage") or data.get("meta") or (data.get("delta") or {}).get("usage") \
        or (data.get("response") or {}).get("meta")
    units = (usage or {}).get("billed_units") if isinstance(usage, Mapping) else None
    if not isinstance(units, Mapping):
        return NO_TOKENS, None
    searches = int(units.get("search_units") or 0)
    tokens = (int(units.get("input_tokens") or 0), 0, 0, int(units.get("output_tokens") or 0), 0)
    return tokens, ({"rerank_searches": searches} if searches else None)


# -- one call ---------------------------------------------------------------------------------------

def _prepare(http: Any, settings_of: Callable[[Any], Settings | None], path: Any, method: str,
             json_body: Any, kwargs: Mapping[str, Any]) -> Call | None:
    if kwargs.get("retries"):
        return None  # a retry from inside the outer call, which records
    operation = ROUTES.get(str(path or "").strip("/"))
    if operation is None or str(method).upper() != "POST":
        return None
    settings = settings_of(http)
    if settings is None:
        return None
    body = dict(json_body) if isinstance(json_body, Mapping) else {}
    return begin(settings, operation, body, call_metadata={})


def _record(call: Call, response: Any) -> None:
    try:
        request_id = response.headers.get("x-request-id") or response.headers.get("x-trace-id")
        if response.status_code >= 400:
            call.record(status="error", model=call.body.get("model"), request_id=request_id, cost=_zero())
            return
        data = json.loads(response.content) if response.content else {}
        tokens, extra = billed(data)
        request_id = (data.get("id") if isinstance(data, Mapping) else None) or request_id
        if call.operation == "rerank":  # billed per search; unpriced (never $0) when none is reported
            call.record(status="ok", model=call.body.get("model"), request_id=request_id,
                        extra=extra or {"usage_unreported": 1})
        elif not any(tokens) and call.operation == "embeddings":
            from attrlint.runtime.estimate import content_tokens

            count = content_tokens(str(call.body.get("model") or ""), call.body.get("texts") or call.body.get("inputs"))
            call.record(status="ok", model=call.body.get("model"), request_id=request_id,
                        tokens=(count, 0, 0, 0, 0), estimated=bool(count))
        else:
            call.record(status="ok", model=call.body.get("model"), request_id=request_id, tokens=tokens, extra=extra)
    except Exception:  # recording must never change what the caller gets
        log.warning("attrlint: could not record a cohere %s call", call.operation, exc_info=True)


def _zero() -> Any:
    from attrlint.runtime.call import ZERO

    return ZERO


class _StreamState:
    __slots__ = ("call", "request_id", "text", "tokens", "watcher")

    def __init__(self, call: Call, request_id: str | None) -> None:
        self.call = call
        self.request_id = request_id
        self.tokens: Tokens = NO_TOKENS
        self.text: list[str] = []
        self.watcher = SSEWatcher(self.see)

    def see(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            return
        kind = data.get("type") or data.get("event_type")
        if kind in ("message-end", "stream-end"):
            self.tokens = billed(data)[0]
        elif kind == "message-start":
            self.request_id = data.get("id") or self.request_id
        elif kind in ("content-delta", "text-generation"):
            text = data.get("text")
            if text is None:
                text = ((((data.get("delta") or {}).get("message") or {}).get("content")) or {}).get("text")
            if isinstance(text, str):
                self.text.append(text)

    def end(self, status: str) -> None:
        if self.call.done:
            return
        self.watcher.close()
        end_of_stream(self.call, status, model=self.call.body.get("model"), request_id=self.request_id,
                      tokens=self.tokens, text="".join(self.text))


class _StreamContext:
    """What `stream(...)` returns, wrapped: the streaming response is watched once entered."""

    def __init__(self, inner: Any, call: Call) -> None:
        self._inner = inner
        self._call = call

    def _watch(self, response: Any) -> Any:
        call = self._call
        try:
            if response.status_code >= 400:
                call.record(status="error", model=call.body.get("model"),
                            request_id=response.headers.get("x-request-id"), cost=_zero())
            else:
                state = _StreamState(call, response.headers.get("x-request-id"))
                watch_response(response, state.watcher.feed, state.end, lambda: any(state.tokens))
        except Exception:
            log.warning("attrlint: could not watch a cohere stream", exc_info=True)
        return response

    def __enter__(self) -> Any:
        try:
            response = self._inner.__enter__()
        except BaseException as exc:
            self._call.failed(exc)
            raise
        return self._watch(response)

    def __exit__(self, *exc_info: object) -> Any:
        return self._inner.__exit__(*exc_info)

    async def __aenter__(self) -> Any:
        try:
            response = await self._inner.__aenter__()
        except BaseException as exc:
            self._call.failed(exc)
            raise
        return self._watch(response)

    async def __aexit__(self, *exc_info: object) -> Any:
        return await self._inner.__aexit__(*exc_info)


# -- the wrappers -----------------------------------------------------------------------------------

def _wrap_request(original: Any, settings_of: Callable[[Any], Settings | None], asynchronous: bool) -> Any:
    if asynchronous:
        async def async_request(self: Any, path: Any = None, *, method: str, json: Any = None, **kwargs: Any) -> Any:
            call = _prepare(self, settings_of, path, method, json, kwargs)
            if call is None:
                return await original(self, path, method=method, json=json, **kwargs)
            try:
                response = await original(self, path, method=method, json=json, **kwargs)
            except BaseException as exc:
                call.failed(exc)
                raise
            _record(call, response)
            return response

        return async_request

    def request(self: Any, path: Any = None, *, method: str, json: Any = None, **kwargs: Any) -> Any:
        call = _prepare(self, settings_of, path, method, json, kwargs)
        if call is None:
            return original(self, path, method=method, json=json, **kwargs)
        try:
            response = original(self, path, method=method, json=json, **kwargs)
        except BaseException as exc:
            call.failed(exc)
            raise
        _record(call, response)
        return response

    return request


def _wrap_stream(original: Any, settings_of: Callable[[Any], Settings | None]) -> Any:
    def stream(self: Any, path: Any = None, *, method: str, json: Any = None, **kwargs: Any) -> Any:
        inner = original(self, path, method=method, json=json, **kwargs)
        call = _prepare(self, settings_of, path, method, json, kwargs)
        return inner if call is None else _StreamContext(inner, call)

    return stream


# -- registration ---------------------------------------------------------------------------------

def http_client_of(client: Any) -> Any:
    return client._client_wrapper.httpx_client


def instrument(client: Any, settings: Settings) -> Any:
    """Record this client's calls with `settings`, in place (on its HTTP client); instrumenting
    it again replaces the settings."""
    import functools

    http = http_client_of(client)
    http.__dict__["_attrlint_settings"] = settings
    asynchronous = type(http).__name__.startswith("Async")
    cls = type(http)
    for name in ("request", "stream"):
        original = getattr(cls, name)
        wrapper = _wrap_stream(original, lambda _http: settings) if name == "stream" \
            else _wrap_request(original, lambda _http: settings, asynchronous)
        http.__dict__[name] = functools.partial(wrapper, http)
    return client


def install(hooks: Any) -> None:
    """Wrap `HttpClient` and `AsyncHttpClient`'s `request` and `stream` at class level."""
    from cohere.core.http_client import AsyncHttpClient, HttpClient

    def settings_of(http: Any) -> Settings | None:
        if http.__dict__.get("_attrlint_settings") is not None:
            return None  # instrument()ed: its own wrappers record it
        view = http.__dict__.get("_attrlint_view")
        if view is None:
            view = http.__dict__["_attrlint_view"] = _ClientView(http)
        return hooks.settings_of(view)  # type: ignore[no-any-return]

    hooks.patch(HttpClient, "request", lambda original: _wrap_request(original, settings_of, False))
    hooks.patch(AsyncHttpClient, "request", lambda original: _wrap_request(original, settings_of, True))
    hooks.patch(HttpClient, "stream", lambda original: _wrap_stream(original, settings_of))
    hooks.patch(AsyncHttpClient, "stream", lambda original: _wrap_stream(original, settings_of))


class _ClientView:
    """An HTTP client seen as the cohere client it belongs to, for `client_settings`: its base URL
    and its key come from the headers it sends."""

    __module__ = "cohere.core.http_client"

    def __init__(self, http: Any) -> None:
        self.__dict__["_http"] = http
        self._client_wrapper = self

    def get_base_url(self) -> Any:
        http = self.__dict__["_http"]
        return http.base_url() if callable(http.base_url) else None

    @property
    def _token(self) -> str | None:
        headers = self.__dict__["_http"].base_headers()
        auth = headers.get("Authorization") if isinstance(headers, Mapping) else None
        return auth[7:] if isinstance(auth, str) and auth.startswith("Bearer ") else None
