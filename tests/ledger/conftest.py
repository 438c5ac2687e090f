"""Fixtures for the ledger tests: isolated directories, a SQLite ledger, a PostgreSQL schema of
the test's own, both backends in turn, an OpenAI client on the mock API."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from support import fake_api
from support.fake_api import MockAPI
from support.ledgers import NEEDS_PG, PG_URL, sqlite_ledger, with_schema


@pytest.fixture(autouse=True)
def _isolated(isolated: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ledger test is `isolated` (tests/conftest.py): its own directory, no ATTRLINT_* settings
    from the environment, and `uninstall()` afterwards. Spill folders default to the user's state
    directory: here, one under the test's directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def pg_schema() -> Any:
    """A PostgreSQL schema of the test's own, dropped afterwards (parallel runs never collide)."""
    if not PG_URL:
        pytest.skip(NEEDS_PG)
    import psycopg

    name = f"attrlint_test_{os.getpid()}_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh ledger URL on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return with_schema(PG_URL or "", request.getfixturevalue("pg_schema"))


@pytest.fixture
def ledger(tmp_path: Any) -> Any:
    with sqlite_ledger(tmp_path) as book:
        yield book


@pytest.fixture
def api() -> MockAPI:
    return MockAPI()


@pytest.fixture
def openai_client(api: MockAPI) -> Any:
    return fake_api.openai_client(api)
