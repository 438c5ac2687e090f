"""The runtime around the ledger's life: calls after `close()` are still recorded (synchronously),
a stream nobody reads is recorded when it is closed or collected, strict mode fails closed on
metadata it cannot check, the memo of attribution values stays bounded, and a malformed ledger
URL is an error when the client is instrumented."""

from __future__ import annotations

import asyncio
import gc

import pytest
from support.fake_api import only
from support.ledgers import count_rows

from attrlint.ledger import LedgerError
from attrlint.runtime import AttributionError, install, instrument
from attrlint.runtime.settings import MEMO_VALUE_CHARS

MESSAGES = [{"role": "user", "content": "Say hello"}]
FIELDS = {"ticket_id": "T-1", "customer_id": "acme"}


def test_a_call_after_close_is_recorded_before_it_returns(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    ledger.close()
    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, metadata=FIELDS)
    assert result.choices and len(api.requests) == 1
    assert count_rows(ledger.url) == (1, 1)  # written synchronously: no writer, no flush
    (record,) = ledger.records()
    assert (record.agent_id, record.status) == ("triage", "ok")


def test_a_stream_never_iterated_is_recorded_when_collected(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, metadata=FIELDS)
    ledger.flush()
    assert list(ledger.records()) == []
    del stream
    gc.collect()
    record = only(ledger)
    assert (record.status, record.ticket_id, record.model) == ("incomplete", "T-1", "gpt-4o")
    assert record.input_tokens > 0 and record.estimated  # billed for its prompt, counted locally


def test_a_stream_closed_unread_is_recorded_once(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, metadata=FIELDS)
    stream.close()
    del stream
    gc.collect()
    assert only(ledger).status == "incomplete"


def test_a_read_stream_is_not_recorded_again_when_collected(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, metadata=FIELDS)
    list(stream)
    del stream
    gc.collect()
    assert only(ledger).status == "ok"


def test_an_async_stream_never_iterated_is_recorded_when_collected(async_anthropic_client, ledger):
    client = instrument(async_anthropic_client, agent_id="triage", ledger=ledger)

    async def main() -> None:
        await client.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=MESSAGES, stream=True,
                                     metadata={"user_id": "u"})

    asyncio.run(main())
    gc.collect()
    record = only(ledger)
    assert (record.status, record.operation) == ("incomplete", "messages")


def test_a_streaming_response_never_parsed_is_recorded_when_collected(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES,
                                                                metadata=FIELDS) as response:
        assert response.http_response.status_code == 200
    del response
    gc.collect()
    assert only(ledger).status == "incomplete"


@pytest.mark.parametrize("metadata", [{1: "x"}, {("ticket", "id"): "x"}, ["ticket_id", "T-1"]])
def test_strict_mode_fails_closed_on_metadata_it_cannot_check(openai_client, api, ledger, metadata):
    client = instrument(openai_client, agent_id="triage", ledger=ledger, strict=True)
    with pytest.raises(AttributionError, match="cannot check its attribution") as caught:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, metadata=metadata)
    assert caught.value.reason and api.requests == []  # nothing sent
    ledger.flush()
    assert list(ledger.records()) == []


def test_strict_mode_through_install_fails_closed_too(openai_client, api, ledger):
    install(ledger=ledger, strict=True, agent_id="triage")
    with pytest.raises(AttributionError, match="metadata key 1 is not a string"):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, metadata={1: "x", **FIELDS})
    assert api.requests == []


def test_without_strict_an_uncheckable_key_is_sent_and_recorded(openai_client, api, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger, strict=False)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, metadata={1: "x", **FIELDS})
    assert len(api.requests) == 1
    record = only(ledger)
    assert (record.ticket_id, record.customer_id, record.status) == ("T-1", "acme", "ok")


def test_the_memo_of_attribution_values_is_bounded_by_size(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    settings = client._attrlint_settings
    for i in range(40):  # unique 1 MB values: an lru_cache(4096) kept every one of them
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                       metadata={"ticket_id": f"{i}-" + "x" * 1_000_000, "customer_id": "acme"})
    for i in range(10_000):  # many short ones
        settings.is_placeholder(f"short-{i}")
    held = sum(len(k) for k in settings.is_placeholder.memo) + sum(len(k) for k in settings.canonical.memo)
    assert held <= (4096 + 1024) * MEMO_VALUE_CHARS
    assert all(len(k) <= MEMO_VALUE_CHARS for k in settings.is_placeholder.memo)
    ledger.flush()
    assert ledger.stats.written == 40


def test_a_malformed_ledger_url_fails_when_the_client_is_instrumented(openai_client, monkeypatch):
    monkeypatch.setenv("ATTRLINT_LEDGER_URL", "postgresql:/user:s3cretpw@db.example/ledger")
    with pytest.raises(LedgerError) as caught:
        instrument(openai_client, agent_id="triage")
    assert "two slashes" in str(caught.value) and "s3cretpw" not in str(caught.value)
