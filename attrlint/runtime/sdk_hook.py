"""`install()`: record every model call in the process, whoever made the client.

Frameworks (openai-agents, pydantic-ai, LangChain, crewai, dspy, ...) build their own SDK
clients, so there is no client to hand to `instrument()`. `install()` instead hooks each SDK
where every one of its requests passes, through the SDK's own extension point where it has one:

* openai and anthropic: their base `request` method at class level (`SyncAPIClient.request`
  and `AsyncAPIClient.request` of each SDK). Every resource method of both SDKs (`create`,
  `parse`, `stream`, `with_raw_response`, `with_streaming_response`) reaches the network through
  it, and it is looked up on the class at call time, so clients created before `install()` are
  covered as well as those created after;
* boto3 `bedrock-runtime` clients: botocore's event handlers, registered on each client at its
  first call (attrlint.runtime.sdks.bedrock);
* google-genai: its client's request methods (attrlint.runtime.sdks.genai);
* mistralai: its SDK hooks, registered on each client at its first request (sdks.mistral);
* cohere: its HTTP client's `request` and `stream` (sdks.cohere);
* litellm: a `CustomLogger` in `litellm.callbacks`, for every provider litellm reaches over its
  own HTTP clients; a call it makes through the openai SDK is recorded there instead, once,
  with litellm's `metadata=` (sdks.litellm);
* LangChain, openai-agents and pydantic-ai: the attribution their runs carry
  (`config["metadata"]`, `RunConfig(trace_metadata=...)`, an agent's `metadata`) reaches the SDK
  hook underneath (sdks.langchain, sdks.agents, sdks.pydantic_ai).

An SDK that is not imported yet is hooked when the program imports it (attrlint.runtime.imports):
`install()` itself imports none of them.

The hooks reuse `call.Call`, the same attribution and recording `instrument()` uses. A
client made by `instrument()` records its own calls, so the hooks let them through untouched and
each call is recorded once. Each client's settings (key fingerprint, key variable name, registry
agent) are worked out on its first covered call and kept on the instance.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import logging
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from attrlint.runtime import imports
from attrlint.runtime.settings import Settings, client_settings, key_fingerprint, settings_for

log = logging.getLogger("attrlint.runtime")

# (sdk module, class, method): every request of the SDK goes through these.
TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("openai", "openai._base_client", "SyncAPIClient", "request"),
    ("openai", "openai._base_client", "AsyncAPIClient", "request"),
    ("anthropic", "anthropic._base_client", "SyncAPIClient", "request"),
    ("anthropic", "anthropic._base_client", "AsyncAPIClient", "request"),
)
# (module whose import makes the SDK hookable, the attrlint module that hooks it)
INTEGRATIONS: tuple[tuple[str, str], ...] = (
    ("botocore.client", "attrlint.runtime.sdks.bedrock"),
    ("google.genai._api_client", "attrlint.runtime.sdks.genai"),
    ("mistralai.client.basesdk", "attrlint.runtime.sdks.mistral"),
    ("cohere.core.http_client", "attrlint.runtime.sdks.cohere"),
    ("litellm", "attrlint.runtime.sdks.litellm"),
    ("langchain_core.callbacks.manager", "attrlint.runtime.sdks.langchain"),
    ("agents.run", "attrlint.runtime.sdks.agents"),
    ("pydantic_ai.agent", "attrlint.runtime.sdks.pydantic_ai"),
)
_CACHE_ATTR = "_attrlint_auto"


@dataclass(frozen=True)
class Installed:
    """What `install()` did: the methods it wraps, those it could not (with the reason), and the
    SDK modules it hooks when the program imports them."""

    patched: tuple[str, ...]
    unpatched: tuple[tuple[str, str], ...]
    waiting: tuple[str, ...] = ()


@dataclass
class _Options:
    ledger: Any
    strict: bool | None
    agent_id: str | None
    generation: int
    config: Any = None  # read on the first covered call, then shared by every client


_lock = threading.RLock()
_originals: dict[tuple[type, str], Any] = {}
_watching: list[tuple[str, Any]] = []  # the import hooks install() waits on
_undo: list[Any] = []  # what uninstall() calls to take out the other hooks (litellm's logger, ...)
_state: dict[str, Any] = {"options": None, "report": None, "generation": 0, "patched": []}


def install(*, ledger: Any = None, strict: bool | None = None, agent_id: str | None = None) -> Installed:
    """Record every chat, responses, embeddings and messages call of every `openai`/`anthropic`
    client in this process (sync, async, streaming, raw responses), under the current
    `attribution(...)` fields. `agent_id` is the fallback agent for calls that name none (after
    that, the key registry's agent for the client's key). The configuration (`ATTRLINT_CONFIG`,
    else the nearest pyproject.toml) is read once, on the first covered call. Calling
    `install()` again changes these options, re-reads the configuration and patches nothing
    twice. SDKs that are not installed are skipped; methods that are
    missing or have an unexpected shape are reported once, with a `RuntimeWarning`."""
    with _lock:
        _state["generation"] += 1
        _state["options"] = _Options(ledger, strict, agent_id, _state["generation"])
        if _state["report"] is not None:
            return _state["report"]  # type: ignore[no-any-return]
        patched: list[str] = []
        unpatched: list[tuple[str, str]] = []
        for sdk, module_name, class_name, method in TARGETS:
            name = f"{module_name}.{class_name}.{method}"
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                try:
                    importlib.import_module(sdk)
                except ImportError:
                    continue  # the SDK is not installed: nothing to patch
                unpatched.append((name, f"{sdk} has no module {module_name}"))
                continue
            cls = getattr(module, class_name, None)
            original = cls.__dict__.get(method) if isinstance(cls, type) else None
            reason = _unsupported(original)
            if reason:
                unpatched.append((name, reason))
                continue
            assert cls is not None
            family = sdk
            wrapper = _async_wrapper(original, family) if inspect.iscoroutinefunction(original) \
                else _sync_wrapper(original, family)
            _originals[(cls, method)] = original
            setattr(cls, method, wrapper)
            patched.append(name)
        _state["patched"] = patched
        for module_name, integration in INTEGRATIONS:
            if module_name in sys.modules or importlib.util.find_spec(module_name.partition(".")[0]) is not None:
                hook = functools.partial(_hook_integration, integration)
                _watching.append((module_name, hook))
                imports.when_imported(module_name, hook)
        report = Installed(tuple(patched), tuple(unpatched), _waiting())
        _state["report"] = report
    if unpatched:
        detail = "; ".join(f"{name} ({why})" for name, why in unpatched)
        message = f"attrlint.install: calls through these methods are not recorded: {detail}"
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        log.warning(message)
    return report


def uninstall() -> None:
    """Put the SDK methods back as they were. Clients made by `instrument()` keep recording."""
    with _lock:
        for (cls, method), original in _originals.items():
            setattr(cls, method, original)
        _originals.clear()
        for module_name, hook in _watching:
            imports.cancel(module_name, hook)
        _watching.clear()
        for undo in _undo:
            try:
                undo()
            except Exception:  # put back what can be
                log.warning("attrlint: could not undo a hook", exc_info=True)
        _undo.clear()
        _call_cache.clear()
        _state["patched"] = []
        _state["options"] = None
        _state["report"] = None


def installed() -> Installed | None:
    """What the active `install()` has patched so far (SDKs imported since included), or None."""
    report = _state["report"]
    if report is None:
        return None
    return Installed(tuple(_state["patched"]), report.unpatched, _waiting())


def _waiting() -> tuple[str, ...]:
    watched = {name for name, _ in INTEGRATIONS}
    return tuple(name for name in imports.waiting() if name in watched)


def _unsupported(original: Any) -> str | None:
    if original is None:
        return "not found"
    if not callable(original):
        return "not a method"
    if getattr(original, "__attrlint_wrapped__", False):
        return "already wrapped by another attrlint"
    try:
        params = list(inspect.signature(original).parameters)
    except (TypeError, ValueError):
        return "signature unreadable"
    if params[:3] != ["self", "cast_to", "options"]:
        return f"unexpected signature ({', '.join(params[:4])}, ...)"
    return None


# -- the other SDKs -------------------------------------------------------------------------------

class Hooks:
    """What an SDK's integration module gets from `install()`: the settings to record a client's
    calls with, the settings for a call that has no client (litellm's), and class-level patching
    that `uninstall()` undoes."""

    @staticmethod
    def settings_of(client: Any) -> Settings | None:
        return _client_settings(client)

    @staticmethod
    def settings_for(family: str, base_url: Any, api_key: str | None, provider: str | None = None) -> Settings | None:
        options = _state["options"]
        if options is None:
            return None
        try:
            return _call_settings(options, family, base_url, api_key, provider)
        except Exception:  # never break the SDK: the call goes through unrecorded
            log.warning("attrlint: cannot record a %s call", family, exc_info=True)
            return None

    @staticmethod
    def patch(owner: type, name: str, make_wrapper: Any) -> str:
        """Replace `owner.name` by `make_wrapper(original)`; `uninstall()` puts the original back."""
        cls = owner
        original = cls.__dict__[name]
        if getattr(original, "__attrlint_wrapped__", False):
            return f"{cls.__module__}.{cls.__qualname__}.{name}"
        wrapper = make_wrapper(original)
        wrapper.__attrlint_wrapped__ = True
        qualified = f"{cls.__module__}.{cls.__qualname__}.{name}"
        with _lock:
            _originals[(cls, name)] = original
            setattr(cls, name, wrapper)
            _state.setdefault("patched", []).append(qualified)
        return qualified

    @staticmethod
    def on_uninstall(undo: Any) -> None:
        with _lock:
            _undo.append(undo)

    @staticmethod
    def active() -> bool:
        return _state["options"] is not None


def _hook_integration(integration: str, module: Any) -> None:
    if _state["options"] is None:
        return  # uninstalled meanwhile
    hooked = importlib.import_module(integration)
    hooked.install(Hooks)


_call_cache: dict[tuple[Any, ...], Settings] = {}


def _call_settings(options: _Options, family: str, base_url: Any, api_key: str | None,
                   provider: str | None) -> Settings:
    key = (options.generation, family, str(base_url) if base_url else None, key_fingerprint(api_key), provider)
    cached = _call_cache.get(key)
    if cached is not None:
        return cached
    if options.config is None:
        from attrlint.core.config import config_from_env_or_cwd

        options.config = config_from_env_or_cwd()
    settings = settings_for(family, base_url, api_key, agent_id=options.agent_id, ledger=options.ledger,
                            strict=options.strict, config=options.config, provider=provider)
    if len(_call_cache) > 1024:
        _call_cache.clear()
    _call_cache[key] = settings
    return settings


# -- the hook -------------------------------------------------------------------------------------

def _client_settings(client: Any) -> Settings | None:
    """The settings to record this client's calls with; None when attrlint leaves it alone
    (not installed, or an instrument()ed client that records itself)."""
    options = _state["options"]
    if options is None or client.__dict__.get("_attrlint_settings") is not None:
        return None
    try:
        return _settings(client, options)
    except Exception:  # never break the SDK: an unrecognised client goes through unrecorded
        log.warning("attrlint: cannot record calls of %s", type(client).__qualname__, exc_info=True)
        return None


def _settings(client: Any, options: _Options) -> Settings:
    cached = client.__dict__.get(_CACHE_ATTR)
    # (read from the instance: a botocore client's __getattr__ would emit an event for it)
    api_key = client.__dict__.get("api_key")
    if cached is not None and cached[0] == options.generation and cached[1] == api_key:
        return cached[2]  # type: ignore[no-any-return]
    if options.config is None:
        from attrlint.core.config import config_from_env_or_cwd

        options.config = config_from_env_or_cwd()
    settings = client_settings(client, agent_id=options.agent_id, ledger=options.ledger, strict=options.strict,
                               config=options.config)
    client.__dict__[_CACHE_ATTR] = (options.generation, api_key, settings)
    return settings


def _sync_wrapper(original: Any, family: str) -> Any:
    from attrlint.runtime.sdks.stainless import hooked_request

    @functools.wraps(original)
    def request(*args: Any, **kwargs: Any) -> Any:
        settings = _client_settings(args[0])
        if settings is None:
            return original(*args, **kwargs)
        return hooked_request(settings, family, original, args, kwargs)

    request.__attrlint_wrapped__ = True  # type: ignore[attr-defined]
    return request


def _async_wrapper(original: Any, family: str) -> Any:
    from attrlint.runtime.sdks.stainless import hooked_request_async

    @functools.wraps(original)
    async def request(*args: Any, **kwargs: Any) -> Any:
        settings = _client_settings(args[0])
        if settings is None:
            return await original(*args, **kwargs)
        return await hooked_request_async(settings, family, original, args, kwargs)

    request.__attrlint_wrapped__ = True  # type: ignore[attr-defined]
    return request
