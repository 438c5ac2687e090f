"""The shared ledger on PostgreSQL (psycopg 3, the `postgres` extra).

Each batch is COPYed into a staging table and moved into the ledger in one statement; the id
primary key with `ON CONFLICT DO NOTHING` makes a retried or replayed batch harmless. `?schema=NAME`
in the URL puts the tables in their own schema (created on first use). Connections carry TCP
keepalives and a TCP user timeout (unless the URL sets its own), so a link that goes silent
fails the write within seconds instead of blocking it for the kernel's default of minutes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from attrlint.core.redact import redact_url as redact
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

_COLUMNS = ", ".join(ROW_COLUMNS)
_STAGE = "CREATE TEMP TABLE IF NOT EXISTS attrlint_stage (LIKE cost_records) ON COMMIT DELETE ROWS"
_COPY = f"COPY attrlint_stage ({_COLUMNS}) FROM STDIN"
_MOVE = (f"INSERT INTO cost_records ({_COLUMNS}) SELECT {_COLUMNS} FROM attrlint_stage "
         "ON CONFLICT (id) DO NOTHING")
_QUARANTINE = (f"INSERT INTO attrlint_quarantine ({', '.join(QUARANTINE_COLUMNS)}) VALUES (%s, %s, %s, %s, %s) "
               "ON CONFLICT (id) DO NOTHING")
_DAY = "to_char(to_timestamp(ts_us / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# libpq settings added to the URL unless it names them: dead links are found within seconds.
_LINK_DEFAULTS = (("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"),
                  ("keepalives_count", "3"), ("tcp_user_timeout", "10000"))
_MIGRATION_LOCK = 74217304


def split_url(url: str) -> tuple[str, str | None]:
    """(the libpq URL, the schema named by `?schema=`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    kept = [(k, v) for k, v in query if k != "schema"]
    names = {k for k, _ in kept}
    kept += [(k, v) for k, v in _LINK_DEFAULTS if k not in names]
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise LedgerError(f"ledger URL: schema {schema!r} is not a plain SQL identifier")
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


class PostgresStore(Store):
    def __init__(self, url: str, *, connect_timeout: float = 5) -> None:
        try:
            import psycopg
        except ImportError:
            raise LedgerError("a postgresql:// ledger needs psycopg 3: pip install 'attrlint[postgres]'") from None
        self._psycopg = psycopg
        self.url = url
        self._dsn, self._schema = split_url(url)
        self._timeout = connect_timeout
        self._conn: Any = None
        self._created = False
        errors = psycopg.errors
        # refused values: bad data, constraint violations, limits (an index row too large) and
        # what the client cannot encode; everything else means the database is not answering
        self._data_errors = (psycopg.DataError, psycopg.IntegrityError, errors.ProgramLimitExceeded,
                             UnicodeError, OverflowError, TypeError, ValueError)

    # -- connections --------------------------------------------------------------------------

    def _connect(self) -> Any:
        conn = self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=max(1, int(self._timeout)))
        if self._schema:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"')
            conn.execute(f'SET search_path TO "{self._schema}"')
        return conn

    def _writer(self) -> Any:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:  # noqa: BLE001, S110
                    pass
            self._conn = None
            self._conn = self._connect()
            if not self._created:
                self._create(self._conn)
        return self._conn

    def _create(self, conn: Any) -> None:
        with conn.transaction():
            conn.execute("CREATE TABLE IF NOT EXISTS attrlint_meta (key TEXT PRIMARY KEY, value TEXT)")
        current = self._version(conn)
        if current < SCHEMA_VERSION:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                current = self._version(conn)  # another process may have migrated meanwhile
                if current < SCHEMA_VERSION:
                    migrations.apply(conn, "postgres", current)
        if current > SCHEMA_VERSION:
            raise LedgerError(f"{redact(self.url)}: ledger schema version {current} is newer than "
                              f"this attrlint supports ({SCHEMA_VERSION}); upgrade attrlint")
        self._created = True

    @staticmethod
    def _version(conn: Any) -> int:
        found = conn.execute("SELECT value FROM attrlint_meta WHERE key = 'schema_version'").fetchone()
        if found:
            return int(found[0])
        exists = conn.execute("SELECT to_regclass('cost_records')").fetchone()[0]
        return 1 if exists else 0

    def _reader(self) -> Any:
        try:
            conn = self._connect()
            if not self._created:
                self._create(conn)
            return conn
        except self._psycopg.Error as exc:
            raise LedgerError(f"{redact(self.url)}: cannot read the ledger: {exc}".strip()) from exc

    # -- Store --------------------------------------------------------------------------------

    def write(self, rows: list[Row]) -> int:
        """COPY the batch into a session-local staging table, then move it in one INSERT that
        skips ids already present: binary-fast, and a retried batch is harmless."""
        conn = self._writer()
        with conn.transaction():
            conn.execute(_STAGE)
            with conn.cursor() as cur, cur.copy(_COPY) as copy:
                for row in rows:
                    copy.write_row(row)
            moved = conn.execute(_MOVE).rowcount
        return int(moved)

    def quarantine(self, entries: list[Quarantined]) -> None:
        conn = self._writer()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(_QUARANTINE, entries)

    def is_data_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self._data_errors)

    def ping(self) -> None:
        self._writer().execute("SELECT 1").fetchall()

    def _read(self, sql: str, params: Any = ()) -> list[Any]:
        conn = self._reader()
        try:
            return conn.execute(sql, params).fetchall()  # type: ignore[no-any-return]
        except self._psycopg.Error as exc:
            raise LedgerError(f"{redact(self.url)}: cannot read the ledger: {exc}".strip()) from exc
        finally:
            conn.close()

    def records(self, since: Any, until: Any, filters: dict[str, Any]) -> Iterator[CostRecord]:
        where, params = where_clause(since, until, filters, "%s")
        conn = self._reader()
        try:
            with conn.transaction(), conn.cursor(name="attrlint_records") as cur:  # server-side: rows stream
                cur.execute(f"SELECT {_COLUMNS} FROM cost_records{where} ORDER BY ts_us, id", params)
                for row in cur:
                    yield row_to_record(row)
        except self._psycopg.Error as exc:
            raise LedgerError(f"{redact(self.url)}: cannot read the ledger: {exc}".strip()) from exc
        finally:
            conn.close()

    def totals(self, dims: tuple[str, ...], since: Any, until: Any,
               filters: dict[str, Any]) -> dict[Any, Decimal]:
        cols = [_DAY if d == "day" else DIMENSIONS[d] for d in dims]
        where, params = where_clause(since, until, filters, "%s")
        group = ", ".join(cols)
        rows = self._read(f"SELECT {group}, SUM(cost_nanos) FROM cost_records{where} GROUP BY {group}", params)
        return totals_from_rows(iter(rows), len(dims))

    def unpriced(self) -> Iterator[Row]:
        return iter(self._read(f"SELECT {_COLUMNS} FROM cost_records WHERE cost_nanos IS NULL AND status <> 'error'"))

    def set_prices(self, updates: list[tuple[int, str, str, str]]) -> None:
        conn = self._writer()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany("UPDATE cost_records SET cost_nanos = %s, price_source = %s, status = %s WHERE id = %s AND cost_nanos IS NULL",
                            updates)

    def quarantined(self) -> list[Quarantined]:
        return [Quarantined(*row) for row in self._read(
            f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM attrlint_quarantine ORDER BY quarantined_us, id")]

    def quarantine_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM attrlint_quarantine")[0][0])

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001, S110
                pass
            self._conn = None
