"""Rules about API keys in one file (ATR101, ATR102, ATR106)."""

from __future__ import annotations

import ast
import random
import re
import string
from collections.abc import Callable

from attrlint.core.catalogue import Catalogue, client_label
from attrlint.core.keyscan import KeyMatch, find_keys, fixture_reason
from attrlint.core.redact import redact
from attrlint.keys.governance import environment_of
from attrlint.lint.analysis.facts import EnvRead, KeyLiteral
from attrlint.lint.diagnostics import Edit, Finding
from attrlint.lint.rules.base import FileContext, Rule

_KEY_PLACEHOLDERS = frozenset({
    "", "empty", "none", "null", "test", "testing", "dummy", "fake", "mock", "anything", "ollama",
    "not-needed", "not_needed", "notneeded", "no-key", "nokey", "no_key", "placeholder", "changeme",
    "secret", "key", "api_key", "apikey", "api-key", "token", "xxx", "lm-studio", "lmstudio", "vllm",
    "sk-no-key-required", "local", "sk-local", "unused", "ignored", "na", "n/a", "default",
})
_PLACEHOLDER_WORDS = re.compile(
    r"your|api[ _-]?key|example|dummy|fake|test|placeholder|replace|insert|here|xxxx|\.\.\.|…", re.IGNORECASE)


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
    if fixture_reason(body) is not None:  # `abcdef1234567890…`, `0000…`, `my-test-key-…`
        return True
    return bool(re.fullmatch(r"\$\{?[A-Z_]+\}?", text))  # a shell variable reference


def _sample_key(prefix: str, length: int, seed: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A key-shaped literal for the documentation's examples, built at import time (so none is
    committed), the same on every run."""
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


class HardcodedApiKey(Rule):
    code = "ATR101"
    name = "hardcoded-api-key"
    family = "keys"
    summary = "An API key written in the source or committed in a data file"
    what = ("Finds provider keys (the catalogue's key formats: `sk-proj-…`, `sk-ant-…`, `AIza…`, "
            "`gsk_…`, ...) in string literals anywhere (constants, arguments, `os.getenv(\"X\", "
            "\"<key>\")` defaults, `openai.api_key = \"...\"`, inside longer text), any literal that is "
            "not a placeholder passed as the key of a recognised client, and keys committed in "
            "data files git tracks (`.env*`, YAML, JSON, TOML, INI) or saved in notebook outputs. "
            "Fixtures are not keys: a key whose random part repeats a unit, has too few distinct "
            "characters (Shannon entropy below min(3.0, log2(length) - 2) bits), is half sequential "
            "or repeated runs (`abcdef…123456`; three quarters below 24 characters), carries a test "
            "marker as a word of its own "
            "(`-test-`, `…EXAMPLE`) or is half dictionary words is skipped; randomly generated keys "
            "always count. Placeholders such as `\"EMPTY\"`, `\"ollama\"`, `\"sk-...\"` or "
            "`\"<OpenAI API Key>\"` are not keys, and regex sources that describe a key format are "
            "skipped. Output shows the key itself redacted (at most its first 6 and last 4 "
            "characters), never the text around it. `check-data-files = false` (or "
            "`--no-check-data-files`) leaves data files and notebook outputs out.")
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
        'from openai import OpenAI\nclient = OpenAI(api_key="' + _sample_key("sk-" + "proj-", 56, 1) + '")\n',
        'import os\nKEY = os.getenv("OPENAI_KEY_SUPPORT", "' + _sample_key("sk-" + "ant-api03-", 80, 2) + '")\n',
        'from anthropic import Anthropic\nclient = Anthropic(api_key="' + _sample_key("", 40, 3) + '")\n',
        'HELP = "export GEMINI_KEY=' + _sample_key("AI" + "za", 35, 4) + ' before running"\n',
    )
    valid = (
        'from openai import OpenAI\nclient = OpenAI(base_url="http://localhost:11434/v1", api_key="ollama")\n',
        'from openai import OpenAI\nclient = OpenAI(api_key="<OpenAI API Key>")\n',
        'import re\nOPENAI = re.compile(r"sk-[A-Za-z0-9]{32,}")\n',
        'FIXTURE = "sk-" + "' + "0" * 48 + '"\nALSO = "' + "sk-" + "abcdefghijklmnopqrstuvwxyz1234567890" + '"\n',
    )

    def check(self, ctx: FileContext) -> None:
        seen: set[int] = set()
        for literal in ctx.module.key_literals:
            if id(literal.node) in seen:
                continue
            message = self._message(ctx.catalogue, literal)
            if message is not None:
                seen.add(id(literal.node))
                ctx.report(self, literal.node, message)

    @staticmethod
    def _message(catalogue: Catalogue, literal: KeyLiteral) -> str | None:
        if literal.format_name is not None:
            return (f"hardcoded {literal.format_name} '{redact(literal.key)}': read it from the agent's own "
                    "environment variable")
        for found in find_keys(literal.value, catalogue):  # an api_key= literal in a key format
            return f"hardcoded {found.format_name} '{redact(found.key)}': read it from the agent's own environment variable"
        if catalogue.key_format(literal.value) is not None or is_key_placeholder(literal.value):
            return None  # a fixture in a key format, or a placeholder
        return (f"hardcoded API key '{redact(literal.value)}' passed to a client: read it from the agent's own "
                "environment variable")

    # -- keys outside Python code: data files and notebook outputs --------------------------

    @staticmethod
    def in_data_file(found: KeyMatch) -> str:
        return (f"{found.format_name} '{redact(found.key)}' committed in a file git tracks: rotate it, and give each "
                "agent its own key through the environment")

    @staticmethod
    def in_output(cell: int) -> Callable[[KeyMatch], str]:
        def message(found: KeyMatch) -> str:
            return (f"{found.format_name} '{redact(found.key)}' saved in the output of cell {cell}: rotate it and "
                    "clear the output")
        return message

    @classmethod
    def text_finding(cls, path: str, line: int, column: int, found: KeyMatch,
                     message: Callable[[KeyMatch], str]) -> Finding:
        """A finding for a key found in text that is not Python code; its snippet is the key, redacted."""
        return Finding(code=cls.code, name=cls.name, message=message(found), path=path, line=line, column=column,
                       end_line=line, end_column=column + len(found.key), snippet=redact(found.key))


def per_agent_name(generic: str) -> str:
    """The per-agent variable to suggest in place of a shared one: `OPENAI_API_KEY` ->
    `OPENAI_KEY_<AGENT>`, `HF_TOKEN` -> `HF_TOKEN_<AGENT>`, `QIANFAN_AK` -> `QIANFAN_AK_<AGENT>`."""
    for suffix, replacement in (("_API_KEY", "_KEY"), ("_API_TOKEN", "_TOKEN")):
        if generic.endswith(suffix):
            return f"{generic[:-len(suffix)]}{replacement}_<AGENT>"
    return f"{generic}_<AGENT>"


class GenericKeyEnv(Rule):
    code = "ATR102"
    name = "generic-key-env"
    family = "keys"
    summary = "Reading or setting a provider's shared default key variable"
    what = ("Finds code that reads a provider's generic, shared key variable (`OPENAI_API_KEY`, "
            "`ANTHROPIC_API_KEY`, `AZURE_OPENAI_API_KEY`, `GEMINI_API_KEY`, `GOOGLE_API_KEY`, "
            "`MISTRAL_API_KEY`, `CO_API_KEY`, ...): through `os.environ[...]`, `os.environ.get` or "
            "`os.getenv`, with the name written there, held in a constant or built by a simple "
            "f-string; a pydantic `BaseSettings` field whose environment name (field name with "
            "`env_prefix`, `Field(alias=...)`, `validation_alias`, `AliasChoices`, v1 `env=`; "
            "case-insensitive unless `case_sensitive`) is such a variable, reported at the field; "
            "and recognised clients constructed without a key (or with `api_key=None`), which read "
            "it silently. Writing the variable (`os.environ[\"OPENAI_API_KEY\"] = settings.key`, "
            "`setdefault`, `putenv`, `update`) is reported with its own message, unless the value is "
            "a literal (a test's fake value) or the same function points the vendor's base URL "
            "(`ANTHROPIC_BASE_URL`) at another server, whose key it then is. `del os.environ[X]`, "
            "`os.environ.pop`, `X in os.environ`, reads that are only tested (`if "
            "os.getenv(\"OPENAI_API_KEY\"):`), compared or asserted, and a value saved to be written "
            "back are not reads. `GOOGLE_API_KEY` also keys Google's other APIs (Custom Search): it "
            "counts only where it flows into a client or the file names Gemini or Vertex AI. Bedrock "
            "and Vertex clients authenticate through cloud credentials and are exempt.")
    why = ("One shared variable means one key for every service that runs with it: the invoice "
           "cannot be split by agent, one leak rotates everyone, and one runaway loop exhausts "
           "everyone's rate limit. Setting it in code is worse: every library in the process then "
           "bills that one key.")
    example = """
        client = OpenAI()  # reads OPENAI_API_KEY
        key = os.environ["ANTHROPIC_API_KEY"]

        class Settings(BaseSettings):
            openai_api_key: str  # reads OPENAI_API_KEY
    """
    instead = """
        client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])

        class Settings(BaseSettings):
            openai_key: str = Field(validation_alias="OPENAI_KEY_SUPPORT")
    """
    fix_safety = ("An unsafe fix, applied only with `--unsafe-fixes`: when the registry has exactly one key "
                  "for the file's agent, the variable's provider and its environment, the variable's name "
                  "in `os.environ[...]` / `os.getenv(...)` is replaced by that key's. The program then reads "
                  "another variable, which must be set wherever it runs.")
    fixable = True
    unsafe_fix = True
    invalid = (
        "from openai import OpenAI\nclient = OpenAI()\n",
        'import os\nkey = os.environ["ANTHROPIC_API_KEY"]\n',
        'from os import getenv\nkey = getenv("GEMINI_API_KEY")\n',
        'import os\nPROVIDER = "OPENAI"\nkey = os.getenv(f"{PROVIDER}_API_KEY")\n',
        "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    openai_api_key: str\n",
        'import os\n\ndef configure(settings):\n    os.environ["OPENAI_API_KEY"] = settings.openai_key\n',
        "import anthropic\nclient = anthropic.Client(api_key=None)\n",
    )
    valid = (
        'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])\n',
        'import boto3\nclient = boto3.client("bedrock-runtime")\n',
        "from anthropic import AnthropicBedrock\nclient = AnthropicBedrock()\n",
        ('import os\nif not os.getenv("OPENAI_API_KEY"):\n    raise SystemExit("set a key")\n'
        'os.environ.pop("OPENAI_API_KEY", None)\nhas_key = "OPENAI_API_KEY" in os.environ\n'),
        ('import os\n\ndef point_at_gateway(url, token):\n    os.environ["ANTHROPIC_BASE_URL"] = url\n'
        '    os.environ["ANTHROPIC_API_KEY"] = token\n'),
        ("from pydantic_settings import BaseSettings, SettingsConfigDict\n\nclass Settings(BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_prefix="SUPPORT_")\n    openai_api_key: str\n'),
    )

    def check(self, ctx: FileContext) -> None:
        generic = ctx.catalogue.generic_envs
        for read in ctx.module.env_reads:
            if read.name not in generic or _other_api(ctx, read):
                continue
            if read.kind == "read":
                fix, remedy = self._fix(ctx, read)
                via = f" (the name comes from `{read.via}`)" if read.via else ""
                ctx.report(self, read.node, f"`{read.name}` is the shared default key variable{via}: {remedy}",
                           fix=fix)
            elif read.kind == "setting":
                ctx.report(self, read.node,
                           f"settings field `{read.owner}` reads the shared default key variable `{read.name}` "
                           f"(pydantic-settings matches variables to fields by name): read the agent's own key, "
                           f"e.g. `Field(validation_alias=\"{per_agent_name(read.name)}\")`")
            elif read.kind == "write" and not read.redirected and not _literal(read):
                ctx.report(self, read.node,
                           f"setting `{read.name}` makes every library in this process use one shared key: pass "
                           f"the agent's own key to its client (`api_key=`) instead")
        for built in ctx.module.constructions:
            spec = built.spec
            if built.key_arg is not None or built.has_star_kwargs or not spec.default_key_env:
                continue
            ctx.report(self, built.node,
                       f"`{client_label(spec.name)}()` without a key reads the shared `{spec.default_key_env}`: "
                       f"pass `{spec.key_params[0]}=os.environ[\"{per_agent_name(spec.default_key_env)}\"]`")

    @staticmethod
    def _fix(ctx: FileContext, read: EnvRead) -> tuple[Edit | None, str]:
        """The edit that reads the agent's registered key instead, and what to do, in words."""
        fallback = f"give each agent its own key, e.g. `{per_agent_name(read.name)}`"
        literal = read.literal
        if literal is None or ctx.cell is not None:
            return None, fallback
        agent = ctx.config.agent_for(ctx.path)
        if agent is None:
            return None, fallback
        vendor = ctx.catalogue.generic_envs[read.name]
        environment = environment_of(read.name, None)
        candidates = sorted(
            key.env for key in ctx.config.keys.values()
            if key.agent == agent and key.env not in ctx.catalogue.generic_envs
            and (key.provider or ctx.catalogue.vendor_of_env(key.env)) == vendor
            and environment_of(key.env, key) == environment)
        if len(candidates) != 1:
            return None, fallback
        line, col, end_line, end_col = ctx.position(literal)
        if line != end_line:
            return None, fallback
        text = ctx.lines[line - 1][col - 1:end_col - 1]
        quote = next((ch for ch in text if ch in "'\""), None)
        if quote is None or text.lower().startswith(("f", "b", "rb", "br")):
            return None, fallback
        prefix = text[:text.index(quote)]
        quote = quote * 3 if text[len(prefix):].startswith(quote * 3) else quote
        edit = Edit(line, col, end_line, end_col, f"{prefix}{quote}{candidates[0]}{quote}", safe=False)
        return edit, f"read agent `{agent}`'s own key, `{candidates[0]}`"


def _other_api(ctx: FileContext, read: EnvRead) -> bool:
    """A variable the vendor's other APIs use too (`GOOGLE_API_KEY` keys Custom Search), in a
    file that shows no sign of the vendor's LLMs: not the shared LLM key."""
    vendor = ctx.catalogue.vendors.get(ctx.catalogue.generic_envs[read.name])
    if vendor is None or read.name not in vendor.ambiguous_key_envs or read.flows_into_client:
        return False
    text = ctx.source.lower()
    return not any(word in text for word in vendor.llm_words)


def _literal(read: EnvRead) -> bool:
    """A write of a literal value (`os.environ["OPENAI_API_KEY"] = "test-key"` in a test): a
    fake key for a test, or a real one that ATR101 reports."""
    return isinstance(read.value, (ast.Constant, ast.JoinedStr)) and not any(
        isinstance(part, ast.FormattedValue) for part in getattr(read.value, "values", ()))


class SilentKeyFallback(Rule):
    code = "ATR106"
    name = "silent-key-fallback"
    family = "keys"
    summary = "A key argument that may be None, so the SDK silently uses the shared key"
    what = ("Finds a client built with a key that may be None at run time: `os.getenv(\"X\")` or "
            "`os.environ.get(\"X\")` without a default (directly, through a local name or `self.x`), "
            "`a or os.getenv(\"X\")`, and a pydantic settings field typed `Optional` with a default "
            "of None (`settings.key` of a `BaseSettings` class in the same file). When `api_key` is "
            "None, the SDK reads its default variable (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, ...), "
            "so an unset per-agent variable silently bills the shared key. A check that stops the "
            "code first (`if not key: raise ...`, `assert key`) or an enclosing `if key:` clears it.")
    why = ("The per-agent key exists so that each agent's spend is its own. A deployment that forgets "
           "to set it still works, on the shared key: nothing fails, and the invoice quietly stops "
           "adding up.")
    example = """
        client = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT"))  # unset: reads OPENAI_API_KEY
    """
    instead = """
        client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])  # unset: KeyError at start-up
    """
    invalid = (
        'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT"))\n',
        ('import os\nfrom anthropic import Anthropic\nkey = os.environ.get("ANTHROPIC_KEY_BILLING")\n'
        "claude = Anthropic(api_key=key)\n"),
        ("from typing import Optional\nfrom pydantic_settings import BaseSettings\nfrom openai import OpenAI\n\n"
        "class Settings(BaseSettings):\n    openai_key_support: Optional[str] = None\n\n"
        "settings = Settings()\nclient = OpenAI(api_key=settings.openai_key_support)\n"),
    )
    valid = (
        'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])\n',
        ('import os\nfrom openai import OpenAI\nkey = os.getenv("OPENAI_KEY_SUPPORT")\nif not key:\n'
        '    raise RuntimeError("set OPENAI_KEY_SUPPORT")\nclient = OpenAI(api_key=key)\n'),
        'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT", ""))\n',
        ("from pydantic_settings import BaseSettings\nfrom openai import OpenAI\n\n"
        "class Settings(BaseSettings):\n    openai_key_support: str\n\n"
        "client = OpenAI(api_key=Settings().openai_key_support)\n"),
    )

    def check(self, ctx: FileContext) -> None:
        for fallback in ctx.module.fallbacks:
            if fallback.env is not None:
                remedy = (f"read it with `os.environ[\"{fallback.env}\"]` (fails loudly when unset) or check it "
                          "before building the client")
            else:
                remedy = "make the field required (no default) or check it before building the client"
            ctx.report(self, fallback.node,
                       f"`{_short(fallback.source)}` {fallback.why}, and then `{fallback.client}` silently uses the "
                       f"shared `{fallback.default_env}`: {remedy}")


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


RULES = [HardcodedApiKey, GenericKeyEnv, SilentKeyFallback]
