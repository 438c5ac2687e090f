"""Rules about API keys in one file (ATR101, ATR102)."""

from __future__ import annotations

import re

from attrlint.lint.analysis.facts import KeyLiteral
from attrlint.core.redact import redact
from attrlint.lint.rules.base import FileContext, Rule

_KEY_PLACEHOLDERS = frozenset({
    "", "empty", "none", "null", "test", "testing", "dummy", "fake", "mock", "anything", "ollama",
    "not-needed", "not_needed", "notneeded", "no-key", "nokey", "no_key", "placeholder", "changeme",
    "secret", "key", "api_key", "apikey", "api-key", "token", "xxx", "lm-studio", "lmstudio", "vllm",
    "sk-no-key-required", "local", "sk-local", "unused", "ignored", "na", "n/a", "default",
})
_PLACEHOLDER_WORDS = re.compile(r"your|api[ _-]?key|example|dummy|fake|test|placeholder|replace|insert|here|xxxx|\.\.\.|…", re.I)


def is_key_placeholder(value: str) -> bool:
    """`"EMPTY"`, `"sk-..."`, `"sk-1234"`, `"<OpenAI API Key>"`, `"My API Key"`: not keys."""
    text = value.strip()
    lowered = text.lower()
    if lowered in _KEY_PLACEHOLDERS:
        return True
    if text.startswith("<") and text.endswith(">") or text.startswith("{") and text.endswith("}"):
        return True
    if any(ch.isspace() for ch in text) or _PLACEHOLDER_WORDS.search(text):
        return True
    if re.fullmatch(r"[a-z]+(?:[-_.][a-z]+)*", text):  # words, not a key: "synthetic-local-reader"
        return True
    body = re.sub(r"^[a-z]{2,5}[-_]", "", text)  # drop a vendor prefix like sk- / gsk_
    if len(body) < 12 or len(set(body)) <= 4:
        return True
    if body.isdigit() or body in "0123456789abcdefghijklmnopqrstuvwxyz" * 2:
        return True
    return bool(re.fullmatch(r"\$\{?[A-Z_]+\}?", text))  # a shell variable reference


class HardcodedApiKey(Rule):
    code = "ATR101"
    name = "hardcoded-api-key"
    family = "keys"
    summary = "An API key written in the source"
    what = ("Finds string literals in a known provider key format anywhere (constants, arguments, "
            "`os.getenv(\"X\", \"<key>\")` defaults, `openai.api_key = \"...\"`), and any literal "
            "that is not a placeholder passed as the key of a recognised client. Placeholders such "
            "as `\"EMPTY\"`, `\"ollama\"`, `\"sk-...\"` or `\"<OpenAI API Key>\"` are not keys, and "
            "regex sources that describe a key format are skipped. Output shows keys redacted.")
    why = ("A key in the source is in every clone, fork, CI log and backup of the repository: it "
           "cannot be rotated per agent, and whoever has the code can spend on it.")
    example = """
        client = OpenAI(api_key="sk-proj-...")  # the real key, committed
    """
    instead = """
        client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])
    """
    # Examples build key-shaped literals at import time so no real-looking key is committed.
    invalid = (
        'from openai import OpenAI\nclient = OpenAI(api_key="' + "sk-proj-" + "Ab3" * 20 + '")\n',
        'import os\nKEY = os.getenv("OPENAI_KEY_SUPPORT", "' + "sk-ant-api03-" + "Zq9_" * 20 + '")\n',
        'from anthropic import Anthropic\nclient = Anthropic(api_key="' + "a8Fq2" * 8 + '")\n',
    )
    valid = (
        'from openai import OpenAI\nclient = OpenAI(base_url="http://localhost:11434/v1", api_key="ollama")\n',
        'from openai import OpenAI\nclient = OpenAI(api_key="<OpenAI API Key>")\n',
        'import re\nOPENAI = re.compile(r"sk-[A-Za-z0-9]{32,}")\n',
    )

    def check(self, ctx: FileContext) -> None:
        seen: set[int] = set()
        for literal in ctx.module.key_literals:
            if id(literal.node) in seen:
                continue
            message = self._message(ctx, literal)
            if message is not None:
                seen.add(id(literal.node))
                ctx.report(self, literal.node, message)

    @staticmethod
    def _message(ctx: FileContext, literal: KeyLiteral) -> str | None:
        shown = redact(literal.value)
        if literal.format_name is not None:
            return f"hardcoded {literal.format_name} '{shown}': read it from the agent's own environment variable"
        found = ctx.catalogue.key_format(literal.value)
        if found is not None:
            return f"hardcoded {found[0]} '{shown}': read it from the agent's own environment variable"
        if is_key_placeholder(literal.value):
            return None
        return f"hardcoded API key '{shown}' passed to a client: read it from the agent's own environment variable"


class GenericKeyEnv(Rule):
    code = "ATR102"
    name = "generic-key-env"
    family = "keys"
    summary = "Reading a provider's shared default key variable"
    what = ("Finds reads of a provider's generic, shared key variable (`OPENAI_API_KEY`, "
            "`ANTHROPIC_API_KEY`, `AZURE_OPENAI_API_KEY`, `GEMINI_API_KEY`, `GOOGLE_API_KEY`, "
            "`MISTRAL_API_KEY`, `CO_API_KEY`, ...) through `os.environ[...]`, `os.environ.get` or "
            "`os.getenv`, and recognised clients constructed without a key, which read that "
            "variable silently. Bedrock and Vertex clients authenticate through cloud credentials "
            "and are exempt.")
    why = ("One shared variable means one key for every service that runs with it: the invoice "
           "cannot be split by agent, one leak rotates everyone, and one runaway loop exhausts "
           "everyone's rate limit.")
    example = """
        client = OpenAI()  # reads OPENAI_API_KEY
    """
    instead = """
        client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])
    """
    invalid = (
        "from openai import OpenAI\nclient = OpenAI()\n",
        'import os\nkey = os.environ["ANTHROPIC_API_KEY"]\n',
        'from os import getenv\nkey = getenv("GEMINI_API_KEY")\n',
    )
    valid = (
        'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])\n',
        'import boto3\nclient = boto3.client("bedrock-runtime")\n',
        "from anthropic import AnthropicBedrock\nclient = AnthropicBedrock()\n",
    )

    def check(self, ctx: FileContext) -> None:
        generic = ctx.catalogue.generic_envs
        for read in ctx.module.env_reads:
            if read.name in generic:
                suggestion = _per_agent_name(read.name)
                ctx.report(self, read.node,
                           f"`{read.name}` is the shared default key variable: give each agent its own "
                           f"key, e.g. `{suggestion}`")
        for built in ctx.module.constructions:
            spec = built.spec
            if built.key_arg is not None or built.has_star_kwargs or not spec.default_key_env:
                continue
            short = spec.name.rsplit(".", 1)[-1]
            ctx.report(self, built.node,
                       f"`{short}()` without a key reads the shared `{spec.default_key_env}`: pass "
                       f"`{spec.key_params[0]}=os.environ[\"{_per_agent_name(spec.default_key_env)}\"]`")


def _per_agent_name(generic: str) -> str:
    stem = generic.replace("_API_KEY", "").replace("_KEY", "").replace("_TOKEN", "")
    return f"{stem}_KEY_<AGENT>"


RULES = [HardcodedApiKey, GenericKeyEnv]
