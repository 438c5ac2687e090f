"""The storage interface both backends implement, and what they share: columns, the row
format, query building for `records` and `totals`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from attrlint.ledger.records import DIMENSIONS, FILTERS, CostRecord, datetime_to_us, from_nanos, us_to_datetime

SCHEMA_VERSION = 1

# Column order of a stored row (and of the tuples the writer hands to `write`).
ROW_COLUMNS = (
    "id", "ts_us", "provider", "operation", "model", "agent_id", "ticket_id", "customer_id",
    "metadata", "environment", "input_tokens", "cached_input_tokens", "cache_write_tokens",
    "output_tokens", "reasoning_tokens", "cost_nanos", "price_source", "key_fingerprint",
    "request_id", "status", "latency_ms", "key_env", "agent_source",
    "service_tier", "host", "usage_extra", "estimated", "batch_id",
)
Row = tuple[Any, ...]

# Indexes serve the `totals` dimensions and time ranges. Each ends with the cost, so a total is
# read from the index alone; low-cardinality `provider` goes without (every index slows ingest).
INDEXES = {
    "ts": ("ts_us", "cost_nanos"),
    "agent": ("agent_id", "ts_us", "cost_nanos"),
    "ticket": ("ticket_id", "ts_us", "cost_nanos"),
    "customer": ("customer_id", "ts_us", "cost_nanos"),
    "model": ("model", "ts_us", "cost_nanos"),
    "key": ("key_fingerprint", "ts_us", "cost_nanos"),
}
# Rows `reprice` looks for: a partial index holds only them, so it costs priced rows nothing.
UNPRICED_INDEX = "CREATE INDEX IF NOT EXISTS cost_records_unpriced ON cost_records (id) WHERE cost_nanos IS NULL"


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

    def write(self, rows: list[Row]) -> None:
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

    def close(self) -> None:
        pass


def totals_from_rows(rows: Iterator[Sequence[Any]], ndims: int) -> dict[Any, Decimal]:
    out: dict[Any, Decimal] = {}
    for row in rows:
        key = row[0] if ndims == 1 else tuple(row[:ndims])
        out[key] = from_nanos(row[ndims] or 0)  # type: ignore[assignment]
    return out
