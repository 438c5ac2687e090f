"""What recording a call needs, decided once per client: its provider, its key's identity (a
fingerprint and the environment variable names holding it, never the key), the key registry's
agent and environment, strictness, required fields, and the ledger to record on."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attrlint.core.schema import Schema


class AttributionError(ValueError):
    """A strict instrumented call lacks required attribution fields, or its attribution cannot
    be checked (`reason`: e.g. a metadata key that is not a string); nothing was sent."""

    def __init__(self, missing: tuple[str, ...], *, agent_id: str | None, operation: str,
                 reason: str | None = None) -> None:
        self.missing = missing
        self.agent_id = agent_id
        self.reason = reason
        if reason is not None:
            super().__init__(
                f"attrlint: {operation} call for agent {agent_id or '(none)'}: cannot check its attribution "
                f"({reason}); nothing was sent. Fix the call's metadata, or instrument(..., strict=False) to "
                "send such calls and record them unattributed"
            )
            return
        super().__init__(
            f"attrlint: {operation} call for agent {agent_id or '(none)'} is missing attribution "
            f"field(s) {', '.join(missing)}; pass them in metadata=, wrap the call in "
            f"attribution({', '.join(f'{m}=...' for m in missing)}), or instrument(..., strict=False)"
        )


@dataclass(frozen=True)
class Settings:
    """What one `instrument()` call decided: shared by the client and its copies."""

    family: str  # the SDK family: "openai", "anthropic", "google-genai", "bedrock", "litellm", ...
    provider: str  # who the requests go to, from the base URL: "openai", "azure", "bedrock/us-east-1", ...
    agent_id: str | None
    strict: bool
    environment: str | None
    key_fingerprint: str | None
    key_env: str | None
    schema: Schema
    required: Callable[[str | None], tuple[str, ...]]
    ledger_fn: Callable[[], Any]
    registry_agent: str | None = None  # the agent `[tool.attrlint.keys.ENV]` names for the client's key
    host: str | None = None  # the base URL's host (never its path or query)

    def __post_init__(self) -> None:
        # Per-call lookups, memoised: metadata keys and values repeat from call to call. Only
        # short ones are kept, and so many, so the memo never holds more than about a megabyte
        # however large the values callers send.
        object.__setattr__(self, "canonical", bounded_memo(self.schema.canonical_name, 1024))
        object.__setattr__(self, "is_placeholder", bounded_memo(self.schema.is_placeholder, 4096))


MEMO_VALUE_CHARS = 128


def bounded_memo(fn: Callable[[Any], Any], entries: int) -> Callable[[Any], Any]:
    """`fn` memoised for string arguments of at most MEMO_VALUE_CHARS characters, `entries` of
    them at most (the memo starts afresh when full): bounded by bytes, not by count alone."""
    memo: dict[str, Any] = {}

    def memoised(value: Any) -> Any:
        if type(value) is not str or len(value) > MEMO_VALUE_CHARS:
            return fn(value)
        try:
            return memo[value]
        except KeyError:
            pass
        result = fn(value)
        if len(memo) >= entries:
            memo.clear()
        memo[value] = result
        return result

    memoised.memo = memo  # type: ignore[attr-defined]
    return memoised


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


def family_of(client: Any) -> str:
    """The SDK family of a client object, or TypeError naming the clients `instrument` takes."""
    root = type(client).__module__.split(".", 1)[0]
    if root in ("openai", "anthropic") and hasattr(client, "copy") and hasattr(client, "request"):
        return root
    raise TypeError(f"attrlint.instrument: {type(client).__module__}.{type(client).__name__} is not an openai or "
                    "anthropic client (OpenAI, AsyncOpenAI, AzureOpenAI, Anthropic, AsyncAnthropic, AnthropicBedrock, "
                    "AnthropicVertex, AnthropicFoundry and their async forms); frameworks built on them: install()")


def base_url_of(client: Any, family: str) -> Any:
    """Where a client sends its requests."""
    return getattr(client, "base_url", None)


def api_key_of(client: Any, family: str) -> str | None:
    key = getattr(client, "api_key", None)
    return key if isinstance(key, str) else None


_default: dict[str, Any] = {}
_default_lock = threading.Lock()


def default_ledger() -> Any:
    """The process-wide ledger at `ATTRLINT_LEDGER_URL` (else `.attrlint/ledger.db`)."""
    from attrlint.ledger import Ledger, default_url

    url = default_url()
    ledger = _default.get(url)
    if ledger is None or ledger.closed:
        with _default_lock:
            ledger = _default.get(url)
            if ledger is None or ledger.closed:
                ledger = _default[url] = Ledger(url)
    return ledger


def client_settings(client: Any, *, agent_id: str | None, ledger: Any = None, strict: bool | None = None,
                    environment: str | None = None, config: Any = None) -> Settings:
    """What recording a call on `client` needs (a `Settings`): its provider, its key's
    fingerprint and environment variable name(s), the key registry's agent and environment for
    that variable, the configured strictness and required fields, and where to record.
    `config` defaults to `config_from_env_or_cwd()`."""
    family = family_of(client)
    return settings_for(family, base_url_of(client, family), api_key_of(client, family), agent_id=agent_id,
                        ledger=ledger, strict=strict, environment=environment, config=config)


def settings_for(family: str, base_url: Any, api_key: str | None, *, agent_id: str | None, ledger: Any = None,
                 strict: bool | None = None, environment: str | None = None, config: Any = None,
                 provider: str | None = None) -> Settings:
    """`Settings` for calls of an SDK `family` sent to `base_url` with `api_key` (`provider`
    overrides the label the base URL gives)."""
    from attrlint.core.config import config_from_env_or_cwd
    from attrlint.runtime.providers import provider_for_url

    label, host = provider_for_url(base_url)
    provider = provider or label
    if config is None:
        config = config_from_env_or_cwd()
    key_env = key_env_names(api_key)
    registry_agent = None
    if environment is None:
        environment = os.environ.get("ATTRLINT_ENVIRONMENT")
    for name in key_env.split(",") if key_env else ():
        entry = config.keys.get(name)
        if entry is None:
            continue
        if environment is None and entry.environment:
            environment = entry.environment
        if registry_agent is None and entry.agent:
            registry_agent = entry.agent

    if ledger is None:  # a malformed ATTRLINT_LEDGER_URL is an error now, not a lost record per call
        from attrlint.ledger import default_url
        from attrlint.ledger.ledger import parse_url

        parse_url(default_url())
    agents = config.agents
    schema = config.schema

    def required(agent: str | None) -> tuple[str, ...]:
        entry = agents.get(agent) if agent else None
        if entry is not None and entry.required_fields is not None:
            return entry.required_fields
        return schema.required

    return Settings(
        family=family, provider=provider, agent_id=agent_id,
        strict=config.strict if strict is None else strict, environment=environment,
        key_fingerprint=key_fingerprint(api_key), key_env=key_env, schema=schema, required=required,
        ledger_fn=(lambda: ledger) if ledger is not None else default_ledger, registry_agent=registry_agent,
        host=host,
    )
