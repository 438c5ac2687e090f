"""`Ledger`: the cost ledger's front door. `record()` only appends to an in-memory queue; a
background writer prices rows and writes them in batches, so the caller never waits on disk
or network. Rows a database cannot take are retried, then spilled to local files and written
when it is back: nothing recorded is lost."""

from __future__ import annotations

import atexit
import collections
import datetime as dt
import glob
import hashlib
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrlint.core.redact import redact_url as redact
from attrlint.ledger.records import CallRecord, CostRecord, new_id, now_us, to_nanos
from attrlint.ledger.stores.base import ROW_COLUMNS, LedgerError, Row, Store, normalise_by

log = logging.getLogger("attrlint.ledger")

DEFAULT_PATH = Path(".attrlint") / "ledger.db"
_RETRY_DELAYS = (0.05, 0.25, 1.0)
_RECONNECT_EVERY = 2.0


def default_url() -> str:
    """`ATTRLINT_LEDGER_URL`, else `.attrlint/ledger.db` under the current directory."""
    url = os.environ.get("ATTRLINT_LEDGER_URL")
    if url:
        return url
    return f"sqlite:///{(Path.cwd() / DEFAULT_PATH).as_posix()}"


def open_store(url: str) -> Store:
    if url.startswith("sqlite://"):
        from attrlint.ledger.stores.sqlite import SQLiteStore

        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url[len("sqlite://"):]
        if not path:
            raise LedgerError("ledger URL sqlite:/// needs a path, e.g. sqlite:///.attrlint/ledger.db")
        return SQLiteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from attrlint.ledger.stores.postgres import PostgresStore

        return PostgresStore(url)
    raise LedgerError(f"ledger URL {url.split('://')[0]}://...: unsupported; use sqlite:///PATH or "
                      "postgresql://USER@HOST/DB (set --ledger or ATTRLINT_LEDGER_URL)")


_live: weakref.WeakSet[Ledger] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for ledger in list(_live):
        try:
            ledger.close()
        except Exception:  # pragma: no cover - exit must not fail
            log.exception("attrlint: could not close the ledger at exit")


def _after_fork() -> None:
    for ledger in list(_live):
        ledger._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class Ledger:
    """Where cost records go. `url` is `sqlite:///path` or `postgresql://...`; default
    `ATTRLINT_LEDGER_URL`, else `sqlite:///.attrlint/ledger.db` under the current directory."""

    def __init__(self, url: str | os.PathLike[str] | None = None, *, batch_size: int = 5000,
                 flush_interval: float = 0.05, spill_dir: str | os.PathLike[str] | None = None,
                 pricer: Any = None) -> None:
        if url is not None and not str(url).count("://"):
            url = f"sqlite:///{Path(url).as_posix()}"  # a bare path
        self.url = str(url) if url is not None else default_url()
        self._batch_size = batch_size
        self._interval = flush_interval
        self._queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._pricer = pricer
        self._closed = False
        self._down_until = 0.0
        self._replay_checked = False
        tag = hashlib.sha256(self.url.encode()).hexdigest()[:12]
        self._spill_dir = Path(spill_dir or os.environ.get("ATTRLINT_SPILL_DIR") or Path.cwd() / ".attrlint" / "spill")
        self._spill_glob = f"{tag}-*.jsonl"
        self._spill_prefix = tag
        _live.add(self)

    def __repr__(self) -> str:
        return f"Ledger({redact(self.url)!r})"

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------

    def record(self, *, provider: str, operation: str, model: str | None,
               agent_id: str | None = None, ticket_id: str | None = None, customer_id: str | None = None,
               metadata: dict[str, str] | None = None, environment: str | None = None,
               input_tokens: int = 0, cached_input_tokens: int = 0, cache_write_tokens: int = 0,
               output_tokens: int = 0, reasoning_tokens: int = 0, cost: Decimal | None = None,
               price_source: str | None = None, key_fingerprint: str | None = None,
               request_id: str | None = None, status: str = "ok", attributed: bool = True,
               latency_ms: float | None = None, key_env: str | None = None,
               agent_source: str | None = None, timestamp: dt.datetime | int | None = None,
               service_tier: str | None = None, host: str | None = None,
               usage_extra: dict[str, int] | None = None, estimated: bool = False,
               batch_id: str | None = None) -> str:
        """Queue one call's record; returns its id. Pricing happens in the writer (unless `cost`
        is given) at `timestamp` (a datetime, or microseconds since the epoch; default now):
        `status` "ok" becomes "unattributed" when `attributed` is false, and "unpriced" when no
        price is known. Never blocks on I/O."""
        ts_us = now_us() if timestamp is None else timestamp if isinstance(timestamp, int) else _to_us(timestamp)
        return self.submit(CallRecord(
            ts_us, provider, operation, model, agent_id, ticket_id, customer_id, metadata, environment,
            input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost,
            price_source, key_fingerprint, request_id, status, latency_ms, key_env, agent_source, attributed,
            service_tier, host, usage_extra, estimated, batch_id))

    def submit(self, record: CallRecord) -> str:
        """Queue a `CallRecord` (the runtime's path); returns its id. Never blocks on I/O."""
        if self._closed:
            raise LedgerError(f"{self!r} is closed")
        if not record.id:
            record = record._replace(id=new_id(record.ts_us))
        self._queue.append(record)
        if self._thread is None:
            self._start()
        elif len(self._queue) >= self._batch_size:
            self._wake.set()
        return record.id

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything recorded so far is written (or spilled, if the database is down)."""
        if self._thread is None:
            if not self._queue:
                return
            self._start()
        done = threading.Event()
        self._queue.append(done)
        self._wake.set()
        if not done.wait(timeout):
            raise LedgerError(f"{self!r}: flush did not finish within {timeout} s")

    def close(self) -> None:
        """Flush, stop the writer and close the connection. Safe to call twice."""
        if self._closed:
            return
        if self._thread is not None and self._thread.is_alive():
            self.flush()
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._has_spill() and time.monotonic() >= self._down_until:
            try:  # the database may be back: leave nothing behind that can be written now
                self._replay()
            except Exception:  # noqa: BLE001 - the files stay for the next process
                log.warning("attrlint: spilled rows stay in %s", self._spill_dir)
        if self._store is not None:
            self._store.close()
            self._store = None
        _live.discard(self)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="attrlint-ledger-writer", daemon=True)
                thread.start()
                self._thread = thread

    def _reset_after_fork(self) -> None:
        self._thread = None
        self._store = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._queue.clear()  # the parent writes what it recorded

    # -- the writer ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # pragma: no cover - the writer must survive anything
                log.exception("attrlint: ledger writer failed")
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            batch: list[Row] = []
            waiters: list[threading.Event] = []
            while queue and len(batch) < self._batch_size:
                item = queue.popleft()
                if isinstance(item, threading.Event):
                    waiters.append(item)
                    break  # write what came before the flush, then tell the flusher
                batch.append(self._to_row(item))
            if batch:
                self._write(batch)
            for waiter in waiters:
                waiter.set()

    def _to_row(self, r: CallRecord) -> Row:
        cost, price_source, status = r.cost, r.price_source, r.status
        if cost is not None:
            nanos = to_nanos(cost)
        elif status != "pending":  # a pending call is priced when its result is recorded
            nanos, price_source = self._price(r.provider, r.model, r.ts_us, r.input_tokens, r.cached_input_tokens,
                                              r.cache_write_tokens, r.output_tokens, r.service_tier,
                                              r.usage_extra, r.host)
        else:
            nanos = None
        if status == "ok":
            if not r.attributed:
                status = "unattributed"
            elif nanos is None:
                status = "unpriced"
        return (r.id, r.ts_us, r.provider, r.operation, r.model, r.agent_id, r.ticket_id, r.customer_id,
                json.dumps(r.metadata, sort_keys=True) if r.metadata else None, r.environment, r.input_tokens,
                r.cached_input_tokens, r.cache_write_tokens, r.output_tokens, r.reasoning_tokens, nanos,
                price_source, r.key_fingerprint, r.request_id, status, r.latency_ms, r.key_env, r.agent_source,
                r.service_tier, r.host, json.dumps(r.usage_extra, sort_keys=True) if r.usage_extra else None,
                int(bool(r.estimated)), r.batch_id)

    def _price(self, provider: str, model: str | None, ts_us: int, inp: int, cached: int,
               cache_write: int, out: int, service_tier: str | None, usage_extra: dict[str, int] | None = None,
               host: str | None = None) -> tuple[int | None, str | None]:
        try:
            return self.pricer.price_nanos(provider, model, ts_us, inp, cached, cache_write, out, service_tier,
                                           extra=usage_extra, host=host)
        except Exception:  # an unpriceable row is recorded unpriced, never dropped
            log.warning("attrlint: could not price %s:%s; recorded unpriced", provider, model, exc_info=True)
            return None, None

    @property
    def pricer(self) -> Any:
        """What prices rows: the `pricer` given, else `Pricer.configured()` (genai-prices with the
        `[tool.attrlint.pricing]` overrides of `ATTRLINT_CONFIG` or the nearest pyproject.toml)."""
        if self._pricer is None:
            from attrlint.ledger.pricing import Pricer

            self._pricer = Pricer.configured()
        return self._pricer

    @property
    def closed(self) -> bool:
        return self._closed

    def open(self) -> Ledger:
        """Open the store now (it otherwise opens on first use); raises LedgerError if it cannot."""
        self._get_store()
        return self

    def _get_store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self.url)
        return self._store

    def _write(self, batch: list[Row]) -> None:
        if time.monotonic() < self._down_until:
            self._spill(batch)
            return
        for attempt, delay in enumerate((*_RETRY_DELAYS, None)):
            try:
                self._get_store().write(batch)
                break
            except Exception as exc:  # noqa: BLE001
                if delay is None:
                    log.warning("attrlint: %r unavailable (%s); %d rows kept in %s until it is back",
                                self, _short(exc), len(batch), self._spill_dir)
                    self._down_until = time.monotonic() + _RECONNECT_EVERY
                    self._spill(batch)
                    return
                time.sleep(delay)
        self._down_until = 0.0
        if not self._replay_checked or self._has_spill():
            self._replay()

    # -- spill files --------------------------------------------------------------------------

    def _spill(self, batch: list[Row]) -> None:
        self._spill_dir.mkdir(parents=True, exist_ok=True)
        path = self._spill_dir / f"{self._spill_prefix}-{os.getpid()}-{threading.get_ident()}.jsonl"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(row) + "\n" for row in batch))
            fh.flush()
            os.fsync(fh.fileno())
        self._pending_spill = True

    def _has_spill(self) -> bool:
        return getattr(self, "_pending_spill", False)

    def spilled_files(self) -> list[Path]:
        return sorted(Path(p) for p in glob.glob(str(self._spill_dir / self._spill_glob)))

    def _replay(self) -> None:
        """Write spilled rows (this process's or a dead one's) now that the database answers."""
        self._replay_checked = True
        self._pending_spill = False
        for path in self.spilled_files():
            claimed = path.with_suffix(f".replaying-{os.getpid()}")
            try:
                os.replace(path, claimed)  # atomic: one process replays each file
            except OSError:
                continue
            try:
                with open(claimed, encoding="utf-8") as fh:
                    rows = [tuple(json.loads(line)) for line in fh if line.strip()]
                store = self._get_store()
                for i in range(0, len(rows), self._batch_size):
                    store.write(rows[i:i + self._batch_size])
            except Exception as exc:  # noqa: BLE001
                log.warning("attrlint: replaying %s failed (%s); kept for later", path, _short(exc))
                os.replace(claimed, path)
                self._pending_spill = True
                return
            os.unlink(claimed)
            log.info("attrlint: wrote %d spilled rows from %s", len(rows), path.name)

    # -- reading ------------------------------------------------------------------------------

    def records(self, since: dt.datetime | dt.date | str | None = None,
                until: dt.datetime | dt.date | str | None = None, **filters: Any) -> Iterator[CostRecord]:
        """Stored records in time order; `since` inclusive, `until` exclusive; filters by column
        (`agent_id="triage"` or `agent="triage"`, `status=`, `model=`...)."""
        return self._get_store().records(since, until, filters)

    def totals(self, by: str | Sequence[str], since: dt.datetime | dt.date | str | None = None,
               until: dt.datetime | dt.date | str | None = None, **filters: Any) -> dict[Any, Decimal]:
        """Cost per `by` (agent, ticket, customer, day, model, provider, key) or per pair of
        them (keys are then tuples). Unpriced rows count as zero."""
        return self._get_store().totals(normalise_by(by), since, until, filters)

    def reprice(self) -> tuple[int, int]:
        """Price rows stored without a cost (an unknown model, or a price that failed), with the
        service tier, host and usage kinds stored on each row; pending rows wait for their result.
        Returns (priced, still unpriced)."""
        self.flush()
        store = self._get_store()
        updates, left = [], 0
        for row in store.unpriced():
            record = dict(zip(ROW_COLUMNS, row))
            if record["status"] == "pending":
                continue  # priced when its result is recorded
            nanos, source = self._price(
                record["provider"], record["model"], int(record["ts_us"]), record["input_tokens"] or 0,
                record["cached_input_tokens"] or 0, record["cache_write_tokens"] or 0, record["output_tokens"] or 0,
                record["service_tier"], json.loads(record["usage_extra"]) if record["usage_extra"] else None,
                record["host"])
            if nanos is None:
                left += 1
                continue
            status = "ok" if record["status"] == "unpriced" else record["status"]
            updates.append((nanos, source, status, record["id"]))
        if updates:
            store.set_prices(updates)
        return len(updates), left


def _to_us(value: dt.datetime) -> int:
    from attrlint.ledger.records import datetime_to_us

    return datetime_to_us(value)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]
