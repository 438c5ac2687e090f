"""LangChain: a run's `config={"metadata": {...}}` reaches the model request underneath.

A LangChain chat model (langchain-openai's `ChatOpenAI`, langchain-anthropic's `ChatAnthropic`,
langchain-google-genai's, langchain-aws's, ...) sends through an SDK attrlint hooks, but the
metadata a caller gives the run stays in LangChain's callbacks. attrlint registers a callback
handler with LangChain's configure hooks (`langchain_core.tracers.context.register_configure_hook`),
so every run's callback manager includes it, whoever configured the run. When a model run starts
(`on_chat_model_start` / `on_llm_start`, called inline, before the model's request), the handler
opens a scope (attrlint.runtime.context) with the run's metadata, inherited metadata of the
enclosing chains included; the SDK hook reads it as the call's attribution; the run's end or
error closes it. The handler itself records nothing.

It is registered once per process, by `install()` and by `instrument()`, and does nothing after
`uninstall()` unless a client is instrumented.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any
from uuid import UUID

from attrlint.runtime import context

log = logging.getLogger("attrlint.runtime")

_state: dict[str, Any] = {"handler": None, "var": None}
_lock = threading.Lock()


def handler() -> Any:
    """attrlint's LangChain callback handler (one per process), registered on first use."""
    with _lock:
        if _state["handler"] is not None:
            return _state["handler"]
        from langchain_core.callbacks import BaseCallbackHandler
        from langchain_core.tracers.context import register_configure_hook

        class AttrlintCallbackHandler(BaseCallbackHandler):  # type: ignore[misc]
            """Carries a model run's `config["metadata"]` to the SDK call it makes."""

            run_inline = True  # in the run's own context (async too), so the scope reaches the request
            raise_error = False

            def __init__(self) -> None:
                super().__init__()
                self.scopes: dict[UUID, tuple[context.Scope, Any]] = {}

            def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID,
                                    metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
                self._start(run_id, metadata)

            def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID,
                             metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
                self._start(run_id, metadata)

            def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
                self._end(run_id)

            def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
                self._end(run_id)

            def _start(self, run_id: UUID, metadata: dict[str, Any] | None) -> None:
                if metadata:
                    self.scopes[run_id] = context.enter_scope(dict(metadata))

            def _end(self, run_id: UUID) -> None:
                entry = self.scopes.pop(run_id, None)
                if entry is not None:
                    context.exit_scope(*entry)

        instance = AttrlintCallbackHandler()
        var: contextvars.ContextVar[Any] = contextvars.ContextVar("attrlint_langchain_handler", default=instance)
        register_configure_hook(var, inheritable=True)
        _state["handler"], _state["var"] = instance, var
        return instance


def install(hooks: Any) -> None:
    try:
        handler()
    except ImportError:  # an old langchain_core without configure hooks: metadata not read
        log.warning("attrlint: this langchain_core has no configure hooks; config['metadata'] is not read")
