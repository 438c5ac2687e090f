"""`CostRecord`: one LLM call as the ledger stores it, and the columns it maps to."""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
import time
from collections.abc import Iterator
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
    id: str = ""  # a UUIDv7, set by `Ledger.submit` when empty


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
        out["cost"] = None if self.cost is None else f"{self.cost:f}"  # never "0E-9"
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


_RANDOM_BATCH = 512  # 64-bit random numbers read from the operating system at once
_random: Iterator[tuple[int]] = iter(())
_prefix: tuple[int, str] = (-1, "")


def _refill() -> None:
    global _random
    _random = struct.iter_unpack(">Q", os.urandom(8 * _RANDOM_BATCH))


if hasattr(os, "register_at_fork"):  # a forked child never reuses its parent's random bytes
    os.register_at_fork(after_in_child=_refill)


def new_id(ts_us: int | None = None) -> str:
    """A UUIDv7 (RFC 9562) for a call made at `ts_us` (default now): 48 bits of Unix
    milliseconds, 12 bits of sub-millisecond time (method 3 of the RFC), 62 random bits from the
    operating system. Ids sort by time, so they append to the primary-key index instead of
    scattering; the random bits keep them unique across processes, forks and hosts with no
    counter to wrap (100,000 calls in one microsecond collide with odds of about 1 in 10^9).
    Random bytes are read 4 KiB at a time: this is on the caller's path."""
    global _prefix
    if ts_us is None:
        ts_us = now_us()
    ms, us = divmod(max(ts_us, 0), 1000)
    cached = _prefix
    if cached[0] != ms:
        head = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
        cached = _prefix = (ms, f"{head[:8]}-{head[8:]}-7")
    try:
        (rand,) = next(_random)
    except StopIteration:
        _refill()
        (rand,) = next(_random)
    tail = f"{(rand >> 2) | 0x8000_0000_0000_0000:016x}"  # the RFC 4122 variant, then 62 random bits
    return f"{cached[1]}{us * 4096 // 1000:03x}-{tail[:4]}-{tail[4:]}"


# -- values the stores can always take -----------------------------------------------------------
# Text is normalised before it is written: NUL characters removed (PostgreSQL cannot store
# them), invalid Unicode (lone surrogates) escaped as `\udXXX`, and over-long values cut to
# the limit, ending in TRUNCATED. Identifier columns stay short enough for every index.

TEXT_LIMIT = 512  # agent_id, ticket_id, customer_id, model, request_id, ... (characters)
METADATA_VALUE_LIMIT = 4096  # each metadata value
METADATA_KEY_LIMIT = 128  # each metadata key
METADATA_FIELDS = 64  # metadata fields kept (by key order); the rest are counted in TRUNCATED_FIELDS
TRUNCATED = "…[truncated]"
TRUNCATED_FIELDS = "attrlint_truncated_fields"


def clean_text(value: Any, limit: int = TEXT_LIMIT) -> str | None:
    """`value` as text every backend stores: NUL removed, invalid Unicode escaped, at most
    `limit` characters (cut ones end in TRUNCATED). None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(value) > limit:
        value = value[:limit - len(TRUNCATED)] + TRUNCATED
    return value


def metadata_json(metadata: Any) -> str | None:
    """Metadata as the JSON text stored for it (keys sorted), normalised like `clean_text`."""
    if not metadata:
        return None
    if not isinstance(metadata, dict):
        metadata = {"metadata": metadata}
    items: dict[str, str] = {}
    for key, value in metadata.items():
        if value is None:
            continue
        name = clean_text(key, METADATA_KEY_LIMIT) or ""
        items[name] = clean_text(value, METADATA_VALUE_LIMIT)  # type: ignore[assignment]
    if len(items) > METADATA_FIELDS:
        keys = sorted(items)
        kept = {k: items[k] for k in keys[:METADATA_FIELDS]}
        kept[TRUNCATED_FIELDS] = str(len(keys) - METADATA_FIELDS)
        items = kept
    return json.dumps(items, sort_keys=True, ensure_ascii=False) if items else None


def usage_json(usage: Any) -> str | None:
    """Other usage kinds (`{"input_audio_tokens": 120}`) as the JSON text stored for them;
    TypeError or ValueError when a count is not a number."""
    if not usage:
        return None
    return json.dumps({clean_text(k, METADATA_KEY_LIMIT): as_int(v) for k, v in dict(usage).items()}, sort_keys=True)


def as_int(value: Any) -> int:
    """A token count as an int (None is 0); TypeError or ValueError when it is not a number."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return int(value)


def jsonable(value: Any) -> Any:
    """`json.dumps(default=...)` for values kept in quarantine: exact text for what JSON lacks."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return repr(value)


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
