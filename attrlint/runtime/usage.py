"""Reading what a provider reported: token usage (and the other usage kinds genai-prices
prices: audio, image and 1-hour cache-write tokens, web searches, audio seconds), service tier,
request id, and the shapes of the SDK objects a call returns (parsed models, raw responses,
streams).

Token counts follow the ledger's convention: (input including cached reads and cache writes,
cached reads, cache writes, output including reasoning, reasoning). Other usage kinds are a
dict by genai-prices usage key, None when there are none (the common case, priced fastest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Tokens = tuple[int, int, int, int, int]
NO_TOKENS: Tokens = (0, 0, 0, 0, 0)


def get(obj: Any, name: str) -> Any:
    """`obj.name` or `obj[name]`; None when absent."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    return value if type(value) is int else int(value or 0)


def _put(extra: dict[str, int] | None, key: str, value: Any) -> dict[str, int] | None:
    value = _int(value)
    if not value:
        return extra
    if extra is None:
        extra = {}
    extra[key] = value
    return extra


def usage_tokens(operation: str, usage: Any) -> Tokens:
    """The five token counts of one call's usage."""
    return usage_of(operation, usage)[0]


def usage_of(operation: str, usage: Any) -> tuple[Tokens, dict[str, int] | None]:
    """(tokens, other usage kinds) of one call's usage object or dict."""
    if usage is None:
        return NO_TOKENS, None
    extra: dict[str, int] | None = None
    if operation in ("messages", "anthropic"):
        # Anthropic: input_tokens excludes cache reads and cache writes.
        uncached = _int(get(usage, "input_tokens"))
        read = _int(get(usage, "cache_read_input_tokens"))
        write = _int(get(usage, "cache_creation_input_tokens"))
        creation = get(usage, "cache_creation")
        if creation is not None and write:
            extra = _put(extra, "cache_write_5m_tokens", get(creation, "ephemeral_5m_input_tokens"))
            extra = _put(extra, "cache_write_1h_tokens", get(creation, "ephemeral_1h_input_tokens"))
        server = get(usage, "server_tool_use")
        if server is not None:
            extra = _put(extra, "web_searches", get(server, "web_search_requests"))
        return (uncached + read + write, read, write, _int(get(usage, "output_tokens")), 0), extra
    if operation in ("chat", "completions", "embeddings"):
        # OpenAI chat: prompt_tokens includes prompt_tokens_details.cached_tokens.
        prompt = _int(get(usage, "prompt_tokens"))
        details = get(usage, "prompt_tokens_details")
        cached = _int(get(details, "cached_tokens"))
        write = _int(get(details, "cache_write_tokens"))
        out_details = get(usage, "completion_tokens_details")
        if details is not None:
            extra = _put(extra, "input_audio_tokens", get(details, "audio_tokens"))
        if out_details is not None:
            extra = _put(extra, "output_audio_tokens", get(out_details, "audio_tokens"))
        reasoning = _int(get(out_details, "reasoning_tokens"))
        return (prompt, cached, write, _int(get(usage, "completion_tokens")), reasoning), extra
    if operation == "images":
        inp = _int(get(usage, "input_tokens"))
        details = get(usage, "input_tokens_details")
        cached = _int(get(details, "cached_tokens"))
        if details is not None:
            extra = {"input_text_tokens": _int(get(details, "text_tokens")),
                     "input_image_tokens": _int(get(details, "image_tokens"))}
        out_details = get(usage, "output_tokens_details")
        if out_details is not None:
            extra = _put(extra, "output_text_tokens", get(out_details, "text_tokens"))
            extra = _put(extra, "output_image_tokens", get(out_details, "image_tokens"))
        return (inp, cached, 0, _int(get(usage, "output_tokens")), 0), extra
    if operation == "audio":
        if get(usage, "type") == "duration":
            return NO_TOKENS, _put(None, "audio_seconds", _seconds(get(usage, "seconds")))
        inp = _int(get(usage, "input_tokens"))
        details = get(usage, "input_token_details")
        if details is not None:
            extra = _put(extra, "input_audio_tokens", get(details, "audio_tokens"))
            extra = _put(extra, "input_text_tokens", get(details, "text_tokens"))
        return (inp, 0, 0, _int(get(usage, "output_tokens")), 0), extra
    # responses: input_tokens includes input_tokens_details.cached_tokens.
    inp = _int(get(usage, "input_tokens"))
    details = get(usage, "input_tokens_details")
    cached = _int(get(details, "cached_tokens"))
    write = _int(get(details, "cache_write_tokens"))
    reasoning = _int(get(get(usage, "output_tokens_details"), "reasoning_tokens"))
    return (inp, cached, write, _int(get(usage, "output_tokens")), reasoning), extra


def response_status(parsed: Any) -> str:
    """The ledger status of a Responses API response object."""
    status = get(parsed, "status")
    if status in (None, "completed"):
        return "ok"
    if status in ("queued", "in_progress"):
        return "pending"
    if status == "failed":
        return "failed"
    return "incomplete"  # incomplete, cancelled


def extras_for_response(parsed: Any) -> dict[str, int] | None:
    """Other usage kinds a Responses API response implies (its web-search calls)."""
    calls = web_search_calls(get(parsed, "output"))
    return {"web_searches": calls} if calls else None


def _seconds(value: Any) -> int:
    """Audio seconds as billed: whole seconds, rounded up."""
    if not value:
        return 0
    whole = int(value)
    return whole if whole == value else whole + 1


def web_search_calls(output: Any) -> int:
    """Web-search tool calls in a Responses API output (billed per call)."""
    if not output:
        return 0
    return sum(1 for item in output if get(item, "type") == "web_search_call")


def service_tier_of(parsed: Any, usage: Any) -> str | None:
    tier = get(parsed, "service_tier") or get(usage, "service_tier")
    return tier if isinstance(tier, str) and tier not in ("default", "standard", "auto", "standard_only") else None


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
