"""The storage interface both backends implement, and what they share: columns, the row
format, query building for `records` and `totals`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from attrlint.ledger.records import (
    DIMENSIONS,
    FILTERS,
    CostRecord,
    datetime_to_us,
    from_nanos,
    us_to_datetime,
)
from attrlint.ledger.stores.migrations import (
    COLUMN_DEFAULTS,
    QUARANTINE_COLUMNS,
    SCHEMA_VERSION,
    V1_COLUMNS,
    V1_INDEXES,
    V3_COLUMNS,
)

__all__ = ["INDEXES", "QUARANTINE_COLUMNS", "ROW_COLUMNS", "SCHEMA_VERSION", "LedgerError", "Quarantined",
           "Row", "Store"]

# Column order of a stored row (and of the tuples the writer hands to `write`). A migration that
# adds columns appends them here (attrlint/ledger/stores/migrations.py).
ROW_COLUMNS = V1_COLUMNS + V3_COLUMNS
ROW_DEFAULTS = tuple(COLUMN_DEFAULTS.get(c) for c in ROW_COLUMNS)  # for rows made before a column existed
Row = tuple[Any, ...]
INDEXES = V1_INDEXES


class Quarantined(NamedTuple):
    """A row a backend refused (or one that could not be made into a row): kept apart with the
    reason, its values as ASCII-escaped JSON (lossless), and left out of every total."""

    id: str
    ts_us: int | None
    quarantined_us: int
    reason: str
    payload: str


class LedgerError(Exception):
    """The ledger could not be opened, read or written; the message says which and why."""


def row_to_record(row: Sequence[Any]) -> CostRecord:
    (id_, ts_us, provider, operation, model, agent_id, ticket_id, customer_id, metadata,
     environment, inp, cached, cache_write, out, reasoning, cost_nanos, price_source,
     key_fingerprint, request_id, status, latency_ms, key_env, agent_source, service_tier, host,
     usage_extra, estimated, batch_id) = row
    return CostRecord(
        id=id_, timestamp=us_to_datetime(int(ts_us)), provider=provider, operation=operation,
        model=model, agent_id=agent_id, ticket_id=ticket_id, customer_id=customer_id,
        metadata=json.loads(metadata) if metadata else {}, environment=environment,
        input_tokens=inp or 0, cached_input_tokens=cached or 0, cache_write_tokens=cache_write or 0,
        output_tokens=out or 0, reasoning_tokens=reasoning or 0, cost=from_nanos(cost_nanos),
        price_source=price_source, key_fingerprint=key_fingerprint, request_id=request_id,
        status=status, latency_ms=latency_ms, key_env=key_env, agent_source=agent_source,
        service_tier=service_tier, host=host, usage_extra=json.loads(usage_extra) if usage_extra else {},
        estimated=bool(estimated), batch_id=batch_id,
    )


def normalise_by(by: str | Sequence[str]) -> tuple[str, ...]:
    dims = (by,) if isinstance(by, str) else tuple(by)
    if not 1 <= len(dims) <= 2:
        raise ValueError("`by` takes one dimension or a tuple of two")
    for dim in dims:
        if dim not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dim!r}; expected one of {', '.join(DIMENSIONS)}")
    return dims


def where_clause(since: Any, until: Any, filters: dict[str, Any], placeholder: str
                 ) -> tuple[str, list[Any]]:
    """`WHERE ...` for a time range (since inclusive, until exclusive) and column filters."""
    parts: list[str] = []
    params: list[Any] = []
    if since is not None:
        parts.append(f"ts_us >= {placeholder}")
        params.append(datetime_to_us(since))
    if until is not None:
        parts.append(f"ts_us < {placeholder}")
        params.append(datetime_to_us(until))
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = int(value)
        column = FILTERS.get(name)
        if column is None:
            raise ValueError(f"unknown filter {name!r}; expected one of {', '.join(sorted(FILTERS))}")
        parts.append(f"{column} = {placeholder}")
        params.append(value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


class Store:
    """A backend: writes batches of rows, answers queries. Not thread-safe by itself: the
    ledger's writer thread writes, queries open their own connection."""

    url: str

    def write(self, rows: list[Row]) -> int:
        """Write the rows in one transaction, skipping ids already stored (so a batch written
        twice lands once); returns how many were new. Raises on any failure, writing nothing."""
        raise NotImplementedError

    def quarantine(self, entries: list[Quarantined]) -> None:
        """Store refused rows in attrlint_quarantine (ids already there are skipped)."""
        raise NotImplementedError

    def is_data_error(self, exc: BaseException) -> bool:
        """Whether `exc` (raised by `write`) says a value was refused, as opposed to the
        database being unreachable, locked or full."""
        raise NotImplementedError

    def ping(self) -> None:
        """Raise unless the database answers now (reconnecting if need be)."""
        raise NotImplementedError

    def records(self, since: Any, until: Any, filters: dict[str, Any]) -> Iterator[CostRecord]:
        raise NotImplementedError

    def totals(self, dims: tuple[str, ...], since: Any, until: Any,
               filters: dict[str, Any]) -> dict[Any, Decimal]:
        raise NotImplementedError

    def unpriced(self) -> Iterator[Row]:
        """Rows with no cost yet (unknown model when recorded), errors excluded."""
        raise NotImplementedError

    def set_prices(self, updates: list[tuple[int, str, str, str]]) -> None:
        """(cost_nanos, price_source, status, id) for rows `reprice` priced."""
        raise NotImplementedError

    def quarantined(self) -> list[Quarantined]:
        """Every quarantined row, oldest first."""
        raise NotImplementedError

    def quarantine_count(self) -> int:
        raise NotImplementedError

    def check(self) -> list[str]:
        """Problems found by the backend's integrity check (empty when sound)."""
        return []

    def close(self) -> None:
        pass


def totals_from_rows(rows: Iterator[Sequence[Any]], ndims: int) -> dict[Any, Decimal]:
    out: dict[Any, Decimal] = {}
    for row in rows:
        key = row[0] if ndims == 1 else tuple(row[:ndims])
        out[key] = from_nanos(row[ndims] or 0)  # type: ignore[assignment]
    return out
