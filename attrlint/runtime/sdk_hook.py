"""`install()`: record every `openai` and `anthropic` call in the process, whoever made the client.

Frameworks (openai-agents, pydantic-ai, LangChain, ...) build their own SDK clients, so there is
no client to hand to `instrument()`. `install()` instead wraps the SDKs' base `request` method at
class level (`SyncAPIClient.request` and `AsyncAPIClient.request` of each SDK). Every resource
method of both SDKs (`create`, `parse`, `stream`, `with_raw_response`, `with_streaming_response`)
reaches the network through it, and it is looked up on the class at call time, so clients
created before `install()` are covered as well as those created after.

The hook reuses `call.Call`, the same attribution and recording `instrument()` uses. A
client made by `instrument()` records its own calls, so the hook lets them through untouched and
each call is recorded once. Each client's settings (key fingerprint, key variable name, registry
agent) are worked out on its first covered call and kept on the instance.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from attrlint.runtime.settings import Settings, client_settings

log = logging.getLogger("attrlint.runtime")

# (sdk module, class, method): every request of the SDK goes through these.
TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("openai", "openai._base_client", "SyncAPIClient", "request"),
    ("openai", "openai._base_client", "AsyncAPIClient", "request"),
    ("anthropic", "anthropic._base_client", "SyncAPIClient", "request"),
    ("anthropic", "anthropic._base_client", "AsyncAPIClient", "request"),
)
_CACHE_ATTR = "_attrlint_auto"


@dataclass(frozen=True)
class Installed:
    """What `install()` did: the methods it wraps and those it could not (with the reason)."""

    patched: tuple[str, ...]
    unpatched: tuple[tuple[str, str], ...]


@dataclass
class _Options:
    ledger: Any
    strict: bool | None
    agent_id: str | None
    generation: int
    config: Any = None  # read on the first covered call, then shared by every client


_lock = threading.Lock()
_originals: dict[tuple[type, str], Any] = {}
_state: dict[str, Any] = {"options": None, "report": None, "generation": 0}


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
        report = Installed(tuple(patched), tuple(unpatched))
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
        _state["options"] = None
        _state["report"] = None


def installed() -> Installed | None:
    """What the active `install()` patched, or None."""
    return _state["report"]  # type: ignore[no-any-return]


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


# -- the hook -------------------------------------------------------------------------------------

def _client_settings(client: Any) -> Settings | None:
    """The settings to record this client's calls with; None when attrlint leaves it alone
    (not installed, or an instrument()ed client that records itself)."""
    options = _state["options"]
    if options is None or getattr(client, "_attrlint_settings", None) is not None:
        return None
    try:
        return _settings(client, options)
    except Exception:  # never break the SDK: an unrecognised client goes through unrecorded
        log.warning("attrlint: cannot record calls of %s", type(client).__qualname__, exc_info=True)
        return None


def _settings(client: Any, options: _Options) -> Settings:
    cached = client.__dict__.get(_CACHE_ATTR)
    api_key = getattr(client, "api_key", None)
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
