"""ATR102 sees how real code reads keys; ATR106 finds keys that silently fall back to the shared one.

Each pattern is tested both ways: the form that reads the shared variable, and the nearby
form that does not.
"""

from __future__ import annotations

import textwrap

import pytest

from attrlint.core.catalogue import is_key_shaped, load_catalogue
from attrlint.lint.rules.keys import per_agent_name

SETTINGS = "from pydantic_settings import BaseSettings, SettingsConfigDict\nfrom pydantic import Field, AliasChoices\n"


@pytest.fixture
def found(lint):
    """found(source, code="ATR102") -> the lines `code` is reported on."""

    def _found(source: str, code: str = "ATR102") -> list[int]:
        return [line for c, line in lint(textwrap.dedent(source)) if c == code]

    return _found


# -- pydantic settings classes ---------------------------------------------------------------

@pytest.mark.parametrize(("body", "reported"), [
    ("openai_api_key: str", True),  # case-insensitive by default: OPENAI_API_KEY
    ("OPENAI_API_KEY: str | None = None", True),
    ("anthropic: str = Field(alias='ANTHROPIC_API_KEY')", True),
    ("gemini: str = Field(validation_alias='GEMINI_API_KEY')", True),
    ("llm: str = Field(validation_alias=AliasChoices('MISTRAL_KEY_SUPPORT', 'MISTRAL_API_KEY'))", True),
    ("openai_key_support: str", False),
    ("model_name: str = 'gpt-4o'", False),
    ("openai_api_key: ClassVar[str] = 'x'", False),
])
def test_settings_fields(found, body, reported):
    source = SETTINGS + f"from typing import ClassVar\n\nclass Settings(BaseSettings):\n    {body}\n"
    assert found(source) == ([6] if reported else [])


@pytest.mark.parametrize(("config", "field", "reported"), [
    ('model_config = SettingsConfigDict(env_prefix="SUPPORT_")', "openai_api_key: str", False),
    ('model_config = SettingsConfigDict(env_prefix="OPENAI_")', "api_key: str", True),
    ('model_config = {"env_prefix": "OPENAI_"}', "api_key: str", True),
    ('model_config = SettingsConfigDict(env_prefix="APP_")', "key: str = Field(alias='OPENAI_API_KEY')", True),
    ("model_config = SettingsConfigDict(case_sensitive=True)", "openai_api_key: str", False),
    ("model_config = SettingsConfigDict(case_sensitive=True)", "OPENAI_API_KEY: str", True),
    ('class Config:\n        env_prefix = "ANTHROPIC_"', "api_key: str", True),
    ('class Config:\n        env_prefix = "X_"', "anthropic_api_key: str", False),
])
def test_settings_configuration(found, config, field, reported, lint):
    source = SETTINGS + f"\nclass Settings(BaseSettings):\n    {config}\n    {field}\n"
    lines = found(source)
    assert bool(lines) == reported
    if reported:
        assert lines == [len(source.splitlines())]  # at the field


def test_settings_inherit_the_prefix_of_a_local_base(found):
    source = SETTINGS + """
class Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")

class Settings(Base):
    openai_api_key: str

class Plain(BaseSettings):
    openai_api_key: str
"""
    assert found(source) == [11]


def test_a_model_that_is_not_settings_reads_nothing(found):
    assert found("from pydantic import BaseModel\n\nclass Request(BaseModel):\n    openai_api_key: str\n") == []


def test_settings_fields_are_key_references(tmp_path, run_cli):
    from support.source import write_tree

    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint.agents.support]\npaths = ["support/**"]\n'
                          '[tool.attrlint.agents.billing]\npaths = ["billing/**"]\n',
        "support/config.py": SETTINGS + "\nclass Settings(BaseSettings):\n    openai_key_support: str\n",
        "billing/config.py": SETTINGS + "\nclass Settings(BaseSettings):\n    openai_key_support: str\n",
    })
    result = run_cli("check", "--select", "ATR103", cwd=tmp_path)
    assert "billing/config.py:5:5: ATR103 `OPENAI_KEY_SUPPORT` is used by agents billing, support" in result.stdout


# -- names in constants and f-strings ---------------------------------------------------------

@pytest.mark.parametrize(("source", "lines"), [
    ('import os\nKEY_VAR = "OPENAI_API_KEY"\nkey = os.environ[KEY_VAR]\n', [3]),
    ('import os\nPROVIDER = "ANTHROPIC"\nkey = os.getenv(f"{PROVIDER}_API_KEY")\n', [3]),
    ('import os\nPROVIDER = "GROQ"\nkey = os.environ.get(PROVIDER + "_API_KEY")\n', [3]),
    ('import os\n\ndef load():\n    name = "MISTRAL_API_KEY"\n    return os.getenv(name)\n', [5]),
    ('import os\nKEY_VAR = "OPENAI_KEY_SUPPORT"\nkey = os.environ[KEY_VAR]\n', []),
    ('import os\n\ndef load(provider):\n    return os.getenv(f"{provider.upper()}_API_KEY")\n', []),  # not static
])
def test_names_from_constants_and_fstrings(found, source, lines):
    assert found(source) == lines


def test_a_name_bound_to_two_constants_is_not_guessed(found):
    source = 'import os\nif x:\n    VAR = "OPENAI_API_KEY"\nelse:\n    VAR = "OPENAI_KEY_SUPPORT"\nkey = os.getenv(VAR)\n'
    assert found(source) == []


def test_the_message_names_the_constant(lint):
    from support.source import lint as lint_findings

    [finding] = lint_findings('import os\nKEY_VAR = "OPENAI_API_KEY"\nkey = os.environ[KEY_VAR]\n')
    assert "(the name comes from `KEY_VAR`)" in finding.message


# -- clients built without a key --------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "import openai\nclient = openai.Client()\n",
    "import openai\nclient = openai.AsyncClient()\n",
    "import anthropic\nclient = anthropic.Client()\n",
    "import anthropic\nclient = anthropic.AsyncClient()\n",
    "from openai import OpenAI\nclient = OpenAI(api_key=None)\n",
    "from langchain_openai import ChatOpenAI\nllm = ChatOpenAI(model='gpt-4o')\n",
    "from langchain_openai import OpenAIEmbeddings\nemb = OpenAIEmbeddings()\n",
    "from langchain_community.embeddings import OpenAIEmbeddings\nemb = OpenAIEmbeddings()\n",
    "from langchain.chat_models import ChatOpenAI\nllm = ChatOpenAI()\n",
    "from langchain_anthropic import ChatAnthropic\nllm = ChatAnthropic(model='claude')\n",
    "from langchain_google_genai import GoogleGenerativeAIEmbeddings\nemb = GoogleGenerativeAIEmbeddings(model='m')\n",
    "from langchain_mistralai import MistralAIEmbeddings\nemb = MistralAIEmbeddings()\n",
    "from langchain_cohere import CohereEmbeddings\nemb = CohereEmbeddings()\n",
])
def test_client_aliases_without_a_key(found, source):
    assert found(source) == [2]


def test_every_catalogued_client_with_a_default_variable_is_checked(lint):
    """Every constructor the catalogue lists with a default key variable is reported when
    built with no key, under its qualified name."""
    catalogue = load_catalogue()
    for name, spec in catalogue.clients.items():
        if not spec.default_key_env:
            continue
        module, _, short = name.rpartition(".")
        codes = [c for c, _ in lint(f"from {module} import {short}\nclient = {short}()\n")]
        assert codes.count("ATR102") == 1, name


def test_alias_messages_say_which_client(lint):
    from support.source import lint as lint_findings

    [finding] = lint_findings("import anthropic\nclient = anthropic.Client()\n")
    assert finding.message.startswith("`anthropic.Client()` without a key reads the shared `ANTHROPIC_API_KEY`")


# -- writes, and what is not a read -----------------------------------------------------------

@pytest.mark.parametrize("line", [
    'os.environ["OPENAI_API_KEY"] = settings.key',
    'os.environ.setdefault("ANTHROPIC_API_KEY", settings.key)',
    'os.putenv("GROQ_API_KEY", settings.key)',
    "os.environ.update(MISTRAL_API_KEY=settings.key)",
    'os.environ.update({"GEMINI_API_KEY": settings.key})',
])
def test_writes_have_their_own_message(line):
    from support.source import lint as lint_findings

    findings = lint_findings(f"import os\n\ndef configure(settings):\n    {line}\n")
    assert [(f.code, f.line) for f in findings] == [("ATR102", 4)]
    assert "makes every library in this process use one shared key" in findings[0].message


@pytest.mark.parametrize("source", [
    'import os\ndel os.environ["OPENAI_API_KEY"]\n',
    'import os\nos.environ.pop("OPENAI_API_KEY", None)\n',
    'import os\nhas_key = "OPENAI_API_KEY" in os.environ\n',
    'import os\nif not os.getenv("OPENAI_API_KEY"):\n    raise SystemExit("set OPENAI_API_KEY")\n',
    'import os\nready = bool(os.environ.get("OPENAI_API_KEY")) if os.environ.get("OPENAI_API_KEY") else False\n',
    'import os\nassert os.environ.get("OPENAI_API_KEY") == "test-key"\n',
    'import os\nwhile not os.getenv("ANTHROPIC_API_KEY"):\n    wait()\n',
    'import os\nos.environ["OPENAI_API_KEY"] = "test-key"\n',  # a test's fake value (ATR101 judges literals)
])
def test_not_reads(found, source):
    assert found(source) == []


def test_a_condition_that_uses_the_value_is_a_read(found):
    assert found('import os\nif key := os.getenv("OPENAI_API_KEY"):\n    use(key)\n') == [2]
    assert found('import os\nkey = os.getenv("OPENAI_API_KEY") or default_key()\n') == [2]


def test_a_base_url_redirect_makes_the_key_the_servers(found):
    """private-gpt points a tool at its own server, then gives it the server's password under
    the variable name the tool reads: not the vendor's shared key."""
    source = """
        import os

        def inject_app_env(base_url, secret):
            os.environ["ANTHROPIC_BASE_URL"] = base_url
            os.environ["ANTHROPIC_API_KEY"] = secret

        def other(secret):
            os.environ["ANTHROPIC_API_KEY"] = secret

        def openai_too(secret):
            os.environ["ANTHROPIC_BASE_URL"] = "http://localhost:8001"
            os.environ["OPENAI_API_KEY"] = secret
    """
    assert found(source) == [9, 13]  # another function; another vendor's variable


# -- suggested per-agent names ----------------------------------------------------------------

def test_suggested_names_are_keys_of_the_same_vendor():
    catalogue = load_catalogue()
    for generic, vendor in catalogue.generic_envs.items():
        suggestion = per_agent_name(generic).replace("<AGENT>", "SUPPORT")
        assert is_key_shaped(suggestion), (generic, suggestion)
        assert catalogue.vendor_of_env(suggestion) == vendor, (generic, suggestion)
        assert suggestion not in catalogue.generic_envs
    assert per_agent_name("QIANFAN_AK") == "QIANFAN_AK_<AGENT>"
    assert per_agent_name("OPENAI_API_KEY") == "OPENAI_KEY_<AGENT>"
    assert per_agent_name("HF_TOKEN") == "HF_TOKEN_<AGENT>"


# -- ATR106: a key that may be None -----------------------------------------------------------

@pytest.mark.parametrize(("source", "lines"), [
    ('client = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT"))', [1]),
    ('client = OpenAI(api_key=os.environ.get("OPENAI_KEY_SUPPORT", None))', [1]),
    ('key = os.environ.get("OPENAI_KEY_SUPPORT")\nclient = OpenAI(api_key=key)', [2]),
    ('client = OpenAI(api_key=cfg.key or os.getenv("OPENAI_KEY_SUPPORT"))', [1]),
    ('openai.api_key = os.getenv("OPENAI_KEY_SUPPORT")', [1]),
    ('client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])', []),
    ('client = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT", ""))', []),  # "" fails at the first request
    ('client = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT") or "unset")', []),
    ('client = OpenAI(api_key=os.getenv("OPENAI_API_KEY"))', []),  # the shared variable itself: ATR102
    ('key = os.getenv("OPENAI_KEY_SUPPORT")\nif not key:\n    raise RuntimeError("no key")\nclient = OpenAI(api_key=key)', []),
    ('key = os.getenv("OPENAI_KEY_SUPPORT")\nif key is None:\n    sys.exit(1)\nclient = OpenAI(api_key=key)', []),
    ('key = os.getenv("OPENAI_KEY_SUPPORT")\nassert key\nclient = OpenAI(api_key=key)', []),
    ('key = os.getenv("OPENAI_KEY_SUPPORT")\nif key:\n    client = OpenAI(api_key=key)', []),
    ('client = OpenAILike(api_key=os.getenv("LOCAL_KEY"), api_base="http://localhost")', []),  # no shared default
])
def test_silent_fallback(found, source, lines):
    head = "import os\nimport sys\nimport openai\nfrom openai import OpenAI\nfrom llama_index.llms.openai_like import OpenAILike\n"
    assert [line - 5 for line in found(head + source + "\n", "ATR106")] == lines


def test_silent_fallback_through_self(found):
    source = """
        import os
        from anthropic import Anthropic

        class Summariser:
            def __init__(self):
                self.key = os.environ.get("ANTHROPIC_KEY_RESEARCH")

            def client(self):
                return Anthropic(api_key=self.key)
    """
    assert found(source, "ATR106") == [10]


def test_silent_fallback_from_an_optional_settings_field(found):
    source = SETTINGS + """from typing import Optional
from openai import OpenAI

class Settings(BaseSettings):
    openai_key_support: Optional[str] = None
    openai_key_billing: str
    openai_key_triage: str | None = Field(default=None)

settings = Settings()
support = OpenAI(api_key=settings.openai_key_support)
billing = OpenAI(api_key=settings.openai_key_billing)
triage = OpenAI(api_key=Settings().openai_key_triage)
"""
    assert found(source, "ATR106") == [12, 14]


def test_fallback_message():
    from support.source import lint as lint_findings

    [finding] = [f for f in lint_findings(
        'import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.getenv("OPENAI_KEY_SUPPORT"))\n')
        if f.code == "ATR106"]
    assert finding.message == (
        '`os.getenv(\'OPENAI_KEY_SUPPORT\')` is None when `OPENAI_KEY_SUPPORT` is unset, and then `OpenAI()` '
        'silently uses the shared `OPENAI_API_KEY`: read it with `os.environ["OPENAI_KEY_SUPPORT"]` (fails loudly '
        "when unset) or check it before building the client")
    assert (finding.line, finding.column) == (3, 25)  # at the key argument


def test_asserted_and_restored_values_are_not_reads(found):
    source = """
        import os

        def test_env(self):
            self.assertEqual(os.environ.get("ANTHROPIC_API_KEY"), "test-key")
            saved = os.environ.get("OPENAI_API_KEY", "")
            run()
            os.environ["OPENAI_API_KEY"] = saved
    """
    assert found(source) == []


def test_google_api_key_counts_only_next_to_gemini(found):
    search = 'import os\nimport requests\nKEY = os.environ["GOOGLE_API_KEY"]\nCX = os.environ["GOOGLE_CX_KEY"]\n'
    assert found(search) == []  # Custom Search's key
    assert found("from google import genai\n" + search) == [4]
    assert found('import os\nfrom langchain_google_genai import ChatGoogleGenerativeAI\n'
                 'llm = ChatGoogleGenerativeAI(google_api_key=os.getenv("GOOGLE_API_KEY"))\n') == [3]


@pytest.mark.parametrize(("source", "lines"), [
    ("import cohere\nclient = cohere.Client(self.api_key)\n", []),  # the key, positionally
    ("import cohere\nclient = cohere.ClientV2()\n", [2]),
    ('import os, voyageai\nclient = voyageai.Client(os.environ["VOYAGE_API_KEY"])\n', [2]),
])
def test_keys_passed_positionally(found, source, lines):
    assert found(source) == lines


@pytest.mark.parametrize(("source", "lines"), [
    ('import os\nkey = os.getenv("OPENAI_API_KEY")\nif not key:\n    raise SystemExit("set OPENAI_API_KEY")\n', []),
    ('import os\n\ndef main():\n    key = os.getenv("GEMINI_API_KEY")\n    if not key or len(key) < 20:\n'
     '        print(f"too short: {len(key)}")\n', []),
    ('import os\nkey = os.getenv("OPENAI_API_KEY")\nif not key:\n    raise SystemExit(1)\nclient = make(key)\n', [2]),
    ('import os\nKEY = os.environ.get("OPENAI_API_KEY")\n\ndef headers():\n    return {"Authorization": f"Bearer {KEY}"}\n', [2]),
])
def test_a_value_only_tested_after_it_is_read_is_a_check(found, source, lines):
    assert found(source) == lines
