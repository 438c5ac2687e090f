"""Frameworks, legacy and Vertex APIs, re-exports and non-LLM calls, as provider data."""

from __future__ import annotations

import pytest

ATTR = 'from attrlint.runtime import attribution\n'
FULL = 'ticket_id=t, customer_id=c, agent_id="a"'
META = '{"ticket_id": t, "customer_id": c, "agent_id": "a"}'


@pytest.mark.parametrize("call", [
    'client.images.generate(prompt="x")',
    'client.images.edit(image=i, prompt="x")',
    'client.audio.speech.create(model="tts-1", voice="alloy", input="x")',
    'client.audio.transcriptions.create(model="whisper-1", file=f)',
    'client.audio.translations.create(model="whisper-1", file=f)',
    'client.batches.create(input_file_id=f, endpoint="/v1/chat/completions", completion_window="24h")',
    'client.beta.responses.create(model="m", input="x")',
    'client.audio.speech.with_streaming_response.create(model="tts-1", voice="alloy", input="x")',
])
def test_other_billable_openai_calls(lint, call):
    source = f"from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n{call}\n"
    assert lint(source) == [("ATR001", 3)]
    wrapped = f"with attribution({FULL}):\n    {call}"
    assert lint(ATTR + source.replace(call, wrapped)) == []


def test_moderations_are_free(lint):
    assert lint("from openai import OpenAI\nclient = OpenAI(api_key=KEY)\nclient.moderations.create(input='x')\n") == []


def test_methods_without_metadata_point_at_attribution(lint):
    from attrlint.lint.engine import Linter
    from attrlint.lint.suppression import Options
    from support.source import config

    result = Linter(config(), Options()).lint_text(
        "from openai import OpenAI\nclient = OpenAI(api_key=KEY)\nclient.images.generate(prompt='x')\n", "m.py")
    assert "attribution(" in result.findings[0].message and "metadata=" not in result.findings[0].message


def test_batches_take_metadata(lint):
    source = f"from openai import OpenAI\nclient = OpenAI(api_key=KEY)\nclient.batches.create(input_file_id=f, metadata={META})\n"
    assert lint(source) == []


@pytest.mark.parametrize("call", [
    "openai.ChatCompletion.create(model='gpt-3.5-turbo', messages=[])",
    "openai.ChatCompletion.acreate(model='gpt-3.5-turbo', messages=[])",
    "openai.Completion.create(model='davinci', prompt='x')",
    "openai.Embedding.create(model='ada', input='x')",
])
def test_legacy_v0_api(lint, call):
    assert lint(f"import openai\nopenai.api_key = KEY\n{call}\n") == [("ATR001", 3)]
    assert lint(f"import openai\n{ATTR}with attribution({FULL}):\n    {call}\n") == []


def test_legacy_v0_from_import(lint):
    assert lint("from openai import ChatCompletion\nChatCompletion.create(model='m', messages=[])\n") == [("ATR001", 2)]
    assert lint("import openai\nopenai.Moderation.create(input='x')\n") == []


def test_vertex_generate_content_labels(lint):
    head = "from vertexai.generative_models import GenerativeModel\nmodel = GenerativeModel('gemini-1.5-pro')\n"
    assert lint(head + "model.generate_content('hi')\n") == [("ATR001", 3)]
    assert lint(head + f"model.generate_content('hi', labels={META})\n") == []
    assert lint(head + 'model.generate_content("hi", labels={"ticket_id": t})\n') == [("ATR002", 3)]
    assert lint("from vertexai.preview.generative_models import GenerativeModel\n"
                "GenerativeModel('g').generate_content('hi')\n") == [("ATR001", 2)]
    assert lint(head + "model.count_tokens('hi')\n") == []


@pytest.mark.parametrize("imports,ctor", [
    ("from langfuse.openai import openai", "openai.OpenAI(api_key=KEY)"),
    ("from langfuse.openai import OpenAI", "OpenAI(api_key=KEY)"),
    ("from agents import AsyncOpenAI", "AsyncOpenAI(api_key=KEY)"),
    ("from agents import OpenAI", "OpenAI(api_key=KEY)"),
])
def test_reexporting_modules(lint, imports, ctor):
    assert lint(f"{imports}\nclient = {ctor}\nclient.chat.completions.create(model='m', messages=[])\n") == [("ATR001", 3)]


def test_langfuse_module_receiver(lint):
    assert lint("from langfuse.openai import openai\nopenai.chat.completions.create(model='m', messages=[])\n") == [("ATR001", 2)]


# -- frameworks -----------------------------------------------------------------------------

FRAMEWORKS = [
    # (setup, call without attribution, the same call with attribution in its own parameter or None)
    ("from agents import Agent, Runner\nagent = Agent(name='a')\n",
     "Runner.run_sync(agent, 'hi')",
     f"Runner.run_sync(agent, 'hi', run_config=RunConfig(trace_metadata={META}))"),
    ("from agents import Agent, Runner\nagent = Agent(name='a')\n",
     "Runner.run(agent, 'hi')", None),
    ("import agents\n", "agents.Runner.run_streamed(agent, 'hi')",
     f"agents.Runner.run_streamed(agent, 'hi', run_config=agents.RunConfig(trace_metadata={META}))"),
    ("from pydantic_ai import Agent\nagent = Agent('openai:gpt-4o')\n",
     "agent.run_sync('hi')", f"agent.run_sync('hi', metadata={META})"),
    ("from pydantic_ai import Agent\nagent = Agent('openai:gpt-4o')\n", "agent.run('hi')", None),
    ("from pydantic_ai import Agent\nagent = Agent('openai:gpt-4o')\n", "agent.run_stream('hi')", None),
    ("from crewai import Crew\ncrew = Crew(agents=[a], tasks=[t])\n", "crew.kickoff(inputs={})", None),
    ("from crewai import Crew\ncrew = Crew(agents=[a], tasks=[t])\n", "crew.kickoff_async(inputs={})", None),
    ("from crewai import LLM\nllm = LLM(model='openai/gpt-4o')\n", "llm.call('hi')", None),
    ("from agno.agent import Agent\nagent = Agent(model=m)\n", "agent.run('hi')", f"agent.run('hi', metadata={META})"),
    ("from agno.agent import Agent\nagent = Agent(model=m)\n", "agent.arun('hi')", None),
    ("from agno.agent import Agent\nagent = Agent(model=m)\n", "agent.print_response('hi')", None),
    ("from llama_index.llms.openai import OpenAI\nllm = OpenAI(model='gpt-4o', api_key=KEY)\n",
     "llm.complete('hi')", f"llm.complete('hi', metadata={META})"),
    ("from llama_index.llms.openai import OpenAI\nllm = OpenAI(model='gpt-4o', api_key=KEY)\n", "llm.chat(msgs)", None),
    ("from llama_index.llms.anthropic import Anthropic\nllm = Anthropic(api_key=KEY)\n", "llm.stream_chat(msgs)", None),
    ("from llama_index.llms.openai import OpenAI\nllm = OpenAI(api_key=KEY)\n", "llm.acomplete('hi')", None),
    ("import dspy\nlm = dspy.LM('openai/gpt-4o-mini')\n", "lm('hi')", f"lm('hi', metadata={META})"),
    ("import dspy\nlm = dspy.LM('openai/gpt-4o-mini')\n", "lm(messages=[])", None),
    ("import instructor\nfrom openai import OpenAI\nclient = instructor.from_openai(OpenAI(api_key=KEY))\n",
     "client.chat.completions.create(response_model=M, messages=[])",
     f"client.chat.completions.create(response_model=M, messages=[], metadata={META})"),
    ("import instructor\nclient = instructor.from_provider('anthropic/claude-sonnet-4-5')\n",
     "client.create(response_model=M, messages=[])", None),
    ("import instructor\nfrom openai import OpenAI\nclient = instructor.patch(OpenAI(api_key=KEY))\n",
     "client.chat.completions.create(response_model=M, messages=[])", None),
]


@pytest.mark.parametrize("setup,call,attributed", FRAMEWORKS)
def test_frameworks(lint, setup, call, attributed):
    source = setup + call + "\n"
    line = source.count("\n")
    assert lint(source) == [("ATR001", line)]
    indented = f"{ATTR}{setup}with attribution({FULL}):\n    {call}\n"
    assert lint(indented) == []
    if attributed:
        extra = "from agents import RunConfig\n" if "RunConfig(" in attributed and "agents." not in attributed else ""
        assert lint(extra + setup + attributed + "\n") == []


def test_instructor_patch_keeps_the_wrapped_sdk(lint):
    # patch() hands back the same openai client, so openai's rules (metadata limits) apply
    source = ("import instructor\nfrom anthropic import Anthropic\n"
              "client = instructor.patch(Anthropic(api_key=KEY))\n"
              "client.messages.create(model='m', max_tokens=5, messages=[], metadata={'ticket_id': t})\n")
    assert ("ATR007", 4) in lint(source)


def test_framework_other_methods_are_not_calls(lint):
    assert lint("from crewai import Crew\ncrew = Crew(agents=[])\ncrew.train(n_iterations=2)\n") == []
    assert lint("from pydantic_ai import Agent\nagent = Agent('openai:gpt-4o')\nagent.tool(f)\n") == []
    assert lint("import dspy\ndspy.configure(lm=lm)\n") == []


# -- resolution is by import source ----------------------------------------------------------

def test_local_class_named_runner_is_not_openai_agents(lint):
    source = "class Runner:\n    @classmethod\n    def run(cls, job):\n        pass\nRunner.run(job)\n"
    assert lint(source) == []


def test_unimported_agent_is_not_a_framework(lint):
    assert lint("agent = Agent('openai:gpt-4o')\nagent.run_sync('hi')\ncrew.kickoff()\n") == []


def test_project_local_agents_package(project):
    files = {
        "agents/__init__.py": "class Runner:\n    @staticmethod\n    def run(x):\n        return x\n",
        "main.py": "from agents import Runner\nfrom openai import OpenAI\nRunner.run(1)\n",
    }
    assert [f for f in project(files) if f[0] < "ATR100"] == []
    # without the local package it is openai-agents
    files = {"main.py": "from agents import Runner\nRunner.run(agent, 'x')\n"}


def test_openai_agents_without_local_package(project):
    assert [f for f in project({"main.py": "from agents import Runner\nRunner.run(agent, 'x')\n"}) if f[0] < "ATR100"] == [
        ("ATR001", "main.py", 2)]


# -- not LLM calls -----------------------------------------------------------------------------

def test_thread_messages_are_not_llm_calls(lint):
    source = ("from openai import OpenAI\nclient = OpenAI(api_key=KEY)\n"
              "client.beta.threads.messages.create(thread_id=t, role='user', content='hi')\n")
    assert lint(source) == []
    assert lint("def add(client):\n    client.beta.threads.messages.create(thread_id=t, role='user', content='x')\n") == []


def test_stripe_and_other_metadata_calls(lint):
    assert lint("import stripe\nstripe.Customer.create(email=e, metadata={'ticket_id': 'TODO'})\n") == []
    assert lint("import stripe\nstripe.PaymentIntent.create(amount=1, metadata={'x': 1})\n") == []
    assert lint("def f(svc):\n    svc.jobs.create(metadata={'email': e})\n") == []
