"""One covered call: its attribution, decided and validated before the request is sent, and
its record, queued on the ledger after the response (or the stream) ends.

Attribution fields are gathered in this order, later ones winning: the client's
`instrument(agent_id=...)`, the enclosing `attribution(...)` blocks, the call's own
`metadata`. They are normalised to the schema's canonical names, placeholders are dropped, and
attribution fields are taken out of Anthropic's `metadata` (its API accepts only `user_id`).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from attrlint.ledger.records import CallRecord
from attrlint.runtime import context
from attrlint.runtime.settings import AttributionError, Settings
from attrlint.runtime.streams import hook_async_parse, hook_parse, observe_async_stream, observe_stream
from attrlint.runtime.usage import header_request_id, is_api_response, is_stream, raw_mode, service_tier_of, usage_tokens

log = logging.getLogger("attrlint.runtime")

# SDK family -> request path -> operation: the endpoints whose calls are recorded.
ROUTES = {
    "openai": {"/chat/completions": "chat", "/responses": "responses", "/embeddings": "embeddings"},
    "anthropic": {"/v1/messages": "messages", "/messages": "messages"},
}
_MAIN_FIELDS = ("agent_id", "ticket_id", "customer_id")
# Called on the caller's thread after each record is queued: hook(ledger, CallRecord, request_model).
# attrlint.runtime.otel adds one; a hook that raises is logged, never seen by the caller.
RECORD_HOOKS: list[Callable[[Any, dict[str, Any], Any], None]] = []
_ZERO = Decimal(0)


def begin(settings: Settings, operation: str, body: dict[str, Any]) -> Call | None:
    """The call's attribution; None (send it as it is, unrecorded) if attrlint itself fails."""
    try:
        return Call(settings, operation, body)
    except AttributionError:
        raise
    except Exception as exc:
        if settings.strict:  # strict fails closed: what cannot be checked is not sent
            raise AttributionError((), agent_id=settings.agent_id, operation=f"{settings.provider} {operation}",
                                   reason=f"{type(exc).__name__}: {exc}"[:200]) from exc
        log.warning("attrlint: could not prepare a %s call; sent unrecorded", operation, exc_info=True)
        return None


class Call:
    """One covered call: its attribution (decided before sending) and its record (after)."""

    __slots__ = (
        "agent_source",
        "attributed",
        "body",
        "done",
        "fields",
        "filter_usage_chunk",
        "metadata",
        "operation",
        "settings",
        "started",
        "started_us",
    )

    def __init__(self, settings: Settings, operation: str, body: dict[str, Any]) -> None:
        self.settings = settings
        self.operation = operation
        self.done = False
        self.filter_usage_chunk = False
        fields: dict[str, str] = {}
        source = "instrument"
        canonical = settings.canonical  # type: ignore[attr-defined]
        if settings.agent_id:
            fields["agent_id"] = settings.agent_id
        ctx = context.current()
        for key, value in ctx.items():
            fields[canonical(key) or key] = value
        if "agent_id" in fields and fields["agent_id"] != settings.agent_id:
            source = "context"
        call_meta = body.get("metadata")
        where = f"{settings.provider} {operation}"
        # (the SDKs' NotGiven/Omit sentinels are falsy: no metadata)
        if call_meta and not isinstance(call_meta, Mapping) and settings.strict:
            raise AttributionError((), agent_id=settings.agent_id, operation=where,
                                   reason=f"metadata is a {type(call_meta).__name__}, not a mapping")
        if isinstance(call_meta, Mapping):
            for key, value in call_meta.items():
                if not isinstance(key, str):  # no attribution field; strict mode cannot check it
                    if settings.strict:
                        raise AttributionError((), agent_id=settings.agent_id, operation=where,
                                               reason=f"metadata key {key!r} is not a string")
                    continue
                if value is not None:
                    name = canonical(key) or key
                    if name == "agent_id":
                        source = "call"
                    fields[name] = str(value)
        if settings.registry_agent and settings.schema.is_placeholder(fields.get("agent_id")):
            fields["agent_id"] = settings.registry_agent
            source = "registry"
        self.agent_source = source if fields.get("agent_id") else None
        is_placeholder = settings.is_placeholder  # type: ignore[attr-defined]
        fields = {k: v for k, v in fields.items() if not is_placeholder(v)}
        agent_id = fields.get("agent_id")
        missing = tuple(f for f in settings.required(agent_id) if f not in fields)
        if missing and settings.strict:
            raise AttributionError(missing, agent_id=agent_id, operation=f"{settings.provider} {operation}")
        self.fields = fields
        self.attributed = not missing
        self.body = self._request_body(body, call_meta)
        self.started_us = time.time_ns() // 1000  # the record's timestamp, and the price's date
        self.started = time.perf_counter()

    def _request_body(self, body: dict[str, Any], call_meta: Any) -> dict[str, Any]:
        if self.settings.family == "anthropic":
            if isinstance(call_meta, Mapping) and set(call_meta) - {"user_id"}:
                body = dict(body)
                kept = {"user_id": call_meta["user_id"]} if call_meta.get("user_id") is not None else None
                if kept:
                    body["metadata"] = kept
                else:
                    del body["metadata"]
            return body
        if isinstance(call_meta, Mapping) and not all(isinstance(v, str) for v in call_meta.values()):
            body = dict(body)
            body["metadata"] = {k: str(v) for k, v in call_meta.items() if v is not None}
        if self.operation == "chat" and body.get("stream") is True:
            options = body.get("stream_options")
            if not (isinstance(options, Mapping) and options.get("include_usage")):
                body = dict(body)
                body["stream_options"] = {**(options if isinstance(options, Mapping) else {}), "include_usage": True}
                self.filter_usage_chunk = True
        return body

    # -- results ------------------------------------------------------------------------------

    def failed(self, exc: BaseException) -> None:
        self.record(status="error", model=self.body.get("model"), request_id=getattr(exc, "request_id", None),
                    cost=_ZERO)

    def finished(self, result: Any, options: Mapping[str, Any]) -> Any:
        try:
            if is_stream(result):
                observe_stream(result, self)
            elif is_api_response(result):
                if raw_mode(options) == "stream":
                    hook_parse(result, self)
                else:
                    parsed = result.parse()
                    if is_stream(parsed):
                        observe_stream(parsed, self)
                    else:
                        self.record_response(parsed, result)
            else:
                self.record_response(result, None)
        except Exception:  # recording must never change what the caller gets
            log.warning("attrlint: could not record a %s call", self.operation, exc_info=True)
        return result

    async def async_finished(self, result: Any, options: Mapping[str, Any]) -> Any:
        try:
            if is_api_response(result) and raw_mode(options) != "stream":
                parsed = result.parse()
                if inspect.isawaitable(parsed):  # anthropic's; openai's raw responses parse synchronously
                    parsed = await parsed
                if is_stream(parsed):
                    observe_async_stream(parsed, self)
                else:
                    self.record_response(parsed, result)
            elif is_api_response(result):
                hook_async_parse(result, self)
            elif is_stream(result):
                observe_async_stream(result, self)
            else:
                self.record_response(result, None)
        except Exception:
            log.warning("attrlint: could not record a %s call", self.operation, exc_info=True)
        return result

    def record_response(self, parsed: Any, raw: Any) -> None:
        usage = getattr(parsed, "usage", None)
        request_id = getattr(parsed, "_request_id", None) or header_request_id(raw)
        tokens = usage_tokens(self.operation, usage)
        self.record(status="ok", model=getattr(parsed, "model", None) or self.body.get("model"),
                    request_id=request_id, tokens=tokens, service_tier=service_tier_of(parsed, usage))

    def record(self, *, status: str, model: Any, request_id: str | None = None,
               tokens: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0), cost: Decimal | None = None,
               service_tier: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        try:
            fields = self.fields
            settings = self.settings
            extra = {k: v for k, v in fields.items() if k not in _MAIN_FIELDS} or None
            ledger = settings.ledger_fn()
            latency_ms = round((time.perf_counter() - self.started) * 1000, 3)
            record = CallRecord(
                ts_us=self.started_us, provider=settings.provider, operation=self.operation,
                model=str(model) if model else None, agent_id=fields.get("agent_id"),
                ticket_id=fields.get("ticket_id"), customer_id=fields.get("customer_id"), metadata=extra,
                environment=fields.get("environment") or settings.environment,
                input_tokens=tokens[0], cached_input_tokens=tokens[1], cache_write_tokens=tokens[2],
                output_tokens=tokens[3], reasoning_tokens=tokens[4], cost=cost,
                key_fingerprint=settings.key_fingerprint, request_id=request_id, status=status,
                latency_ms=latency_ms, key_env=settings.key_env, agent_source=self.agent_source,
                attributed=self.attributed, service_tier=service_tier,
            )
            ledger.submit(record)
            for hook in RECORD_HOOKS:
                hook(ledger, record, self.body.get("model"))
        except Exception:
            log.warning("attrlint: could not queue a cost record", exc_info=True)
