"""Project-wide inference: the patterns real applications use to reach an LLM call, each with
a minimal example and its non-cases. Every test runs the whole project phase."""

from __future__ import annotations

import sys

import pytest

ATTRIBUTION = ("ATR001", "ATR002", "ATR004", "ATR008")


def attribution(findings):
    return sorted((code, path, line) for code, path, line in findings if code in ATTRIBUTION)


# -- 1. arguments through a dict built elsewhere ---------------------------------------------------

def test_kwargs_from_a_builder_method_are_read(project):
    files = {"app.py": """
        from openai import OpenAI

        class Bot:
            def __init__(self):
                self.client = OpenAI(api_key=KEY)

            def _request(self, messages):
                return {"model": "gpt-4o", "messages": messages, "metadata": {"ticket_id": T}}

            def _full(self, messages):
                return {"model": "gpt-4o", "messages": messages,
                        "metadata": {"ticket_id": T, "customer_id": C, "agent_id": "bot"}}

            def ask(self, q):
                return self.client.chat.completions.create(**self._request([q]))

            def ask_full(self, q):
                return self.client.chat.completions.create(**self._full([q]))
        """}
    # the builder's dict is known: ATR002 (not "cannot verify"), and the complete one passes
    assert attribution(project(files)) == [("ATR002", "app.py", 16)]


def test_kwargs_nobody_can_read_are_unverifiable(project):
    files = {"app.py": """
        import json
        from openai import OpenAI

        client = OpenAI(api_key=KEY)

        def ask(raw):
            return client.chat.completions.create(model="m", messages=[], **json.loads(raw))
        """}
    assert attribution(project(files)) == [("ATR008", "app.py", 8)]


# -- 2. a client from a factory or a method ---------------------------------------------------------

def test_client_from_a_factory_in_another_module(project):
    files = {
        "clients.py": """
            import anthropic
            from functools import lru_cache

            @lru_cache
            def get_anthropic_client() -> anthropic.AsyncAnthropic:
                return anthropic.AsyncAnthropic(api_key=KEY)

            def make_genai():
                from google import genai
                return genai.Client(api_key=KEY)
            """,
        "use.py": """
            import clients

            async def summarise(text):
                client = clients.get_anthropic_client()
                return await client.messages.create(model="m", max_tokens=10, messages=[])

            def image(prompt):
                return clients.make_genai().models.generate_content(model="m", contents=prompt)
            """,
    }
    assert attribution(project(files)) == [("ATR001", "use.py", 6), ("ATR001", "use.py", 9)]


def test_client_returned_by_an_unannotated_method(project):
    files = {"svc.py": """
        from openai import OpenAI

        class Service:
            def _client(self):
                return OpenAI(api_key=KEY)

            def embed(self, text):
                return self._client().embeddings.create(model="m", input=text)
        """}
    assert attribution(project(files)) == [("ATR001", "svc.py", 9)]


def test_factory_that_returns_a_non_llm_client_stays_silent(project):
    files = {"svc.py": """
        from twilio.rest import Client

        def sms():
            return Client(SID, TOKEN)

        def notify():
            sms().messages.create(to="+1555", body="hi")
        """}
    assert attribution(project(files)) == []


# -- 3. models typed by a base class or set from the constructor -----------------------------------

def test_attribute_set_from_the_constructor_is_resolved_at_construction_sites(project):
    files = {
        "agent.py": """
            class Agent:
                def __init__(self, llm):
                    self.llm = llm

                def run(self, question):
                    return self.llm.invoke(question)
            """,
        "main.py": """
            from langchain_openai import ChatOpenAI
            from agent import Agent

            Agent(ChatOpenAI(model="gpt-4o", api_key=KEY))
            """,
    }
    assert attribution(project(files)) == [("ATR001", "agent.py", 7)]


def test_base_class_annotations_lcel_and_modifiers(project):
    files = {"chain.py": """
        from langchain_core.language_models import BaseChatModel
        from llama_index.core.llms import LLM

        class Pipeline:
            def __init__(self, llm: BaseChatModel, li: LLM):
                self.llm = llm
                self.li = li

            def structured(self, msgs):
                return self.llm.with_structured_output(Answer).invoke(msgs)

            def tools(self, msgs):
                return self.llm.bind_tools(TOOLS).invoke(msgs)

            def piped(self, prompt, parser, q):
                return (prompt | self.llm | parser).invoke({"q": q})

            def index(self, q):
                return self.li.complete(q)
        """}
    assert attribution(project(files)) == [("ATR001", "chain.py", 11), ("ATR001", "chain.py", 14),
                                           ("ATR001", "chain.py", 17), ("ATR001", "chain.py", 20)]


def test_isinstance_narrows_an_attribute(project):
    files = {"emb.py": """
        from langchain_core.embeddings import Embeddings

        class Embedder:
            def __init__(self, config):
                if not isinstance(config.model, Embeddings):
                    raise ValueError("not an embeddings model")
                self.model = config.model

            def embed(self, text):
                return self.model.embed_query(text)
        """}
    assert attribution(project(files)) == [("ATR001", "emb.py", 11)]


def test_attribute_assigned_in_branches_is_either_client(project):
    files = {"chat.py": """
        class Chat:
            def __init__(self, model):
                if "claude" in model:
                    from anthropic import AnthropicVertex
                    self.client = AnthropicVertex(region="r", project_id="p")
                else:
                    from google import genai
                    self.client = genai.Client(api_key=KEY)

            def claude(self, msgs):
                return self.client.messages.create(model="m", max_tokens=5, messages=msgs)

            def gemini(self, msgs):
                return self.client.models.generate_content(model="m", contents=msgs)
        """}
    assert attribution(project(files)) == [("ATR001", "chat.py", 12), ("ATR001", "chat.py", 15)]


def test_subclass_of_an_sdk_client_and_super(project):
    files = {"gem.py": """
        from google.generativeai.generative_models import GenerativeModel
        from llama_index.llms.openai import OpenAI

        class Model(GenerativeModel):
            def count(self, x):
                return len(x)

        class Gemini:
            def __init__(self):
                self.llm = Model(model_name="gemini")

            def ask(self, q):
                return self.llm.generate_content(q)

        class Patched(OpenAI):
            def _chat(self, messages, **kwargs):
                return super()._chat(messages, **kwargs)
        """}
    found = attribution(project(files))
    assert ("ATR001", "gem.py", 14) in found
    assert ("ATR008", "gem.py", 18) in found  # called only by the framework: fail closed


# -- 4. entry points -------------------------------------------------------------------------------

def test_client_aliases_router_and_more_sdks(project):
    files = {"calls.py": """
        import openai
        import anthropic
        import litellm
        import google.generativeai as legacy
        from agents.run import Runner
        from groq import Groq

        openai.Client(api_key=KEY).chat.completions.create(model="m", messages=[])
        anthropic.Client(api_key=KEY).messages.create(model="m", max_tokens=5, messages=[])
        litellm.Router(model_list=[]).acompletion(model="m", messages=[])
        litellm.image_generation(prompt="a cat")
        legacy.GenerativeModel("gemini-pro").generate_content("hi")
        Runner.run_sync(agent, "hi")
        Groq(api_key=KEY).chat.completions.create(model="m", messages=[])
        """}
    assert [line for _, _, line in attribution(project(files))] == [9, 10, 11, 12, 13, 14, 15]


def test_call_shapes_when_the_receiver_is_unknown(project):
    files = {"shapes.py": """
        def run(unknown, twilio):
            unknown.messages.create(model="m", max_tokens=5, messages=[])
            unknown.models.generate_content(model="m", contents="x")
            unknown.converse(modelId="m", messages=[])
            twilio.messages.create(to="+1555", body="hi")
            unknown.messages.create(model="m", messages=[])
        """}
    assert attribution(project(files)) == [("ATR001", "shapes.py", 3), ("ATR001", "shapes.py", 4),
                                           ("ATR001", "shapes.py", 5)]


# -- 5. re-exports, lazy proxies, optional imports ------------------------------------------------

def test_project_reexport_and_lazy_proxy(project):
    files = {
        "app/__init__.py": "",
        "app/llm_singleton.py": "import litellm\n",
        "app/lazy.py": """
            import importlib

            class LazyLiteLLM:
                _module = None

                def __getattr__(self, name):
                    if self._module is None:
                        self._module = importlib.import_module("litellm")
                    return getattr(self._module, name)

            litellm = LazyLiteLLM()
            """,
        "app/use.py": """
            from app.llm_singleton import litellm
            from app.lazy import litellm as lazy

            def one():
                return litellm.completion(model="m", messages=[])

            def two():
                return lazy.completion(model="m", messages=[])
            """,
    }
    assert attribution(project(files)) == [("ATR001", "app/use.py", 6), ("ATR001", "app/use.py", 9)]


def test_optional_import_and_import_inside_a_function(project):
    files = {"opt.py": """
        try:
            import litellm
        except ImportError:
            litellm = None

        def one():
            return litellm.completion(model="m", messages=[])

        def two():
            from openai import OpenAI
            return OpenAI(api_key=KEY).responses.create(model="m", input="x")
        """}
    assert attribution(project(files)) == [("ATR001", "opt.py", 8), ("ATR001", "opt.py", 12)]


def test_callables_run_now_by_a_helper(project):
    files = {"run.py": """
        import asyncio
        import functools
        from asgiref.sync import sync_to_async
        from openai import OpenAI

        client = OpenAI(api_key=KEY)

        async def a(text):
            return await asyncio.to_thread(client.embeddings.create, model="m", input=text)

        async def b(f):
            return await sync_to_async(client.audio.translations.create)(model="whisper-1", file=f)

        async def c(loop):
            return await loop.run_in_executor(None, functools.partial(client.responses.create, model="m"))
        """}
    assert [line for _, _, line in attribution(project(files))] == [10, 13, 16]


@pytest.mark.parametrize("call", [
    "await sync_to_async(client.audio.translations.create)(model=model, file=f)",
    "await asyncio.to_thread(client.audio.translations.create, model=model, file=f)",
])
def test_a_file_whose_only_call_is_handed_to_a_helper_is_read(project, call):
    # the client is a parameter and the method is never written `create(`: only the helper is called
    files = {"whisper.py": f"""
        import asyncio
        from asgiref.sync import sync_to_async
        from openai import OpenAI

        async def transcribe(f, model, client: OpenAI):
            return {call}
        """}
    assert attribution(project(files)) == [("ATR001", "whisper.py", 7)]


# -- 6. wrappers nothing checkable calls, and handlers --------------------------------------------

def test_wrapper_called_only_from_outside_is_reported_at_its_call(project):
    files = {"lm.py": """
        import dspy
        import litellm

        class VLLMClient(dspy.LM):
            def basic_request(self, prompt, **kwargs):
                return litellm.completion(model="m", messages=[prompt], **kwargs)
        """}
    found = project(files)
    assert attribution(found) == [("ATR008", "lm.py", 7)]


def test_handler_that_never_sends_a_field_is_reported_where_it_is_defined(project):
    files = {
        "views.py": """
            import litellm

            def answer(ticket_id, customer_id, question):
                return litellm.completion(model="m", messages=[question],
                                          metadata={"ticket_id": ticket_id, "customer_id": customer_id})
            """,
        "urls.py": """
            from views import answer

            answer(t.id, t.customer, "q")
            """,
    }
    assert attribution(project(files)) == [("ATR002", "views.py", 5)]


def test_handler_whose_callers_set_the_missing_field_is_clean(project):
    files = {
        "views.py": """
            import litellm

            def answer(ticket_id, customer_id, question):
                return litellm.completion(model="m", messages=[question],
                                          metadata={"ticket_id": ticket_id, "customer_id": customer_id})
            """,
        "urls.py": """
            from attrlint.runtime import attribution
            from views import answer

            with attribution(agent_id="support"):
                answer(t.id, t.customer, "q")
            """,
    }
    assert attribution(project(files)) == []


# -- precision: mocks and look-alikes ---------------------------------------------------------------

def test_mock_clients_are_not_billable(project):
    files = {"test_thing.py": """
        from unittest.mock import MagicMock
        from openai import OpenAI

        def test_it():
            client = MagicMock()
            client.chat.completions.create(model="m", messages=[])
            fake = MagicMock(spec=OpenAI)
            fake.responses.create(model="m", input="x")
        """}
    assert attribution(project(files)) == []


def test_orm_and_stripe_look_alikes_stay_silent(project):
    files = {"models.py": """
        import stripe

        def pay(Model):
            Model.objects.create(name="x")
            stripe.Customer.create(metadata={"ticket_id": "1"})
        """}
    assert attribution(project(files)) == []


# -- 7. syntax of any Python version ----------------------------------------------------------------

NEW_SYNTAX = '''
from openai import OpenAI

client = OpenAI(api_key=KEY)

type Messages = list[dict[str, str]]


def first[T](items: list[T]) -> T:
    return items[0]


def ask(q: str) -> str:
    label = f"{q["text"]!r}"
    return client.chat.completions.create(model="m", messages=[{"role": "user", "content": label}])
'''


def test_a_file_written_for_a_newer_python_is_analysed(project):
    assert [c for c, _, _ in project({"new.py": NEW_SYNTAX})] == ["ATR001"]
    assert ("ATR001", "new.py", 15) in project({"new.py": NEW_SYNTAX})


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this interpreter parses PEP 701 itself")
def test_newer_syntax_keeps_positions():
    import ast

    from attrlint.lint.source import parse

    with pytest.raises(SyntaxError):
        ast.parse(NEW_SYNTAX)
    tree = parse(NEW_SYNTAX)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "create"]
    assert [(c.lineno, c.col_offset) for c in calls] == [(15, 11)]


def test_a_file_invalid_in_every_version_is_still_atr000(project):
    bad = "import openai\ndef f(:\n    openai.chat.completions.create()\n"
    assert project({"bad.py": bad}) == [("ATR000", "bad.py", 2)]
