"""`CostRecord`: one LLM call as the ledger stores it, and the columns it maps to."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple

UTC = dt.timezone.utc
NANO = Decimal("0.000000001")
_NANOS_PER_USD = Decimal(1_000_000_000)

# ok: answered and priced; error: the request failed (billed only for tokens it reported);
# failed: the provider accepted it and reported failure (a `response.failed`), billed as it reports;
# incomplete: a stream that ended early; pending: a background response or a batch not finished;
# unattributed / unpriced: "ok" rows lacking required fields / a known price.
STATUSES = ("ok", "error", "failed", "incomplete", "pending", "unattributed", "unpriced")
OPERATIONS = ("chat", "responses", "embeddings", "messages", "completions", "images", "audio", "batch")

# `totals(by=...)` dimension -> record column (`day` is derived from the timestamp).
DIMENSIONS = {
    "agent": "agent_id",
    "ticket": "ticket_id",
    "customer": "customer_id",
    "day": "day",
    "model": "model",
    "provider": "provider",
    "key": "key_fingerprint",
    "environment": "environment",
    "status": "status",
}

# Filters `records()` and `totals()` accept: short name or column name -> column.
FILTERS = {**{k: v for k, v in DIMENSIONS.items() if k != "day"},
           **{v: v for k, v in DIMENSIONS.items() if k != "day"}, "operation": "operation",
           "request_id": "request_id", "batch_id": "batch_id", "host": "host", "estimated": "estimated",
           "service_tier": "service_tier"}


class CallRecord(NamedTuple):
    """One call as the runtime hands it to the ledger (`Ledger.submit`): what happened, before
    it is priced. The writer prices it and stores it as a `CostRecord` row. Token counts follow
    the ledger's convention (input includes cached reads and cache writes)."""

    ts_us: int  # when the call started, microseconds since the epoch (UTC)
    provider: str
    operation: str
    model: str | None
    agent_id: str | None = None
    ticket_id: str | None = None
    customer_id: str | None = None
    metadata: dict[str, str] | None = None  # other attribution fields
    environment: str | None = None
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Decimal | None = None  # given: stored as is; None: priced by the writer
    price_source: str | None = None
    key_fingerprint: str | None = None
    request_id: str | None = None
    status: str = "ok"  # "ok" becomes "unattributed" or "unpriced" when the writer finds so
    latency_ms: float | None = None
    key_env: str | None = None
    agent_source: str | None = None
    attributed: bool = True
    service_tier: str | None = None  # "flex", "priority", "batch", ...: selects the price variant
    host: str | None = None  # where the request went (host only, never path or query)
    usage_extra: dict[str, int] | None = None  # other usage kinds, by genai-prices usage key
    estimated: bool = False  # token counts (and so the cost) partly estimated locally
    batch_id: str | None = None
    id: str = ""  # set by `Ledger.submit`


@dataclass(frozen=True)
class CostRecord:
    """What one LLM call cost and whom it was for. `cost` is USD, exact to the nano-dollar;
    `None` while the model is unpriced. Input token counts include cached and cache-write
    tokens (OpenAI's convention); `cached_input_tokens` and `cache_write_tokens` are parts of it."""

    id: str
    timestamp: dt.datetime
    provider: str
    operation: str
    model: str | None
    agent_id: str | None = None
    ticket_id: str | None = None
    customer_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict, hash=False)
    environment: str | None = None
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Decimal | None = None
    price_source: str | None = None
    key_fingerprint: str | None = None
    request_id: str | None = None
    status: str = "ok"
    latency_ms: float | None = None
    key_env: str | None = None
    agent_source: str | None = None
    service_tier: str | None = None
    host: str | None = None
    usage_extra: dict[str, int] = field(default_factory=dict, hash=False)
    estimated: bool = False
    batch_id: str | None = None

    @property
    def cost_nanos(self) -> int | None:
        return to_nanos(self.cost)

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in COLUMNS}
        out["timestamp"] = self.timestamp.isoformat()
        out["cost"] = None if self.cost is None else str(self.cost)
        return out


COLUMNS = tuple(CostRecord.__dataclass_fields__)


def to_nanos(cost: Decimal | None) -> int | None:
    if cost is None:
        return None
    return int((cost * _NANOS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_nanos(nanos: int | Decimal | None) -> Decimal | None:
    if nanos is None:
        return None
    return (Decimal(nanos) / _NANOS_PER_USD).quantize(NANO)


_ID_SALT = os.urandom(4).hex()
_ID_COUNTER = itertools.count()


def _reseed() -> None:
    global _ID_SALT
    _ID_SALT = os.urandom(4).hex()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed)


def new_id(ts_us: int) -> str:
    """A time-ordered id: the microsecond, a per-process random salt, a per-process counter.
    Appends to the primary-key index instead of scattering, unique across processes."""
    return f"{ts_us:014x}{_ID_SALT}{next(_ID_COUNTER) & 0xFFFF:04x}"


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(ts_us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_us / 1_000_000, tz=UTC)


def datetime_to_us(value: dt.datetime | dt.date | str) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
