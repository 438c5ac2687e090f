"""Fixtures for the runtime-everywhere tests: isolated directories, ledgers, the mock API."""

from __future__ import annotations

from typing import Any

import pytest
from support.fake_api import MockAPI
from support.ledgers import sqlite_ledger


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test runs in its own directory, with no attrlint environment leaking in, and ends uninstalled."""
    monkeypatch.chdir(tmp_path)
    for name in ("ATTRLINT_LEDGER_URL", "ATTRLINT_CONFIG", "ATTRLINT_ENVIRONMENT", "ATTRLINT_SPILL_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield
    from attrlint.runtime import uninstall

    uninstall()


@pytest.fixture
def api() -> MockAPI:
    return MockAPI()


@pytest.fixture
def ledger(tmp_path: Any) -> Any:
    with sqlite_ledger(tmp_path) as book:
        yield book

