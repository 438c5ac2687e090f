"""Every attribution channel the linter accepts reaches the ledger: LangChain's
`config["metadata"]`, openai-agents' `RunConfig(trace_metadata=...)`, litellm's `metadata=`
(through dspy too), Vertex AI's `labels` and Bedrock's `requestMetadata`; and the frameworks
runtime.toml says are recorded `through` an SDK are, against fake APIs."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from support import fake_api, fake_bedrock, fake_sdks
from support.fake_sdks import Servers, litellm_settled
from support.keys import fake_google_key
from support.ledgers import rows

from attrlint.runtime import attribution, install, instrument, uninstall

MESSAGES = [{"role": "user", "content": "hi"}]


def _tickets(ledger):
    return sorted(((r.ticket_id, r.customer_id, r.status) for r in rows(ledger)), key=lambda t: t[0] or "")


# -- LangChain --------------------------------------------------------------------------------------

def _chat_openai(api, client=None):
    from langchain_openai import ChatOpenAI

    if client is not None:
        async_client = instrument(fake_api.openai_client(api, asynchronous=True), agent_id="support")
        return ChatOpenAI(model="gpt-4o", client=client.chat.completions, root_client=client,
                          async_client=async_client.chat.completions, root_async_client=async_client)
    return ChatOpenAI(model="gpt-4o", api_key=fake_api.fake_openai_key(),
                      http_client=httpx2.Client(transport=httpx2.MockTransport(api)),
                      http_async_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api)))


def test_langchain_config_metadata_reaches_the_ledger(api, ledger):
    """invoke, stream, ainvoke, astream, batch and an LCEL chain: each call carries its run's
    metadata; a run without any is unattributed (nothing leaks from the run before)."""
    from langchain_core.prompts import ChatPromptTemplate

    install(ledger=ledger, agent_id="support")
    llm = _chat_openai(api)
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | llm

    async def run_async():
        await llm.ainvoke("hi", config={"metadata": {"ticket_id": "T-3"}})
        async for _ in llm.astream("hi", config={"metadata": {"ticket_id": "T-4"}}):
            pass

    with attribution(customer_id="acme"):
        llm.invoke("hi", config={"metadata": {"ticket_id": "T-1", "ls_provider": "ignored"}})
        list(llm.stream("hi", config={"metadata": {"ticket_id": "T-2"}}))
        asyncio.run(run_async())
        chain.invoke({"q": "hi"}, config={"metadata": {"ticket": "T-5"}})  # an alias
        llm.batch(["a", "b"], config={"metadata": {"ticket_id": "T-6"}})
        llm.invoke("no metadata")
    assert _tickets(ledger) == [(None, "acme", "unattributed")] + [
        (f"T-{n}", "acme", "ok") for n in (1, 2, 3, 4, 5, 6, 6)]
    assert all(r.agent_id == "support" and "ls_provider" not in r.metadata for r in rows(ledger))


def test_langchain_metadata_reaches_an_instrumented_client(api, ledger):
    client = instrument(fake_api.openai_client(api), agent_id="support", ledger=ledger)
    llm = _chat_openai(api, client)
    with attribution(customer_id="acme"):
        llm.invoke("hi", config={"metadata": {"ticket_id": "T-7", "agent_id": "triage"}})
    (record,) = rows(ledger)
    assert (record.ticket_id, record.agent_id, record.agent_source) == ("T-7", "triage", "call")


def test_langchain_anthropic_config_metadata_reaches_the_ledger(ledger, provider_keys):
    from langchain_anthropic import ChatAnthropic

    servers = Servers()
    install(ledger=ledger, agent_id="support")
    with servers.transports(), attribution(customer_id="acme"):
        llm = ChatAnthropic(model="claude-sonnet-4-6", max_tokens=50)
        llm.invoke("hi", config={"metadata": {"ticket_id": "T-8"}})
    (record,) = rows(ledger)
    assert (record.provider, record.operation, record.ticket_id) == ("anthropic", "messages", "T-8")
    assert servers.api.requests[0][1].get("metadata") is None  # attribution keys never sent to Anthropic


def test_langchain_bedrock_and_gemini_models_are_recorded_with_their_metadata(ledger, provider_keys):
    from langchain_aws import ChatBedrockConverse
    from langchain_google_genai import ChatGoogleGenerativeAI

    servers = Servers()
    install(ledger=ledger, agent_id="support")
    with servers.transports(), attribution(customer_id="acme"):
        bedrock = ChatBedrockConverse(model=fake_bedrock.MODEL, client=fake_bedrock.bedrock_client(servers.bedrock))
        bedrock.invoke("hi", config={"metadata": {"ticket_id": "T-aws"}})
        gemini = ChatGoogleGenerativeAI(model="gemini-2.5-flash", api_key=fake_google_key())
        gemini.invoke("hi", config={"metadata": {"ticket_id": "T-gemini"}})
    found = {r.ticket_id: r for r in rows(ledger)}
    assert found["T-aws"].provider == "bedrock/us-east-1" and found["T-aws"].input_tokens == 1400
    assert found["T-gemini"].provider == "google" and found["T-gemini"].output_tokens == 80
    assert all(r.status == "ok" and r.cost > 0 for r in found.values())


# -- openai-agents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("tracing", ["off", "on"])
def test_agents_trace_metadata_reaches_the_ledger(api, ledger, tracing):
    """With tracing off the runner's scope carries it; with tracing on, the trace does as well."""
    agents = pytest.importorskip("agents", reason="openai-agents is in the test extra")

    agents.set_tracing_disabled(tracing == "off")
    install(ledger=ledger, agent_id="research")
    client = agents.AsyncOpenAI(api_key=fake_api.fake_openai_key(), max_retries=0,
                                http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api)))
    agent = agents.Agent(name="R", instructions="Answer.", model=agents.OpenAIResponsesModel(
        model="gpt-4o", openai_client=client))

    async def streamed():
        result = agents.Runner.run_streamed(agent, "hi", run_config=agents.RunConfig(
            trace_metadata={"ticket_id": "T-stream"}, tracing_disabled=tracing == "off"))
        async for _ in result.stream_events():
            pass

    with attribution(customer_id="acme"):
        agents.Runner.run_sync(agent, "hi", run_config=agents.RunConfig(
            trace_metadata={"ticket_id": "T-run"}, tracing_disabled=tracing == "off"))
        asyncio.run(streamed())
    assert _tickets(ledger) == [("T-run", "acme", "ok"), ("T-stream", "acme", "ok")]


# -- litellm, and dspy through it -------------------------------------------------------------------

def test_litellm_metadata_reaches_the_ledger_once_whichever_client_sends_it(ledger, provider_keys):
    """Over litellm's own HTTP client (Anthropic) and through the openai SDK (OpenAI, recorded by
    its hook with litellm's metadata): one row each, attributed by `metadata=`."""
    import litellm

    servers = Servers()
    install(ledger=ledger, agent_id="support")
    with servers.transports(), attribution(customer_id="acme"):
        litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MESSAGES,
                           metadata={"ticket_id": "T-1", "trace": "not a field"})
        litellm.completion(model="gpt-4o", messages=MESSAGES, metadata={"ticket_id": "T-2"})
        litellm_settled()
    anthropic_row, openai_row = sorted(rows(ledger), key=lambda r: r.ticket_id)
    assert (anthropic_row.provider, anthropic_row.ticket_id, anthropic_row.input_tokens) == ("anthropic", "T-1", 1600)
    assert (openai_row.provider, openai_row.ticket_id, openai_row.request_id) == ("openai", "T-2", "req_chat")
    assert "trace" not in anthropic_row.metadata


def test_an_instrumented_litellm_router_records_with_its_own_settings(ledger, provider_keys, tmp_path):
    import litellm

    from attrlint.ledger import Ledger

    servers = Servers()
    other = Ledger(f"sqlite:///{tmp_path / 'other.db'}", spill_dir=tmp_path / "spill2")
    install(ledger=other, agent_id="fallback")
    router = instrument(litellm.Router(model_list=[
        {"model_name": "gpt", "litellm_params": {"model": "gpt-4o"}},
        {"model_name": "claude", "litellm_params": {"model": "anthropic/claude-sonnet-4-6"}}]),
        agent_id="router-agent", ledger=ledger)
    with servers.transports(), attribution(ticket_id="T-1", customer_id="acme"):
        router.completion(model="gpt", messages=MESSAGES)  # through the openai SDK's hook
        router.completion(model="claude", messages=MESSAGES)  # litellm's own client
        litellm_settled()
    assert sorted((r.provider, r.agent_id) for r in rows(ledger)) == [("anthropic", "router-agent"),
                                                                        ("openai", "router-agent")]
    assert rows(other) == []
    other.close()


def test_litellm_strict_cannot_stop_a_call_so_records_it_unattributed(ledger, provider_keys, caplog):
    import litellm

    servers = Servers()
    install(ledger=ledger, agent_id="support", strict=True)
    with servers.transports():
        litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MESSAGES)
        litellm_settled()
    (record,) = rows(ledger)
    assert record.status == "unattributed"
    assert "missing attribution field(s) ticket_id, customer_id" in caplog.text


def test_litellm_failure_is_recorded_at_no_cost(ledger, provider_keys):
    import litellm

    servers = Servers()
    servers.api.fail_with = 429
    install(ledger=ledger, agent_id="support")
    with servers.transports(), attribution(ticket_id="T-1", customer_id="acme"), pytest.raises(Exception):  # noqa: B017
        litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MESSAGES, num_retries=0)
    litellm_settled()
    (record,) = rows(ledger)
    assert (record.status, record.cost) == ("error", 0)


def test_uninstall_takes_the_litellm_logger_out(ledger, provider_keys):
    import litellm

    servers = Servers()
    install(ledger=ledger, agent_id="support")
    with servers.transports():
        litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MESSAGES)
        litellm_settled()
        uninstall()
        litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MESSAGES)
        litellm_settled()
    assert len(rows(ledger)) == 1
    assert not any(type(c).__name__ == "AttrlintLogger" for c in litellm.callbacks)


def test_dspy_litellm_engine_is_recorded_with_its_metadata(ledger, provider_keys):
    dspy = pytest.importorskip("dspy", reason="dspy is in the test extra")

    servers = Servers()
    install(ledger=ledger, agent_id="support")
    with servers.transports(), attribution(customer_id="acme"):
        lm = dspy.LM("anthropic/claude-sonnet-4-6", cache=False, engine="litellm")
        assert lm("hi", metadata={"ticket_id": "T-dspy"})
        litellm_settled()
    (record,) = rows(ledger)
    assert (record.provider, record.ticket_id, record.status) == ("anthropic", "T-dspy", "ok")


def test_dspy_predictors_are_recorded_with_the_attribution_around_them(ledger, provider_keys):
    """A predictor takes no metadata (its keywords are signature inputs): the attribution block
    around it reaches every LM call it makes."""
    dspy = pytest.importorskip("dspy", reason="dspy is in the test extra")

    servers = Servers()
    install(ledger=ledger, agent_id="support")
    predict = dspy.Predict("question -> answer")
    with servers.transports(), dspy.context(lm=dspy.LM("anthropic/claude-sonnet-4-6", cache=False, engine="litellm")):
        with attribution(ticket_id="T-predict", customer_id="acme"):
            try:
                predict(question="hi")
            except Exception:  # noqa: BLE001 - the fake model's reply need not fit the signature
                pass
        litellm_settled()
    found = rows(ledger)
    assert found and {(r.provider, r.ticket_id, r.customer_id) for r in found} == {("anthropic", "T-predict", "acme")}


def test_pydantic_ai_agents_are_recorded_with_their_metadata(ledger, provider_keys):
    """The agent's metadata and the run's (winning) are the calls' attribution: run_sync, run
    and run_stream alike."""
    from pydantic_ai import Agent

    servers = Servers()
    install(ledger=ledger, agent_id="support")

    async def run_async(agent):
        await agent.run("hi", metadata={"ticket_id": "T-run"})
        async with agent.run_stream("hi", metadata={"ticket_id": "T-stream"}) as result:
            await result.get_output()

    with servers.transports(), attribution(customer_id="acme"):
        openai_agent = Agent("openai:gpt-4o", metadata={"ticket_id": "T-agent"})
        assert openai_agent.run_sync("hi").output
        assert Agent("anthropic:claude-sonnet-4-6").run_sync("hi", metadata={"ticket_id": "T-claude"}).output
        asyncio.run(run_async(openai_agent))
    assert sorted((r.ticket_id, r.provider, r.status) for r in rows(ledger)) == [
        ("T-agent", "openai", "ok"), ("T-claude", "anthropic", "ok"), ("T-run", "openai", "ok"),
        ("T-stream", "openai", "ok")]


# -- the SDKs' own channels -------------------------------------------------------------------------

def test_bedrock_request_metadata_and_vertex_labels_are_the_calls_attribution(ledger):
    from google.genai import types

    servers = Servers()
    bedrock = instrument(fake_bedrock.bedrock_client(servers.bedrock, region="eu-west-1"), agent_id="a",
                         ledger=ledger)
    vertex = instrument(fake_sdks.genai_client(servers.gemini, vertex=True), agent_id="a", ledger=ledger)
    with attribution(ticket_id="T-ambient", customer_id="acme"):
        bedrock.converse(modelId=fake_bedrock.MODEL, messages=fake_bedrock.MESSAGES,
                         requestMetadata={"ticket_id": "T-bedrock"})
        vertex.models.generate_content(model="gemini-2.5-flash", contents="hi",
                                       config=types.GenerateContentConfig(labels={"ticket_id": "t-vertex"}))
    found = {r.provider: r for r in rows(ledger)}
    assert found["bedrock/eu-west-1"].ticket_id == "T-bedrock"
    assert found["vertex/europe-west4"].ticket_id == "t-vertex"
    assert servers.bedrock.requests[0][1]["requestMetadata"] == {"ticket_id": "T-bedrock"}  # sent as given
    assert servers.gemini.requests[0][1]["labels"] == {"ticket_id": "t-vertex"}

