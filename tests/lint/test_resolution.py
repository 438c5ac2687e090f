"""Receiver resolution: which calls are LLM calls, and where their attribution comes from.

Each fixture is real code; `# error: CODE` marks the line where the finding belongs.
"""

from __future__ import annotations

import pytest
from support.source import assert_annotated, lint

ATTRIBUTION = ("ATR001", "ATR002", "ATR007", "ATR008")


def test_import_aliases():
    assert_annotated('''
        import anthropic as ant
        from openai import AsyncOpenAI as AOAI

        a = ant.Anthropic(api_key=KEY)
        o = AOAI(api_key=KEY)

        a.messages.create(model="m", max_tokens=5, messages=[])  # error: ATR001
        async def go():
            await o.chat.completions.create(model="m", messages=[])  # error: ATR001
    ''', only=ATTRIBUTION)


def test_assignment_chain_and_reassignment():
    assert_annotated('''
        from openai import OpenAI
        client = OpenAI(api_key=KEY)
        alias = client
        chat = alias.chat
        chat.completions.create(model="m", messages=[])  # error: ATR001
        from anthropic import Anthropic
        client = Anthropic(api_key=KEY)
        client.messages.create(model="m", max_tokens=5, messages=[])  # error: ATR001
        client.chat.completions.create(model="m", messages=[])  # an Anthropic client has no such method
    ''', only=ATTRIBUTION)


def test_self_attribute_set_in_init_used_by_an_earlier_method():
    assert_annotated('''
        from openai import OpenAI

        class Bot:
            def ask(self, q):
                return self.llm.chat.completions.create(model="m", messages=[])  # error: ATR001

            def __init__(self):
                self.llm = OpenAI(api_key=KEY)
    ''', only=ATTRIBUTION)


@pytest.mark.parametrize("annotation", ["OpenAI", "Optional[OpenAI]", '"OpenAI"', "OpenAI | None"])
def test_parameter_annotations_resolve_the_client(annotation):
    findings = assert_annotated(f'''
        from typing import Optional
        from openai import OpenAI

        def f(c: {annotation}):
            return c.chat.completions.create(model="m", messages=[])  # error: ATR001
    ''', only=ATTRIBUTION)
    assert findings[0].message.startswith("openai `chat.completions.create`")


def test_annotated_anthropic_parameter_is_recognised():
    # `.messages.create` is Anthropic's on an annotated receiver; on an unknown one only when its
    # keywords have the Messages API's shape (model, max_tokens, messages)
    assert_annotated('''
        from anthropic import Anthropic

        def f(c: Anthropic, other):
            c.messages.create(model="m", messages=[])  # error: ATR001
            other.messages.create(model="m", max_tokens=5, messages=[])  # error: ATR001
            other.messages.create(model="m", messages=[])
            other.messages.create(to="+1555", body="hi")
    ''', only=ATTRIBUTION)


def test_instrument_supplies_agent_id_and_attribution_blocks_the_rest():
    assert_annotated('''
        import attrlint.runtime as rt
        from attrlint.runtime import attribution, instrument
        from openai import OpenAI
        from anthropic import Anthropic

        oa = instrument(OpenAI(api_key=KEY), agent_id="support")
        an = rt.instrument(Anthropic(api_key=KEY), agent_id="support")

        oa.chat.completions.create(model="m", messages=[])  # error: ATR002
        with attribution(ticket_id=t):
            with attribution(customer_id=c):
                oa.chat.completions.create(model="m", messages=[])

        async def go():
            async with attribution(ticket_id=t, customer_id=c):
                await oa.chat.completions.create(model="m", messages=[])

        with rt.attribution(ticket_id=t, customer_id=c):
            an.messages.create(model="m", max_tokens=5, messages=[])

        # an instrumented Anthropic client moves attribution fields out of metadata
        an.messages.create(model="m", max_tokens=5, messages=[],
                           metadata={"ticket_id": t, "customer_id": c, "user_id": u})
        # but other keys are still rejected by the API
        an.messages.create(model="m", max_tokens=5, messages=[], metadata={"ticket_id": t, "customer_id": c, "colour": "red"})  # error: ATR007
    ''', only=ATTRIBUTION)


def test_attribution_does_not_leak_out_of_its_block():
    assert_annotated('''
        from attrlint.runtime import attribution
        from openai import OpenAI
        client = OpenAI(api_key=KEY)
        with attribution(ticket_id=t, customer_id=c, agent_id="a"):
            client.chat.completions.create(model="m", messages=[])
        client.chat.completions.create(model="m", messages=[])  # error: ATR001

        def later():
            client.responses.create(model="m", input="x")  # error: ATR001
    ''', only=ATTRIBUTION)


def test_chains_through_raw_streaming_and_options():
    assert_annotated('''
        from openai import OpenAI
        client = OpenAI(api_key=KEY)
        client.chat.completions.with_raw_response.create(model="m", messages=[])  # error: ATR001
        client.with_options(timeout=3).chat.completions.create(model="m", messages=[])  # error: ATR001
        client.responses.with_streaming_response.create(model="m", input="x")  # error: ATR001
        client.with_options(max_retries=1).chat.completions.with_raw_response.create(model="m", messages=[], metadata={"ticket_id": t})  # error: ATR002
        client.models.list()
        client.files.create(file=f, purpose="batch")
    ''', only=ATTRIBUTION)


def test_unknown_receivers():
    # OpenAI-compatible method paths are LLM calls whatever the receiver; `.messages.create` is not
    assert_annotated('''
        def run(client, llm, twilio_client, **kwargs):
            client.chat.completions.create(model="m", messages=[])  # error: ATR001
            llm.responses.create(model="m", input="x")  # error: ATR001
            get_client().chat.completions.create(model="m", messages=[], metadata={"ticket_id": t})  # error: ATR002
            llm.chat.completions.create(model="m", messages=[], metadata=meta())  # error: ATR008
            client.messages.create(model="m", max_tokens=5, messages=[])  # error: ATR001
            twilio_client.messages.create(body="hi", to="+1555")
            Model.objects.create(name="x")
            client.chat.completions.create(model="m", messages=[], metadata={"ticket_id": t, "customer_id": c, "agent_id": "a"})
    ''', only=ATTRIBUTION)


def test_unverifiable_call_is_reported_without_strict():
    # fail closed: a call whose attribution cannot be read is reported by default
    source = '''
        def run(client):
            client.chat.completions.create(model="m", messages=[], **options())
    '''
    assert [f.code for f in lint(source, strict=False)] == ["ATR008"]
    assert [f.code for f in lint(source, strict=True)] == ["ATR008"]


def test_twilio_and_orm_are_not_llm_calls():
    assert_annotated('''
        from twilio.rest import Client
        from django.db import models
        twilio_client = Client(sid, token)
        twilio_client.messages.create(body="hi", to=n)
        Model.objects.create(name="x")
        Ticket.objects.create(ticket_id=None)
    ''')


def test_litellm_by_alias_and_module():
    assert_annotated('''
        import litellm as ll
        from litellm import completion as c, acompletion

        c(model="m", messages=[])  # error: ATR001
        ll.completion(model="m", messages=[], metadata={"ticket_id": t})  # error: ATR002
        async def go():
            await acompletion(model="m", messages=[], metadata={"ticket_id": t, "customer_id": cu, "agent_id": "a"})
    ''', only=ATTRIBUTION)


def test_google_genai_labels():
    assert_annotated('''
        from google import genai
        client = genai.Client(api_key=KEY)
        client.models.generate_content(model="gemini-2.5-flash", contents="x")  # error: ATR001
        client.models.generate_content(model="g", contents="x",
            config={"labels": {"ticket_id": t, "customer_id": c, "agent_id": "a"}})
        client.models.generate_content(model="g", contents="x", config={"labels": {"ticket_id": t}})  # error: ATR002
        async def go():
            await client.aio.models.generate_content(model="g", contents="x")  # error: ATR001
            await client.aio.models.generate_content(model="g", contents="x",
                config={"labels": {"ticket_id": t, "customer_id": c, "agent_id": "a"}})
    ''', only=ATTRIBUTION)


def test_bedrock_request_metadata():
    assert_annotated('''
        import boto3
        brt = boto3.client("bedrock-runtime", region_name="us-east-1")
        s3 = boto3.client("s3")
        brt.converse(modelId="m", messages=[])  # error: ATR001
        brt.converse(modelId="m", messages=[],
                     requestMetadata={"ticket_id": t, "customer_id": c, "agent_id": "a"})
        brt.converse(modelId="m", messages=[], requestMetadata={"ticket_id": t, "customer_id": c, "agent_id": 7})  # error: ATR007
        s3.put_object(Bucket="b", Key="k")
    ''', only=ATTRIBUTION)


def test_langchain_config_metadata():
    assert_annotated('''
        from langchain_openai import ChatOpenAI
        from langchain_anthropic import ChatAnthropic
        llm = ChatOpenAI(model="gpt-4o", api_key=KEY)
        claude = ChatAnthropic(model="c", api_key=KEY)
        llm.invoke(msgs)  # error: ATR001
        llm.invoke(msgs, config={"metadata": {"ticket_id": t, "customer_id": c, "agent_id": "a"}})
        llm.invoke(msgs, {"metadata": {"ticket_id": t, "customer_id": c, "agent_id": "a"}})
        claude.invoke(msgs, config={"metadata": {"ticket_id": t}})  # error: ATR002
    ''', only=ATTRIBUTION)


def test_mistral_and_cohere():
    assert_annotated('''
        from mistralai import Mistral
        import cohere
        m = Mistral(api_key=KEY)
        co = cohere.ClientV2(api_key=KEY)
        m.chat.complete(model="mistral-large-latest", messages=[])  # error: ATR001
        co.chat(model="command-r", messages=[])  # error: ATR001
        from attrlint.runtime import attribution
        with attribution(ticket_id=t, customer_id=c, agent_id="a"):
            m.chat.complete(model="m", messages=[])
            co.chat(model="c", messages=[])
    ''', only=ATTRIBUTION)


def test_call_rule_position_is_the_first_token_of_the_call():
    findings = lint('''
        from openai import OpenAI
        client = OpenAI(api_key=KEY)
        def f():
            return client.chat.completions.create(
                model="m", messages=[])
    ''')
    (finding,) = [f for f in findings if f.code == "ATR001"]
    assert (finding.line, finding.column) == (5, 12)
    assert (finding.end_line, finding.end_column) == (6, 32)
