"""The ledger's schema, as a numbered list of migration steps both backends apply in order.

A database records the last step applied as `schema_version` in `attrlint_meta`. Opening it
applies every later step, all in one transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL under an
advisory lock, so concurrent writers migrate once), and refuses a database whose version is newer
than the last step this attrlint knows. A fresh database runs every step from 1.

Adding a step is a one-place change: append a `Migration` to `MIGRATIONS` with the next number,
a one-line summary and what it does on each backend, either SQL statements or a function taking
the open connection. New columns: name them in a tuple beside the step, give their types in
`COLUMN_TYPES` (TEXT needs nothing) and, for a NOT NULL one, its value for older rows in
`COLUMN_DEFAULTS`; use `add_columns(...)` for both backends (step 3 does), and append the tuple
to `ROW_COLUMNS` in `attrlint/ledger/stores/base.py`; the writer's rows, `row_to_record` and
`CostRecord` then take them in the same order. Spilled rows of earlier versions are padded with
the defaults when they are replayed. Never edit a step that has
shipped: databases out there have run it. A step must leave every existing row in place (add
columns with a default or NULL; move, never delete). Test it by building a database at the
previous version and opening it (tests/ledger/test_migrations.py shows how).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

Step = Union[Sequence[str], Callable[[Any], None]]  # noqa: UP007 - evaluated at runtime on 3.10


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    sqlite: Step
    postgres: Step


# -- step 1: the 0.1.0 schema (frozen: later columns come in later steps) ------------------------

V1_COLUMNS = (
    "id", "ts_us", "provider", "operation", "model", "agent_id", "ticket_id", "customer_id",
    "metadata", "environment", "input_tokens", "cached_input_tokens", "cache_write_tokens",
    "output_tokens", "reasoning_tokens", "cost_nanos", "price_source", "key_fingerprint",
    "request_id", "status", "latency_ms", "key_env", "agent_source",
)
# Column types per backend; a column not named is TEXT. Later steps add their columns here too.
COLUMN_TYPES = {
    "sqlite": {
        "id": "TEXT NOT NULL", "ts_us": "INTEGER NOT NULL", "input_tokens": "INTEGER",
        "cached_input_tokens": "INTEGER", "cache_write_tokens": "INTEGER", "output_tokens": "INTEGER",
        "reasoning_tokens": "INTEGER", "cost_nanos": "INTEGER", "latency_ms": "REAL", "status": "TEXT NOT NULL",
    },
    "postgres": {
        "id": "TEXT PRIMARY KEY", "ts_us": "BIGINT NOT NULL", "input_tokens": "BIGINT",
        "cached_input_tokens": "BIGINT", "cache_write_tokens": "BIGINT", "output_tokens": "BIGINT",
        "reasoning_tokens": "BIGINT", "cost_nanos": "BIGINT", "latency_ms": "DOUBLE PRECISION",
        "status": "TEXT NOT NULL",
    },
}
# Indexes serve the `totals` dimensions and time ranges. Each ends with the cost, so a total is
# read from the index alone; low-cardinality `provider` goes without (every index slows ingest).
V1_INDEXES = {
    "ts": ("ts_us", "cost_nanos"),
    "agent": ("agent_id", "ts_us", "cost_nanos"),
    "ticket": ("ticket_id", "ts_us", "cost_nanos"),
    "customer": ("customer_id", "ts_us", "cost_nanos"),
    "model": ("model", "ts_us", "cost_nanos"),
    "key": ("key_fingerprint", "ts_us", "cost_nanos"),
}


def _v1(dialect: str) -> list[str]:
    types = COLUMN_TYPES[dialect]
    columns = ", ".join(f"{c} {types.get(c, 'TEXT')}" for c in V1_COLUMNS)
    statements = [f"CREATE TABLE IF NOT EXISTS cost_records ({columns})"]
    statements += [f"CREATE INDEX IF NOT EXISTS cost_records_{name} ON cost_records ({', '.join(cols)})"
                   for name, cols in V1_INDEXES.items()]
    statements.append("CREATE INDEX IF NOT EXISTS cost_records_unpriced ON cost_records (id) WHERE cost_nanos IS NULL")
    return statements


# -- step 2: unique row ids on SQLite, and the quarantine table -----------------------------------

QUARANTINE_COLUMNS = ("id", "ts_us", "quarantined_us", "reason", "payload")


def _quarantine_table(dialect: str) -> str:
    big = "BIGINT" if dialect == "postgres" else "INTEGER"
    return (f"CREATE TABLE IF NOT EXISTS attrlint_quarantine (id TEXT PRIMARY KEY, ts_us {big}, "
            f"quarantined_us {big} NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL)")


def _v2_sqlite(conn: Any) -> None:
    """0.1.0 had no unique id on SQLite, and its spill replay could write a batch twice. Rows
    sharing an id and every value are such replays: they move to the quarantine (kept, no longer
    counted). Rows sharing an id but differing are distinct calls (0.1.0's id counter wrapped):
    each after the first gets a fresh id. Then the id becomes unique."""
    import time

    from attrlint.ledger.records import new_id

    conn.execute(_quarantine_table("sqlite"))
    cols = ", ".join(V1_COLUMNS)
    dupes = conn.execute(
        f"SELECT rowid, {cols} FROM cost_records WHERE id IN "
        "(SELECT id FROM cost_records GROUP BY id HAVING COUNT(*) > 1) ORDER BY id, rowid").fetchall()
    now_us = time.time_ns() // 1000
    first: dict[str, tuple[Any, ...]] = {}
    seen: dict[str, set[tuple[Any, ...]]] = {}
    for rowid, *values in dupes:
        row = tuple(values)
        rid = row[0]
        if rid not in first:
            first[rid] = row
            seen[rid] = {row}
            continue
        if row in seen[rid]:
            payload = json.dumps(dict(zip(V1_COLUMNS, row)), ensure_ascii=True, sort_keys=True)
            conn.execute("INSERT OR IGNORE INTO attrlint_quarantine VALUES (?, ?, ?, ?, ?)",
                         (f"{rid}#dup{rowid}", row[1], now_us,
                          "duplicate: same id and values as another row (a repeated spill replay)", payload))
            conn.execute("DELETE FROM cost_records WHERE rowid = ?", (rowid,))
        else:
            seen[rid].add(row)
            conn.execute("UPDATE cost_records SET id = ? WHERE rowid = ?", (new_id(int(row[1])), rowid))
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS cost_records_id ON cost_records (id)")


# -- step 3: what the runtime records beyond 0.1.0 ------------------------------------------------

V3_COLUMNS = ("service_tier", "host", "usage_extra", "estimated", "batch_id")
COLUMN_TYPES["sqlite"]["estimated"] = "INTEGER NOT NULL DEFAULT 0"
COLUMN_TYPES["postgres"]["estimated"] = "SMALLINT NOT NULL DEFAULT 0"
# The value a row written before a column existed gets (a spill file replayed after an upgrade);
# None when not named.
COLUMN_DEFAULTS: dict[str, object] = {"estimated": 0}


def add_columns(*columns: str) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
    """(SQLite step, PostgreSQL step) adding `columns` to cost_records with their COLUMN_TYPES
    (TEXT when not named), each unless it is there already (a development build may have
    created it). Existing rows get NULL, or the type's DEFAULT."""

    def sqlite(conn: Any) -> None:
        present = {row[1] for row in conn.execute("PRAGMA table_info(cost_records)")}
        for column in columns:
            if column not in present:
                conn.execute(f"ALTER TABLE cost_records ADD COLUMN {column} "
                             f"{COLUMN_TYPES['sqlite'].get(column, 'TEXT')}")

    def postgres(conn: Any) -> None:
        present = {row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'cost_records'")}
        for column in columns:
            if column not in present:
                conn.execute(f"ALTER TABLE cost_records ADD COLUMN {column} "
                             f"{COLUMN_TYPES['postgres'].get(column, 'TEXT')}")

    return sqlite, postgres


_V3_SQLITE, _V3_POSTGRES = add_columns(*V3_COLUMNS)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "cost_records and its indexes (attrlint 0.1.0)", sqlite=_v1("sqlite"), postgres=_v1("postgres")),
    Migration(2, "unique row ids on SQLite; the attrlint_quarantine table", sqlite=_v2_sqlite,
              postgres=[_quarantine_table("postgres")]),
    Migration(3, "service_tier, host, usage_extra, estimated, batch_id", sqlite=_V3_SQLITE, postgres=_V3_POSTGRES),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def pending(current: int) -> list[Migration]:
    """The steps after `current`, in order."""
    return [m for m in MIGRATIONS if m.version > current]


def apply(conn: Any, dialect: str, current: int, execute: Callable[[str], Any] | None = None) -> int:
    """Run every step after `current` on `conn` (inside the caller's transaction) and record the
    new version in attrlint_meta; returns it."""
    run = execute or conn.execute
    version = current
    for migration in pending(current):
        step = migration.sqlite if dialect == "sqlite" else migration.postgres
        if callable(step):
            step(conn)
        else:
            for statement in step:
                run(statement)
        version = migration.version
    if version != current:
        placeholder = "?" if dialect == "sqlite" else "%s"
        run_params = conn.execute
        run_params(f"UPDATE attrlint_meta SET value = {placeholder} WHERE key = 'schema_version'", (str(version),))
        run_params(f"INSERT INTO attrlint_meta (key, value) SELECT 'schema_version', {placeholder} "
                   "WHERE NOT EXISTS (SELECT 1 FROM attrlint_meta WHERE key = 'schema_version')", (str(version),))
    return version
