"""The embedded ledger: one SQLite file in WAL mode, safe for several writing processes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any

from attrlint.ledger.records import CostRecord
from attrlint.ledger.stores.base import (
    INDEXES,
    ROW_COLUMNS,
    SCHEMA_VERSION,
    UNPRICED_INDEX,
    LedgerError,
    Row,
    Store,
    row_to_record,
    totals_from_rows,
    where_clause,
)

# `id` is unique by construction (time, per-process salt, counter) and not indexed: a SQLite
# batch commits whole or not at all, so there is nothing to de-duplicate, and one B-tree less
# per row is a fifth more ingest speed. (PostgreSQL keeps it as the primary key: a batch whose
# commit was not acknowledged is retried, and ON CONFLICT makes that harmless.)
_TYPES = {
    "id": "TEXT NOT NULL", "ts_us": "INTEGER NOT NULL", "metadata": "TEXT",
    "input_tokens": "INTEGER", "cached_input_tokens": "INTEGER", "cache_write_tokens": "INTEGER",
    "output_tokens": "INTEGER", "reasoning_tokens": "INTEGER", "cost_nanos": "INTEGER",
    "latency_ms": "REAL", "status": "TEXT NOT NULL", "estimated": "INTEGER NOT NULL DEFAULT 0",
}
_DAY = "date(ts_us / 1000000, 'unixepoch')"
_ONE = f"({', '.join('?' * len(ROW_COLUMNS))})"
_INSERT = f"INSERT INTO cost_records ({', '.join(ROW_COLUMNS)}) VALUES {_ONE}"
# Rows per multi-row INSERT: one statement step per chunk instead of per row is a third faster.
# SQLite before 3.32 allows 999 parameters per statement, later ones 32766.
_CHUNK = 200 if sqlite3.sqlite_version_info >= (3, 32) else 999 // len(ROW_COLUMNS)
_INSERT_CHUNK = f"INSERT INTO cost_records ({', '.join(ROW_COLUMNS)}) VALUES {', '.join([_ONE] * _CHUNK)}"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: index pages stay in memory while ingesting
    return conn


class SQLiteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = _connect(self.path)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._create()
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{self.path}: cannot open the SQLite ledger: {exc}; "
                              "check the path and its permissions, or set ATTRLINT_LEDGER_URL") from exc
        self._lock = threading.Lock()

    def _create(self) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS attrlint_meta (key TEXT PRIMARY KEY, value TEXT)")
            found = conn.execute("SELECT value FROM attrlint_meta WHERE key = 'schema_version'").fetchone()
            if found and int(found[0]) > SCHEMA_VERSION:
                raise LedgerError(f"{self.path}: ledger schema version {found[0]} is newer than this "
                                  f"attrlint supports ({SCHEMA_VERSION}); upgrade attrlint")
            columns = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in ROW_COLUMNS)
            conn.execute(f"CREATE TABLE IF NOT EXISTS cost_records ({columns})")
            for name, cols in INDEXES.items():
                conn.execute(f"CREATE INDEX IF NOT EXISTS cost_records_{name} ON cost_records ({', '.join(cols)})")
            conn.execute(UNPRICED_INDEX)
            conn.execute("INSERT OR IGNORE INTO attrlint_meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def write(self, rows: list[Row]) -> None:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                whole = len(rows) - len(rows) % _CHUNK
                for start in range(0, whole, _CHUNK):
                    conn.execute(_INSERT_CHUNK, list(chain.from_iterable(rows[start:start + _CHUNK])))
                if whole < len(rows):
                    conn.executemany(_INSERT, rows[whole:])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _reader(self) -> sqlite3.Connection:
        return _connect(self.path)

    def records(self, since: Any, until: Any, filters: dict[str, Any]) -> Iterator[CostRecord]:
        where, params = where_clause(since, until, filters, "?")
        conn = self._reader()
        try:
            cursor = conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM cost_records{where} ORDER BY ts_us, rowid",
                                  params)
            for row in cursor:
                yield row_to_record(row)
        finally:
            conn.close()

    def totals(self, dims: tuple[str, ...], since: Any, until: Any,
               filters: dict[str, Any]) -> dict[Any, Decimal]:
        from attrlint.ledger.records import DIMENSIONS

        cols = [_DAY if d == "day" else DIMENSIONS[d] for d in dims]
        where, params = where_clause(since, until, filters, "?")
        group = ", ".join(cols)
        sql = f"SELECT {group}, SUM(cost_nanos) FROM cost_records{where} GROUP BY {group}"
        conn = self._reader()
        try:
            return totals_from_rows(conn.execute(sql, params), len(dims))
        finally:
            conn.close()

    def unpriced(self) -> Iterator[Row]:
        conn = self._reader()
        try:
            yield from conn.execute(
                f"SELECT {', '.join(ROW_COLUMNS)} FROM cost_records WHERE cost_nanos IS NULL AND status <> 'error'"
            ).fetchall()
        finally:
            conn.close()

    def set_prices(self, updates: list[tuple[int, str, str, str]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "UPDATE cost_records SET cost_nanos = ?, price_source = ?, status = ? WHERE id = ? AND cost_nanos IS NULL", updates)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()
