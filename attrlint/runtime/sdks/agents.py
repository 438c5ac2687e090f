"""openai-agents: a run's `RunConfig(trace_metadata={...})` reaches the model requests it makes.

The agents SDK sends its model requests through the openai SDK (or litellm), which attrlint
hooks; the run's `trace_metadata` travels with its trace. While tracing is on, the SDK hook reads
it from the current trace (attrlint.runtime.call.framework_fields). Tracing is often off (another
model provider, `set_tracing_disabled(True)`), so `install()` also wraps the runner's `run`,
`run_sync` and `run_streamed` to open a scope (attrlint.runtime.context) with the run config's
`trace_metadata` for the length of the run (a streamed run's background task inherits it).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from attrlint.runtime import context


def trace_metadata(kwargs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    config = kwargs.get("run_config")
    metadata = config.get("trace_metadata") if isinstance(config, Mapping) else getattr(config, "trace_metadata", None)
    return metadata if isinstance(metadata, Mapping) and metadata else None


def _wrap(original: Any, *, end_with_call: bool) -> Any:
    if inspect.iscoroutinefunction(original):
        async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            metadata = trace_metadata(kwargs)
            if metadata is None:
                return await original(self, *args, **kwargs)
            scope, token = context.enter_scope(metadata)
            try:
                return await original(self, *args, **kwargs)
            finally:
                context.exit_scope(scope, token)

        return run

    def run_sync(self: Any, *args: Any, **kwargs: Any) -> Any:
        metadata = trace_metadata(kwargs)
        if metadata is None:
            return original(self, *args, **kwargs)
        scope, token = context.enter_scope(metadata)
        try:
            return original(self, *args, **kwargs)
        finally:
            if end_with_call:
                context.exit_scope(scope, token)
            else:  # the streamed run goes on in a task that took a copy of this context
                context.reset_scope(token)

    return run_sync


def install(hooks: Any) -> None:
    from agents.run import AgentRunner

    hooks.patch(AgentRunner, "run", lambda original: _wrap(original, end_with_call=True))
    hooks.patch(AgentRunner, "run_sync", lambda original: _wrap(original, end_with_call=True))
    hooks.patch(AgentRunner, "run_streamed", lambda original: _wrap(original, end_with_call=False))
