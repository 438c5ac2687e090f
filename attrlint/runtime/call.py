"""One covered call: its attribution, decided and validated before the request is sent, and
its record, queued on the ledger after the response (or the stream) ends.

Attribution fields are gathered in this order, later ones winning: the client's
`instrument(agent_id=...)` (or `install(agent_id=...)`), the enclosing `attribution(...)`
blocks, the call's own metadata (`metadata=`, Bedrock `requestMetadata`, Vertex `labels`,
litellm `metadata=`, ...). They are normalised to the schema's canonical names, placeholders
are dropped, and attribution fields are taken out of Anthropic's `metadata` (its API accepts
only `user_id`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from attrlint.ledger.records import CallRecord
from attrlint.runtime import context
from attrlint.runtime.settings import AttributionError, Settings
from attrlint.runtime.usage import NO_TOKENS, Tokens, get, usage_of

log = logging.getLogger("attrlint.runtime")

_MAIN_FIELDS = ("agent_id", "ticket_id", "customer_id")
# Called on the caller's thread after each record is queued: hook(ledger, CallRecord, request_model).
# attrlint.runtime.otel adds one; a hook that raises is logged, never seen by the caller.
RECORD_HOOKS: list[Callable[[Any, CallRecord, Any], None]] = []
ZERO = Decimal(0)


def stable_id(ts_us: int, *parts: str) -> str:
    """A row id that is the same every time the same result is recorded (a batch result, a
    background response retrieved twice or in another process): time-ordered like `new_id`."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]
    return f"{ts_us:014x}{digest}"


def begin(settings: Settings, operation: str, body: dict[str, Any], *,
          call_metadata: Any = None) -> Call | None:
    """The call's attribution; None (send it as it is, unrecorded) if attrlint itself fails."""
    try:
        return Call(settings, operation, body, call_metadata=call_metadata)
    except AttributionError:
        raise
    except Exception as exc:
        if settings.strict:  # strict fails closed: what cannot be checked is not sent
            raise AttributionError((), agent_id=settings.agent_id, operation=f"{settings.provider} {operation}",
                                   reason=f"{type(exc).__name__}: {exc}"[:200]) from exc
        log.warning("attrlint: could not prepare a %s call; sent unrecorded", operation, exc_info=True)
        return None


def check_metadata(settings: Settings, operation: str, call_meta: Any) -> None:
    """Strict mode fails closed on metadata it cannot check: not a mapping, or a key that is
    not a string (without strict, such keys are skipped and the call is recorded)."""
    if not settings.strict or not call_meta:  # (the SDKs' NotGiven/Omit sentinels are falsy)
        return
    where = f"{settings.provider} {operation}"
    if not isinstance(call_meta, Mapping):
        raise AttributionError((), agent_id=settings.agent_id, operation=where,
                               reason=f"metadata is a {type(call_meta).__name__}, not a mapping")
    for key in call_meta:
        if not isinstance(key, str):
            raise AttributionError((), agent_id=settings.agent_id, operation=where,
                                   reason=f"metadata key {key!r} is not a string")


def gather(settings: Settings, call_meta: Any) -> tuple[dict[str, str], str | None, tuple[str, ...]]:
    """(attribution fields, where the agent came from, required fields missing)."""
    fields: dict[str, str] = {}
    source = "instrument"
    canonical = settings.canonical  # type: ignore[attr-defined]
    if settings.agent_id:
        fields["agent_id"] = settings.agent_id
    for key, value in context.current().items():
        fields[canonical(key) or key] = value
    if "agent_id" in fields and fields["agent_id"] != settings.agent_id:
        source = "context"
    if isinstance(call_meta, Mapping):
        for key, value in call_meta.items():
            if value is not None and isinstance(key, str):
                name = canonical(key) or key
                if name == "agent_id":
                    source = "call"
                fields[name] = str(value)
    if settings.registry_agent and settings.schema.is_placeholder(fields.get("agent_id")):
        fields["agent_id"] = settings.registry_agent
        source = "registry"
    agent_source = source if fields.get("agent_id") else None
    is_placeholder = settings.is_placeholder  # type: ignore[attr-defined]
    fields = {k: v for k, v in fields.items() if not is_placeholder(v)}
    missing = tuple(f for f in settings.required(fields.get("agent_id")) if f not in fields)
    return fields, agent_source, missing


class Call:
    """One covered call: its attribution (decided before sending) and its record (after)."""

    __slots__ = (
        "agent_source",
        "attributed",
        "body",
        "done",
        "fields",
        "filter_usage_chunk",
        "on_response",
        "operation",
        "settings",
        "started",
        "started_us",
    )

    def __init__(self, settings: Settings, operation: str, body: dict[str, Any], *,
                 call_metadata: Any = None) -> None:
        self.settings = settings
        self.operation = operation
        self.done = False
        self.filter_usage_chunk = False
        self.on_response: Callable[[Call, Any, Any], None] | None = None  # set by the SDK's hook
        call_meta = body.get("metadata") if call_metadata is None else call_metadata
        check_metadata(settings, operation, call_meta)
        fields, self.agent_source, missing = gather(settings, call_meta)
        if missing and settings.strict:
            raise AttributionError(missing, agent_id=fields.get("agent_id"),
                                   operation=f"{settings.provider} {operation}")
        self.fields = fields
        self.attributed = not missing
        self.body = self._request_body(body, call_meta) if call_metadata is None else body
        self.started_us = time.time_ns() // 1000  # the record's timestamp, and the price's date
        self.started = time.perf_counter()

    def _request_body(self, body: dict[str, Any], call_meta: Any) -> dict[str, Any]:
        family = self.settings.family
        if family == "anthropic":
            if isinstance(call_meta, Mapping) and set(call_meta) - {"user_id"}:
                body = dict(body)
                kept = {"user_id": call_meta["user_id"]} if call_meta.get("user_id") is not None else None
                if kept:
                    body["metadata"] = kept
                else:
                    del body["metadata"]
            return body
        if family != "openai":
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
        """The request raised: nothing billed (the provider reported no usage)."""
        self.record(status="error", model=self.body.get("model"), request_id=getattr(exc, "request_id", None),
                    cost=ZERO)

    def record_response(self, parsed: Any, raw: Any) -> None:
        """Record a whole response (a parsed SDK object or a dict), as the SDK's hook reads it."""
        if self.on_response is not None:
            self.on_response(self, parsed, raw)
        else:
            self.record_usage(get(parsed, "usage"), model=get(parsed, "model") or self.body.get("model"),
                              request_id=None)

    def record_usage(self, usage: Any, *, model: Any, request_id: str | None, status: str = "ok",
                     service_tier: str | None = None, extra: dict[str, int] | None = None,
                     operation: str | None = None) -> None:
        tokens, found = usage_of(operation or self.operation, usage)
        if extra:
            found = {**(found or {}), **extra}
        self.record(status=status, model=model, request_id=request_id, tokens=tokens, service_tier=service_tier,
                    extra=found)

    def record(self, *, status: str, model: Any, request_id: str | None = None, tokens: Tokens = NO_TOKENS,
               cost: Decimal | None = None, service_tier: str | None = None, extra: dict[str, int] | None = None,
               estimated: bool = False, row_id: str = "", batch_id: str | None = None,
               ts_us: int | None = None) -> str | None:
        """Queue this call's record (once); returns its id."""
        if self.done:
            return None
        self.done = True
        return submit(self.settings, self.fields, self.agent_source, self.attributed, operation=self.operation,
                      status=status, model=model, request_id=request_id, tokens=tokens, cost=cost,
                      service_tier=service_tier, extra=extra, estimated=estimated, row_id=row_id,
                      batch_id=batch_id, ts_us=self.started_us if ts_us is None else ts_us,
                      latency_ms=round((time.perf_counter() - self.started) * 1000, 3),
                      request_model=self.body.get("model"))


def submit(settings: Settings, fields: Mapping[str, str], agent_source: str | None, attributed: bool, *,
           operation: str, status: str, model: Any, request_id: str | None = None, tokens: Tokens = NO_TOKENS,
           cost: Decimal | None = None, service_tier: str | None = None, extra: dict[str, int] | None = None,
           estimated: bool = False, row_id: str = "", batch_id: str | None = None, ts_us: int | None = None,
           latency_ms: float | None = None, request_model: Any = None, provider: str | None = None,
           host: str | None = None) -> str | None:
    """Queue one record on the settings' ledger; never raises (a failure is logged)."""
    try:
        extra_fields = {k: v for k, v in fields.items() if k not in _MAIN_FIELDS} or None
        ledger = settings.ledger_fn()
        record = CallRecord(
            ts_us=time.time_ns() // 1000 if ts_us is None else ts_us, provider=provider or settings.provider,
            operation=operation, model=str(model) if model else None, agent_id=fields.get("agent_id"),
            ticket_id=fields.get("ticket_id"), customer_id=fields.get("customer_id"), metadata=extra_fields,
            environment=fields.get("environment") or settings.environment,
            input_tokens=tokens[0], cached_input_tokens=tokens[1], cache_write_tokens=tokens[2],
            output_tokens=tokens[3], reasoning_tokens=tokens[4], cost=cost,
            key_fingerprint=settings.key_fingerprint, request_id=request_id, status=status,
            latency_ms=latency_ms, key_env=settings.key_env, agent_source=agent_source,
            attributed=attributed, service_tier=service_tier, host=host or settings.host, usage_extra=extra or None,
            estimated=estimated, batch_id=batch_id, id=row_id,
        )
        record_id = ledger.submit(record)
        for hook in RECORD_HOOKS:
            hook(ledger, record, request_model)
        return record_id  # type: ignore[no-any-return]
    except Exception:
        log.warning("attrlint: could not queue a cost record", exc_info=True)
        return None




def with_attribution_metadata(body: dict[str, Any], fields: Mapping[str, str], limit: int = 16) -> dict[str, Any]:
    """The body with the attribution fields added to its `metadata` (OpenAI keeps them on a
    response or a batch, so its result is attributed wherever it is fetched; at most `limit`
    pairs, OpenAI's maximum)."""
    meta = dict(body.get("metadata") or {})
    for key, value in fields.items():
        if key not in meta and len(meta) < limit:
            meta[key] = value
    if meta == body.get("metadata"):
        return body
    return {**body, "metadata": meta}
