"""Fixtures for the runtime-everywhere tests: isolated directories, ledgers, the mock API of tests/runtime."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "runtime"))

from runtime_helpers import MockAPI

from attrlint.ledger import Ledger


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
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", spill_dir=tmp_path / "spill")
    yield book
    book.close()

