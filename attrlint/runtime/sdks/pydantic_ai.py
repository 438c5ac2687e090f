"""pydantic-ai: an agent's `metadata` (given to `Agent(...)` or to a run) reaches the model
requests of its runs.

pydantic-ai sends its model requests through the openai and anthropic SDKs (and others), which
attrlint hooks; the metadata of a run stays in pydantic-ai (its run result and its spans).
`install()` wraps `Agent.iter`, which every run goes through (`run`, `run_sync`, `run_stream`,
`iter`), to open a scope (attrlint.runtime.context) with the agent's and the run's metadata,
the run's winning, for the length of the run. Metadata given as a function of the run context is
computed by pydantic-ai once the run has started, so it is not read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from attrlint.runtime import context


def run_metadata(agent: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for metadata in (getattr(agent, "_metadata", None), kwargs.get("metadata")):
        if isinstance(metadata, Mapping):
            fields.update(metadata)
    return fields


def _wrap(original: Any) -> Any:
    @contextlib.asynccontextmanager
    async def iter(self: Any, *args: Any, **kwargs: Any) -> Any:
        fields = run_metadata(self, kwargs)
        if not fields:
            async with original(self, *args, **kwargs) as run:
                yield run
            return
        scope, token = context.enter_scope(fields)
        try:
            async with original(self, *args, **kwargs) as run:
                yield run
        finally:
            context.exit_scope(scope, token)

    return iter


def install(hooks: Any) -> None:
    from pydantic_ai.agent import Agent  # (pydantic_ai itself may still be importing)

    hooks.patch(Agent, "iter", _wrap)
