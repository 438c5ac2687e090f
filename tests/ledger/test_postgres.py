"""The PostgreSQL ledger against a real server (ATTRLINT_TEST_POSTGRES_URL): records and totals,
a backend terminated under it, a port nobody listens on. The network failing under it (through
a proxy) is in test_faults.py."""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal

import pytest
from support.ledgers import NEEDS_PG, PG_URL, with_schema

from attrlint.ledger import Ledger

URL = PG_URL
pytestmark = pytest.mark.skipif(not URL, reason=NEEDS_PG)


@pytest.fixture
def schema(pg_schema):
    return pg_schema


def test_records_and_totals(schema, tmp_path):
    book = Ledger(with_schema(URL, schema), spill_dir=tmp_path / "spill")
    day = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    for i in range(1000):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=f"a{i % 4}", ticket_id=f"T-{i}",
                    customer_id="acme", input_tokens=1000, cached_input_tokens=400, output_tokens=100,
                    timestamp=day + dt.timedelta(hours=i % 48), metadata={"feature": "x"})
    book.record(provider="openai", operation="chat", model="acme-llm", agent_id="a0", input_tokens=5,
                timestamp=day)
    book.flush()
    totals = book.totals("agent")
    assert totals == {"a0": Decimal("0.75"), "a1": Decimal("0.75"), "a2": Decimal("0.75"), "a3": Decimal("0.75")}
    assert sum(book.totals(("day", "agent")).values()) == Decimal(3)
    assert set(book.totals("day")) == {"2026-03-01", "2026-03-02", "2026-03-03"}
    records = list(book.records(agent="a1", since=day, until=day + dt.timedelta(hours=2)))
    assert {r.ticket_id for r in records} == {f"T-{i}" for i in range(1, 1000, 48)}
    assert records[0].metadata == {"feature": "x"} and records[0].cost == Decimal("0.003")
    (unpriced,) = book.records(status="unpriced")
    assert unpriced.cost is None and unpriced.input_tokens == 5
    book.close()


def test_terminated_backend_is_reconnected_without_losing_rows(schema, tmp_path):
    import psycopg

    book = Ledger(with_schema(URL, schema), spill_dir=tmp_path / "spill")
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a")
    book.flush()
    pid = book._store._conn.info.backend_pid
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    for _ in range(5):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a")
    book.flush()
    assert len(list(book.records())) == 6
    assert book.spilled_files() == []
    book.close()


def test_closed_port_spills(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    book = Ledger(f"postgresql://postgres@127.0.0.1:{port}/test", spill_dir=tmp_path / "spill")
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a")
    book.flush()
    assert book.pending_spill().entries == 1 and book.stats.spilled == 1
    book.close(timeout=0.5)
