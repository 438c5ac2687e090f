"""Schema migrations: a database made by attrlint 0.1.0 (schema version 1) opens, migrates in
place and keeps every row; replayed duplicates of 0.1.0 move to the quarantine; a newer schema
is refused."""

from __future__ import annotations

import os
import secrets
import sqlite3
from decimal import Decimal

import pytest

from attrlint.ledger import Ledger, LedgerError
from attrlint.ledger.stores import migrations
from attrlint.ledger.stores.migrations import SCHEMA_VERSION

PG_URL = os.environ.get("ATTRLINT_TEST_POSTGRES_URL")

# The DDL attrlint 0.1.0 ran, verbatim (its SQLite id had no index; PostgreSQL's was the key).
V010_SQLITE = """
CREATE TABLE attrlint_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE cost_records (id TEXT NOT NULL, ts_us INTEGER NOT NULL, provider TEXT, operation TEXT, model TEXT,
  agent_id TEXT, ticket_id TEXT, customer_id TEXT, metadata TEXT, environment TEXT, input_tokens INTEGER,
  cached_input_tokens INTEGER, cache_write_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER,
  cost_nanos INTEGER, price_source TEXT, key_fingerprint TEXT, request_id TEXT, status TEXT NOT NULL,
  latency_ms REAL, key_env TEXT, agent_source TEXT);
CREATE INDEX cost_records_ts ON cost_records (ts_us, cost_nanos);
CREATE INDEX cost_records_agent ON cost_records (agent_id, ts_us, cost_nanos);
CREATE INDEX cost_records_ticket ON cost_records (ticket_id, ts_us, cost_nanos);
CREATE INDEX cost_records_customer ON cost_records (customer_id, ts_us, cost_nanos);
CREATE INDEX cost_records_model ON cost_records (model, ts_us, cost_nanos);
CREATE INDEX cost_records_key ON cost_records (key_fingerprint, ts_us, cost_nanos);
CREATE INDEX cost_records_unpriced ON cost_records (id) WHERE cost_nanos IS NULL;
INSERT INTO attrlint_meta VALUES ('schema_version', '1');
"""
TS = 1_772_366_400_000_000  # 2026-03-01T12:00Z


def v010_row(i: int, *, rid: str | None = None, agent: str = "triage", nanos: int = 1_000_000) -> tuple:
    # 0.1.0 ids: 14 hex digits of microseconds, a 4-byte salt, a 16-bit counter
    return (rid or f"{TS + i:014x}0badf00d{i & 0xFFFF:04x}", TS + i, "openai", "chat", "gpt-4o", agent, f"T-{i}",
            "acme", None, None, 1000, 0, 0, 100, 0, nanos, "genai-prices", None, None, "ok", 12.5, None, None)


def make_v010_sqlite(path, rows) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V010_SQLITE)
    conn.executemany(f"INSERT INTO cost_records VALUES ({', '.join('?' * 23)})", rows)
    conn.commit()
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def test_a_0_1_0_sqlite_ledger_migrates_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    rows = [v010_row(i) for i in range(500)]
    replayed = rows[10:15]  # 0.1.0 replayed a spill chunk twice: same ids, same values
    wrapped = v010_row(7, rid=rows[3][0], agent="billing")  # its id counter wrapped: same id, another call
    make_v010_sqlite(path, rows + replayed + [wrapped])

    book = Ledger(f"sqlite:///{path}", spill_dir=tmp_path / "spill")
    records = list(book.records())
    assert len(records) == 501  # 500 calls and the one whose id collided; the 5 replays are not counted twice
    assert len({r.id for r in records}) == 501
    assert book.totals("agent") == {"triage": Decimal("0.5"), "billing": Decimal("0.001")}
    quarantined = book.quarantined()
    assert len(quarantined) == 5 and all(q.reason.startswith("duplicate") for q in quarantined)
    assert {q.payload for q in quarantined} >= {__import__("json").dumps(
        dict(zip(migrations.V1_COLUMNS, replayed[0])), ensure_ascii=True, sort_keys=True)}
    # new rows go in beside the old ones, and the id is unique now
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="new", cost=Decimal("0.25"))
    book.flush()
    assert book.totals("agent")["new"] == Decimal("0.25")
    book.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM attrlint_meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(f"INSERT INTO cost_records ({', '.join(migrations.V1_COLUMNS)}) VALUES ({', '.join('?' * 23)})",
                     rows[0])
    conn.close()


def test_a_version_1_ledger_that_already_has_later_columns_migrates(tmp_path):
    """Development builds added step 3's columns to version-1 tables directly."""
    path = tmp_path / "dev.db"
    make_v010_sqlite(path, [v010_row(i) for i in range(20)])
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE cost_records ADD COLUMN service_tier TEXT")
    conn.execute("ALTER TABLE cost_records ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0")
    conn.commit()
    conn.close()
    book = Ledger(f"sqlite:///{path}")
    assert len(list(book.records())) == 20
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="new", cost=Decimal(1),
                host="api.openai.com", estimated=True)
    book.flush()
    (new,) = book.records(agent="new")
    assert (new.host, new.estimated) == ("api.openai.com", True)
    book.close()


def test_migrating_twice_or_concurrently_is_harmless(tmp_path):
    path = tmp_path / "old.db"
    make_v010_sqlite(path, [v010_row(i) for i in range(50)])
    books = [Ledger(f"sqlite:///{path}", spill_dir=tmp_path / "spill") for _ in range(3)]
    assert [len(list(b.records())) for b in books] == [50, 50, 50]
    for book in books:
        book.close()


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "new.db"
    make_v010_sqlite(path, [v010_row(1)])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE attrlint_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match=f"schema version {SCHEMA_VERSION + 1} is newer"):
        Ledger(f"sqlite:///{path}").open()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM cost_records").fetchone() == (1,)
    conn.close()


def test_steps_are_numbered_in_order_and_apply_from_any_version(tmp_path):
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert migrations.pending(SCHEMA_VERSION) == []
    # a fresh database runs every step; its tables are those a migrated 0.1.0 one has
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    Ledger(f"sqlite:///{fresh}").open().close()
    make_v010_sqlite(old, [])
    Ledger(f"sqlite:///{old}").open().close()

    def schema(path):
        conn = sqlite3.connect(path)
        found = sorted(r for r in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
        conn.close()
        return found

    assert schema(fresh) == schema(old)


@pytest.mark.skipif(not PG_URL, reason="set ATTRLINT_TEST_POSTGRES_URL to test PostgreSQL migrations")
def test_a_0_1_0_postgres_ledger_migrates_and_keeps_its_rows(tmp_path):
    import psycopg

    name = f"attrlint_mig_{os.getpid()}_{secrets.token_hex(3)}"
    types = migrations.COLUMN_TYPES["postgres"]
    columns = ", ".join(f"{c} {types.get(c, 'TEXT')}" for c in migrations.V1_COLUMNS)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
        conn.execute(f'SET search_path TO "{name}"')
        conn.execute("CREATE TABLE attrlint_meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(f"CREATE TABLE cost_records ({columns})")
        conn.execute("INSERT INTO attrlint_meta VALUES ('schema_version', '1')")
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO cost_records VALUES ({', '.join(['%s'] * 23)})",
                            [v010_row(i) for i in range(300)])
    try:
        book = Ledger(f"{PG_URL}?schema={name}", spill_dir=tmp_path / "spill")
        assert len(list(book.records())) == 300
        assert book.quarantine_count() == 0
        book.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            version = conn.execute(f'SELECT value FROM "{name}".attrlint_meta').fetchone()
            assert version == (str(SCHEMA_VERSION),)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
