"""`install()`: class-level hooks that record every SDK client's calls, whoever built the client."""

from __future__ import annotations

import asyncio
import warnings

import anthropic
import httpx2
import openai
import pytest
from support.fake_api import ANTHROPIC_MODEL, OPENAI_MODEL
from support.keys import fake_anthropic_key, fake_openai_key
from support.ledgers import rows

from attrlint.runtime import attribution, install, installed, instrument, uninstall
from attrlint.runtime import sdk_hook as install_module

MESSAGES = [{"role": "user", "content": "Say hello"}]


def _openai(api, key=None):
    return openai.OpenAI(api_key=key or fake_openai_key(), max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(api)))


def _async_openai(api, key=None):
    return openai.AsyncOpenAI(api_key=key or fake_openai_key(), max_retries=0,
                              http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api)))


def _anthropic(api, cls=anthropic.Anthropic, transport_cls=httpx2.Client):
    return cls(api_key=fake_anthropic_key(), max_retries=0,
               http_client=transport_cls(transport=httpx2.MockTransport(api)))


def test_plain_client_made_before_install_is_recorded_with_context_and_key_env(api, ledger, monkeypatch):
    key = fake_openai_key()
    monkeypatch.setenv("SUPPORT_OPENAI_KEY", key)
    client = _openai(api, key)
    assert client.chat.completions is not None  # resources bound before install still go through the hook
    report = install(ledger=ledger)
    assert "openai._base_client.SyncAPIClient.request" in report.patched and report.unpatched == ()
    with attribution(agent_id="support", ticket_id="T-1", customer_id="acme"):
        result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert type(result) is openai.types.chat.ChatCompletion
    assert result.choices[0].message.content == '{"answer": "Hello"}'
    (record,) = rows(ledger)
    assert (record.agent_id, record.ticket_id, record.customer_id) == ("support", "T-1", "acme")
    assert (record.model, record.input_tokens, record.cached_input_tokens) == (OPENAI_MODEL, 1000, 400)
    assert record.key_env == "SUPPORT_OPENAI_KEY" and len(record.key_fingerprint) == 12
    assert record.agent_source == "context" and record.status == "ok" and record.request_id == "req_chat"


def test_install_is_idempotent_and_uninstall_restores(api, ledger):
    original = openai._base_client.SyncAPIClient.__dict__["request"]
    first = install(ledger=ledger)
    second = install(ledger=ledger, agent_id="fallback")
    assert first is second
    assert openai._base_client.SyncAPIClient.request.__wrapped__ is original
    _openai(api).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    (record,) = rows(ledger)
    assert record.agent_id == "fallback" and record.agent_source == "instrument"
    uninstall()
    assert openai._base_client.SyncAPIClient.__dict__["request"] is original and installed() is None
    _openai(api).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(rows(ledger)) == 1


def test_instrumented_client_is_recorded_once(api, ledger):
    before = instrument(_openai(api), agent_id="early", ledger=ledger)  # instrumented before install()
    install(ledger=ledger)
    client = instrument(_openai(api), agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-2", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        client.with_options(timeout=5).responses.create(model="gpt-4o", input="hi")
        before.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    records = rows(ledger)
    assert sorted((r.operation, r.agent_id) for r in records) == [
        ("chat", "early"), ("chat", "triage"), ("responses", "triage")]


def test_streams_and_raw_responses_sync(api, ledger):
    install(ledger=ledger, agent_id="bot")
    client = _openai(api)
    with attribution(ticket_id="T-3", customer_id="acme"):
        chunks = list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        with client.responses.with_streaming_response.create(model="gpt-4o", input="hi") as response:
            parsed = response.parse()
        with _anthropic(api).messages.stream(model=ANTHROPIC_MODEL, max_tokens=10, messages=MESSAGES) as stream:
            text = "".join(stream.text_stream)
    assert all(c.choices for c in chunks)  # the usage chunk attrlint asked for is not shown
    assert raw.parse().model == OPENAI_MODEL and parsed.model == OPENAI_MODEL and text == "Hello"
    records = sorted(rows(ledger), key=lambda r: r.operation)
    assert [(r.operation, r.input_tokens, r.output_tokens, r.status) for r in records] == [
        ("chat", 1000, 100, "ok"), ("chat", 1000, 100, "ok"), ("messages", 1600, 100, "ok"),
        ("responses", 1000, 100, "ok")]
    assert api.requests[-1][1].get("metadata") is None  # nothing attrlint-specific sent to Anthropic


def test_async_streams_and_anthropic_metadata_stripped(api, ledger):
    install(ledger=ledger, agent_id="bot")

    async def main():
        client = _async_openai(api)
        claude = _anthropic(api, anthropic.AsyncAnthropic, httpx2.AsyncClient)
        async with attribution(ticket_id="T-4", customer_id="acme"):
            await client.responses.create(model="gpt-4o", input="hi")
            stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            async for _ in stream:
                pass
            message = await claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=MESSAGES,
                                                   metadata={"user_id": "u-1", "ticket_id": "T-5"})
            return message

    message = asyncio.run(main())
    assert message.model == ANTHROPIC_MODEL
    assert api.requests[-1][1]["metadata"] == {"user_id": "u-1"}
    records = {r.operation: r for r in rows(ledger)}
    assert set(records) == {"responses", "chat", "messages"}
    assert records["messages"].ticket_id == "T-5" and records["chat"].ticket_id == "T-4"
    assert all(r.agent_id == "bot" for r in records.values())


def test_errors_are_recorded_and_reraised(api, ledger):
    install(ledger=ledger, agent_id="bot")
    api.fail_with = 429
    with pytest.raises(openai.RateLimitError):
        _openai(api).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    (record,) = rows(ledger)
    assert record.status == "error" and record.cost == 0


def test_registry_agent_when_no_one_names_the_agent(api, ledger, monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.attrlint.keys.BILLING_OPENAI_KEY]\nagent = "billing"\nowner = "ops"\n')
    key = fake_openai_key()
    monkeypatch.setenv("BILLING_OPENAI_KEY", key)
    install(ledger=ledger)
    client = _openai(api, key)
    with attribution(ticket_id="T-6", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        with attribution(agent_id="override"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    first, second = rows(ledger)
    assert (first.agent_id, first.agent_source, first.key_env) == ("billing", "registry", "BILLING_OPENAI_KEY")
    assert (second.agent_id, second.agent_source) == ("override", "context")
    instrumented = instrument(_openai(api, key), agent_id=None, ledger=ledger)
    instrumented.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                         metadata={"ticket_id": "T-7", "customer_id": "acme"})
    assert rows(ledger)[-1].agent_source == "registry"


def test_methods_it_cannot_patch_are_reported_once(monkeypatch, ledger):
    monkeypatch.setattr(install_module, "TARGETS", install_module.TARGETS + (
        ("openai", "openai._base_client", "NoSuchClient", "request"),
        ("openai", "openai._base_client", "SyncAPIClient", "post"),
        ("openai", "openai._no_such_module", "SyncAPIClient", "request"),
        ("not_an_sdk_here", "not_an_sdk_here._base", "Client", "request")))
    with pytest.warns(RuntimeWarning, match="NoSuchClient.request.*not found") as caught:
        report = install(ledger=ledger)
    assert len(caught) == 1
    assert [name for name, _ in report.unpatched] == [
        "openai._base_client.NoSuchClient.request", "openai._base_client.SyncAPIClient.post",
        "openai._no_such_module.SyncAPIClient.request"]
    assert "unexpected signature" in dict(report.unpatched)["openai._base_client.SyncAPIClient.post"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        install(ledger=ledger)  # said once, at install


def test_strict_install_rejects_before_sending(api, ledger):
    from attrlint.runtime import AttributionError

    install(ledger=ledger, strict=True, agent_id="bot")
    with pytest.raises(AttributionError):
        _openai(api).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert api.requests == [] and rows(ledger) == []
