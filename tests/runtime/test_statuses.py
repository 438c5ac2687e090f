"""Statuses that tell the truth: ok, error, failed, incomplete, pending (then completed), unpriced,
and the estimate flag, for streams, background responses and provider errors."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest
from support import fake_api
from support.fake_api import MockAPI, only
from support.ledgers import rows

from attrlint.runtime import attribution, install, instrument

MESSAGES = [{"role": "user", "content": "Summarise the ticket, please."}]


def test_responses_stream_ending_in_failed_is_failed_and_billed_as_reported(api, openai_client, ledger):
    api.stream_ends = "failed"
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with client.responses.create(model="gpt-4o", input="hi", stream=True) as stream:
        events = [e.type for e in stream]
    assert events[-1] == "response.failed"
    record = only(ledger)
    assert (record.status, record.input_tokens, record.output_tokens) == ("failed", 1000, 100)
    assert record.cost > 0 and not record.estimated


def test_responses_stream_ending_incomplete(api, openai_client, ledger):
    api.stream_ends = "incomplete"
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    list(client.responses.create(model="gpt-4o", input="hi", stream=True))
    assert only(ledger).status == "incomplete"


def test_anthropic_error_event_after_message_start_keeps_and_prices_the_tokens(api, anthropic_client, ledger):
    import anthropic

    api.anthropic_stream_error = True
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    with pytest.raises(anthropic.APIStatusError):
        with client.messages.stream(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES) as stream:
            for _ in stream:
                pass
    record = only(ledger)
    assert record.status == "error" and record.input_tokens == 1600 and record.cached_input_tokens == 400
    assert record.cost is not None and record.cost > 0


def test_anthropic_stream_closed_after_message_start_counts_the_text_received(api, anthropic_client, ledger):
    client = instrument(anthropic_client, agent_id="triage", ledger=ledger)
    stream = client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES, stream=True)
    for event in stream:
        if event.type == "content_block_delta":
            break
    stream.close()
    record = only(ledger)
    assert (record.status, record.input_tokens, record.estimated) == ("incomplete", 1600, True)
    assert record.output_tokens >= 1 and record.cost > 0


def test_dropped_connection_is_incomplete_with_an_estimate(ledger):
    """The server breaks off mid-stream: the caller gets the SDK's exception; the row is incomplete,
    billed for the estimated prompt and the text received."""
    import openai

    def handler(request: httpx2.Request) -> httpx2.Response:
        def body():
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-2024-08-06",
                     "choices": [{"index": 0, "delta": {"content": "Hello there"}, "finish_reason": None}]}
            yield f"data: {json.dumps(chunk)}\n\n".encode()
            raise httpx2.ReadError("connection reset")
        return httpx2.Response(200, content=body(), headers={"content-type": "text/event-stream"})

    client = openai.OpenAI(api_key=fake_api.fake_openai_key(), max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    client = instrument(client, agent_id="triage", ledger=ledger)
    with pytest.raises(Exception):  # noqa: B017 - whichever error the SDK raises reaches the caller
        list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    record = only(ledger)
    assert record.status == "incomplete" and record.estimated
    assert record.input_tokens > 0 and record.output_tokens > 0 and record.cost > 0


def test_background_response_is_pending_then_completed_on_retrieve(api, openai_client, ledger):
    client = instrument(openai_client, agent_id="research", ledger=ledger)
    with attribution(ticket_id="T-9", customer_id="acme"):
        queued = client.responses.create(model="gpt-4o", input="long job", background=True)
    assert queued.status == "queued"
    assert api.requests[-1][1]["metadata"] == {"agent_id": "research", "ticket_id": "T-9", "customer_id": "acme"}
    (pending,) = rows(ledger)
    assert (pending.status, pending.cost, pending.request_id) == ("pending", None, "resp_bg")
    api.extra["background_done"] = False
    client.responses.retrieve("resp_bg")  # still running: nothing new
    assert len(rows(ledger)) == 1
    api.extra["background_done"] = True
    done = client.responses.retrieve("resp_bg")
    client.responses.retrieve("resp_bg")  # polled again: recorded once
    assert done.status == "completed"
    pending, final = rows(ledger)
    assert (final.status, final.request_id, final.input_tokens, final.ticket_id) == ("ok", "resp_bg", 1000, "T-9")
    assert final.cost > 0 and final.agent_id == "research"


def test_background_response_retrieved_by_another_process_is_attributed_from_its_metadata(api, openai_client,
                                                                                         ledger):
    from attrlint.runtime.sdks import stainless

    client = instrument(openai_client, agent_id="research", ledger=ledger)
    with attribution(ticket_id="T-10", customer_id="globex"):
        client.responses.create(model="gpt-4o", input="long job", background=True)
    stainless.PENDING.pop("resp_bg")  # as if retrieved elsewhere
    other = instrument(fake_api.openai_client(api), agent_id="poller", ledger=ledger)
    other.responses.retrieve("resp_bg")
    (final,) = [r for r in rows(ledger) if r.status != "pending"]
    assert (final.ticket_id, final.customer_id, final.agent_id, final.status) == ("T-10", "globex", "research", "ok")


def test_error_is_recorded_at_no_cost_and_unknown_model_unpriced(api, openai_client, ledger):
    import openai

    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    api.fail_with = 429
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    api.fail_with = None
    api.model = "acme-llm-9"
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.chat.completions.create(model="acme-llm-9", messages=MESSAGES)
    error, unpriced = rows(ledger)
    assert (error.status, error.cost) == ("error", 0)
    assert (unpriced.status, unpriced.cost, unpriced.input_tokens) == ("unpriced", None, 1000)


@pytest.mark.parametrize("read", ["json", "text", "read", "iter_lines"])
def test_streaming_response_is_recorded_however_the_body_is_read(openai_client, ledger, read):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"), client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES) as response:
        body = getattr(response, read)()
        if read == "iter_lines":
            body = list(body)
    assert body
    record = only(ledger)
    assert (record.status, record.input_tokens, record.cached_input_tokens) == ("ok", 1000, 400)
    assert record.cost > 0


def test_streamed_body_read_line_by_line_is_recorded(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"), client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES,
                                                                 stream=True) as response:
        lines = list(response.iter_lines())
    assert any(line.startswith("data:") for line in lines)
    record = only(ledger)
    assert (record.status, record.input_tokens, record.output_tokens) == ("ok", 1000, 100)


def test_async_streaming_response_json(api, ledger):
    client = instrument(fake_api.openai_client(api, asynchronous=True), agent_id="triage", ledger=ledger)

    async def main():
        async with client.chat.completions.with_streaming_response.create(model="gpt-4o",
                                                                           messages=MESSAGES) as response:
            return await response.json()

    assert asyncio.run(main())["usage"]["prompt_tokens"] == 1000
    assert only(ledger).input_tokens == 1000


def test_install_records_background_and_failed_alike(api, ledger):
    install(ledger=ledger, agent_id="fallback")
    client = fake_api.openai_client(api)
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.responses.create(model="gpt-4o", input="x", background=True)
        client.responses.retrieve("resp_bg")
        api.stream_ends = "failed"
        list(client.responses.create(model="gpt-4o", input="x", stream=True))
    assert sorted(r.status for r in rows(ledger)) == ["failed", "ok", "pending"]


def test_mock_api_is_the_only_server(api: MockAPI):
    assert api.requests == []


def test_dall_e_images_are_counted_and_recorded_unpriced_never_at_zero(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.images.generate(model="dall-e-3", prompt="a cat", size="1024x1024", quality="hd")
    record = only(ledger)
    assert (record.status, record.cost, record.usage_extra) == ("unpriced", None, {"images": 1})


def test_a_completed_background_response_is_not_reported_pending_nor_counted_twice(api, openai_client, ledger):
    """The pending row stays (the ledger only appends); its result, under the same request id,
    is the one that costs; reports count the call once and no longer as pending."""
    from attrlint.ledger.reports.apart import apart

    client = instrument(openai_client, agent_id="research", ledger=ledger)
    with attribution(ticket_id="T-9", customer_id="acme"):
        client.responses.create(model="gpt-4o", input="long job", background=True)
    ledger.flush()
    assert apart(ledger).pending == 1
    client.responses.retrieve("resp_bg")
    client.responses.retrieve("resp_bg")
    ledger.flush()
    assert apart(ledger).pending == 0
    finished = [r for r in rows(ledger) if r.status != "pending"]
    assert len(finished) == 1 and finished[0].cost > 0
    assert sum(ledger.totals("ticket").values()) == finished[0].cost


@pytest.mark.parametrize("hook", ["instrument", "install"])
@pytest.mark.parametrize("read", ["json", "iter_lines"])
@pytest.mark.parametrize("family", ["openai", "anthropic"])
def test_with_streaming_response_read_without_parse_is_recorded(api, ledger, hook, read, family):
    client = fake_api.openai_client(api) if family == "openai" else fake_api.anthropic_client(api)
    if hook == "instrument":
        client = instrument(client, agent_id="triage", ledger=ledger)
    else:
        install(ledger=ledger, agent_id="triage")
    if family == "openai":
        opened = client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES)
    else:
        opened = client.messages.with_streaming_response.create(model="claude-sonnet-4-6", max_tokens=50,
                                                               messages=MESSAGES)
    with attribution(ticket_id="T-1", customer_id="acme"), opened as response:
        body = getattr(response, read)()
        if read == "iter_lines":
            body = list(body)
    assert body
    record = only(ledger)
    assert (record.status, record.input_tokens) == ("ok", 1000 if family == "openai" else 1600)
    assert record.cost > 0
