"""A framework's own clients under `install()`: openai-agents over the mock API, next to a plain SDK call."""

from __future__ import annotations

import httpx2
import openai
import pytest
from support.fake_api import OPENAI_MODEL
from support.keys import fake_openai_key
from support.ledgers import rows

from attrlint.runtime import attribution, install

agents = pytest.importorskip("agents", reason="openai-agents is in the test extra")


def test_agents_runner_and_plain_sdk_call_each_record_one_attributed_row(api, tmp_path, monkeypatch):
    from attrlint.ledger import Ledger

    key = fake_openai_key()
    monkeypatch.setenv("RESEARCH_OPENAI_KEY", key)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.attrlint.keys.RESEARCH_OPENAI_KEY]\nagent = "research"\nowner = "ml-platform"\n')
    db = tmp_path / "ledger.db"
    ledger = Ledger(f"sqlite:///{db}", spill_dir=tmp_path / "spill")
    agents.set_tracing_disabled(True)
    install(ledger=ledger)

    # the framework's client, built the way its docs say; attrlint never sees it directly
    framework_client = agents.AsyncOpenAI(api_key=key, max_retries=0,
                                          http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api)))
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=framework_client)
    agent = agents.Agent(name="Researcher", instructions="Answer briefly.", model=model)
    plain = openai.OpenAI(api_key=key, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(api)))

    with attribution(ticket_id="T-100", customer_id="acme"):
        result = agents.Runner.run_sync(agent, "Say hello")
        with attribution(agent_id="support"):
            plain.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

    assert result.final_output == "Hello"
    assert [path for path, _ in api.requests] == ["/v1/responses", "/v1/chat/completions"]
    framework, sdk = rows(ledger)
    assert (framework.operation, framework.model, framework.agent_id, framework.agent_source) == (
        "responses", OPENAI_MODEL, "research", "registry")
    assert (sdk.operation, sdk.agent_id, sdk.agent_source) == ("chat", "support", "context")
    for record in (framework, sdk):
        assert (record.ticket_id, record.customer_id, record.status) == ("T-100", "acme", "ok")
        assert record.key_env == "RESEARCH_OPENAI_KEY" and record.cost > 0
        assert key not in repr(record)
    ledger.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*"))
    assert b"RESEARCH_OPENAI_KEY" in data  # the variable's name is stored...
    assert key.encode() not in data and key[8:].encode() not in data  # ...never its value


def test_agents_client_built_inside_the_framework_is_recorded(api, ledger, monkeypatch):
    """No user code touches the SDK client: agents' OpenAIProvider builds it from a key; only the
    HTTP transport under it is the mock API."""
    from agents.models import openai_provider

    key = fake_openai_key()
    monkeypatch.setenv("TRIAGE_OPENAI_KEY", key)
    monkeypatch.setattr(openai_provider, "_http_client", httpx2.AsyncClient(transport=httpx2.MockTransport(api)))
    agents.set_tracing_disabled(True)
    install(ledger=ledger, agent_id="triage")
    provider = openai_provider.OpenAIProvider(api_key=key, use_responses=False)  # chat completions this time
    agent = agents.Agent(name="Triage", instructions="Answer briefly.", model="gpt-4o")
    with attribution(ticket_id="T-200", customer_id="globex"):
        result = agents.Runner.run_sync(agent, "Say hello", run_config=agents.RunConfig(model_provider=provider))
    assert result.final_output == '{"answer": "Hello"}'
    assert [path for path, _ in api.requests] == ["/v1/chat/completions"]
    (record,) = rows(ledger)
    assert (record.operation, record.agent_id, record.agent_source) == ("chat", "triage", "instrument")
    assert (record.ticket_id, record.customer_id, record.key_env) == ("T-200", "globex", "TRIAGE_OPENAI_KEY")
    assert record.input_tokens == 1000 and record.cost > 0
