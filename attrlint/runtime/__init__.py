"""attrlint's runtime: instrumented LLM clients that record what each call cost, and for whom.

    from attrlint.runtime import instrument, attribution

    client = instrument(OpenAI(), agent_id="support-triage")
    with attribution(ticket_id="T-1042", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o", messages=[...])

Importing this module imports no SDK, database driver or price table; they load on first use.
"""

from __future__ import annotations

import os
import threading
from typing import Any, TypeVar

from .context import attribution, current
from .everywhere import install, installed, uninstall
from .wrappers import AttributionError

__all__ = ["AttributionError", "CostRecord", "Ledger", "attribution", "current", "default_ledger", "install",
           "installed", "instrument", "uninstall"]

ClientT = TypeVar("ClientT")

_default: dict[str, Any] = {}
_default_lock = threading.Lock()


def default_ledger() -> Any:
    """The process-wide ledger at `ATTRLINT_LEDGER_URL` (else `.attrlint/ledger.db`)."""
    from ..ledger import Ledger, default_url

    url = default_url()
    ledger = _default.get(url)
    if ledger is None or ledger._closed:
        with _default_lock:
            ledger = _default.get(url)
            if ledger is None or ledger._closed:
                ledger = _default[url] = Ledger(url)
    return ledger


def instrument(client: ClientT, *, agent_id: str | None, ledger: Any = None, strict: bool | None = None,
               environment: str | None = None) -> ClientT:
    """An instrumented copy of an `openai` or `anthropic` client (sync or async, Azure too).

    It is an instance of the same class, used exactly like the original. Each chat, responses,
    embeddings or messages call is checked for attribution before it is sent and recorded on
    `ledger` (default: `default_ledger()`) when it ends. `strict` (default `[tool.attrlint]
    strict`) rejects calls lacking required fields with `AttributionError` instead of recording
    them `unattributed`. `environment` defaults to `ATTRLINT_ENVIRONMENT`, then to the
    `[tool.attrlint.keys]` entry of the env var holding the client's key.
    """
    from .wrappers import patch_client, uninstrumented_copy

    settings = client_settings(client, agent_id=agent_id, ledger=ledger, strict=strict, environment=environment)
    return patch_client(uninstrumented_copy(client), settings)  # type: ignore[no-any-return]


def client_settings(client: Any, *, agent_id: str | None, ledger: Any = None, strict: bool | None = None,
                    environment: str | None = None, config: Any = None) -> Any:
    """What recording a call on `client` needs (a `wrappers.Settings`): its provider, its key's
    fingerprint and environment variable name(s), the key registry's agent and environment for
    that variable, the configured strictness and required fields, and where to record.
    `config` defaults to `config_from_env_or_cwd()`."""
    from ..config import config_from_env_or_cwd
    from .wrappers import Settings, family_of, key_env_names, key_fingerprint

    family, provider = family_of(client)
    if config is None:
        config = config_from_env_or_cwd()
    api_key = getattr(client, "api_key", None)
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
    )


def __getattr__(name: str) -> Any:
    if name in ("Ledger", "CostRecord"):
        from .. import ledger as _ledger

        return getattr(_ledger, name)
    raise AttributeError(f"module 'attrlint.runtime' has no attribute {name!r}")
