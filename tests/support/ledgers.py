"""Ledgers for tests: a throwaway SQLite ledger, its rows, a generated 60-day sample ledger with its
registry (a retired key, an expired key in use, a spike, unregistered keys), and counts read from a
database directly (rows, distinct ids, quarantined), not through the ledger under test."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrlint.ledger import Ledger

PG_URL = os.environ.get("ATTRLINT_TEST_POSTGRES_URL")
NEEDS_PG = "set ATTRLINT_TEST_POSTGRES_URL=postgresql://USER@HOST:PORT/DB to test the PostgreSQL ledger"


def with_schema(url: str, schema: str) -> str:
    """A PostgreSQL ledger URL using its own schema."""
    return url + ("&" if "?" in url else "?") + f"schema={schema}"


@contextmanager
def sqlite_ledger(directory: Path) -> Iterator[Ledger]:
    """A SQLite ledger in `directory` (spilling to `directory`/spill), closed afterwards."""
    book = Ledger(f"sqlite:///{directory / 'ledger.db'}", spill_dir=directory / "spill")
    try:
        yield book
    finally:
        book.close()


def rows(ledger: Ledger) -> list[Any]:
    """Every stored record, once the queue is written."""
    ledger.flush()
    return list(ledger.records())


# -- the sample ledger --------------------------------------------------------------------------

TODAY = dt.date(2026, 6, 30)
SPIKE_DAY = dt.date(2026, 6, 25)
SUPPORT_FP = "5a5a5a5a5a5a"

PYPROJECT = """
[tool.attrlint.agents.support]
paths = ["services/support/**"]
monthly-budget = 100

[tool.attrlint.agents.billing]
paths = ["services/billing/**"]
monthly-budget = 20

[tool.attrlint.keys.SUPPORT_OPENAI_KEY]
agent = "support"
owner = "ana"
expires = 2026-12-31

[tool.attrlint.keys.BILLING_ANTHROPIC_KEY]
agent = "billing"
owner = "bo"
expires = 2026-06-10

[tool.attrlint.keys.OLD_BATCH_KEY]
agent = "batch"
owner = "cy"
expires = 2027-01-31
"""


def write_sample(directory: Path) -> str:
    """Write pyproject.toml and ledger.db into `directory`; return the ledger URL."""
    (directory / "pyproject.toml").write_text(PYPROJECT)
    url = f"sqlite:///{directory / 'ledger.db'}"
    book = Ledger(url, spill_dir=directory / "spill")

    def add(day: dt.date, hour: int, *, key_env: str | None, fp: str, agent: str | None, model: str,
            cost: str, provider: str = "openai", attributed: bool = True, ticket: str | None = None,
            customer: str | None = None) -> None:
        book.record(provider=provider, operation="messages" if provider == "anthropic" else "chat", model=model,
                    agent_id=agent, ticket_id=ticket, customer_id=customer, key_env=key_env, key_fingerprint=fp,
                    cost=Decimal(cost), attributed=attributed, input_tokens=1000, output_tokens=100,
                    timestamp=dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=dt.timezone.utc))

    for back in range(60):
        day = TODAY - dt.timedelta(days=back)
        for i in range(4):
            add(day, 8 + i, key_env="SUPPORT_OPENAI_KEY", fp=SUPPORT_FP, agent="support", model="gpt-4o",
                cost="0.50", ticket=f"T-{back % 7}", customer=("acme", "globex", "initech")[i % 3])
        add(day, 13, key_env=None, fp=SUPPORT_FP, agent="support", model="gpt-4o", cost="0.25",
            ticket=f"T-{back % 5}", customer="acme")  # fingerprint only: still SUPPORT_OPENAI_KEY
        for i in range(3):  # the expired key, still used every day; one call in three unattributed
            add(day, 14 + i, key_env="BILLING_ANTHROPIC_KEY", fp="b1b1b1b1b1b1", agent="billing",
                model="claude-sonnet-4-6", cost="0.40", provider="anthropic", attributed=i != 0,
                ticket=None if i == 0 else f"B-{back % 3}", customer=None if i == 0 else "umbrella")
        if back >= 45:  # only long ago
            add(day, 20, key_env="OLD_BATCH_KEY", fp="0b0b0b0b0b0b", agent="batch", model="gpt-4o-mini",
                cost="0.10")
        if back < 10 and back % 3 == 0:  # keys nobody registered
            add(day, 21, key_env="ROGUE_KEY", fp="4040404040ff", agent="experiments", model="gpt-4o", cost="1.00")
            add(day, 22, key_env=None, fp="0123456789ab", agent=None, model="gpt-4o", cost="0.30",
                attributed=False)
    for i in range(20):  # the spike: a backfill job on the support key
        add(SPIKE_DAY, 23, key_env="SUPPORT_OPENAI_KEY", fp=SUPPORT_FP, agent="backfill", model="gpt-4.1",
            cost="1.00", ticket="T-BACKFILL", customer="acme")
    book.close()
    return url


# -- looking at a database directly (not through the ledger under test) --------------------------

def count_rows(url: str) -> tuple[int, int]:
    """(rows, distinct ids) in cost_records of a sqlite:/// or postgresql:// ledger."""
    from attrlint.ledger.ledger import parse_url

    parsed = parse_url(url)
    sql = "SELECT COUNT(*), COUNT(DISTINCT id) FROM cost_records"
    if parsed.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(parsed.path or "")
        try:
            return conn.execute(sql).fetchone()
        finally:
            conn.close()
    import psycopg

    from attrlint.ledger.stores.postgres import split_url

    dsn, schema = split_url(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if schema:
            conn.execute(f'SET search_path TO "{schema}"')
        return conn.execute(sql).fetchone()


def count_quarantined(url: str) -> int:
    from attrlint.ledger.ledger import parse_url

    parsed = parse_url(url)
    sql = "SELECT COUNT(*) FROM attrlint_quarantine"
    if parsed.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(parsed.path or "")
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    import psycopg

    from attrlint.ledger.stores.postgres import split_url

    dsn, schema = split_url(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if schema:
            conn.execute(f'SET search_path TO "{schema}"')
        return conn.execute(sql).fetchone()[0]


def record_many(book: Ledger, n: int, *, agent: str = "a", start: int = 0, **fields: Any) -> list[str]:
    """Record `n` priced calls (ticket ids start..start+n-1); returns their ids."""
    fields.setdefault("cost", Decimal("0.001"))
    return [book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=agent,
                        ticket_id=str(start + i), **fields) for i in range(n)]
