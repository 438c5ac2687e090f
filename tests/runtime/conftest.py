"""Fixtures for the runtime tests: isolated directories, ledgers, SDK clients on a mock API."""

from __future__ import annotations

import os
from typing import Any

import pytest
from support import fake_api
from support.fake_api import MockAPI
from support.keys import fake_anthropic_key, fake_google_key, fake_key, fake_openai_key
from support.ledgers import sqlite_ledger

# litellm fetches its model price map and other catalogues from GitHub, unless told to use its own copies
os.environ.setdefault("LITELLM_OFFLINE_MODE", "True")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# ... and sends its async requests over aiohttp unless told to use httpx, which the fakes answer
os.environ.setdefault("DISABLE_AIOHTTP_TRANSPORT", "True")


@pytest.fixture(autouse=True)
def _isolated(isolated: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every runtime test is `isolated` (tests/conftest.py): its own directory, no ATTRLINT_* settings
    from the environment, and `uninstall()` afterwards; starts with nothing remembered of background
    responses and batches submitted by earlier tests; spill folders go under the test's directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    from attrlint.runtime.sdks import stainless

    for registry in (stainless.PENDING, stainless.SUBMITTED, stainless.OUTPUTS, stainless.RECORDED):
        registry.clear()


@pytest.fixture
def api() -> MockAPI:
    return MockAPI()


@pytest.fixture
def ledger(tmp_path: Any) -> Any:
    with sqlite_ledger(tmp_path) as book:
        yield book


@pytest.fixture
def openai_client(api: MockAPI) -> Any:
    return fake_api.openai_client(api)


@pytest.fixture
def async_openai_client(api: MockAPI) -> Any:
    return fake_api.openai_client(api, asynchronous=True)


@pytest.fixture
def anthropic_client(api: MockAPI) -> Any:
    return fake_api.anthropic_client(api)


@pytest.fixture
def async_anthropic_client(api: MockAPI) -> Any:
    return fake_api.anthropic_client(api, asynchronous=True)


@pytest.fixture
def provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake keys in the variables litellm and the frameworks read when given none."""
    monkeypatch.setenv("OPENAI_API_KEY", fake_openai_key())
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake_anthropic_key())
    monkeypatch.setenv("GEMINI_API_KEY", fake_google_key())
    monkeypatch.setenv("COHERE_API_KEY", fake_key("", 40))
    monkeypatch.setenv("MISTRAL_API_KEY", fake_key("", 32))
