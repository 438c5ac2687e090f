"""The hooks of Bedrock, google-genai, Mistral and Cohere beyond the coverage table: usage read as
genai-prices reads it, the statuses of failed, broken and abandoned calls, strictness before
sending, instrument() and install() together, and hooking an SDK imported after install()."""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from support import fake_bedrock, fake_sdks
from support.fake_bedrock import FakeBedrock
from support.fake_sdks import FakeCohere, FakeGemini, FakeMistral
from support.ledgers import rows

from attrlint.runtime import (
    AttributionError,
    attribution,
    install,
    installed,
    instrument,
    uninstall,
)


def _only(ledger):
    (record,) = rows(ledger)
    return record


def _genai_cost(provider: str, model: str, usage) -> Decimal:
    from genai_prices import calc_price

    return Decimal(str(calc_price(usage, model, provider_id=provider).total_price))


# -- usage as genai-prices reads it -----------------------------------------------------------------

CONVERSE_USAGE = {"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1700, "cacheReadInputTokens": 300,
                  "cacheWriteInputTokens": 300, "cacheDetails": [{"ttl": "1h", "inputTokens": 300}]}
GEMINI_USAGE = {"promptTokenCount": 1200, "cachedContentTokenCount": 200, "candidatesTokenCount": 50,
                "thoughtsTokenCount": 30, "toolUsePromptTokenCount": 40, "totalTokenCount": 1320,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}, {"modality": "AUDIO",
                                                                                    "tokenCount": 200}]}


@pytest.mark.parametrize(("provider", "response", "read"), [
    ("aws", {"usage": CONVERSE_USAGE}, "bedrock"),
    ("google", {"usageMetadata": GEMINI_USAGE}, "genai"),
    ("google", {"usageMetadata": fake_sdks.GEMINI_USAGE}, "genai"),
    ("cohere", {"usage": fake_sdks.COHERE_USAGE}, "cohere"),
    ("mistral", {"usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960,
                           "prompt_tokens_details": {"cached_tokens": 100}}}, "mistral"),
])
def test_usage_is_read_as_genai_prices_reads_it(provider, response, read):
    """Each SDK's usage, converted for the ledger, is what genai-prices' own extractor finds in it."""
    from genai_prices import extract_usage

    from attrlint.runtime.sdks import bedrock, cohere, genai
    from attrlint.runtime.usage import usage_of

    expected = extract_usage(response, provider_id=provider).usage
    if read == "bedrock":
        tokens, extra = bedrock.converse_tokens(response["usage"]), bedrock.cache_ttls(response["usage"])
    elif read == "genai":
        tokens, extra = genai.usage_tokens(response["usageMetadata"])
    elif read == "cohere":
        tokens, extra = cohere.billed(response)
    else:
        tokens, extra = usage_of("chat", response["usage"])
    inp, cached, write, out, reasoning = tokens
    assert (inp, cached, write, out) == (expected.input_tokens or 0, expected.cache_read_tokens or 0,
                                         expected.cache_write_tokens or 0, expected.output_tokens or 0)
    assert reasoning == (getattr(expected, "output_reasoning_tokens", None) or 0)
    for key, value in (extra or {}).items():
        assert getattr(expected, key) == value, key


def test_bedrock_cost_is_genai_prices_cost_at_the_regions_price(ledger):
    from genai_prices import Usage

    api = FakeBedrock(usage=dict(CONVERSE_USAGE))
    client = instrument(fake_bedrock.bedrock_client(api, region="eu-west-1"), agent_id="a", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)
    record = _only(ledger)
    usage = Usage(input_tokens=1600, cache_read_tokens=300, cache_write_tokens=300, cache_write_1h_tokens=300,
                  output_tokens=100)
    assert record.provider == "bedrock/eu-west-1" and record.request_id == "req-bedrock-1"
    assert record.cost == _genai_cost("aws", fake_bedrock.MODEL, usage)


# -- statuses ---------------------------------------------------------------------------------------

def test_bedrock_failures_streams_broken_and_abandoned(ledger):
    import botocore.exceptions

    api = FakeBedrock()
    client = instrument(fake_bedrock.bedrock_client(api), agent_id="a", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        api.fail_with = 429
        with pytest.raises(botocore.exceptions.ClientError):
            client.converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)
        api.fail_with = None
        api.stream_error = True
        with pytest.raises(botocore.exceptions.EventStreamError):
            list(client.converse_stream(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)["stream"])
        api.stream_error = False
        stream = client.converse_stream(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)["stream"]
        next(iter(stream))
        stream.close()
        api.send_metadata = False  # the stream ends without its usage event
        list(client.converse_stream(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)["stream"])
    failed, broken, closed, unreported = rows(ledger)
    assert (failed.status, failed.cost) == ("error", 0)
    assert broken.status == "error" and broken.estimated and broken.input_tokens > 0 and broken.output_tokens > 0
    assert (closed.status, closed.estimated, closed.output_tokens) == ("incomplete", True, 0) and closed.cost > 0
    assert unreported.status == "incomplete" and unreported.estimated and unreported.output_tokens > 0


def test_gemini_stream_abandoned_keeps_the_reported_prompt_and_counts_the_text(ledger):
    client = instrument(fake_sdks.genai_client(FakeGemini()), agent_id="a", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        stream = client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
        next(stream)
        stream.close()
    record = _only(ledger)
    assert (record.status, record.input_tokens, record.estimated) == ("incomplete", 1000, True)
    assert record.output_tokens >= 1 and record.cost > 0


def test_gemini_error_is_recorded_at_no_cost_sync_stream_and_async(ledger):
    from google.genai import errors

    api = FakeGemini(fail_with=429)
    client = instrument(fake_sdks.genai_client(api), agent_id="a", ledger=ledger)

    async def run_async():
        with pytest.raises(errors.ClientError):
            await client.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")

    with attribution(ticket_id="T-1", customer_id="acme"):
        with pytest.raises(errors.ClientError):
            client.models.generate_content(model="gemini-2.5-flash", contents="hi")
        with pytest.raises(errors.ClientError):
            list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
        asyncio.run(run_async())
    assert [(r.status, r.cost) for r in rows(ledger)] == [("error", 0)] * 3


def test_mistral_and_cohere_streams_closed_early_and_errors(ledger):
    import cohere

    mistral = instrument(fake_sdks.mistral_client(FakeMistral()), agent_id="a", ledger=ledger)
    cohere_api = FakeCohere()
    client = instrument(fake_sdks.cohere_client(cohere_api), agent_id="a", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        stream = mistral.chat.stream(model="mistral-large-latest", messages=[{"role": "user", "content": "hi"}])
        next(iter(stream))
        stream.close()
        events = client.chat_stream(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
        next(iter(events))
        events.close()
        cohere_api.fail_with = 429
        with pytest.raises(cohere.core.api_error.ApiError):
            client.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
    mistral_row, cohere_row, cohere_error = rows(ledger)
    assert (mistral_row.provider, mistral_row.status, mistral_row.estimated) == ("mistral", "incomplete", True)
    assert (cohere_row.provider, cohere_row.status, cohere_row.estimated) == ("cohere", "incomplete", True)
    assert mistral_row.cost > 0 and cohere_row.cost > 0
    assert (cohere_error.status, cohere_error.cost) == ("error", 0)


# -- strict, instrument() with install() ------------------------------------------------------------

def test_strict_stops_each_sdk_before_anything_is_sent(ledger):
    bedrock_api, gemini, mistral_api, cohere_api = FakeBedrock(), FakeGemini(), FakeMistral(), FakeCohere()
    clients = [instrument(c, agent_id="a", ledger=ledger, strict=True) for c in (
        fake_bedrock.bedrock_client(bedrock_api), fake_sdks.genai_client(gemini),
        fake_sdks.mistral_client(mistral_api), fake_sdks.cohere_client(cohere_api))]
    bedrock, genai, mistral, cohere_client = clients
    calls = [
        lambda: bedrock.converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES),
        lambda: genai.models.generate_content(model="gemini-2.5-flash", contents="hi"),
        lambda: mistral.chat.complete(model="mistral-large-latest", messages=[{"role": "user", "content": "hi"}]),
        lambda: cohere_client.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}]),
    ]
    for call in calls:
        with pytest.raises(AttributionError, match="ticket_id, customer_id"):
            call()
    assert bedrock_api.requests == gemini.requests == mistral_api.requests == cohere_api.requests == []
    assert rows(ledger) == []


def test_instrumented_clients_are_recorded_once_under_install(ledger):
    install(ledger=ledger, agent_id="fallback")
    servers = fake_sdks.Servers()
    clients = [instrument(c, agent_id="own", ledger=ledger) for c in (
        fake_bedrock.bedrock_client(servers.bedrock), fake_sdks.genai_client(servers.gemini),
        fake_sdks.mistral_client(servers.mistral), fake_sdks.cohere_client(servers.cohere))]
    plain = fake_bedrock.bedrock_client(servers.bedrock)
    with attribution(ticket_id="T-1", customer_id="acme"):
        clients[0].converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)
        clients[1].models.generate_content(model="gemini-2.5-flash", contents="hi")
        clients[2].chat.complete(model="mistral-large-latest", messages=[{"role": "user", "content": "hi"}])
        clients[3].chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
        plain.converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)
    assert sorted(r.agent_id for r in rows(ledger)) == ["fallback", "own", "own", "own", "own"]
    uninstall()
    with attribution(ticket_id="T-1", customer_id="acme"):
        plain.converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)  # no longer recorded
        clients[0].converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES)  # still instrumented
    assert len(rows(ledger)) == 6


# -- an SDK imported after install() --------------------------------------------------------------

def test_an_sdk_imported_after_install_is_hooked_when_imported(tmp_path, monkeypatch):
    from attrlint.runtime import imports

    package = tmp_path / "latecomer_sdk"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    assert imports.when_imported("latecomer_sdk", lambda module: seen.append(module.VALUE)) is False
    assert "latecomer_sdk" in imports.waiting() and seen == []
    import latecomer_sdk  # noqa: F401 - the import is the event

    assert seen == [1] and "latecomer_sdk" not in imports.waiting()
    assert sys.modules["latecomer_sdk"].__spec__.loader.__class__.__name__ != "_Loader"
    monkeypatch.delitem(sys.modules, "latecomer_sdk")


def test_installed_lists_the_sdks_hooked_so_far():
    report = install()
    current = installed()
    assert report.patched == current.patched[:len(report.patched)]
    assert "botocore.client.BaseClient._make_api_call" in current.patched or "botocore.client" in current.waiting


def test_install_imports_no_sdk_itself(tmp_path):
    """install() hooks an SDK when the program imports it: litellm (seconds to import), boto3,
    google-genai, mistralai, cohere and the frameworks stay unimported until then."""
    import subprocess

    code = ("import sys; from attrlint.runtime import install; report = install(); "
            "print(sorted(m for m in ('litellm', 'botocore', 'google.genai', 'mistralai', 'cohere', "
            "'langchain_core', 'agents', 'pydantic_ai') if m in sys.modules)); print(len(report.waiting))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)}).stdout.splitlines()
    assert out[0] == "[]" and int(out[1]) >= 5
