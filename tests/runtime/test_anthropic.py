"""Instrumented `anthropic` clients against the mock API."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import anthropic
import pytest
from support.fake_api import ANTHROPIC_MODEL, only

from attrlint.runtime import AttributionError, attribution, instrument

MESSAGES = [{"role": "user", "content": "Say hello"}]
# claude-sonnet-4-6: $3 / M input, $0.30 / M cache read, $3.75 / M cache write (5 min), $15 / M output.
# Anthropic's input_tokens (1000) excludes the 400 cache reads and 200 cache writes.
SONNET_COST = (1000 * Decimal(3) + 400 * Decimal("0.30") + 200 * Decimal("3.75") + 100 * Decimal(15)) / 1_000_000


def test_create_records_cache_reads_and_writes_exactly(anthropic_client, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    assert isinstance(client, anthropic.Anthropic)
    with attribution(ticket_id="T-1", customer_id="acme"):
        message = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES)
    assert type(message).__name__ == "Message" and message.content[0].text == '{"answer": "Hello"}'
    record = only(ledger)
    assert SONNET_COST == Decimal("0.00537")
    assert record.cost == SONNET_COST
    assert (record.input_tokens, record.cached_input_tokens, record.cache_write_tokens) == (1600, 400, 200)
    assert record.output_tokens == 100
    assert (record.provider, record.operation, record.model) == ("anthropic", "messages", ANTHROPIC_MODEL)
    assert record.request_id == "req_msg" and record.status == "ok"


def test_attribution_fields_are_stripped_from_metadata(anthropic_client, api, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES,
                           metadata={"user_id": "u-7", "ticket_id": "T-1", "customerId": "acme", "feature": "x"})
    sent = api.requests[-1][1]
    assert sent["metadata"] == {"user_id": "u-7"}
    record = only(ledger)
    assert (record.ticket_id, record.customer_id) == ("T-1", "acme")
    assert record.metadata == {"user_id": "u-7", "feature": "x"}


def test_metadata_without_user_id_is_removed(anthropic_client, api, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES,
                           metadata={"ticket_id": "T-1", "customer_id": "acme"})
    assert "metadata" not in api.requests[-1][1]
    assert only(ledger).status == "ok"


def test_strict_rejects_before_sending(anthropic_client, api, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger, strict=True)
    with pytest.raises(AttributionError, match="ticket_id, customer_id"):
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES)
    assert api.requests == []


def test_stream_true(anthropic_client, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        events = [event.type for event in client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES, stream=True)]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    record = only(ledger)
    assert record.cost == SONNET_COST and record.request_id == "req_astream"


def test_stream_helper(anthropic_client, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
    assert text == "Hello" and final.usage.output_tokens == 100
    assert only(ledger).cost == SONNET_COST


def test_stream_closed_early_keeps_known_usage(anthropic_client, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        stream = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES, stream=True)
        next(iter(stream))  # message_start only
        stream.close()
    record = only(ledger)
    assert record.status == "incomplete"
    assert (record.input_tokens, record.output_tokens) == (1600, 1)
    partial = (1000 * Decimal(3) + 400 * Decimal("0.30") + 200 * Decimal("3.75") + 1 * Decimal(15)) / 1_000_000
    assert record.cost == partial


def test_raw_response(anthropic_client, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    raw = client.messages.with_raw_response.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES,
                                                   metadata={"ticket_id": "T-1", "customer_id": "acme"})
    assert raw.headers["request-id"] == "req_msg"
    assert raw.parse().usage.input_tokens == 1000
    assert only(ledger).cost == SONNET_COST


def test_error(anthropic_client, api, ledger):
    api.fail_with = 429
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES)
    record = only(ledger)
    assert record.status == "error" and record.cost == 0 and record.request_id == "req_err"


def test_count_tokens_passes_through(anthropic_client, api, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-sonnet-4-6")
    ledger.flush()
    assert list(ledger.records()) == []


def test_async_create_and_stream(async_anthropic_client, api, ledger):
    client = instrument(async_anthropic_client, agent_id="triage", ledger=ledger)
    assert isinstance(client, anthropic.AsyncAnthropic)

    async def main():
        async with attribution(ticket_id="T-1", customer_id="acme"):
            message = await client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES,
                                                   metadata={"user_id": "u-1", "ticket_uuid": "T-2"})
            async with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES) as stream:
                text = "".join([t async for t in stream.text_stream])
            raw = await client.messages.with_raw_response.create(model=ANTHROPIC_MODEL, max_tokens=64,
                                                                 messages=MESSAGES)
            return message, text, await raw.parse()

    message, text, parsed = asyncio.run(main())
    assert message.usage.output_tokens == 100 and text == "Hello" and parsed.id == "msg_1"
    assert api.requests[0][1]["metadata"] == {"user_id": "u-1"}
    ledger.flush()
    records = list(ledger.records())
    assert [r.ticket_id for r in records] == ["T-2", "T-1", "T-1"]
    assert all(r.cost == SONNET_COST and r.status == "ok" for r in records)
