"""What attribution findings say: the call they name, the remedy the provider accepts, what
the metadata does carry, and the same words in every run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from support.source import write_tree

from attrlint.lint.runner import run
from attrlint.lint.suppression import Options

ATTRIBUTION = ("ATR001", "ATR002", "ATR004", "ATR008")


@pytest.fixture
def findings(tmp_path, monkeypatch):
    """findings({"a.py": src}) -> [(code, path, line, message)] of the attribution rules."""

    def _findings(files: dict[str, str]):
        write_tree(tmp_path, {"pyproject.toml": "[tool.attrlint]\n",
                              **{name: textwrap.dedent(src) for name, src in files.items()}})
        monkeypatch.chdir(tmp_path)
        result = run(["."], options=Options(), jobs=1, use_cache=False, warn=lambda m: None)
        return sorted((f.code, f.path.removeprefix("./"), f.line, f.message)
                      for f in result.findings if f.code in ATTRIBUTION)

    return _findings


# -- the remedy is one the provider accepts ------------------------------------------------------

def test_anthropic_arguments_from_elsewhere_cannot_carry_attribution(findings):
    # Anthropic's metadata takes only `user_id`: whatever **kwargs holds, the fields are missing
    files = {"app.py": """
        import json
        from anthropic import Anthropic

        client = Anthropic(api_key=KEY)

        def ask(raw):
            return client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[],
                                          **json.loads(raw))
        """}
    [(code, _, line, message)] = findings(files)
    assert (code, line) == ("ATR001", 7)
    assert "with attribution(...)" in message and "metadata=" not in message


def test_anthropic_forwarding_kwargs_is_not_a_wrapper(findings):
    # forwarding **kwargs cannot carry attribution to Anthropic: the call itself is judged
    files = {"app.py": """
        from anthropic import Anthropic

        client = Anthropic(api_key=KEY)

        def ask(prompt, **kwargs):
            return client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[], **kwargs)

        def handler():
            return ask("hi", temperature=0)
        """}
    [(code, path, line, message)] = findings(files)
    assert (code, path, line) == ("ATR001", "app.py", 6)
    assert message.startswith("anthropic `messages.create` has no attribution")


def test_wrapper_site_remedy_offers_attribution_too(findings):
    files = {"app.py": """
        from openai import OpenAI

        client = OpenAI(api_key=KEY)

        def ask(prompt, **kwargs):
            return client.chat.completions.create(model="gpt-4o", messages=[], **kwargs)

        def handler():
            return ask("hi")
        """}
    [(code, _, line, message)] = findings(files)
    assert (code, line) == ("ATR001", 9)
    assert "in `metadata=`, or wrap the call in `with attribution(...)`" in message


def test_dspy_predictors_take_attribution_from_attribution_blocks(findings):
    files = {"app.py": """
        import dspy

        lm = dspy.LM("openai/gpt-4o-mini")
        predict = dspy.Predict("question -> answer")

        def answer(q):
            predict(question=q, metadata={"ticket_id": T, "customer_id": C, "agent_id": "qa"})
            lm("hi", metadata={"ticket_id": T, "customer_id": C, "agent_id": "qa"})
        """}
    # a predictor takes `metadata=` as an input of its signature; an LM passes it to litellm
    [(code, _, line, message)] = findings(files)
    assert (code, line) == ("ATR001", 7)
    assert message.startswith("dspy-predict `__call__` has no attribution")
    assert "with attribution(...)" in message and "metadata=" not in message


# -- the finding names what the call does carry ------------------------------------------------------

def test_metadata_under_other_names_is_named(findings):
    files = {"app.py": """
        from openai import OpenAI

        client = OpenAI(api_key=KEY)
        client.chat.completions.create(model="gpt-4o", messages=[],
                                       metadata={"session_id": s, "trace_user_id": u})
        """}
    [(code, _, _, message)] = findings(files)
    assert code == "ATR001"
    assert "(its metadata has `session_id`, `trace_user_id`: no required field)" in message


# -- the call it names is the one on its line ------------------------------------------------------

def test_each_call_of_an_unreached_wrapper_is_named(findings):
    files = {"app.py": """
        import litellm

        class Images:
            def generate(self, prompt, edit, **kwargs):
                if edit:
                    return litellm.image_edit(prompt=prompt, **kwargs)
                return litellm.image_generation(prompt=prompt, **kwargs)
        """}
    found = findings(files)
    assert [(code, line) for code, _, line, _ in found] == [("ATR008", 6), ("ATR008", 7)]
    assert found[0][3].startswith("litellm `image_edit` in `app:Images.generate`")
    assert found[1][3].startswith("litellm `image_generation` in `app:Images.generate`")
    assert "no call in this project that attrlint can follow reaches it" in found[1][3]


def test_a_call_through_a_base_class_reaches_every_override(findings):
    files = {
        "providers.py": """
            import litellm

            class Provider:
                def generate(self, prompt, **kwargs):
                    raise NotImplementedError

            class OpenAIProvider(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.image_generation(model="gpt-image-1", prompt=prompt, **kwargs)

            class AzureProvider(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.image_generation(model="azure/dall-e-3", prompt=prompt, **kwargs)
            """,
        "service.py": """
            from providers import Provider

            def draw(provider: Provider, prompt):
                return provider.generate(prompt, metadata={"ticket_id": TICKET, "customer_id": CUSTOMER,
                                                           "agent_id": "art"})
            """,
    }
    # both overrides are reached from service.py, which passes every field: nothing to report
    assert findings(files) == []


def test_findings_are_the_same_in_every_run(tmp_path):
    files = {
        "pyproject.toml": "[tool.attrlint]\n",
        "providers.py": textwrap.dedent("""
            import litellm

            class Provider:
                def generate(self, prompt, **kwargs):
                    raise NotImplementedError

            class A(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.completion(model="gpt-4o", messages=[], **kwargs)

            class B(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.completion(model="claude-sonnet-4-5", messages=[], **kwargs)

            class C(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.acompletion(model="gpt-4o-mini", messages=[], **kwargs)
            """),
        "service.py": textwrap.dedent("""
            from providers import Provider

            def run(provider: Provider, prompt):
                return provider.generate(prompt)
            """),
    }
    write_tree(tmp_path, files)
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "attrlint", "check", "--no-cache", "--format", "json", "."],
                              cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 1, done.stderr
        outputs.add(json.dumps([(f["code"], f["path"], f["line"], f["message"])
                                for f in json.loads(done.stdout)["findings"]]))
    assert len(outputs) == 1


def test_a_site_that_reaches_several_overrides_names_each(findings):
    files = {
        "providers.py": """
            import litellm

            class Provider:
                def generate(self, prompt, **kwargs):
                    raise NotImplementedError

            class OpenAIProvider(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.image_generation(model="gpt-image-1", prompt=prompt, **kwargs)

            class AzureProvider(Provider):
                def generate(self, prompt, **kwargs):
                    return litellm.image_generation(model="azure/dall-e-3", prompt=prompt, **kwargs)
            """,
        "service.py": """
            from providers import Provider

            def draw(provider: Provider, prompt):
                return provider.generate(prompt)
            """,
    }
    [(code, path, line, message)] = findings(files)
    assert (code, path, line) == ("ATR001", "service.py", 4)
    assert "`providers:AzureProvider.generate` (litellm `image_generation`, providers.py:13)" in message
    assert " or to wrapper `providers:OpenAIProvider.generate` (litellm `image_generation`, providers.py:9)" in message


# -- a generic helper names its callers ---------------------------------------------------------------

HELPER = {
    "llm.py": """
        from openai import OpenAI

        client = OpenAI(api_key=KEY)

        def summarize(text):
            return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])

        def for_ticket(ticket, text):
            return client.chat.completions.create(model="gpt-4o", messages=[])
        """,
    # no SDK name in this file: it is analysed because it may call the helper
    "views.py": """
        from llm import summarize

        def handle(request):
            return summarize(request.body)

        def nightly():
            summarize("x")
        """,
}


def test_a_helper_with_no_field_in_scope_names_its_callers(findings):
    found = findings(HELPER)
    assert [(code, path, line) for code, path, line, _ in found] == [("ATR001", "llm.py", 6), ("ATR001", "llm.py", 9)]
    helper, with_ticket = found[0][3], found[1][3]
    assert helper.endswith("; `summarize` has no ticket, customer or agent in scope: its callers can wrap their "
                           "call in `with attribution(...)`: `handle` (views.py:4), `nightly` (views.py:7)")
    assert "callers" not in with_ticket  # a ticket is in scope: the remedy at the call applies


def test_callers_are_named_from_the_cache_too(tmp_path, monkeypatch):
    write_tree(tmp_path, {"pyproject.toml": "[tool.attrlint]\n",
                          **{name: textwrap.dedent(src) for name, src in HELPER.items()}})
    monkeypatch.chdir(tmp_path)
    cache = str(tmp_path / "cache")
    runs = [run(["."], options=Options(), jobs=1, use_cache=True, cache_dir=cache, warn=lambda m: None)
            for _ in range(2)]
    first, second = ([(f.code, f.line, f.message) for f in r.findings] for r in runs)
    assert first == second and len(first) == 2
    assert "`handle` (views.py:4)" in first[0][2]
