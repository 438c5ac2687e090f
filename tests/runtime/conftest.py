"""Fixtures for the runtime tests: isolated directories, ledgers, SDK clients on a mock API."""

from __future__ import annotations

from typing import Any

import pytest
from support import fake_api
from support.fake_api import MockAPI
from support.ledgers import sqlite_ledger


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
