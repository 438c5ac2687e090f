"""The SQLite ledger: records, totals, reprice, schema, concurrency."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import sys
import threading
from decimal import Decimal

import pytest

from attrlint.ledger import Ledger, LedgerError
from attrlint.ledger.stores.migrations import SCHEMA_VERSION

UTC = dt.timezone.utc


def _day(d: int) -> dt.datetime:
    return dt.datetime(2026, 3, d, 12, tzinfo=UTC)


def fill(book: Ledger) -> None:
    rows = [("triage", "T-1", "acme", 1, "gpt-4o"), ("triage", "T-2", "acme", 1, "gpt-4o"),
            ("billing", "T-3", "globex", 2, "gpt-4o-mini"), ("billing", "T-3", "globex", 3, "gpt-4o")]
    for agent, ticket, customer, day, model in rows:
        book.record(provider="openai", operation="chat", model=model, agent_id=agent, ticket_id=ticket,
                    customer_id=customer, input_tokens=1_000_000, output_tokens=0, timestamp=_day(day))
    book.flush()


def test_totals_by_each_dimension_and_pairs(ledger):
    fill(ledger)
    assert ledger.totals("agent") == {"triage": Decimal("5.000000000"), "billing": Decimal("2.650000000")}
    assert ledger.totals("customer")["globex"] == Decimal("2.65")
    assert ledger.totals("day") == {"2026-03-01": Decimal(5), "2026-03-02": Decimal("0.15"), "2026-03-03": Decimal("2.5")}
    assert ledger.totals("model") == {"gpt-4o": Decimal("7.5"), "gpt-4o-mini": Decimal("0.15")}
    assert ledger.totals("provider") == {"openai": Decimal("7.65")}
    assert ledger.totals(("agent", "day"))[("billing", "2026-03-03")] == Decimal("2.5")
    assert ledger.totals("ticket", since=_day(2), until=_day(3)) == {"T-3": Decimal("0.15")}
    assert set(ledger.totals("key")) == {None}
    with pytest.raises(ValueError, match="unknown dimension"):
        ledger.totals("colour")


def test_records_filters_and_types(ledger):
    fill(ledger)
    records = list(ledger.records(agent="billing"))
    assert [r.ticket_id for r in records] == ["T-3", "T-3"]
    assert all(isinstance(r.cost, Decimal) for r in records)
    assert [r.model for r in ledger.records(since="2026-03-02", model="gpt-4o")] == ["gpt-4o"]
    assert records[0].timestamp == _day(2)


def test_money_is_stored_as_integer_nano_dollars(ledger, tmp_path):
    ledger.record(provider="openai", operation="chat", model="x", cost=Decimal("0.000000123"))
    ledger.flush()
    conn = sqlite3.connect(tmp_path / "ledger.db")
    (nanos, kind), = conn.execute("SELECT cost_nanos, typeof(cost_nanos) FROM cost_records").fetchall()
    (version,), = conn.execute("SELECT value FROM attrlint_meta WHERE key = 'schema_version'").fetchall()
    (mode,), = conn.execute("PRAGMA journal_mode").fetchall()
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(cost_records)")}
    conn.close()
    assert (nanos, kind, version, mode) == (123, "integer", str(SCHEMA_VERSION), "wal")
    assert {"cost_records_agent", "cost_records_ts", "cost_records_customer", "cost_records_id"} <= indexes


def test_unknown_model_is_kept_and_repriced_later(tmp_path):
    book = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    book.record(provider="openai", operation="chat", model="acme-llm", agent_id="a", input_tokens=2_000_000)
    book.flush()
    (record,) = book.records()
    assert record.status == "unpriced" and record.cost is None and record.input_tokens == 2_000_000
    book.close()
    (tmp_path / "pyproject.toml").write_text('[tool.attrlint.pricing."openai:acme-llm"]\ninput = 0.5\n')
    book = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    assert book.reprice() == (1, 0)
    (record,) = book.records()
    assert record.status == "ok" and record.cost == Decimal(1) and record.price_source.startswith("override")
    book.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "l.db"
    Ledger(f"sqlite:///{path}").records()  # creates it
    book = Ledger(f"sqlite:///{path}")
    list(book.records())
    book.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE attrlint_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="newer"):
        list(Ledger(f"sqlite:///{path}").records())


def test_close_flushes_and_is_idempotent(tmp_path):
    book = Ledger(f"sqlite:///{tmp_path / 'l.db'}", flush_interval=30)
    for _ in range(10):
        book.record(provider="openai", operation="chat", model="gpt-4o")
    book.close()
    book.close()
    assert len(list(Ledger(f"sqlite:///{tmp_path / 'l.db'}").records())) == 10


def test_unwritable_ledger_spills_instead_of_losing_rows(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    book = Ledger(f"sqlite:///{blocker / 'sub' / 'l.db'}", spill_dir=tmp_path / "spill")
    book.record(provider="openai", operation="chat", model="gpt-4o")
    book.flush()
    assert sum(1 for p in book.spilled_files() for _ in p.open()) == 1
    book._closed = True  # nothing more to do; do not retry at exit


def test_many_threads_write_one_ledger(ledger):
    def work(i):
        for j in range(200):
            ledger.record(provider="openai", operation="chat", model="gpt-4o", agent_id=f"a{i}", ticket_id=str(j))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger.flush()
    counts = {}
    for record in ledger.records():
        counts[record.agent_id] = counts.get(record.agent_id, 0) + 1
    assert counts == {f"a{i}": 200 for i in range(16)}


def _child(url: str, i: int) -> None:
    from attrlint.core.config import PriceOverride
    from attrlint.ledger.pricing import Pricer

    # an override prices without loading genai-prices' tables: keeps process start-up short
    book = Ledger(url, pricer=Pricer([PriceOverride("openai", "gpt-4o", input=Decimal("2.50"))]))
    for j in range(500):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=f"p{i}", ticket_id=str(j),
                    input_tokens=1000)
        if j % 100 == 0:
            book.flush()
    book.close()


def test_many_processes_write_one_ledger(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    # fork where there is one: quick to start, and checks that a forked child's ledger works
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    procs = [ctx.Process(target=_child, args=(url, i)) for i in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    book = Ledger(url)
    totals = book.totals("agent")
    assert set(totals) == {f"p{i}" for i in range(6)}
    assert all(v == Decimal("1.25") for v in totals.values())  # 500 x 1000 tokens at $2.50 / M
    assert len({r.id for r in book.records()}) == 3000
    book.close()


def test_rows_recorded_just_before_exit_are_written(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    import attrlint

    code = ("from attrlint.ledger import Ledger\n"
            "book = Ledger()\n"
            "for i in range(500):\n"
            "    book.record(provider='openai', operation='chat', model='gpt-4o', agent_id='exit')\n")
    root = str(Path(attrlint.__file__).resolve().parent.parent)
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": root, "ATTRLINT_LEDGER_URL": ""})
    book = Ledger(f"sqlite:///{tmp_path / '.attrlint' / 'ledger.db'}")
    assert len(list(book.records(agent="exit"))) == 500
    book.close()


def test_default_ledger_follows_the_environment(tmp_path, monkeypatch, openai_client):
    from attrlint.runtime import default_ledger, instrument

    monkeypatch.setenv("ATTRLINT_LEDGER_URL", f"sqlite:///{tmp_path / 'env.db'}")
    client = instrument(openai_client, agent_id="triage")
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    book = default_ledger()
    book.flush()
    assert book.url.endswith("env.db") and len(list(book.records())) == 1
    book.close()
