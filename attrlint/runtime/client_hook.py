"""`instrument(client)`: an instrumented copy of one SDK client.

The copy is made with the SDK's own `copy()` (the one `with_options` uses), so it *is* an
`OpenAI`/`Anthropic`/... instance: every method, property, `with_options`, `with_raw_response`
and streaming helper behaves as the SDK defines it. The one change is the copy's `post`: every
resource method of both SDKs (`create`, `parse`, `stream`, their raw and streaming-response
variants) sends its request through the client's `post`, so one hook sees every covered call,
already in its wire form. Paths other than the covered endpoints pass straight through.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, TypeVar

from attrlint.runtime.call import ROUTES, begin
from attrlint.runtime.settings import Settings, client_settings

ClientT = TypeVar("ClientT")


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
    settings = client_settings(client, agent_id=agent_id, ledger=ledger, strict=strict, environment=environment)
    return patch_client(uninstrumented_copy(client), settings)  # type: ignore[no-any-return]


def patch_client(client: Any, settings: Settings) -> Any:
    """Hook `post` and `copy`/`with_options` on this client instance."""
    is_async = _is_async(client)
    original_post = client.post
    original_copy = client.copy
    routes = ROUTES[settings.family]

    if is_async:
        async def post(path: str, **kwargs: Any) -> Any:
            operation = routes.get(path.partition("?")[0])
            body = kwargs.get("body")
            if operation is None or not isinstance(body, dict):
                return await original_post(path, **kwargs)
            call = begin(settings, operation, body)
            if call is None:
                return await original_post(path, **kwargs)
            kwargs["body"] = call.body
            try:
                result = await original_post(path, **kwargs)
            except BaseException as exc:
                call.failed(exc)
                raise
            return await call.async_finished(result, kwargs.get("options") or {})
    else:
        def post(path: str, **kwargs: Any) -> Any:  # type: ignore[misc]
            operation = routes.get(path.partition("?")[0])
            body = kwargs.get("body")
            if operation is None or not isinstance(body, dict):
                return original_post(path, **kwargs)
            call = begin(settings, operation, body)
            if call is None:
                return original_post(path, **kwargs)
            kwargs["body"] = call.body
            try:
                result = original_post(path, **kwargs)
            except BaseException as exc:
                call.failed(exc)
                raise
            return call.finished(result, kwargs.get("options") or {})

    @functools.wraps(original_copy)
    def copy(*args: Any, **kwargs: Any) -> Any:
        return patch_client(original_copy(*args, **kwargs), settings)

    client.post = post
    client.copy = copy
    client.with_options = copy
    client._attrlint_settings = settings
    client._attrlint_uninstrumented_copy = original_copy
    return client


def uninstrumented_copy(client: Any) -> Any:
    """A plain copy of `client`; of the SDK client underneath if it is already instrumented
    (so instrumenting twice replaces the settings instead of recording every call twice)."""
    return getattr(client, "_attrlint_uninstrumented_copy", client.copy)()


def _is_async(client: Any) -> bool:
    return inspect.iscoroutinefunction(type(client).post)

