"""The PostgreSQL ledger against a real server (ATTRLINT_TEST_POSTGRES_URL), including the
database going away: rows are retried, spilled to local files and written when it is back."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import threading
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import pytest

from attrlint.ledger import Ledger

URL = os.environ.get("ATTRLINT_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="set ATTRLINT_TEST_POSTGRES_URL=postgresql://USER@HOST:PORT/DB to test the PostgreSQL ledger")


@pytest.fixture
def schema():
    """A schema of its own per test, dropped afterwards, so parallel runs never collide."""
    import psycopg

    name = f"attrlint_test_{os.getpid()}_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def with_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"schema={schema}"


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


class Proxy:
    """A TCP forwarder to the database that the test can stop (the database "goes away")
    and start again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.conns: list[socket.socket] = []
        self.server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self.server is not None:
            try:
                self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone does not
            except OSError:
                pass
            self.server.close()
            self.server = None
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
        self.conns = []


def test_database_going_away_spills_rows_and_writes_them_when_back(schema, tmp_path):
    parts = urlsplit(URL)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    via_proxy = urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))
    book = Ledger(with_schema(via_proxy, schema), spill_dir=tmp_path / "spill")
    try:
        for i in range(10):
            book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="up", ticket_id=str(i))
        book.flush()
        assert len(list(book.records())) == 10

        proxy.stop()  # the database goes away: the open connection drops, new ones are refused
        for i in range(25):
            book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="down", ticket_id=str(i))
        book.flush()
        spilled = [line for path in book.spilled_files() for line in path.read_text().splitlines()]
        assert len(spilled) == 25

        proxy.start()  # back: the next write reconnects and replays the spilled rows
        book._down_until = 0.0
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="back", ticket_id="0")
        book.flush()
        assert book.spilled_files() == []
        counts: dict[str, int] = {}
        for record in book.records():
            counts[record.agent_id] = counts.get(record.agent_id, 0) + 1
        assert counts == {"up": 10, "down": 25, "back": 1}
    finally:
        book.close()
        proxy.stop()


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
    assert sum(len(p.read_text().splitlines()) for p in book.spilled_files()) == 1
    book._closed = True
