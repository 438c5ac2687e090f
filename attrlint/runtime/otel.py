"""OpenTelemetry export of cost records (the `otel` extra: `pip install attrlint[otel]`).

    from attrlint import otel
    otel.enable()            # global TracerProvider / MeterProvider, after you configure them

Each call an instrumented (or `install()`ed) client records becomes, on the caller's thread:

* a CLIENT span named "{operation} {model}" (child of the current span), timed from the request
  to its end, or with `mode="event"` an `attrlint.llm_call` event on the current span (a span
  when there is none);
* metrics: `gen_ai.client.token.usage` (histogram, by `gen_ai.token.type`),
  `gen_ai.client.operation.duration` (histogram, seconds) and `attrlint.cost` (counter, USD).

Attributes follow the OpenTelemetry GenAI semantic conventions (`gen_ai.provider.name`,
`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.response.model`,
`gen_ai.usage.input_tokens` (cached tokens included), `gen_ai.usage.output_tokens`,
`gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_creation.input_tokens`,
`gen_ai.usage.reasoning.output_tokens`, `gen_ai.agent.id`), plus attrlint's own under
`attrlint.`: ticket and customer ids, other attribution fields (`attrlint.field.NAME`), cost,
price source, key fingerprint and variable name, agent source, status, environment. Key values
never leave the process.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

from attrlint.ledger.records import CallRecord

log = logging.getLogger("attrlint.otel")

SCOPE = "attrlint"
PROVIDER_NAMES = {"openai": "openai", "azure": "azure.ai.openai", "anthropic": "anthropic"}
OPERATION_NAMES = {"chat": "chat", "responses": "chat", "messages": "chat", "embeddings": "embeddings"}

_active: dict[str, Any] = {}


def enable(*, tracer_provider: Any = None, meter_provider: Any = None, mode: str = "span") -> None:
    """Export every cost record from now on (`mode`: "span" or "event"). Calling it again
    replaces the providers and mode."""
    if mode not in ("span", "event"):
        raise ValueError(f"attrlint.otel.enable: mode {mode!r}: expected 'span' or 'event'")
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        raise ImportError("attrlint.otel needs OpenTelemetry: pip install 'attrlint[otel]'") from None
    from attrlint.runtime import call

    tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(SCOPE)
    meter = (meter_provider or metrics.get_meter_provider()).get_meter(SCOPE)
    _active.update(
        tracer=tracer, mode=mode, trace=trace,
        tokens=meter.create_histogram("gen_ai.client.token.usage", unit="{token}",
                                      description="Tokens per LLM call, by gen_ai.token.type"),
        duration=meter.create_histogram("gen_ai.client.operation.duration", unit="s",
                                        description="LLM call duration"),
        cost=meter.create_counter("attrlint.cost", unit="USD", description="LLM cost, as the ledger prices it"),
    )
    if _hook not in call.RECORD_HOOKS:
        call.RECORD_HOOKS.append(_hook)


def disable() -> None:
    from attrlint.runtime import call

    if _hook in call.RECORD_HOOKS:
        call.RECORD_HOOKS.remove(_hook)
    _active.clear()


def attributes(record: CallRecord, request_model: Any, cost: Decimal | None, price_source: str | None
               ) -> dict[str, Any]:
    """The span attributes of one record (`record`: what the runtime handed the ledger)."""
    attrs: dict[str, Any] = {
        "gen_ai.provider.name": PROVIDER_NAMES.get(record.provider, record.provider),
        "gen_ai.operation.name": OPERATION_NAMES.get(record.operation, record.operation),
        "gen_ai.usage.input_tokens": record.input_tokens,
        "gen_ai.usage.output_tokens": record.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": record.cached_input_tokens,
        "gen_ai.usage.cache_creation.input_tokens": record.cache_write_tokens,
        "gen_ai.usage.reasoning.output_tokens": record.reasoning_tokens,
        "attrlint.operation": record.operation,
        "attrlint.status": "unattributed" if record.status == "ok" and not record.attributed
        else record.status,
        "attrlint.attributed": bool(record.attributed),
    }
    optional = {
        "gen_ai.request.model": str(request_model) if request_model else None,
        "gen_ai.response.model": record.model,
        "gen_ai.agent.id": record.agent_id,
        "attrlint.agent_id": record.agent_id,
        "attrlint.agent_source": record.agent_source,
        "attrlint.ticket_id": record.ticket_id,
        "attrlint.customer_id": record.customer_id,
        "attrlint.environment": record.environment,
        "attrlint.key_fingerprint": record.key_fingerprint,
        "attrlint.key_env": record.key_env,
        "attrlint.request_id": record.request_id,
        "attrlint.service_tier": record.service_tier,
        "attrlint.cost_usd": None if cost is None else float(cost),
        "attrlint.cost": None if cost is None else str(cost),
        "attrlint.price_source": price_source,
    }
    attrs.update({k: v for k, v in optional.items() if v is not None})
    for name, value in (record.metadata or {}).items():
        attrs[f"attrlint.field.{name}"] = str(value)
    if record.status == "error":
        attrs["error.type"] = "attrlint.call_failed"
    return attrs


def _price(ledger: Any, record: CallRecord) -> tuple[Decimal | None, str | None]:
    if record.cost is not None:
        return record.cost, record.price_source
    pricer = getattr(ledger, "pricer", None)
    if pricer is None:
        return None, None
    from attrlint.ledger.pricing import Usage

    cost, source = pricer.price(
        record.provider, record.model, _when(record.ts_us),
        Usage(record.input_tokens, record.cached_input_tokens, record.cache_write_tokens,
              record.output_tokens), record.service_tier, extra=record.usage_extra, host=record.host)
    return cost, source


def _when(timestamp: Any) -> Any:
    """The record's time (a datetime, or microseconds since the epoch), for the price's date."""
    import datetime as dt

    if isinstance(timestamp, dt.datetime):
        return timestamp
    if isinstance(timestamp, int):
        return dt.datetime.fromtimestamp(timestamp / 1_000_000, tz=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def _hook(ledger: Any, record: CallRecord, request_model: Any) -> None:
    state = _active
    if not state:
        return
    try:
        cost, source = _price(ledger, record)
        attrs = attributes(record, request_model, cost, source)
        end_ns = time.time_ns()
        latency_s = (record.latency_ms or 0) / 1000
        start_ns = end_ns - int(latency_s * 1e9)
        model = record.model or request_model or ""
        trace = state["trace"]
        current = trace.get_current_span()
        if state["mode"] == "event" and current.is_recording():
            current.add_event("attrlint.llm_call", attributes=attrs, timestamp=end_ns)
        else:
            span = state["tracer"].start_span(f"{attrs['gen_ai.operation.name']} {model}".strip(),
                                              kind=trace.SpanKind.CLIENT, attributes=attrs, start_time=start_ns)
            if record.status == "error":
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end(end_time=end_ns)
        common = {k: attrs[k] for k in ("gen_ai.provider.name", "gen_ai.operation.name", "gen_ai.request.model",
                                        "gen_ai.response.model", "gen_ai.agent.id") if k in attrs}
        state["tokens"].record(record.input_tokens, {**common, "gen_ai.token.type": "input"})
        state["tokens"].record(record.output_tokens, {**common, "gen_ai.token.type": "output"})
        state["duration"].record(latency_s, common)
        if cost is not None:
            # ticket and customer ids stay on spans: as metric attributes their cardinality is unbounded
            state["cost"].add(float(cost), {**common, "attrlint.status": attrs["attrlint.status"]})
    except Exception:
        log.warning("attrlint: could not export a record to OpenTelemetry", exc_info=True)
