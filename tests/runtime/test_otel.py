"""OpenTelemetry export: spans (or span events) and metrics with GenAI semantic-convention names."""

from __future__ import annotations

from decimal import Decimal

import httpx2
import openai
import pytest
from support.fake_api import ANTHROPIC_MODEL, OPENAI_MODEL
from support.keys import fake_anthropic_key, fake_openai_key
from support.ledgers import rows

from attrlint.runtime import attribution, install

pytest.importorskip("opentelemetry.sdk", reason="the otel extra")
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from attrlint.runtime import otel

GPT4O_COST = (600 * Decimal("2.50") + 400 * Decimal("1.25") + 100 * Decimal(10)) / 1_000_000


@pytest.fixture
def telemetry():
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield tracer_provider, meter_provider, exporter, reader
    otel.disable()


def _metrics(reader):
    out = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out[metric.name] = metric.data.data_points
    return out


def test_each_record_is_a_genai_span_and_metrics(telemetry, api, ledger, monkeypatch):
    tracer_provider, meter_provider, exporter, reader = telemetry
    key = fake_openai_key()
    monkeypatch.setenv("SUPPORT_OPENAI_KEY", key)
    otel.enable(tracer_provider=tracer_provider, meter_provider=meter_provider)
    install(ledger=ledger, agent_id="support")
    client = openai.OpenAI(api_key=key, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(api)))
    parent_tracer = tracer_provider.get_tracer("app")
    with parent_tracer.start_as_current_span("handle ticket") as parent:
        with attribution(ticket_id="T-1", customer_id="acme", feature="summary"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    spans = {s.name: s for s in exporter.get_finished_spans()}
    span = spans["chat " + OPENAI_MODEL]
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.kind.name == "CLIENT" and span.end_time >= span.start_time
    a = dict(span.attributes)
    assert {k: a[k] for k in a if k.startswith("gen_ai.")} == {
        "gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": OPENAI_MODEL,
        "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.cache_read.input_tokens": 400, "gen_ai.usage.cache_creation.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0, "gen_ai.agent.id": "support"}
    assert (a["attrlint.ticket_id"], a["attrlint.customer_id"], a["attrlint.field.feature"]) == ("T-1", "acme", "summary")
    assert Decimal(a["attrlint.cost"]) == GPT4O_COST == rows(ledger)[0].cost
    assert a["attrlint.key_env"] == "SUPPORT_OPENAI_KEY" and a["attrlint.status"] == "ok"
    assert a["attrlint.agent_source"] == "instrument" and key not in repr(a)

    metrics = _metrics(reader)
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in metrics["gen_ai.client.token.usage"]}
    assert tokens == {"input": 1000, "output": 100}
    (cost,) = metrics["attrlint.cost"]
    assert cost.value == pytest.approx(float(GPT4O_COST)) and cost.attributes["gen_ai.agent.id"] == "support"
    assert "attrlint.customer_id" not in cost.attributes
    (duration,) = metrics["gen_ai.client.operation.duration"]
    assert duration.count == 1


def test_event_mode_and_anthropic_cache_tokens_and_errors(telemetry, api, ledger):
    import anthropic

    tracer_provider, meter_provider, exporter, _reader = telemetry
    otel.enable(tracer_provider=tracer_provider, meter_provider=meter_provider, mode="event")
    install(ledger=ledger, agent_id="billing")
    claude = anthropic.Anthropic(api_key=fake_anthropic_key(), max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(api)))
    with tracer_provider.get_tracer("app").start_as_current_span("job"):
        claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    (job,) = exporter.get_finished_spans()
    (event,) = job.events
    assert event.name == "attrlint.llm_call"
    assert event.attributes["gen_ai.provider.name"] == "anthropic"
    assert event.attributes["gen_ai.usage.input_tokens"] == 1600  # cache reads and writes included
    assert event.attributes["gen_ai.usage.cache_read.input_tokens"] == 400
    assert event.attributes["gen_ai.usage.cache_creation.input_tokens"] == 200
    assert event.attributes["attrlint.status"] == "unattributed"

    api.fail_with = 500
    with pytest.raises(anthropic.InternalServerError):  # no current span: a span, marked as an error
        claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    failed = exporter.get_finished_spans()[-1]
    assert failed.name == f"chat {ANTHROPIC_MODEL}" and failed.status.status_code.name == "ERROR"
    assert failed.attributes["error.type"] == "attrlint.call_failed"


def test_disable_stops_export(telemetry, api, ledger):
    tracer_provider, meter_provider, exporter, _ = telemetry
    otel.enable(tracer_provider=tracer_provider, meter_provider=meter_provider)
    otel.disable()
    install(ledger=ledger, agent_id="x")
    openai.OpenAI(api_key=fake_openai_key(), max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(api))
                  ).chat.completions.create(model="gpt-4o", messages=[])
    assert exporter.get_finished_spans() == () or list(exporter.get_finished_spans()) == []
    assert len(rows(ledger)) == 1
