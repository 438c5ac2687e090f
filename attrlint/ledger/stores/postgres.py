"""The shared ledger on PostgreSQL (psycopg 3, the `postgres` extra).

Each batch is COPYed into a staging table and moved into the ledger in one statement; the id
primary key with `ON CONFLICT DO NOTHING` makes a retried or replayed batch harmless. `?schema=NAME` in the URL
puts the tables in their own schema (created on first use)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from attrlint.core.redact import redact_url as redact
from attrlint.ledger.records import DIMENSIONS, CostRecord
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

_TYPES = {
    "id": "TEXT PRIMARY KEY", "ts_us": "BIGINT NOT NULL", "input_tokens": "BIGINT",
    "cached_input_tokens": "BIGINT", "cache_write_tokens": "BIGINT", "output_tokens": "BIGINT",
    "reasoning_tokens": "BIGINT", "cost_nanos": "BIGINT", "latency_ms": "DOUBLE PRECISION",
    "status": "TEXT NOT NULL", "estimated": "SMALLINT NOT NULL DEFAULT 0",
}
_COLUMNS = ", ".join(ROW_COLUMNS)
_STAGE = "CREATE TEMP TABLE IF NOT EXISTS attrlint_stage (LIKE cost_records) ON COMMIT DELETE ROWS"
_COPY = f"COPY attrlint_stage ({_COLUMNS}) FROM STDIN"
_MOVE = (f"INSERT INTO cost_records ({_COLUMNS}) SELECT {_COLUMNS} FROM attrlint_stage "
         "ON CONFLICT (id) DO NOTHING")
_DAY = "to_char(to_timestamp(ts_us / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def split_url(url: str) -> tuple[str, str | None]:
    """(the libpq URL, the schema named by `?schema=`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise LedgerError(f"ledger URL: schema {schema!r} is not a plain SQL identifier")
    return urlunsplit(parts._replace(query=rest)), schema


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
            conn.execute("SELECT pg_advisory_xact_lock(74217304)")
            conn.execute("CREATE TABLE IF NOT EXISTS attrlint_meta (key TEXT PRIMARY KEY, value TEXT)")
            found = conn.execute("SELECT value FROM attrlint_meta WHERE key = 'schema_version'").fetchone()
            if found and int(found[0]) > SCHEMA_VERSION:
                raise LedgerError(f"{redact(self.url)}: ledger schema version {found[0]} is newer than "
                                  f"this attrlint supports ({SCHEMA_VERSION}); upgrade attrlint")
            columns = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in ROW_COLUMNS)
            conn.execute(f"CREATE TABLE IF NOT EXISTS cost_records ({columns})")
            for name, cols in INDEXES.items():
                conn.execute(f"CREATE INDEX IF NOT EXISTS cost_records_{name} ON cost_records ({', '.join(cols)})")
            conn.execute(UNPRICED_INDEX)
            conn.execute("INSERT INTO attrlint_meta VALUES ('schema_version', %s) ON CONFLICT DO NOTHING",
                         (str(SCHEMA_VERSION),))
        self._created = True

    def _reader(self) -> Any:
        try:
            conn = self._connect()
            if not self._created:
                self._create(conn)
            return conn
        except self._psycopg.Error as exc:
            raise LedgerError(f"{redact(self.url)}: cannot read the ledger: {exc}".strip()) from exc

    # -- Store --------------------------------------------------------------------------------

    def write(self, rows: list[Row]) -> None:
        """COPY the batch into a session-local staging table, then move it in one INSERT that
        skips ids already present: binary-fast, and a retried batch is harmless."""
        conn = self._writer()
        with conn.transaction():
            conn.execute(_STAGE)
            with conn.cursor() as cur, cur.copy(_COPY) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute(_MOVE)

    def records(self, since: Any, until: Any, filters: dict[str, Any]) -> Iterator[CostRecord]:
        where, params = where_clause(since, until, filters, "%s")
        conn = self._reader()
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM cost_records{where} ORDER BY ts_us, id", params)
                for row in cur:
                    yield row_to_record(row)
        finally:
            conn.close()

    def totals(self, dims: tuple[str, ...], since: Any, until: Any,
               filters: dict[str, Any]) -> dict[Any, Decimal]:
        cols = [_DAY if d == "day" else DIMENSIONS[d] for d in dims]
        where, params = where_clause(since, until, filters, "%s")
        group = ", ".join(cols)
        conn = self._reader()
        try:
            rows = conn.execute(f"SELECT {group}, SUM(cost_nanos) FROM cost_records{where} GROUP BY {group}",
                                params).fetchall()
            return totals_from_rows(iter(rows), len(dims))
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
        conn = self._writer()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany("UPDATE cost_records SET cost_nanos = %s, price_source = %s, status = %s WHERE id = %s AND cost_nanos IS NULL",
                            updates)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001, S110
                pass
            self._conn = None
