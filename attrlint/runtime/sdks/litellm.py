"""litellm, through its callback API: a `CustomLogger` in `litellm.callbacks`.

litellm reaches most providers over its own HTTP clients (Anthropic, Gemini, Vertex AI, Bedrock,
Mistral, Cohere, Groq, ...), and some through the openai SDK (OpenAI, Azure, OpenAI-compatible
servers). attrlint's logger covers them all, for every litellm function (`completion`,
`embedding`, `responses`, `text_completion`, `image_generation`, `transcription`, `speech`,
`rerank` and their async forms) and a `Router`'s methods:

* `log_pre_api_call` (on the caller's thread, just before the provider request) decides the
  call's attribution: the enclosing `attribution(...)` and litellm's `metadata=`. It opens a
  scope (attrlint.runtime.context) carrying those fields for the request underneath;
* a request litellm then makes through the openai SDK, which attrlint hooks too, is recorded
  there (with the exact usage, request id and streaming behaviour of that SDK) and takes litellm's
  `metadata=` from the scope; it marks the scope claimed, so the call is recorded once;
* otherwise `log_success_event` / `async_log_success_event` records it from litellm's response
  (usage normalised by litellm to OpenAI's shape), and `log_failure_event` records a failure at no
  cost. A streamed call is recorded when litellm assembles the complete response.

The provider is where the request went (litellm's `api_base`). litellm catches every exception a
callback raises, so `strict` cannot stop a litellm call before it is sent: a call lacking fields is
recorded `unattributed` (and logged), except one litellm sends through the openai SDK, which the
openai hook rejects. A cache hit makes no provider request and is not recorded.

`install()` adds the logger; `instrument(router)` adds it too and records that Router's calls
with its own settings (agent, ledger, strictness).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import logging
import sys
import threading
import weakref
from collections.abc import Mapping
from typing import Any, NamedTuple

from attrlint.runtime import context
from attrlint.runtime.call import Call, begin
from attrlint.runtime.settings import AttributionError, Settings, settings_for
from attrlint.runtime.usage import get, service_tier_of, usage_of

log = logging.getLogger("attrlint.runtime")

# litellm's call types -> the ledger operation
OPERATIONS = {"completion": "chat", "text_completion": "completions", "embedding": "embeddings",
              "responses": "responses", "image_generation": "images", "image_edit": "images",
              "transcription": "audio", "speech": "audio", "rerank": "rerank"}
# litellm's provider name -> the ledger's provider label, for a call whose api_base litellm did not say
PROVIDERS = {"openai": "openai", "azure": "azure", "anthropic": "anthropic", "gemini": "google",
             "vertex_ai": "vertex/global", "vertex_ai_beta": "vertex/global", "bedrock": "bedrock",
             "mistral": "mistral", "cohere": "cohere", "cohere_chat": "cohere", "groq": "groq",
             "deepseek": "deepseek", "openrouter": "openrouter", "xai": "xai", "together_ai": "together",
             "fireworks_ai": "fireworks", "perplexity": "perplexity", "ollama": "self-hosted",
             "ollama_chat": "self-hosted", "hosted_vllm": "self-hosted", "lm_studio": "self-hosted"}
# The Router methods the linter's catalogue lists: each records with the Router's settings.
ROUTER_METHODS = ("completion", "acompletion", "embedding", "aembedding", "responses", "aresponses",
                  "text_completion", "atext_completion", "image_generation", "aimage_generation",
                  "transcription", "atranscription", "speech", "aspeech", "rerank", "arerank")


class _Options(NamedTuple):
    """An instrumented Router's settings, for the calls it makes."""

    agent_id: str | None
    ledger: Any
    strict: bool | None
    environment: str | None
    config: Any


class _Pending(NamedTuple):
    call: Call
    scope: context.Scope
    token: Any


_router: contextvars.ContextVar[_Options | None] = contextvars.ContextVar("attrlint_litellm_router", default=None)
_pending: dict[str, _Pending] = {}
_PENDING_LIMIT = 10_000
_pending_lock = threading.Lock()
_state: dict[str, Any] = {"logger": None, "hooks": None}
_routers: weakref.WeakSet[Any] = weakref.WeakSet()
_settings_cache: dict[tuple[Any, ...], Settings] = {}


# -- settings -------------------------------------------------------------------------------------

def _provider(kwargs: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(where the request goes, the provider label when the URL cannot say)."""
    params = kwargs.get("litellm_params") or {}
    base = (kwargs.get("additional_args") or {}).get("api_base") or params.get("api_base")
    name = kwargs.get("custom_llm_provider") or params.get("custom_llm_provider")
    if base:
        return base, None
    return None, PROVIDERS.get(str(name), str(name) if name else None)


def _settings(kwargs: Mapping[str, Any]) -> Settings | None:
    base, provider = _provider(kwargs)
    api_key = kwargs.get("api_key")
    api_key = api_key if isinstance(api_key, str) else None
    options = _router.get()
    if options is None:
        hooks = _state["hooks"]
        if hooks is None or not hooks.active():
            return None
        return hooks.settings_for("litellm", base, api_key, provider)  # type: ignore[no-any-return]
    from attrlint.runtime.settings import key_fingerprint

    key = (id(options), str(base) if base else None, key_fingerprint(api_key), provider)
    settings = _settings_cache.get(key)
    if settings is None:
        if len(_settings_cache) > 1024:
            _settings_cache.clear()
        settings = _settings_cache[key] = settings_for(
            "litellm", base, api_key, agent_id=options.agent_id, ledger=options.ledger, strict=options.strict,
            environment=options.environment, config=options.config, provider=provider)
    return settings


# -- the logger's work ----------------------------------------------------------------------------

def operation_of(kwargs: Mapping[str, Any]) -> str | None:
    call_type = str(kwargs.get("call_type") or "")
    return OPERATIONS.get(call_type[1:] if call_type.startswith("a") and call_type[1:] in OPERATIONS else call_type)


def before(kwargs: dict[str, Any]) -> None:
    """Just before litellm sends the provider request, on the caller's thread."""
    call_id = kwargs.get("litellm_call_id")
    operation = operation_of(kwargs)
    if not call_id or operation is None:
        return
    settings = _settings(kwargs)
    if settings is None:
        return
    metadata = (kwargs.get("litellm_params") or {}).get("metadata")
    canonical = settings.canonical  # type: ignore[attr-defined]
    fields = {k: v for k, v in metadata.items() if isinstance(k, str) and canonical(k)} \
        if isinstance(metadata, Mapping) else {}
    options = _router.get()
    body = {"model": kwargs.get("model"), "messages": kwargs.get("messages"), "input": kwargs.get("input")}
    try:
        call = begin(settings, operation, body, call_metadata=fields)
    except AttributionError as exc:  # litellm swallows a callback's exceptions: say so, record it unattributed
        log.warning("%s (litellm cannot be stopped by a callback: recorded unattributed)", exc)
        call = Call(dataclasses.replace(settings, strict=False), operation, body, call_metadata=fields)
    if call is None:
        return
    scope, token = context.enter_scope(fields)
    if options is not None:  # an SDK hook underneath records the Router's call with the Router's settings
        scope.overrides = {"agent_id": settings.agent_id, "ledger_fn": settings.ledger_fn, "strict": settings.strict}
        if options.environment:
            scope.overrides["environment"] = options.environment
    with _pending_lock:
        old = _pending.pop(str(call_id), None)
        _pending[str(call_id)] = _Pending(call, scope, token)
        while len(_pending) > _PENDING_LIMIT:  # calls litellm never ended (a stream dropped unread)
            context.exit_scope(_pending.pop(next(iter(_pending))).scope, None)
    if old is not None:
        context.exit_scope(old.scope, None)


def sent(kwargs: Mapping[str, Any]) -> None:
    """litellm's post-call step: the scope leaves this context, so later requests made here are
    not taken for this call's. It stays live until the call's success or failure event, for a
    request litellm makes from elsewhere (an async call prepared in a worker thread posts before
    the event loop sends it), which `enclosing_scope` finds on the stack."""
    entry = _pending.get(str(kwargs.get("litellm_call_id")))
    if entry is not None:
        context.reset_scope(entry.token)


def _finish(kwargs: Mapping[str, Any], record: Any) -> None:
    """Hand the call to `record(entry)` unless an SDK hook recorded it, then forget it (only
    then: what waits for the logger to settle sees the row queued)."""
    call_id = str(kwargs.get("litellm_call_id"))
    entry = _pending.get(call_id)
    if entry is None:
        return  # not ours
    entry.scope.live = False
    try:
        if not entry.scope.claimed:  # else recorded by the SDK hook underneath, with this call's attribution
            record(entry)
    except Exception:  # recording must never change what the caller gets
        log.warning("attrlint: could not record a litellm %s call", entry.call.operation, exc_info=True)
    finally:
        with _pending_lock:
            if _pending.get(call_id) is entry:
                del _pending[call_id]


def succeeded(kwargs: Mapping[str, Any], response: Any) -> None:
    if kwargs.get("cache_hit"):  # answered from litellm's cache: no provider request
        _finish(kwargs, lambda entry: None)
    else:
        _finish(kwargs, lambda entry: _record(entry.call, kwargs, response))


def failed(kwargs: Mapping[str, Any]) -> None:
    exc = kwargs.get("exception")
    error = exc if isinstance(exc, BaseException) else RuntimeError(str(exc))
    _finish(kwargs, lambda entry: entry.call.failed(error))


def _record(call: Call, kwargs: Mapping[str, Any], response: Any) -> None:
    complete = kwargs.get("complete_streaming_response")
    if complete is not None:
        response = complete
    operation = call.operation
    model = get(response, "model") or call.body.get("model")
    request_id = _provider_request_id(response) or get(response, "id")
    usage = get(response, "usage")
    if operation == "rerank":
        units = get(get(get(response, "meta"), "billed_units"), "search_units")
        call.record(status="ok", model=model, request_id=request_id,
                    extra={"rerank_searches": int(units)} if units else _UNREPORTED)
        return
    if operation == "images" and not (get(usage, "input_tokens") or get(usage, "prompt_tokens")):
        # no token usage (DALL-E): counted and recorded unpriced, never at $0
        call.record(status="ok", model=model, request_id=request_id,
                    extra={"images": len(get(response, "data") or ())})
        return
    if operation == "audio":
        _record_audio(call, model, request_id, usage)
        return
    # litellm answers in OpenAI's shapes: chat's usage (prompt_tokens), or the Responses API's
    # (input_tokens) when the provider has one; a Responses call it bridged to chat has chat's.
    responses_shape = not get(usage, "prompt_tokens") and bool(get(usage, "input_tokens"))
    kind = ("images" if operation == "images" else "responses") if responses_shape else "chat"
    tokens, extra = usage_of(kind, usage)
    write = int(get(usage, "cache_creation_input_tokens") or 0)
    if write and not tokens[2] and not responses_shape:  # litellm's Anthropic usage: writes outside the details
        tokens = (tokens[0], tokens[1], write, tokens[3], tokens[4])
    if not any(tokens) and not extra:
        extra = _UNREPORTED  # no usage at all: recorded unpriced, never at $0
    call.record(status="ok", model=model, request_id=request_id, tokens=tokens,
                service_tier=service_tier_of(response, usage), extra=extra)


_UNREPORTED = {"usage_unreported": 1}  # not a usage kind genai-prices prices: the row stays unpriced


def _record_audio(call: Call, model: Any, request_id: str | None, usage: Any) -> None:
    """Transcriptions report seconds or tokens; speech reports nothing: tts-1 bills the input's
    characters, other speech models tokens, counted here from the input text."""
    if usage is not None:
        tokens, extra = usage_of("audio", usage)
        if any(tokens) or extra:
            call.record(status="ok", model=model, request_id=request_id, tokens=tokens, extra=extra)
            return
    text = call.body.get("input")
    if isinstance(text, str) and text:
        if str(model).startswith("tts-"):
            call.record(status="ok", model=model, request_id=request_id, extra={"input_characters": len(text)})
        else:
            from attrlint.runtime.estimate import count_text

            call.record(status="ok", model=model, request_id=request_id,
                        tokens=(count_text(str(model), text), 0, 0, 0, 0), estimated=True)
        return
    call.record(status="ok", model=model, request_id=request_id, extra=_UNREPORTED)


def _provider_request_id(response: Any) -> str | None:
    """The provider's own request id, which litellm keeps among the response headers it passes on."""
    hidden = getattr(response, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, Mapping) else None
    if not isinstance(headers, Mapping):
        return None
    for name in ("llm_provider-request-id", "llm_provider-x-request-id", "llm_provider-x-amzn-requestid"):
        if headers.get(name):
            return str(headers[name])
    return None


# -- the CustomLogger ---------------------------------------------------------------------------------

def logger() -> Any:
    """attrlint's `CustomLogger` (one per process)."""
    existing = _state["logger"]
    if existing is not None:
        return existing
    from litellm.integrations.custom_logger import CustomLogger

    class AttrlintLogger(CustomLogger):  # type: ignore[misc]
        """Records each litellm call on attrlint's ledger (attrlint.runtime.sdks.litellm)."""

        def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
            _safely(before, kwargs)

        def log_post_api_call(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
            _safely(sent, kwargs)

        def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
            succeeded(kwargs, response_obj)

        async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                          end_time: Any) -> None:
            succeeded(kwargs, response_obj)

        def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
            _safely(failed, kwargs)

        async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                          end_time: Any) -> None:
            _safely(failed, kwargs)

    _state["logger"] = AttrlintLogger()
    return _state["logger"]


def _safely(function: Any, kwargs: Any) -> None:
    try:
        function(kwargs)
    except Exception:
        log.warning("attrlint: litellm callback failed", exc_info=True)


def _add_logger() -> None:
    import litellm

    handler = logger()
    if handler not in litellm.callbacks:
        litellm.callbacks.append(handler)
    if enclosing_scope not in context.FINDERS:
        context.FINDERS.append(enclosing_scope)


def _remove_logger() -> None:
    import sys

    litellm = sys.modules.get("litellm")
    handler = _state["logger"]
    if litellm is None or handler is None or _routers:
        return
    for name in ("callbacks", "input_callback", "success_callback", "failure_callback", "_async_success_callback",
                 "_async_failure_callback", "_async_input_callback"):
        registered = getattr(litellm, name, None)
        if isinstance(registered, list):
            while handler in registered:
                registered.remove(handler)


# -- registration ---------------------------------------------------------------------------------

def enclosing_scope() -> context.Scope | None:
    """The litellm call a request is made inside, found on the call stack: litellm decides some
    async calls in a worker thread (where the scope was opened) and sends them from the event
    loop. Its provider handlers hold the call's `logging_obj`. Only looked for while a litellm
    call is pending."""
    if not _pending:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if isinstance(name, str) and name.startswith("litellm."):
            holder = frame.f_locals.get("logging_obj") or frame.f_locals.get("litellm_logging_obj")
            call_id = getattr(holder, "litellm_call_id", None)
            if call_id is not None:
                entry = _pending.get(str(call_id))
                return entry.scope if entry is not None else None
        frame = frame.f_back
    return None


def install(hooks: Any) -> None:
    """Add attrlint's logger to `litellm.callbacks`; `uninstall()` takes it out again."""
    _state["hooks"] = hooks
    _add_logger()
    hooks.on_uninstall(_uninstalled)


def _uninstalled() -> None:
    _state["hooks"] = None
    _remove_logger()


def instrument_router(router: Any, *, agent_id: str | None, ledger: Any = None, strict: bool | None = None,
                      environment: str | None = None) -> Any:
    """Record a `litellm.Router`'s calls with these settings, in place; instrumenting it again
    replaces them."""
    from attrlint.core.config import config_from_env_or_cwd

    options = _Options(agent_id, ledger, strict, environment, config_from_env_or_cwd())
    _add_logger()
    _routers.add(router)
    previous = router.__dict__.get("_attrlint_methods", {})
    methods = {}
    for name in ROUTER_METHODS:
        bound = previous.get(name) or getattr(router, name, None)  # the Router serves some by name
        if bound is None:
            continue
        methods[name] = bound
        setattr(router, name, _router_method(bound, options))
    router.__dict__["_attrlint_methods"] = methods
    router.__dict__["_attrlint_settings"] = options
    return router


def _router_method(bound: Any, options: _Options) -> Any:
    """The Router's method, run with its settings in effect (an async one while it is awaited)."""
    @functools.wraps(bound)
    def method(*args: Any, **kwargs: Any) -> Any:
        token = _router.set(options)
        try:
            result = bound(*args, **kwargs)
        finally:
            _router.reset(token)
        if not inspect.isawaitable(result):
            return result

        async def awaited() -> Any:
            inner = _router.set(options)
            try:
                return await result
            finally:
                _router.reset(inner)

        return awaited()

    return method
