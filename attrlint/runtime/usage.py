"""Reading what a provider reported: token usage, service tier, request id, and the shapes of
the SDK objects a call returns (parsed models, raw responses, streams)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if type(obj) is dict:
        return obj.get(name)
    return getattr(obj, name, None)


def usage_tokens(operation: str, usage: Any) -> tuple[int, int, int, int, int]:
    """(input incl. cached and cache writes, cached reads, cache writes, output, reasoning)."""
    if usage is None:
        return (0, 0, 0, 0, 0)
    if operation == "messages":
        # Anthropic: input_tokens excludes cache reads and cache writes.
        uncached = _get(usage, "input_tokens") or 0
        read = _get(usage, "cache_read_input_tokens") or 0
        write = _get(usage, "cache_creation_input_tokens") or 0
        return (uncached + read + write, read, write, _get(usage, "output_tokens") or 0, 0)
    if operation in ("chat", "embeddings"):
        # OpenAI chat: prompt_tokens includes prompt_tokens_details.cached_tokens.
        prompt = _get(usage, "prompt_tokens") or 0
        cached = _get(_get(usage, "prompt_tokens_details"), "cached_tokens") or 0
        out = _get(usage, "completion_tokens") or 0
        reasoning = _get(_get(usage, "completion_tokens_details"), "reasoning_tokens") or 0
        return (prompt, cached, 0, out, reasoning)
    # responses: input_tokens includes input_tokens_details.cached_tokens.
    inp = _get(usage, "input_tokens") or 0
    cached = _get(_get(usage, "input_tokens_details"), "cached_tokens") or 0
    out = _get(usage, "output_tokens") or 0
    reasoning = _get(_get(usage, "output_tokens_details"), "reasoning_tokens") or 0
    return (inp, cached, 0, out, reasoning)


def service_tier_of(parsed: Any, usage: Any) -> str | None:
    tier = getattr(parsed, "service_tier", None) or _get(usage, "service_tier")
    return tier if isinstance(tier, str) and tier not in ("default", "standard", "auto") else None


def header_request_id(raw: Any) -> str | None:
    response = getattr(raw, "http_response", None) or getattr(raw, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    return headers.get("x-request-id") or headers.get("request-id")


def is_stream(obj: Any) -> bool:
    return type(obj).__name__ in ("Stream", "AsyncStream") and hasattr(obj, "response")


def is_api_response(obj: Any) -> bool:
    # LegacyAPIResponse, APIResponse, AsyncAPIResponse (by name: cheaper than probing a model)
    return type(obj).__name__.endswith("APIResponse") and hasattr(obj, "http_response")


def raw_mode(options: Mapping[str, Any]) -> str | None:
    headers = options.get("headers") or {}
    return headers.get("X-Stainless-Raw-Response") if isinstance(headers, Mapping) else None

