"""Project wrappers: inferred, across modules, of wrappers, decorated, methods, declared."""

from __future__ import annotations

ATTR = "from attrlint.runtime import attribution\n"

LLM_KWARGS = """
from openai import OpenAI
client = OpenAI(api_key=KEY)

def get_completion(prompt, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}], **kwargs)
"""

LLM_STEP = """
import os
import litellm

def llm_api_handler(prompt, step, customer=None):
    return litellm.completion(model="gpt-4o", messages=[], metadata={
        "ticket_id": step, "customer_id": customer, "agent_id": "support"})
"""


def atr(findings):
    return [f for f in findings if f[0] < "ATR100"]


def test_kwargs_wrapper_across_modules(project):
    files = {
        "app/__init__.py": "",
        "app/llm.py": LLM_KWARGS,
        "app/views.py": """
            from app.llm import get_completion
            from attrlint.runtime import attribution

            def bad(q):
                return get_completion(q)

            def good(q):
                return get_completion(q, metadata={"ticket_id": T, "customer_id": C, "agent_id": "a"})

            def partial(q):
                return get_completion(q, metadata={"ticket_id": T})

            def scoped(q):
                with attribution(ticket_id=T, customer_id=C, agent_id="a"):
                    return get_completion(q)

            def silenced(q):
                return get_completion(q)  # noqa: ATR001
            """,
    }
    assert atr(project(files)) == [("ATR001", "app/views.py", 6), ("ATR002", "app/views.py", 12)]


def test_wrapper_no_project_code_calls_is_reported_at_its_own_call(project):
    # fail closed: nothing checks what its callers pass, so its call is judged as it stands
    assert atr(project({"llm.py": LLM_KWARGS})) == [("ATR008", "llm.py", 6)]


def test_named_parameter_wrapper(project):
    files = {
        "svc/llm.py": LLM_STEP,
        "svc/jobs.py": """
            from svc.llm import llm_api_handler

            llm_api_handler(prompt="x", step=job.ticket, customer=job.customer)
            llm_api_handler(prompt="x", step=job.ticket)
            llm_api_handler("x", "TODO", job.customer)
            llm_api_handler("x", job.ticket, job.customer)
            """,
    }
    assert atr(project(files)) == [("ATR002", "svc/jobs.py", 5), ("ATR004", "svc/jobs.py", 6)]


def test_relative_import_and_alias(project):
    files = {
        "pkg/__init__.py": "",
        "pkg/llm.py": LLM_KWARGS,
        "pkg/sub/__init__.py": "",
        "pkg/sub/a.py": "from ..llm import get_completion as gc\ngc('x')\n",
        "pkg/b.py": "from . import llm\nllm.get_completion('x')\n",
    }
    assert atr(project(files)) == [("ATR001", "pkg/b.py", 2), ("ATR001", "pkg/sub/a.py", 2)]


def test_src_layout_and_same_module(project):
    files = {
        "src/myapp/__init__.py": "",
        "src/myapp/llm.py": LLM_KWARGS + "\nget_completion('here')\n",
        "src/myapp/cli.py": "from myapp.llm import get_completion\nget_completion('x')\n",
    }
    assert atr(project(files)) == [("ATR001", "src/myapp/cli.py", 2), ("ATR001", "src/myapp/llm.py", 8)]


def test_wrappers_of_wrappers(project):
    files = {
        "llm.py": LLM_KWARGS,
        "mid.py": """
            from llm import get_completion

            def summarise(text, **kw):
                return get_completion("Summarise: " + text, **kw)

            def classify(text, ticket, customer):
                return summarise(text, metadata={"ticket_id": ticket, "customer_id": customer, "agent_id": "c"})
            """,
        "top.py": """
            from mid import summarise, classify

            summarise("x")
            summarise("x", metadata={"ticket_id": t, "customer_id": c, "agent_id": "a"})
            classify("x", t, c)
            classify("x", t, None)
            classify("x", ticket=t)
            """,
    }
    assert atr(project(files)) == [("ATR001", "top.py", 4), ("ATR004", "top.py", 7), ("ATR002", "top.py", 8)]


def test_decorated_wrappers(project):
    files = {
        "llm.py": """
            import functools
            from tenacity import retry, stop_after_attempt
            from openai import OpenAI
            client = OpenAI(api_key=KEY)

            def traced(fn):
                @functools.wraps(fn)
                def inner(*args, **kwargs):
                    return fn(*args, **kwargs)
                return inner

            @retry(stop=stop_after_attempt(3))
            @traced
            def ask(prompt, **kwargs):
                return client.responses.create(model="gpt-4o", input=prompt, **kwargs)
            """,
        "use.py": "from llm import ask\nask('x')\n",
    }
    assert atr(project(files)) == [("ATR001", "use.py", 2)]


def test_method_wrappers(project):
    files = {
        "helpers/__init__.py": "",
        "helpers/llm.py": """
            from anthropic import Anthropic
            from attrlint.runtime import attribution

            class LLMHelper:
                def __init__(self):
                    self.client = Anthropic(api_key=KEY)

                def ask(self, prompt, ticket_id, customer_id):
                    with attribution(ticket_id=ticket_id, customer_id=customer_id, agent_id="helper"):
                        return self.client.messages.create(model="m", max_tokens=5, messages=[])

                def twice(self, prompt):
                    return self.ask(prompt, None, None)
            """,
        "bot.py": """
            from helpers.llm import LLMHelper

            class Bot:
                def __init__(self):
                    self.llm = LLMHelper()

                def reply(self, q, ticket):
                    return self.llm.ask(q, ticket_id=ticket.id, customer_id=ticket.customer)

                def oops(self, q):
                    return self.llm.ask(q, ticket_id="unknown")
            """,
    }
    assert atr(project(files)) == [("ATR002", "bot.py", 12), ("ATR004", "bot.py", 12),
                                   ("ATR004", "helpers/llm.py", 14)]


def test_wrapper_call_site_in_file_without_sdk_words(project):
    files = {"llm.py": LLM_KWARGS, "plain.py": "from llm import get_completion\n\nprint(get_completion('x'))\n"}
    assert atr(project(files)) == [("ATR001", "plain.py", 3)]


def test_unresolvable_call_site_is_reported_by_default(project):
    files = {"llm.py": LLM_KWARGS, "use.py": "from llm import get_completion\nget_completion('x', **opts)\n"}
    assert atr(project(files)) == [("ATR008", "use.py", 2)]


def test_call_site_kwargs_dict(project):
    files = {"llm.py": LLM_KWARGS, "use.py": """
        from llm import get_completion
        def go(t, c):
            opts = {"temperature": 0}
            opts["metadata"] = {"ticket_id": ticket, "customer_id": cust, "agent_id": "a"}
            return get_completion("x", **opts)
        """}
    assert atr(project(files)) == []


def test_declared_wrapper(project):
    files = {
        "vendor_sdk.py": "def run_step(prompt, step=None, organization_id=None):\n    return remote(prompt)\n",
        "use.py": """
            from vendor_sdk import run_step
            run_step("x", step=s, organization_id=o)
            run_step("x", step=s)
            run_step("x")
            run_step("x", step="TODO", organization_id=o)
            """,
    }
    pyproject = '[tool.attrlint.wrappers."vendor_sdk:run_step"]\nsupplies = {ticket_id = "step", customer_id = "organization_id"}\n'
    assert atr(project(files, pyproject=pyproject)) == [
        ("ATR002", "use.py", 4), ("ATR001", "use.py", 5), ("ATR004", "use.py", 6)]


def test_declared_wrapper_with_inferred_module(project):
    # a declaration wins over inference for the same function
    files = {"llm.py": LLM_KWARGS, "use.py": "from llm import get_completion\nget_completion('x', ticket=t)\n"}
    pyproject = '[tool.attrlint.wrappers."llm:get_completion"]\nsupplies = {ticket_id = "ticket"}\n'
    assert atr(project(files, pyproject=pyproject)) == []


def test_declared_method_wrapper(project):
    files = {
        "svc.py": "class Client:\n    def ask(self, q, step=None):\n        return q\n",
        "use.py": "from svc import Client\nc = Client()\nc.ask('x')\nc.ask('x', step=s)\n",
    }
    pyproject = '[tool.attrlint.wrappers."svc:Client.ask"]\nsupplies = {ticket_id = "step"}\n'
    assert atr(project(files, pyproject=pyproject)) == [("ATR001", "use.py", 3)]


def test_messages_name_the_wrapper_and_parameter(project, tmp_path):
    from attrlint.lint.suppression import Options
    from attrlint.lint.runner import run

    project({"svc/llm.py": LLM_STEP, "svc/jobs.py": "from svc.llm import llm_api_handler\nllm_api_handler('x', customer=c)\n"})
    findings = [f for f in run(["."], options=Options(), jobs=1, warn=lambda m: None).findings if f.code == "ATR002"]
    assert "svc.llm:llm_api_handler" in findings[0].message and "`step=` (ticket_id)" in findings[0].message


def test_summaries_round_trip_through_plain_data(tmp_path):
    import json
    import textwrap

    from attrlint.core.config import parse_config
    from attrlint.lint.engine import Linter
    from attrlint.lint.suppression import Options

    source = LLM_KWARGS + "\nget_completion('x', metadata={'ticket_id': 'TODO'})\nother.call(x)\n"
    result = Linter(parse_config({}), Options()).lint_text(textwrap.dedent(source), "llm.py")
    from attrlint.lint.analysis.summary import ModuleSummary

    assert result.summary.wrappers[0].qual == "get_completion"
    data = json.loads(json.dumps(result.summary.to_data()))
    assert ModuleSummary.from_data(data) == result.summary
    from attrlint.lint.analysis.summary import NAME, ValueFact

    assert ValueFact(NAME, text=":get_completion") in {c.callee for c in result.summary.calls}
    assert [f.qual for f in result.summary.functions] == ["get_completion"]
    assert "client" in result.summary.globals and result.summary.globals["client"].kind == "client"


def test_wrapper_call_in_notebook(project):
    import json

    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": ["from llm import get_completion\n"]},
                    {"cell_type": "code", "metadata": {}, "source": ["x = 1\n", "get_completion('hi')\n"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    from attrlint.lint.suppression import Options
    from attrlint.lint.runner import run

    project({"llm.py": LLM_KWARGS, "nb.ipynb": json.dumps(nb)})
    findings = [f for f in run(["."], options=Options(), jobs=1, warn=lambda m: None).findings if f.code == "ATR001"]
    assert [(f.path.removeprefix("./"), f.cell, f.line) for f in findings] == [("nb.ipynb", 2, 2)]


def test_provider_class_hierarchy(project):
    files = {
        "providers/__init__.py": "",
        "providers/base.py": """
            class BaseProvider:
                def complete(self, prompt, **kwargs):
                    raise NotImplementedError

                def summarise(self, text, **kwargs):
                    return self.complete("Summarise: " + text, **kwargs)
            """,
        "providers/openai_provider.py": """
            from openai import OpenAI
            from providers.base import BaseProvider

            class OpenAIProvider(BaseProvider):
                def __init__(self):
                    self.client = OpenAI(api_key=KEY)

                def complete(self, prompt, **kwargs):
                    return self.client.chat.completions.create(model="m", messages=[], **kwargs)
            """,
        "app.py": """
            from providers.base import BaseProvider
            from providers.openai_provider import OpenAIProvider

            def handle(provider: BaseProvider, t, c):
                return provider.complete("x")

            OpenAIProvider().complete("y", metadata={"ticket_id": T, "customer_id": C, "agent_id": "a"})
            OpenAIProvider().summarise("y")
            """,
    }
    assert atr(project(files)) == [("ATR001", "app.py", 6), ("ATR001", "app.py", 9)]
