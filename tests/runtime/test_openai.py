"""Instrumented `openai` clients against the mock API: what is sent, returned and recorded."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import openai
import pydantic
import pytest
from support.fake_api import OPENAI_MODEL, only

from attrlint.runtime import AttributionError, attribution, instrument

MESSAGES = [{"role": "user", "content": "Say hello"}]
# gpt-4o: $2.50 / M input, $1.25 / M cached input, $10 / M output (genai-prices).
# 1000 prompt tokens of which 400 cached, 100 completion tokens:
GPT4O_COST = (600 * Decimal("2.50") + 400 * Decimal("1.25") + 100 * Decimal(10)) / 1_000_000


def test_create_returns_the_sdk_object_and_records_cached_tokens_exactly(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    assert isinstance(client, openai.OpenAI)
    with attribution(ticket_id="T-1", customer_id="acme"):
        result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert type(result).__name__ == "ChatCompletion"
    assert result.choices[0].message.content == '{"answer": "Hello"}'
    record = only(ledger)
    assert GPT4O_COST == Decimal("0.003")
    assert record.cost == GPT4O_COST
    assert (record.provider, record.operation, record.model) == ("openai", "chat", OPENAI_MODEL)
    assert (record.agent_id, record.ticket_id, record.customer_id) == ("triage", "T-1", "acme")
    assert (record.input_tokens, record.cached_input_tokens, record.output_tokens) == (1000, 400, 100)
    assert record.status == "ok" and record.request_id == "req_chat"
    assert record.price_source.startswith("genai-prices ") and "gpt-4o" in record.price_source
    assert record.timestamp.tzinfo is not None and record.timestamp.utcoffset().total_seconds() == 0
    assert record.latency_ms is not None and record.latency_ms >= 0


def test_key_is_fingerprinted_never_stored(openai_client, ledger, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_OPENAI_KEY", openai_client.api_key)
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                   metadata={"ticket_id": "T-1", "customer_id": "acme"})
    record = only(ledger)
    assert record.key_env == "TRIAGE_OPENAI_KEY"
    assert record.key_fingerprint and len(record.key_fingerprint) == 12
    assert openai_client.api_key not in repr(record)
    ledger.close()
    assert openai_client.api_key.encode() not in (tmp_path / "ledger.db").read_bytes()


def test_per_call_metadata_wins_and_stays_in_openai_metadata_as_strings(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-ctx", customer_id="acme", feature="summary"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, store=True,
                                       metadata={"ticket_uuid": 42, "agent": "billing"})
    sent = api.requests[-1][1]["metadata"]
    assert sent == {"ticket_uuid": "42", "agent": "billing"}
    record = only(ledger)
    assert (record.ticket_id, record.customer_id, record.agent_id) == ("42", "acme", "billing")
    assert record.metadata == {"feature": "summary"}
    assert record.agent_source == "call"


def test_strict_rejects_before_sending(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger, strict=True)
    with pytest.raises(AttributionError) as info, attribution(ticket_id="T-1"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert "customer_id" in str(info.value) and info.value.missing == ("customer_id",)
    assert api.requests == []
    ledger.flush()
    assert list(ledger.records()) == []


def test_placeholder_values_count_as_missing(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger, strict=True)
    with pytest.raises(AttributionError, match="ticket_id"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                       metadata={"ticket_id": "TODO", "customer_id": "acme"})
    assert api.requests == []


def test_non_strict_records_unattributed(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    record = only(ledger)
    assert record.status == "unattributed"
    assert record.ticket_id is None and record.customer_id is None
    assert record.cost == GPT4O_COST


def test_required_fields_from_config_per_agent(tmp_path, openai_client, api, ledger):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.attrlint]\nrequired-fields = ["ticket_id", "customer_id", "agent_id"]\nstrict = true\n'
        '[tool.attrlint.agents.batch]\npaths = ["batch/**"]\nrequired-fields = ["agent_id"]\n')
    strict_client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with pytest.raises(AttributionError):
        strict_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    batch = instrument(openai_client, agent_id="batch", ledger=ledger)
    batch.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert only(ledger).status == "ok"


def test_stream_is_recorded_at_the_end_and_the_caller_sees_no_extra_chunk(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        assert type(stream).__name__ == "Stream"
        ledger.flush()
        assert list(ledger.records()) == []  # nothing until the stream ends
        chunks = list(stream)
    assert api.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert len(chunks) == 3 and all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)
    record = only(ledger)
    assert record.status == "ok" and record.cost == GPT4O_COST and record.request_id == "req_stream"


def test_stream_keeps_the_usage_chunk_when_the_caller_asked(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True},
                                            metadata={"ticket_id": "T-1", "customer_id": "acme"})
    chunks = list(stream)
    assert len(chunks) == 4 and chunks[-1].usage.prompt_tokens == 1000
    assert only(ledger).cost == GPT4O_COST


def test_stream_closed_early_is_recorded_incomplete_with_an_estimated_prompt(openai_client, ledger):
    """The provider bills the prompt of a stream closed before its usage chunk: it is counted
    locally, priced, and the row says the cost is an estimate."""
    from attrlint.runtime.estimate import prompt_tokens

    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream:
        next(iter(stream))
    record = only(ledger)
    assert record.status == "incomplete" and record.estimated
    assert record.model == OPENAI_MODEL
    assert record.input_tokens == prompt_tokens("gpt-4o", {"messages": MESSAGES}) > 0
    assert record.cost > 0


def test_stream_helper(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
            events = [event.type for event in stream]
            final = stream.get_final_completion()
    assert "content.done" in events
    assert final.usage is None  # as without attrlint: the caller did not ask for usage
    assert only(ledger).cost == GPT4O_COST


class Answer(pydantic.BaseModel):
    answer: str


def test_parse(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    parsed = client.chat.completions.parse(model="gpt-4o", messages=MESSAGES, response_format=Answer,
                                           metadata={"ticket_id": "T-1", "customer_id": "acme"})
    assert parsed.choices[0].message.parsed == Answer(answer="Hello")
    assert only(ledger).cost == GPT4O_COST


def test_raw_response_and_with_options(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    tuned = client.with_options(timeout=5)
    assert isinstance(tuned, openai.OpenAI)
    raw = tuned.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, metadata={"ticket_id": "T-1", "customer_id": "acme"})
    assert raw.headers["x-request-id"] == "req_chat"
    assert raw.parse().usage.prompt_tokens == 1000
    assert only(ledger).request_id == "req_chat"


def test_streaming_response_is_recorded_when_parsed(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with client.chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=MESSAGES, metadata={"ticket_id": "T-1", "customer_id": "acme"}) as response:
        completion = response.parse()
    assert completion.usage.completion_tokens == 100
    assert only(ledger).cost == GPT4O_COST


def test_error_is_recorded_and_propagates_unchanged(openai_client, api, ledger):
    api.fail_with = 429
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                       metadata={"ticket_id": "T-1", "customer_id": "acme"})
    assert info.value.status_code == 429
    record = only(ledger)
    assert record.status == "error" and record.cost == Decimal(0)
    assert record.model == "gpt-4o" and record.request_id == "req_err"


def test_responses_create_and_stream(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        response = client.responses.create(model="gpt-4o", input="hi")
        assert response.output_text == "Hello"
        with client.responses.stream(model="gpt-4o", input="hi") as stream:
            for _ in stream:
                pass
        streamed = list(client.responses.create(model="gpt-4o", input="hi", stream=True))
    assert streamed[-1].type == "response.completed"
    ledger.flush()
    records = list(ledger.records())
    assert [r.operation for r in records] == ["responses"] * 3
    for record in records:
        assert (record.input_tokens, record.cached_input_tokens, record.reasoning_tokens) == (1000, 400, 30)
        assert record.cost == GPT4O_COST and record.status == "ok"


def test_embeddings(openai_client, ledger):
    client = instrument(openai_client, agent_id="indexer", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        result = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert len(result.data[0].embedding) == 3
    record = only(ledger)
    assert record.operation == "embeddings" and record.input_tokens == 8
    assert record.cost == 8 * Decimal("0.02") / 1_000_000


def test_other_endpoints_pass_through(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    ledger.flush()
    assert list(ledger.records()) == []


def test_unknown_model_is_recorded_unpriced(openai_client, api, ledger):
    api.model = "acme-internal-llm-7"
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    client.chat.completions.create(model="acme-internal-llm-7", messages=MESSAGES,
                                   metadata={"ticket_id": "T-1", "customer_id": "acme"})
    record = only(ledger)
    assert record.status == "unpriced" and record.cost is None and record.input_tokens == 1000


def test_price_override(tmp_path, openai_client, ledger):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.attrlint.pricing."openai:gpt-4o"]\ninput = 2.0\noutput = 8\ncache-read = "0.5"\n'
        'effective = 2020-01-01\n')
    from attrlint.ledger import Ledger

    book = Ledger(f"sqlite:///{tmp_path / 'override.db'}")
    client = instrument(openai_client, agent_id="triage", ledger=book)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                   metadata={"ticket_id": "T-1", "customer_id": "acme"})
    record = only(book)
    book.close()
    assert record.cost == (600 * Decimal(2) + 400 * Decimal("0.5") + 100 * Decimal(8)) / 1_000_000
    assert record.price_source == "override openai:gpt-4o@2020-01-01"


def test_async_create_and_stream(async_openai_client, ledger):
    client = instrument(async_openai_client, agent_id="triage", ledger=ledger)
    assert isinstance(client, openai.AsyncOpenAI)

    async def main():
        async with attribution(ticket_id="T-1", customer_id="acme"):
            result = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            chunks = [chunk async for chunk in stream]
            raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
            return result, chunks, raw

    result, chunks, raw = asyncio.run(main())
    assert result.usage.prompt_tokens == 1000 and len(chunks) == 3
    assert raw.http_response.status_code == 200
    ledger.flush()
    records = list(ledger.records())
    assert len(records) == 3 and all(r.cost == GPT4O_COST and r.status == "ok" for r in records)


def test_async_error(async_openai_client, api, ledger):
    api.fail_with = 500
    client = instrument(async_openai_client, agent_id="triage", ledger=ledger)
    with pytest.raises(openai.InternalServerError):
        asyncio.run(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))
    assert only(ledger).status == "error"


def test_azure_client(api, ledger):
    import httpx2
    from support.keys import fake_azure_key

    azure = openai.AzureOpenAI(api_key=fake_azure_key(), api_version="2024-10-21", max_retries=0,
                               azure_endpoint="https://example-resource.openai.azure.com",
                               http_client=httpx2.Client(transport=httpx2.MockTransport(api)))
    client = instrument(azure, agent_id="triage", ledger=ledger)
    assert isinstance(client, openai.AzureOpenAI)
    client.chat.completions.create(model="my-deployment", messages=MESSAGES,
                                   metadata={"ticket_id": "T-1", "customer_id": "acme"})
    record = only(ledger)
    assert record.provider == "azure" and record.model == OPENAI_MODEL and record.cost is not None


def test_instrumenting_twice_records_once_with_the_new_settings(openai_client, ledger):
    first = instrument(openai_client, agent_id="triage", ledger=ledger)
    second = instrument(first, agent_id="billing", ledger=ledger)
    second.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                   metadata={"ticket_id": "T-1", "customer_id": "acme"})
    assert only(ledger).agent_id == "billing"
