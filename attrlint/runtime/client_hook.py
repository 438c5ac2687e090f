"""`instrument(client)`: an instrumented SDK client.

For `openai` and `anthropic` clients (sync or async; Azure, Bedrock, Vertex and Foundry too)
it is a copy made with the SDK's own `copy()` (the one `with_options` uses), so it *is* an
`OpenAI`/`Anthropic`/... instance: every method, property, `with_options`, `with_raw_response`
and streaming helper behaves as the SDK defines it. The one change is the copy's `request`,
which every resource method of both SDKs goes through (attrlint.runtime.sdks.stainless).

The other SDKs' clients cannot be copied faithfully, so `instrument()` hooks the client it is
given, in place, through the SDK's own extension point, and returns it: a boto3 `bedrock-runtime`
client (botocore event handlers), a `google.genai.Client` (its API client's request methods), a
mistralai `Mistral` (its SDK hooks), a cohere client (its HTTP client) and a `litellm.Router`
(its model calls, recorded by attrlint's litellm logger). Instrumenting one again replaces the
settings.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, TypeVar

from attrlint.runtime.settings import Settings, client_settings, family_of

ClientT = TypeVar("ClientT")
_MODULES = {"bedrock": "bedrock", "google-genai": "genai", "mistral": "mistral", "cohere": "cohere"}


def instrument(client: ClientT, *, agent_id: str | None, ledger: Any = None, strict: bool | None = None,
               environment: str | None = None) -> ClientT:
    """An instrumented copy of an `openai` or `anthropic` client (sync or async; Azure, Bedrock,
    Vertex and Foundry too), an instance of the same class used exactly like the original; or
    the given boto3 `bedrock-runtime`, google-genai, mistralai, cohere client or litellm Router,
    instrumented in place.

    Each model call is checked for attribution before it is sent and recorded on `ledger`
    (default: `default_ledger()`) when it ends. `strict` (default `[tool.attrlint] strict`)
    rejects calls lacking required fields with `AttributionError` instead of recording them
    `unattributed`. `environment` defaults to `ATTRLINT_ENVIRONMENT`, then to the
    `[tool.attrlint.keys]` entry of the env var holding the client's key.
    """
    family = family_of(client)
    _read_framework_attribution()
    if family == "litellm":
        from attrlint.runtime.sdks import litellm

        return litellm.instrument_router(client, agent_id=agent_id, ledger=ledger, strict=strict,  # type: ignore[no-any-return]
                                         environment=environment)
    settings = client_settings(client, agent_id=agent_id, ledger=ledger, strict=strict, environment=environment)
    if family in ("openai", "anthropic"):
        return patch_client(uninstrumented_copy(client), settings)  # type: ignore[no-any-return]
    module = importlib.import_module(f"attrlint.runtime.sdks.{_MODULES[family]}")
    return module.instrument(client, settings)  # type: ignore[no-any-return]


def _read_framework_attribution() -> None:
    """LangChain's `config["metadata"]` reaches instrumented clients too: register attrlint's
    LangChain handler now, or when LangChain is imported (once per process)."""
    if _armed:
        return
    _armed.append(True)
    import importlib.util
    import sys

    from attrlint.runtime import imports

    if "langchain_core" not in sys.modules and importlib.util.find_spec("langchain_core") is None:
        return

    def arm(module: Any) -> None:
        from attrlint.runtime.sdks import langchain

        langchain.install(None)

    imports.when_imported("langchain_core.callbacks.manager", arm)


_armed: list[bool] = []


def patch_client(client: Any, settings: Settings) -> Any:
    """Hook `request` and `copy`/`with_options` on this openai or anthropic client instance."""
    from attrlint.runtime.sdks.stainless import hooked_request, hooked_request_async

    family = settings.family
    original_request = type(client).request
    original_copy = client.copy
    if inspect.iscoroutinefunction(original_request):
        async def request(*args: Any, **kwargs: Any) -> Any:
            return await hooked_request_async(settings, family, original_request, (client, *args), kwargs)
    else:
        def request(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return hooked_request(settings, family, original_request, (client, *args), kwargs)

    @functools.wraps(original_copy)
    def copy(*args: Any, **kwargs: Any) -> Any:
        return patch_client(original_copy(*args, **kwargs), settings)

    client.request = request
    client.copy = copy
    client.with_options = copy
    client._attrlint_settings = settings
    client._attrlint_uninstrumented_copy = original_copy
    return client


def uninstrumented_copy(client: Any) -> Any:
    """A plain copy of `client`; of the SDK client underneath if it is already instrumented
    (so instrumenting twice replaces the settings instead of recording every call twice)."""
    return getattr(client, "_attrlint_uninstrumented_copy", client.copy)()
