"""google-genai (the Gemini API and Vertex AI), through its API client's request methods.

Every model method of `google.genai.Client` and of its `aio` form (`models.generate_content`,
`generate_content_stream`, `embed_content`, `generate_images`, chats, ...) sends through the
client's `BaseApiClient`: `request`, `request_streamed`, `async_request` and
`async_request_streamed`, each given the method, the model's path (`models/gemini-2.5-flash:
generateContent`) and the request body, and returning the raw JSON body. attrlint wraps those
four: on the client's own API client for `instrument(client)` (in place), on the class for
`install()`. Routing is on the path's verb:

* `generateContent`, `streamGenerateContent`: `chat`, priced from `usageMetadata` (prompt,
  cached, candidates and thinking tokens; audio, image and video tokens by modality);
* `embedContent`, `batchEmbedContents`, and `predict` of an embedding model: `embeddings`
  (counted locally and marked estimated where the API reports no usage, as the Gemini API does);
* `predict` of an image model (Imagen): `images`, counted and recorded unpriced.

Vertex AI's `labels` (`config={"labels": {...}}`) are the call's own attribution. The provider
is `google` for the Gemini API and `vertex/REGION` for Vertex AI, from the client's base URL.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from attrlint.runtime.call import Call, begin
from attrlint.runtime.settings import Settings
from attrlint.runtime.streams import end_of_stream, observe_async_iterator, observe_iterator
from attrlint.runtime.usage import NO_TOKENS, Tokens

log = logging.getLogger("attrlint.runtime")

METHODS = ("request", "request_streamed", "async_request", "async_request_streamed")
_VERBS = {"generateContent": "chat", "streamGenerateContent": "chat", "embedContent": "embeddings",
          "batchEmbedContents": "embeddings", "predict": "predict"}
_MODALITY = {"AUDIO": "audio", "IMAGE": "image", "VIDEO": "video", "DOCUMENT": "image"}  # genai-prices' grouping


def api_client_of(client: Any) -> Any:
    return getattr(client, "_api_client", client)


# -- registration ---------------------------------------------------------------------------------

def instrument(client: Any, settings: Settings) -> Any:
    """Record this client's calls (and its `aio` form's, which shares the API client) with
    `settings`, in place; instrumenting it again replaces the settings."""
    api = api_client_of(client)
    api.__dict__["_attrlint_settings"] = settings
    for name in METHODS:
        original = getattr(type(api), name)
        api.__dict__[name] = functools.partial(_wrapped(name, original, lambda _api: settings), api)
    return client


def install(hooks: Any) -> None:
    """Wrap `BaseApiClient`'s four request methods at class level."""
    from google.genai._api_client import BaseApiClient

    def settings_of(api: Any) -> Settings | None:
        if api.__dict__.get("_attrlint_settings") is not None:
            return None  # instrument()ed: its own wrappers record it
        return hooks.settings_of(api)  # type: ignore[no-any-return]

    for name in METHODS:
        hooks.patch(BaseApiClient, name, lambda original, name=name: _wrapped(name, original, settings_of))


def _wrapped(name: str, original: Any, settings_of: Callable[[Any], Settings | None]) -> Any:
    streamed = name.endswith("streamed")
    if name.startswith("async"):
        async def async_method(self: Any, http_method: str, path: str, request_dict: dict[str, Any],
                               *args: Any, **kwargs: Any) -> Any:
            call = _prepare(self, settings_of, http_method, path, request_dict)
            if call is None:
                return await original(self, http_method, path, request_dict, *args, **kwargs)
            try:
                result = await original(self, http_method, path, request_dict, *args, **kwargs)
            except BaseException as exc:
                call.failed(exc)
                raise
            if streamed:
                state = _Stream(call)
                return observe_async_iterator(result, state.see, state.end)
            _finish(call, result)
            return result

        return async_method

    def method(self: Any, http_method: str, path: str, request_dict: dict[str, Any], *args: Any,
               **kwargs: Any) -> Any:
        call = _prepare(self, settings_of, http_method, path, request_dict)
        if call is None:
            return original(self, http_method, path, request_dict, *args, **kwargs)
        if streamed:
            return _stream(call, original(self, http_method, path, request_dict, *args, **kwargs))
        try:
            result = original(self, http_method, path, request_dict, *args, **kwargs)
        except BaseException as exc:
            call.failed(exc)
            raise
        _finish(call, result)
        return result

    return method


def _stream(call: Call, chunks: Any) -> Any:
    """`request_streamed` is a generator: the request goes out when the caller starts reading it."""
    state = _Stream(call)
    return observe_iterator(chunks, state.see, state.end)


# -- one call ---------------------------------------------------------------------------------------

def route(path: str, vertexai: bool) -> tuple[str, str] | None:
    """(operation, model) for a model call's path; None for anything else (countTokens, files...)."""
    target, _, verb = path.partition("?")[0].rpartition(":")
    operation = _VERBS.get(verb)
    if operation is None or not target:
        return None
    model = target.rsplit("/models/", 1)[-1] if "/models/" in target else target.removeprefix("models/")
    if operation == "predict":
        operation = "images" if model.startswith("imagen") else "embeddings"
    return operation, model


def _prepare(api: Any, settings_of: Callable[[Any], Settings | None], http_method: str, path: str,
             request_dict: Any) -> Call | None:
    if http_method.lower() != "post" or ":" not in path:
        return None
    found = route(path, bool(getattr(api, "vertexai", False)))
    if found is None:
        return None
    settings = settings_of(api)
    if settings is None:
        return None
    operation, model = found
    body: dict[str, Any] = {"model": model}
    if isinstance(request_dict, Mapping):
        for key in ("contents", "requests", "instances"):
            if key in request_dict:
                body["contents" if key != "instances" else "input"] = request_dict[key]
        system = request_dict.get("systemInstruction") or request_dict.get("system_instruction")
        if system:
            body["system"] = system
        labels = request_dict.get("labels")
    else:
        labels = None
    return begin(settings, operation, body, call_metadata=labels if isinstance(labels, Mapping) else {})


def _finish(call: Call, response: Any) -> None:
    try:
        text = getattr(response, "body", None) or ""
        data = json.loads(text) if text else {}
        _record(call, data, getattr(response, "headers", None))
    except Exception:  # recording must never change what the caller gets
        log.warning("attrlint: could not record a google-genai %s call", call.operation, exc_info=True)


def _request_id(data: Mapping[str, Any], headers: Any) -> str | None:
    rid = data.get("responseId")
    if rid:
        return str(rid)
    if isinstance(headers, Mapping):
        return headers.get("x-request-id") or headers.get("X-Request-Id")
    return None


def _record(call: Call, data: Mapping[str, Any], headers: Any) -> None:
    model = data.get("modelVersion") or call.body.get("model")
    request_id = _request_id(data, headers)
    if call.operation == "chat":
        tokens, extra = usage_tokens(data.get("usageMetadata"))
        call.record(status="ok" if any(tokens) else "incomplete", model=model, request_id=request_id, tokens=tokens,
                    extra=extra)
        return
    if call.operation == "images":
        images = sum(1 for p in data.get("predictions") or () if isinstance(p, Mapping) and
                     (p.get("bytesBase64Encoded") or p.get("gcsUri")))
        call.record(status="ok", model=model, request_id=request_id, extra={"images": images} if images else None,
                    cost=None)
        return
    tokens, extra = usage_tokens(data.get("usageMetadata"))
    if not any(tokens):  # Vertex's per-instance statistics, else a local count
        counted = sum(int(((p.get("embeddings") or {}).get("statistics") or {}).get("token_count") or 0)
                      for p in data.get("predictions") or () if isinstance(p, Mapping))
        tokens = (counted, 0, 0, 0, 0)
    if any(tokens):
        call.record(status="ok", model=model, request_id=request_id, tokens=tokens, extra=extra)
        return
    from attrlint.runtime.estimate import content_tokens

    estimate = content_tokens(str(model or ""), call.body.get("contents") or call.body.get("input"))
    call.record(status="ok", model=model, request_id=request_id, tokens=(estimate, 0, 0, 0, 0),
                estimated=bool(estimate))


# -- usage ------------------------------------------------------------------------------------------

def usage_tokens(meta: Any) -> tuple[Tokens, dict[str, int] | None]:
    """The ledger's token counts from `usageMetadata`, as genai-prices reads it: the prompt with
    the tool-use prompt, cached content as cache reads, candidates and thinking as output (thinking
    as reasoning too); audio, image and video tokens by modality where the prompt has any."""
    if not isinstance(meta, Mapping):
        return NO_TOKENS, None
    prompt = int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0)
    cached = int(meta.get("cachedContentTokenCount") or 0)
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    out = int(meta.get("candidatesTokenCount") or 0) + thoughts
    extra = _modalities(meta)
    return (prompt, cached, 0, out, thoughts), extra


def _modalities(meta: Mapping[str, Any]) -> dict[str, int] | None:
    """Token counts by modality, only when some are not text (text-only usage prices as plain tokens)."""
    groups = (("promptTokensDetails", "input"), ("toolUsePromptTokensDetails", "input"),
              ("cacheTokensDetails", "cache"), ("candidatesTokensDetails", "output"))
    if not any(isinstance(d, Mapping) and d.get("modality") not in (None, "TEXT")
               for key, _ in groups for d in meta.get(key) or ()):
        return None
    extra: dict[str, int] = {}
    for key, side in groups:
        for detail in meta.get(key) or ():
            if not isinstance(detail, Mapping):
                continue
            kind = _MODALITY.get(str(detail.get("modality")), "text")
            name = f"cache_{kind}_read_tokens" if side == "cache" else f"{side}_{kind}_tokens"
            extra[name] = extra.get(name, 0) + int(detail.get("tokenCount") or 0)
    return {k: v for k, v in extra.items() if v} or None


class _Stream:
    """A `streamGenerateContent` stream: each chunk carries the usage so far; the last, the total."""

    __slots__ = ("call", "extra", "model", "request_id", "seen", "text", "tokens")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.seen = False
        self.tokens: Tokens = NO_TOKENS
        self.extra: dict[str, int] | None = None
        self.model: Any = None
        self.request_id: str | None = None
        self.text: list[str] = []

    def see(self, chunk: Any) -> None:
        self.seen = True
        body = getattr(chunk, "body", None)
        if not body:
            return
        data = json.loads(body)
        if not isinstance(data, Mapping):
            return
        self.model = data.get("modelVersion") or self.model
        self.request_id = self.request_id or _request_id(data, getattr(chunk, "headers", None))
        if "usageMetadata" in data:
            self.tokens, self.extra = usage_tokens(data["usageMetadata"])
        for candidate in data.get("candidates") or ():
            for part in ((candidate or {}).get("content") or {}).get("parts") or ():
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    self.text.append(part["text"])

    def end(self, status: str, exc: BaseException | None) -> None:
        call = self.call
        if call.done:
            return
        if exc is not None and not self.seen:  # the request failed: no response, nothing billed
            call.failed(exc)
            return
        tokens, text = self.tokens, "".join(self.text)
        if status != "ok" and any(tokens) and not tokens[3] and text:
            from attrlint.runtime.estimate import count_text

            # the prompt as reported, the output counted locally from what was received
            model = self.model or call.body.get("model")
            tokens = (*tokens[:3], count_text(str(model or ""), text), 0)
            call.record(status=status, model=model, request_id=self.request_id, tokens=tokens, extra=self.extra,
                        estimated=True)
            return
        end_of_stream(call, status, model=self.model, request_id=self.request_id, tokens=tokens, text=text,
                      extra=self.extra)
