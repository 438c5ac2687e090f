"""The embedded ledger: one SQLite file in WAL mode, safe for several writing processes.

Opening it checks the file (`PRAGMA quick_check`) and applies pending schema migrations. A
damaged file is a `LedgerError` naming it and what to do, for the writer (whose rows then go
to the spill files instead of into a broken database) and for every reader."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any

from attrlint.ledger.records import DIMENSIONS, CostRecord
from attrlint.ledger.stores import migrations
from attrlint.ledger.stores.base import (
    QUARANTINE_COLUMNS,
    ROW_COLUMNS,
    SCHEMA_VERSION,
    LedgerError,
    Quarantined,
    Row,
    Store,
    row_to_record,
    totals_from_rows,
    where_clause,
)

_DAY = "date(ts_us / 1000000, 'unixepoch')"
_ONE = f"({', '.join('?' * len(ROW_COLUMNS))})"
_INSERT = f"INSERT INTO cost_records ({', '.join(ROW_COLUMNS)}) VALUES {_ONE} ON CONFLICT (id) DO NOTHING"
# Rows per multi-row INSERT: one statement step per chunk instead of per row is a third faster.
# SQLite before 3.32 allows 999 parameters per statement, later ones 32766.
_CHUNK = 200 if sqlite3.sqlite_version_info >= (3, 32) else 999 // len(ROW_COLUMNS)
_INSERT_CHUNK = (f"INSERT INTO cost_records ({', '.join(ROW_COLUMNS)}) VALUES {', '.join([_ONE] * _CHUNK)} "
                 "ON CONFLICT (id) DO NOTHING")
_QUARANTINE = (f"INSERT INTO attrlint_quarantine ({', '.join(QUARANTINE_COLUMNS)}) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (id) DO NOTHING")
# What a refused value raises (binding, constraints), as opposed to OperationalError: locked,
# read-only, disk full, I/O error.
_DATA_ERRORS = (OverflowError, UnicodeError, TypeError, ValueError, sqlite3.IntegrityError,
                sqlite3.InterfaceError, sqlite3.DataError, sqlite3.ProgrammingError)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: index pages stay in memory while ingesting
    return conn


def _problems(found: list[str]) -> list[str]:
    """What an integrity check reported, one problem a line (without its "*** in database main
    ***" headers)."""
    return [line.strip() for text in found for line in text.splitlines()
            if line.strip() and not line.startswith("***")]


def damaged(path: Path, detail: str) -> LedgerError:
    """One line: the file, the first of what SQLite found, what to do."""
    lines = [line.strip() for line in detail.splitlines() if line.strip() and not line.startswith("***")]
    found = "; ".join(lines[:2]) or detail.strip()
    return LedgerError(f"{path}: the SQLite ledger is damaged ({found}); run `attrlint ledger check`, restore "
                       f"it from a backup, or salvage it with `sqlite3 {path} .recover`")


class SQLiteStore(Store):
    def __init__(self, path: str | Path, *, check: bool = True) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = _connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{self.path}: cannot open the SQLite ledger: {exc}; "
                              "check the path and its permissions, or set ATTRLINT_LEDGER_URL") from exc
        try:
            if check:
                problems = self.check(quick=True)
                if problems:
                    raise damaged(self.path, problems[0])
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if isinstance(exc, sqlite3.OperationalError) and "malformed" not in str(exc):
                raise LedgerError(f"{self.path}: cannot open the SQLite ledger: {exc}; "
                                  "check the path and its permissions, or set ATTRLINT_LEDGER_URL") from exc
            raise damaged(self.path, str(exc)) from exc
        except BaseException:
            self._conn.close()
            raise

    def _version(self) -> int:
        conn = self._conn
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "attrlint_meta" in tables:
            found = conn.execute("SELECT value FROM attrlint_meta WHERE key = 'schema_version'").fetchone()
            if found:
                return int(found[0])
        return 1 if "cost_records" in tables else 0

    def _migrate(self) -> None:
        conn = self._conn
        current = self._version()
        if current > SCHEMA_VERSION:
            raise LedgerError(f"{self.path}: ledger schema version {current} is newer than this attrlint "
                              f"supports ({SCHEMA_VERSION}); upgrade attrlint")
        if current == SCHEMA_VERSION:
            return
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:  # read-only: the migration below says so
            pass
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS attrlint_meta (key TEXT PRIMARY KEY, value TEXT)")
            current = self._version()  # another process may have migrated meanwhile
            if current > SCHEMA_VERSION:
                raise LedgerError(f"{self.path}: ledger schema version {current} is newer than this attrlint "
                                  f"supports ({SCHEMA_VERSION}); upgrade attrlint")
            migrations.apply(conn, "sqlite", current)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- writing ------------------------------------------------------------------------------

    def write(self, rows: list[Row]) -> int:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                before = conn.total_changes
                whole = len(rows) - len(rows) % _CHUNK
                for start in range(0, whole, _CHUNK):
                    conn.execute(_INSERT_CHUNK, list(chain.from_iterable(rows[start:start + _CHUNK])))
                if whole < len(rows):
                    conn.executemany(_INSERT, rows[whole:])
                added = conn.total_changes - before
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return added

    def quarantine(self, entries: list[Quarantined]) -> None:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_QUARANTINE, entries)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def is_data_error(self, exc: BaseException) -> bool:
        return isinstance(exc, _DATA_ERRORS)

    def ping(self) -> None:
        with self._lock:
            self._conn.execute("SELECT 1 FROM attrlint_meta LIMIT 1").fetchall()

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

    # -- reading ------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        return _connect(self.path)

    def _query(self, sql: str, params: Any = ()) -> Iterator[Any]:
        """Rows of a query on a connection of its own; a damaged page is a LedgerError."""
        try:
            conn = self._reader()
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: cannot read the SQLite ledger: {exc}") from exc
        try:
            yield from conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from exc
        finally:
            conn.close()

    def records(self, since: Any, until: Any, filters: dict[str, Any]) -> Iterator[CostRecord]:
        where, params = where_clause(since, until, filters, "?")
        sql = f"SELECT {', '.join(ROW_COLUMNS)} FROM cost_records{where} ORDER BY ts_us, rowid"
        for row in self._query(sql, params):
            yield row_to_record(row)

    def totals(self, dims: tuple[str, ...], since: Any, until: Any,
               filters: dict[str, Any]) -> dict[Any, Decimal]:
        cols = [_DAY if d == "day" else DIMENSIONS[d] for d in dims]
        where, params = where_clause(since, until, filters, "?")
        group = ", ".join(cols)
        return totals_from_rows(self._query(f"SELECT {group}, SUM(cost_nanos) FROM cost_records{where} "
                                            f"GROUP BY {group}", params), len(dims))

    def unpriced(self) -> Iterator[Row]:
        return iter(list(self._query(
            f"SELECT {', '.join(ROW_COLUMNS)} FROM cost_records WHERE cost_nanos IS NULL AND status <> 'error'")))

    def quarantined(self) -> list[Quarantined]:
        return [Quarantined(*row) for row in self._query(
            f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM attrlint_quarantine ORDER BY quarantined_us, id")]

    def quarantine_count(self) -> int:
        return int(next(iter(self._query("SELECT COUNT(*) FROM attrlint_quarantine")))[0])

    def check(self, quick: bool = False) -> list[str]:
        """`PRAGMA quick_check` (b-tree structure, a pass over every page) or, by default, the
        full `integrity_check` (indexes against their tables too)."""
        pragma = "quick_check" if quick else "integrity_check"
        with self._lock:
            found = [str(r[0]) for r in self._conn.execute(f"PRAGMA {pragma}(20)")]
        return [] if found == ["ok"] else _problems(found)

    @staticmethod
    def check_file(path: str | Path, *, quick: bool = False) -> list[str]:
        """The integrity check of a ledger file, opened read-only and without migrating (so a
        damaged file can be examined): problems found, empty when sound."""
        path = Path(path)
        if not path.is_file():
            raise LedgerError(f"{path}: no SQLite ledger here; check the path or set ATTRLINT_LEDGER_URL")
        pragma = "quick_check" if quick else "integrity_check"
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        except sqlite3.Error as exc:
            raise LedgerError(f"{path}: cannot open the SQLite ledger: {exc}") from exc
        try:
            found = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}(20)")]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        finally:
            conn.close()
        return [] if found == ["ok"] else _problems(found)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
