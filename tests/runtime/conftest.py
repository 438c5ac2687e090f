"""Fixtures for the runtime tests: isolated directories, ledgers, SDK clients on a mock API."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from runtime_helpers import MockAPI
from support.keys import fake_anthropic_key, fake_openai_key

from attrlint.ledger import Ledger


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own directory, with no attrlint environment leaking in."""
    monkeypatch.chdir(tmp_path)
    for name in ("ATTRLINT_LEDGER_URL", "ATTRLINT_CONFIG", "ATTRLINT_ENVIRONMENT", "ATTRLINT_SPILL_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> MockAPI:
    return MockAPI()


@pytest.fixture
def ledger(tmp_path: Any) -> Any:
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", spill_dir=tmp_path / "spill")
    yield book
    book.close()


@pytest.fixture
def openai_client(api: MockAPI) -> Any:
    import openai

    return openai.OpenAI(api_key=fake_openai_key(), http_client=httpx2.Client(transport=httpx2.MockTransport(api)),
                         max_retries=0)


@pytest.fixture
def async_openai_client(api: MockAPI) -> Any:
    import openai

    return openai.AsyncOpenAI(api_key=fake_openai_key(), max_retries=0,
                              http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api)))


@pytest.fixture
def anthropic_client(api: MockAPI) -> Any:
    import anthropic

    return anthropic.Anthropic(api_key=fake_anthropic_key(), max_retries=0,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(api)))


@pytest.fixture
def async_anthropic_client(api: MockAPI) -> Any:
    import anthropic

    return anthropic.AsyncAnthropic(api_key=fake_anthropic_key(), max_retries=0,
                                    http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api)))
