"""Provider identity from where the request went: labels from base URLs, only the host kept,
self-hosted servers never priced at a public list price."""

from __future__ import annotations

import httpx2
import pytest
from support.fake_api import MockAPI, only
from support.keys import fake_openai_key

from attrlint.runtime import attribution, instrument
from attrlint.runtime.providers import host_of, provider_for_url


@pytest.mark.parametrize(("url", "label", "host"), [
    ("https://api.openai.com/v1", "openai", "api.openai.com"),
    ("https://contoso.openai.azure.com/openai", "azure", "contoso.openai.azure.com"),
    ("https://contoso.cognitiveservices.azure.com/", "azure", "contoso.cognitiveservices.azure.com"),
    ("https://api.anthropic.com", "anthropic", "api.anthropic.com"),
    ("https://api.deepseek.com/v1", "deepseek", "api.deepseek.com"),
    ("https://openrouter.ai/api/v1", "openrouter", "openrouter.ai"),
    ("https://generativelanguage.googleapis.com/v1beta/openai/", "google", "generativelanguage.googleapis.com"),
    ("https://bedrock-runtime.eu-west-1.amazonaws.com", "bedrock/eu-west-1", "bedrock-runtime.eu-west-1.amazonaws.com"),
    ("https://us-east5-aiplatform.googleapis.com/v1", "vertex/us-east5", "us-east5-aiplatform.googleapis.com"),
    ("https://aiplatform.googleapis.com/v1", "vertex/global", "aiplatform.googleapis.com"),
    ("https://api.mistral.ai", "mistral", "api.mistral.ai"),
    ("https://api.groq.com/openai/v1", "groq", "api.groq.com"),
    ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "dashscope", "dashscope-intl.aliyuncs.com"),
    ("https://open.bigmodel.cn/api/paas/v4/", "zhipu", "open.bigmodel.cn"),
    ("https://api.fireworks.ai/inference/v1", "fireworks", "api.fireworks.ai"),
    ("https://api.together.xyz/v1", "together", "api.together.xyz"),
    ("http://localhost:8000/v1", "self-hosted", "localhost:8000"),
    ("http://10.0.0.5/v1", "self-hosted", "10.0.0.5"),
])
def test_provider_label_from_base_url(url, label, host):
    assert provider_for_url(url) == (label, host)


def test_only_the_host_is_kept():
    assert host_of("https://user:secret@llm.internal:8443/v1/chat?api_key=abc") == "llm.internal:8443"
    assert host_of("https://api.openai.com:443/v1") == "api.openai.com"
    assert host_of(None) is None


def _client(api: MockAPI, base_url: str):
    import openai

    return openai.OpenAI(api_key=fake_openai_key(), max_retries=0, base_url=base_url,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(api)))


@pytest.mark.parametrize(("base_url", "provider"), [
    ("https://api.deepseek.com", "deepseek"), ("https://openrouter.ai/api/v1", "openrouter"),
    ("https://generativelanguage.googleapis.com/v1beta/openai/", "google"),
    ("https://contoso.openai.azure.com/openai/v1", "azure"),
])
def test_openai_sdk_clients_are_recorded_under_the_provider_they_call(api, ledger, base_url, provider):
    client = instrument(_client(api, base_url), agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    record = only(ledger)
    assert record.provider == provider and record.host == host_of(base_url)
    assert "/" not in record.host


def test_self_hosted_model_with_a_public_name_is_not_billed_at_the_list_price(api, ledger):
    client = instrument(_client(api, "http://vllm.internal:8000/v1"), agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    record = only(ledger)
    assert (record.provider, record.host, record.cost) == ("self-hosted", "vllm.internal:8000", 0)
    assert record.price_source == "self-hosted (no price configured)"


def test_self_hosted_price_is_configurable(api, tmp_path):
    from decimal import Decimal

    from attrlint.ledger import Ledger

    (tmp_path / "pyproject.toml").write_text(
        '[tool.attrlint.pricing."self-hosted:*"]\ninput = 0.10\noutput = 0.40\n')
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}", spill_dir=tmp_path / "spill")
    client = instrument(_client(api, "http://vllm.internal:8000/v1"), agent_id="triage", ledger=ledger)
    with attribution(ticket_id="T-1", customer_id="acme"):
        client.chat.completions.create(model="llama-3.1-70b", messages=[{"role": "user", "content": "hi"}])
    record = only(ledger)
    assert record.cost == Decimal("0.000140")  # 1000 * 0.10 / M + 100 * 0.40 / M
    assert record.price_source == "override self-hosted:*"
    ledger.close()
