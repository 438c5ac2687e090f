"""`Ledger`: the cost ledger's front door.

`record()` only appends to an in-memory queue; a background writer prices rows and writes them
in batches, so the caller never waits on disk or network. What the writer guarantees:

- **Per-row isolation.** Text is normalised first (NUL removed, invalid Unicode escaped,
  over-long values cut: see attrlint.ledger.records). A batch the database still refuses is
  split in halves until the refused rows are known; they go to the quarantine table with the
  reason and their values, and every other row lands.
- **Idempotent writes.** Every row has a UUIDv7 id made when it is recorded, unique in the
  database; writing a batch twice (a retry, a replayed spill file) lands it once.
- **Spill.** Rows the database cannot take now (down, locked, unreachable) go to append-only,
  checksummed spill files (attrlint.ledger.spill) and are replayed once it answers: by this
  process, by the next one to write, or by `attrlint ledger replay`.
- **Bounded shutdown.** `flush()` and `close()` never hang: a store call that takes longer than
  `timeout` is abandoned and its rows spilled; `close(timeout=)` returns by its deadline,
  spilling what is left, and says on stderr how many rows were lost if even that failed.
  Interpreter exit, SIGTERM and the exit of forked multiprocessing children drain every ledger.
- **Closed means closed.** After `close()`, `record()` writes synchronously in the caller's
  thread (or spills), so a call made during shutdown is still recorded.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import datetime as dt
import difflib
import json
import logging
import os
import queue
import re
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from attrlint.core.redact import redact_url as redact
from attrlint.ledger import spill
from attrlint.ledger.records import (
    TEXT_LIMIT,
    CallRecord,
    CostRecord,
    as_int,
    clean_text,
    jsonable,
    metadata_json,
    new_id,
    now_us,
    to_nanos,
    usage_json,
)
from attrlint.ledger.stores.base import (
    ROW_COLUMNS,
    ROW_DEFAULTS,
    LedgerError,
    Quarantined,
    Row,
    Store,
    normalise_by,
)

log = logging.getLogger("attrlint.ledger")

DEFAULT_PATH = Path(".attrlint") / "ledger.db"
DEFAULT_TIMEOUT = 10.0  # close() deadline; a store call taking longer is abandoned, its rows spilled
HELD_LIMIT = 100_000  # rows kept in memory when neither the database nor the spill folder takes them
_RETRY_DELAYS = (0.05, 0.25, 1.0)
_RECONNECT_EVERY = 2.0
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):(.*)$", re.DOTALL)
_SCHEMES = ("sqlite", "postgresql", "postgres")


def default_url() -> str:
    """`ATTRLINT_LEDGER_URL`, else `.attrlint/ledger.db` under the current directory."""
    url = os.environ.get("ATTRLINT_LEDGER_URL")
    if url:
        return url
    return f"sqlite:///{(Path.cwd() / DEFAULT_PATH).as_posix()}"


# -- URLs ---------------------------------------------------------------------------------------

class LedgerURL(NamedTuple):
    """A checked ledger URL: its kind, the URL, the SQLite path (None for PostgreSQL) and its
    identity (absolute path, or the URL without its password: what names its spill folder)."""

    kind: str  # "sqlite" | "postgresql"
    url: str
    path: str | None
    identity: str


def parse_url(url: str | os.PathLike[str]) -> LedgerURL:
    """Check a ledger URL (`sqlite:///PATH`, `postgresql://...`, or a bare path to a SQLite
    file); a malformed one is a LedgerError naming it, its password redacted."""
    if isinstance(url, os.PathLike):
        return _sqlite_url(Path(url).as_posix(), f"sqlite:///{Path(url).as_posix()}")
    text = str(url)
    shown = redact(text)
    if not text.strip():
        raise LedgerError("ledger URL is empty; use sqlite:///PATH or postgresql://USER@HOST/DB "
                          "(--ledger or ATTRLINT_LEDGER_URL)")
    match = _SCHEME.match(text)
    if match is None:  # a bare path (a Windows drive letter, C:\\..., is one too)
        return _sqlite_url(text, f"sqlite:///{Path(text).as_posix()}")
    scheme, rest = match.group(1), match.group(2)
    lower = scheme.lower()
    if lower == "sqlite":
        if not rest.startswith("//"):
            raise LedgerError(f"ledger URL {shown!r}: expected sqlite:///PATH (three slashes before a relative "
                              "path, four before an absolute one)")
        path = rest[3:] if rest.startswith("///") else rest[2:]
        if not path:
            raise LedgerError("ledger URL sqlite:/// needs a path, e.g. sqlite:///.attrlint/ledger.db")
        return _sqlite_url(path, text)
    if lower in ("postgresql", "postgres"):
        if not rest.startswith("//"):
            raise LedgerError(f"ledger URL {shown!r}: expected {lower}://USER@HOST/DB (two slashes after "
                              f"'{scheme}:')")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise LedgerError(f"ledger URL {shown!r}: {exc}") from None
        netloc = parts.hostname or ""
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        if parts.port:
            netloc += f":{parts.port}"
        identity = urlunsplit(("postgresql", netloc.lower(), parts.path, parts.query, ""))
        return LedgerURL("postgresql", text, None, identity)
    close = difflib.get_close_matches(lower, _SCHEMES, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}://?" if close else ""
    raise LedgerError(f"ledger URL {shown!r}: unsupported scheme '{scheme}:'{hint} Use sqlite:///PATH or "
                      "postgresql://USER@HOST/DB (--ledger or ATTRLINT_LEDGER_URL)")


def _sqlite_url(path: str, url: str) -> LedgerURL:
    head = path.split("/", 1)[0]
    if "@" in head and ":" in head:  # user:password@host: a network URL missing its scheme
        raise LedgerError(f"ledger URL {redact(url)!r}: looks like USER:PASSWORD@HOST, not a file path; "
                          "use postgresql://USER@HOST/DB")
    return LedgerURL("sqlite", url, path, "sqlite:" + Path(path).resolve().as_posix())


def open_store(url: str) -> Store:
    """The backend for a ledger URL (opened, schema migrated); LedgerError if it cannot be."""
    parsed = parse_url(url)
    if parsed.kind == "sqlite":
        from attrlint.ledger.stores.sqlite import SQLiteStore

        return SQLiteStore(parsed.path or "")
    from attrlint.ledger.stores.postgres import PostgresStore

    return PostgresStore(parsed.url)


# -- what happened to the rows --------------------------------------------------------------------

@dataclass
class LedgerStats:
    """What this process's ledger did with the rows recorded on it, since it was opened."""

    recorded: int = 0  # calls recorded (queued, or written directly after close())
    written: int = 0  # rows this process added to the database (replayed ones included)
    duplicates: int = 0  # rows it wrote that were there already (a replay of a committed batch)
    quarantined: int = 0  # rows the database refused, kept in attrlint_quarantine
    spilled: int = 0  # rows it put in spill files
    replayed: int = 0  # rows it wrote from spill files (its own or others')
    damaged: int = 0  # spill lines it could not read (torn or corrupt), set aside
    lost: int = 0  # rows neither the database nor the spill folder would take, reported on stderr
    held: int = 0  # rows in memory now, waiting for the database or the spill folder

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class SpillStatus:
    """Rows waiting in a ledger's spill folder."""

    directory: Path
    files: list[Path]
    entries: int
    damaged_files: list[Path]

    @property
    def pending(self) -> bool:
        return bool(self.files)


class _Flush:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


class _Stalled(Exception):
    """A store call did not return within the ledger's timeout."""


_DOWN = object()
Entry = spill.Entry


class _IO:
    """Runs store calls on a helper thread, so the writer can give up on one that hangs (a
    silent network link, a lock held for minutes) and spill its rows instead of waiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] | None = None
        self._lock = threading.RLock()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None) -> Any:
        if timeout is None:
            return fn(*args)
        done = threading.Event()
        box: list[Any] = [None, None]
        job = (fn, args, done, box)
        with self._lock:
            jobs = self._jobs
            if jobs is None:
                jobs = queue.SimpleQueue()
                try:
                    threading.Thread(target=self._serve, args=(jobs,), name="attrlint-ledger-io", daemon=True).start()
                except RuntimeError:  # interpreter shutting down: no new threads
                    return fn(*args)
                self._jobs = jobs
        jobs.put(job)
        if not done.wait(timeout):
            with self._lock:
                if self._jobs is jobs:
                    self._jobs = None  # that thread is stuck in `fn`; later calls get a new one
            jobs.put(None)  # the stuck thread exits when (if) `fn` returns
            raise _Stalled(f"no answer within {timeout:g} s")
        if box[1] is not None:
            raise box[1]
        return box[0]

    def _serve(self, jobs: queue.SimpleQueue[Any]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            fn, args, done, box = job
            try:
                box[0] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box[1] = exc
            done.set()

    def stop(self) -> None:
        with self._lock:
            if self._jobs is not None:
                self._jobs.put(None)
                self._jobs = None


# -- the ledger -----------------------------------------------------------------------------------

class Ledger:
    """Where cost records go. `url` is `sqlite:///path`, `postgresql://...` or a path; default
    `ATTRLINT_LEDGER_URL`, else `sqlite:///.attrlint/ledger.db` under the current directory. A
    malformed URL is a LedgerError here, naming it with its password redacted.

    `timeout` (seconds) bounds `close()` and the interpreter-exit drain, and is how long a
    store call may take before its rows are spilled instead. `spill_dir` is where this ledger's
    spill files go (default: one folder per URL, see attrlint.ledger.spill)."""

    def __init__(self, url: str | os.PathLike[str] | None = None, *, batch_size: int = 5000,
                 flush_interval: float = 0.05, spill_dir: str | os.PathLike[str] | None = None,
                 pricer: Any = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        parsed = parse_url(url if url is not None else default_url())
        self.url = parsed.url
        self._parsed = parsed
        self._batch_size = batch_size
        self._interval = flush_interval
        self.timeout = timeout
        self._queue: collections.deque[Any] = collections.deque()
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._lock = threading.RLock()
        self._sync_lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._pricer = pricer
        self._closed = False
        self._down_until = 0.0
        self._down_logged = False
        self._replay_due = True  # look for spill files once the database first answers
        self._legacy_checked = False
        self._held: list[Entry] = []
        self._held_retry_at = 0.0
        self._inflight: list[Entry] | None = None
        self._inflight_lock = threading.RLock()
        self._progress = 0
        self._io = _IO()
        self._stats = LedgerStats()
        self._spill_dir = Path(spill_dir) if spill_dir is not None else spill.folder_for(parsed.identity)
        self._spill = spill.SpillWriter(self._spill_dir, redact(self.url))
        self._legacy_dir = Path.cwd() / ".attrlint" / "spill"
        _live.add(self)
        _install_sigterm_handler()

    def __repr__(self) -> str:
        return f"Ledger({redact(self.url)!r})"

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording ----------------------------------------------------------------------------

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
        """Queue one call's record; returns its id (a UUIDv7). Pricing happens in the writer
        (unless `cost` is given) at `timestamp` (a datetime, or microseconds since the epoch;
        default now): `status` "ok" becomes "unattributed" when `attributed` is false, and
        "unpriced" when no price is known. Never blocks on I/O (after `close()`, writes
        synchronously)."""
        ts_us = now_us() if timestamp is None else timestamp if isinstance(timestamp, int) else _to_us(timestamp)
        return self.submit(CallRecord(
            ts_us, provider, operation, model, agent_id, ticket_id, customer_id, metadata, environment,
            input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost,
            price_source, key_fingerprint, request_id, status, latency_ms, key_env, agent_source, attributed,
            service_tier, host, usage_extra, estimated, batch_id, new_id(ts_us)))

    def submit(self, record: CallRecord) -> str:
        """Queue a `CallRecord` (the runtime's path); returns its id. Never blocks on I/O while
        the ledger is open; after `close()` the record is written before this returns."""
        if not record.id:
            record = record._replace(id=new_id(record.ts_us))
        if self._closed or _exiting:
            self._write_now([record])
            return record.id
        self._queue.append(record)
        if self._closed:  # closed while we appended: close() may have swept the queue already
            self._sweep()
        elif self._thread is None:
            self._start()
        elif len(self._queue) >= self._batch_size:
            self._wake()
        return record.id

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything recorded so far is written, quarantined or spilled. With no
        `timeout`, wait as long as the writer makes progress (a stuck store call is abandoned
        after the ledger's `timeout` and its rows spilled); raises LedgerError when it stops
        making progress, when `timeout` passes, or when rows are held in memory because neither
        the database nor the spill folder takes them."""
        if self._closed:
            self._sweep()
        elif (self._thread is None or not self._thread.is_alive()) and self._queue:
            self._start()
        if self._thread is not None and self._thread.is_alive():
            marker = _Flush()
            self._queue.append(marker)
            self._wake()
            if not self._wait(marker, timeout):
                raise LedgerError(f"{self!r}: flush did not finish within "
                                  f"{timeout if timeout is not None else 2 * self.timeout:g} s"
                                  + ("" if timeout is not None else " without progress"))
        if self._held:
            raise LedgerError(f"{self!r}: {len(self._held)} rows could be written neither to the database nor "
                              f"to the spill folder {self._spill_dir}; they are held in memory and retried")

    def _wait(self, marker: _Flush, timeout: float | None) -> bool:
        if timeout is not None:
            return marker.event.wait(timeout)
        stall = 2 * self.timeout
        seen, since = self._progress, time.monotonic()
        while not marker.event.wait(min(0.5, stall)):
            if self._progress != seen:
                seen, since = self._progress, time.monotonic()
            elif time.monotonic() - since >= stall:
                return False
            if self._thread is None or not self._thread.is_alive():
                return marker.event.is_set()
        return True

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, stop the writer and close the connection, within `timeout`
        seconds (default: the ledger's `timeout`). Rows the database has not taken by then are
        spilled; if that fails too, stderr says how many were lost. Safe to call twice. Later
        records are written synchronously."""
        if self._closed:
            return
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        thread = self._thread
        if thread is not None and thread.is_alive():
            marker = _Flush()
            self._queue.append(marker)
            self._wake()
            marker.event.wait(max(0.0, deadline - time.monotonic()))
        self._closed = True
        self._wake()
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = thread is not None and thread.is_alive()
        lost_before = self._stats.lost
        if stuck:
            self._rescue()
        else:
            self._sweep()
            if self._held:
                self._rescue()
        now = time.monotonic()
        if not stuck and self._stats.recorded and self._down_until <= now < deadline:
            # a writer leaves nothing behind that can be written now (a reader replays nothing)
            with contextlib.suppress(Exception):
                self._replay(deadline, strict=True)
        if not stuck:  # (a stuck writer may still append to its spill file)
            self._spill.close()
            self._io.stop()
            if self._store is not None:
                with contextlib.suppress(Exception):
                    self._store.close()
                self._store = None
        lost = self._stats.lost - lost_before
        if lost:
            _tell(f"attrlint: {lost} cost record(s) lost: {redact(self.url)} could not take them within "
                  f"{budget:g} s and the spill folder {self._spill_dir} could not be written")
        _live.discard(self)

    def _wake(self) -> None:
        """Wake the writer. A SimpleQueue, not an Event: its put() takes no lock a signal
        handler or a finalizer could find held by the code it interrupted (SIGTERM arriving
        inside Event.set() would deadlock the drain)."""
        self._wakeups.put(None)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                thread = threading.Thread(target=self._run, name="attrlint-ledger-writer", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # interpreter shutdown: write in the caller's thread
                    self._sweep()
                    return
                self._thread = thread
                _install_sigterm_handler()
                _install_child_exit_hook()

    # -- the writer ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self._wakeups.get(timeout=self._interval)
                while True:
                    self._wakeups.get_nowait()
            except queue.Empty:
                pass
            try:
                self._drain()
                if self._held and time.monotonic() >= self._held_retry_at:
                    self._retry_held()
            except Exception:  # pragma: no cover - the writer must survive anything
                log.exception("attrlint: ledger writer failed")
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue_ = self._queue
        while queue_:
            records: list[CallRecord] = []
            waiters: list[_Flush] = []
            while queue_ and len(records) < self._batch_size:
                try:
                    item = queue_.popleft()
                except IndexError:  # close() swept it
                    break
                if isinstance(item, _Flush):
                    waiters.append(item)
                    break  # write what came before the flush, then tell the flusher
                records.append(item)
            if records:
                self._stats.recorded += len(records)
                self._persist(self._convert(records))
            self._progress += 1
            if self._replay_due and not self._held and time.monotonic() >= self._down_until:
                self._replay(None)  # before telling flushers: what was spilled is written too
            for waiter in waiters:
                waiter.event.set()

    def _persist(self, entries: list[Entry]) -> None:
        """Write entries; spill what the database cannot take now; hold what neither takes.
        Until that is done they stay `_inflight`, where close() finds them if this thread is
        stuck (a row spilled twice that way is written once: replays skip known ids)."""
        with self._inflight_lock:
            self._inflight = entries
        try:
            left = self._write_entries(entries, self.timeout)
            if left:
                with self._inflight_lock:
                    if self._inflight is not entries:
                        return  # close() spilled them meanwhile
                self._spill_entries(left)
        finally:
            with self._inflight_lock:
                if self._inflight is entries:
                    self._inflight = None

    def _convert(self, records: list[CallRecord]) -> list[Entry]:
        entries: list[Entry] = []
        for record in records:
            try:
                entries.append(("r", self._to_row(record)))
            except Exception as exc:  # noqa: BLE001 - a record that cannot be a row is kept, not dropped
                entries.append(("q", _quarantine_record(record, exc)))
        return entries

    def _to_row(self, r: CallRecord) -> Row:
        cost, price_source, status = r.cost, r.price_source, r.status
        inp, cached, cache_write = as_int(r.input_tokens), as_int(r.cached_input_tokens), as_int(r.cache_write_tokens)
        out, reasoning = as_int(r.output_tokens), as_int(r.reasoning_tokens)
        if cost is not None:
            nanos = to_nanos(cost if isinstance(cost, Decimal) else Decimal(str(cost)))
        elif status != "pending":  # a pending call is priced when its result is recorded
            nanos, price_source = self._price(r.provider, r.model, r.ts_us, inp, cached, cache_write, out,
                                              r.service_tier, r.usage_extra, r.host)
        else:
            nanos = None
        if status == "ok":
            if not r.attributed:
                status = "unattributed"
            elif nanos is None:
                status = "unpriced"
        latency = None if r.latency_ms is None else float(r.latency_ms)
        text = clean_text
        return (text(r.id), int(r.ts_us), text(r.provider), text(r.operation), text(r.model), text(r.agent_id),
                text(r.ticket_id), text(r.customer_id), metadata_json(r.metadata), text(r.environment), inp,
                cached, cache_write, out, reasoning, nanos, text(price_source), text(r.key_fingerprint),
                text(r.request_id), text(status) or "ok", latency, text(r.key_env, TEXT_LIMIT),
                text(r.agent_source), text(r.service_tier), text(r.host), usage_json(r.usage_extra),
                int(bool(r.estimated)), text(r.batch_id))

    def _price(self, provider: str, model: str | None, ts_us: int, inp: int, cached: int,
               cache_write: int, out: int, service_tier: str | None, usage_extra: dict[str, int] | None = None,
               host: str | None = None) -> tuple[int | None, str | None]:
        try:
            return self.pricer.price_nanos(provider, model, ts_us, inp, cached, cache_write, out, service_tier,
                                           extra=usage_extra, host=host)
        except Exception:  # an unpriceable row is recorded unpriced, never dropped
            log.warning("attrlint: could not price %s:%s; recorded unpriced", provider, model, exc_info=True)
            return None, None

    # -- writing, isolating refused rows ------------------------------------------------------

    def _writer_store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self.url)
        return self._store

    def _write_entries(self, entries: list[Entry], timeout: float | None) -> list[Entry]:
        """Write rows and quarantine entries; returns those the database could not take now."""
        if not entries:
            return []
        if time.monotonic() < self._down_until:
            return entries
        try:
            store = self._writer_store()  # opening is bounded by itself (connect timeout; a local file)
        except Exception as exc:  # noqa: BLE001 - cannot open: down until it can
            self._mark_down(exc, len(entries))
            return entries
        rows = [value for kind, value in entries if kind == "r"]
        quarantine = [value for kind, value in entries if kind == "q"]
        unwritten, refused = self._write_isolated(store, rows, timeout)
        quarantine += refused
        if quarantine and not unwritten and time.monotonic() >= self._down_until:
            try:
                self._io.call(store.quarantine, quarantine, timeout=timeout)
                self._stats.quarantined += len(quarantine)
                for entry in quarantine:
                    log.warning("attrlint: quarantined cost record %s: %s", entry.id, entry.reason)
                quarantine = []
            except Exception as exc:  # noqa: BLE001
                self._mark_down(exc, len(quarantine))
        return [("r", row) for row in unwritten] + [("q", q) for q in quarantine]

    def _write_isolated(self, store: Store, rows: list[Row], timeout: float | None
                        ) -> tuple[list[Row], list[Quarantined]]:
        """Write rows, splitting a refused batch in halves until the refused rows are known.
        Returns (rows not written because the database stopped answering, refused rows)."""
        stack = [rows] if rows else []
        refused: list[Quarantined] = []
        while stack:
            chunk = stack.pop()
            outcome = self._try_write(store, chunk, timeout)
            if outcome is None:
                continue
            if outcome is _DOWN:
                return [row for part in (chunk, *reversed(stack)) for row in part], refused
            if len(chunk) == 1:
                refused.append(_quarantine_row(chunk[0], outcome))
                continue
            middle = len(chunk) // 2
            stack.append(chunk[middle:])
            stack.append(chunk[:middle])
        return [], refused

    def _try_write(self, store: Store, chunk: list[Row], timeout: float | None) -> Any:
        """None when written; the exception when the database refused the data; _DOWN when it
        is not answering (after retries)."""
        for delay in (*_RETRY_DELAYS, None):
            try:
                added = self._io.call(store.write, chunk, timeout=timeout)
            except _Stalled as exc:
                self._store = None  # in use by the abandoned call: never touch it again
                self._mark_down(exc, len(chunk))
                return _DOWN
            except Exception as exc:  # noqa: BLE001
                verdict = store.is_data_error(exc)
                if verdict is None:  # unknown: refused data if the database answers otherwise
                    try:
                        self._io.call(store.ping, timeout=timeout)
                        verdict = True
                    except Exception:  # noqa: BLE001
                        verdict = False
                if verdict:
                    return exc
                if delay is None or self._closed:
                    self._mark_down(exc, len(chunk))
                    return _DOWN
                time.sleep(delay)
                continue
            self._stats.written += added
            self._stats.duplicates += len(chunk) - added
            if self._down_until or self._down_logged:
                log.warning("attrlint: %r answers again", self)
                self._replay_due = True
            self._down_until = 0.0
            self._down_logged = False
            return None
        return _DOWN  # pragma: no cover

    def _mark_down(self, exc: BaseException, count: int) -> None:
        self._down_until = time.monotonic() + _RECONNECT_EVERY
        if not self._down_logged:
            self._down_logged = True
            log.warning("attrlint: %r unavailable (%s); %d rows kept in %s until it is back",
                        self, _short(exc, self.url), count, self._spill_dir)

    def _spill_entries(self, entries: list[Entry]) -> None:
        try:
            self._spill.append(entries)
        except OSError as exc:
            self._spill.close()
            self._hold(entries, exc)
            return
        self._stats.spilled += len(entries)
        self._replay_due = True

    def _hold(self, entries: list[Entry], exc: BaseException) -> None:
        if not self._held:
            log.error("attrlint: %r: cannot write the spill folder %s (%s); %d rows held in memory",
                      self, self._spill_dir, _short(exc, self.url), len(entries))
        with self._inflight_lock:
            self._held.extend(entries)
            self._held_retry_at = time.monotonic() + _RECONNECT_EVERY
            over = len(self._held) - HELD_LIMIT
            if over > 0:
                del self._held[:over]
                self._stats.lost += over
        if over > 0:
            _tell(f"attrlint: {over} cost record(s) lost: {redact(self.url)} and the spill folder "
                  f"{self._spill_dir} have taken nothing for a while and {HELD_LIMIT} rows are held in memory")
        self._stats.held = len(self._held)

    def _retry_held(self) -> None:
        with self._inflight_lock:
            entries, self._held = self._held, []
        self._stats.held = 0
        self._persist(entries)

    def _rescue(self) -> None:
        """At close, with the writer stuck or rows held: spill everything not yet persisted from
        this thread (a row also written by the stuck call is skipped by id when replayed)."""
        with self._inflight_lock:
            entries: list[Entry] = list(self._inflight or ()) + self._held
            self._inflight = None
            self._held = []
        records = []
        while self._queue:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            if isinstance(item, _Flush):
                item.event.set()
            else:
                records.append(item)
        self._stats.recorded += len(records)
        entries += self._convert(records)
        self._stats.held = 0
        if not entries:
            return
        rescue = spill.SpillWriter(self._spill_dir, redact(self.url))
        try:
            rescue.append(entries)
            self._stats.spilled += len(entries)
        except OSError as exc:
            log.error("attrlint: %r: cannot write the spill folder %s (%s)", self, self._spill_dir,
                      _short(exc, self.url))
            self._stats.lost += len(entries)
        finally:
            rescue.close()

    def _sweep(self) -> None:
        """Write what is still queued from this thread (the ledger is closed, or has no writer)."""
        records: list[CallRecord] = []
        waiters: list[_Flush] = []
        while self._queue:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            (waiters if isinstance(item, _Flush) else records).append(item)  # type: ignore[arg-type]
        if records:
            self._write_now(records)
        for waiter in waiters:
            waiter.event.set()

    def _write_now(self, records: list[CallRecord]) -> None:
        """Write records in the caller's thread (a closed ledger): the database, else the spill
        folder, else reported lost on stderr."""
        with self._sync_lock:
            self._stats.recorded += len(records)
            entries = self._convert(records)
            left = self._write_entries(entries, self.timeout)
            if not left:
                return
            writer = spill.SpillWriter(self._spill_dir, redact(self.url))
            try:
                writer.append(left)
                self._stats.spilled += len(left)
            except OSError as exc:
                self._stats.lost += len(left)
                _tell(f"attrlint: {len(left)} cost record(s) lost: {redact(self.url)} could not take them and "
                      f"the spill folder {self._spill_dir} could not be written ({exc.strerror or exc})")
            finally:
                writer.close()

    # -- spill files --------------------------------------------------------------------------

    @property
    def spill_dir(self) -> Path:
        """Where this ledger's spill files go."""
        return self._spill_dir

    def spilled_files(self) -> list[Path]:
        """Spill files waiting to be replayed (this process's included)."""
        return spill.pending_files(self._spill_dir)

    def pending_spill(self) -> SpillStatus:
        files = spill.pending_files(self._spill_dir)
        return SpillStatus(self._spill_dir, files, spill.count_entries(files), spill.damaged_files(self._spill_dir))

    def replay(self, timeout: float | None = None) -> LedgerStats:
        """Write every spill file of this ledger that no live process holds (and attrlint
        0.1.0's under `.attrlint/spill` of the current directory) now; returns what this
        ledger has done so far (`replayed`, `quarantined`, `damaged`...). Raises LedgerError
        when the database does not answer."""
        self.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._sync_lock:
            self._down_until = 0.0
            if self._replay(deadline, raise_down=True) == "down":
                raise LedgerError(f"{self!r}: the replay stopped: the database stopped answering; the rest stays "
                                  f"in {self._spill_dir}")
        return self.stats

    def _replay(self, deadline: float | None, raise_down: bool = False, strict: bool = False) -> str:
        """Replay claimable spill files: "done", "deadline" (it passed between two chunks) or
        "down" (the database stopped answering). `strict`: no store call outlives the deadline."""
        self._replay_due = False
        self._spill.close()  # our own file becomes claimable
        paths = [(p, False) for p in spill.pending_files(self._spill_dir)]
        if not self._legacy_checked:
            self._legacy_checked = True
            paths += [(p, True) for p in spill.legacy_files(self._legacy_dir, self.url)]
        if not paths:
            return "done"
        if raise_down:
            try:
                self._writer_store().ping()
            except Exception as exc:  # noqa: BLE001
                raise LedgerError(f"{self!r}: cannot replay the spill files: {_short(exc, self.url)}") from None
        for path, legacy in paths:
            claimed = spill.claim(path, legacy=legacy)
            if claimed is None:
                continue
            finished = False
            try:
                for chunk in claimed.chunks(self._batch_size):
                    chunk = [_fit(entry) for entry in chunk]
                    before = self._stats.written
                    timeout = self.timeout if deadline is None or not strict else \
                        max(0.1, min(self.timeout, deadline - time.monotonic()))
                    left = self._write_entries(chunk, timeout)
                    self._stats.replayed += self._stats.written - before
                    self._progress += 1
                    if left:
                        self._replay_due = True
                        return "down"
                    if deadline is not None and time.monotonic() > deadline:
                        self._replay_due = True
                        return "deadline"
                finished = True
            finally:
                if claimed.damaged:
                    self._stats.damaged += claimed.damaged
                    log.warning("attrlint: %d damaged line(s) in spill file %s (a torn or corrupt write) were "
                                "skipped and set aside in damaged-%s.txt", claimed.damaged, path, path.name)
                if finished:
                    claimed.done()
                    log.info("attrlint: wrote %d spilled entries from %s", claimed.entries_read, path.name)
                else:
                    claimed.release()
        return "done"

    # -- reading ------------------------------------------------------------------------------

    @property
    def stats(self) -> LedgerStats:
        """A snapshot of what this ledger did with its rows (see LedgerStats)."""
        snapshot = LedgerStats(**self._stats.as_dict())
        snapshot.held = len(self._held)
        return snapshot

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
        return self._writer_store()

    def records(self, since: dt.datetime | dt.date | str | None = None,
                until: dt.datetime | dt.date | str | None = None, **filters: Any) -> Iterator[CostRecord]:
        """Stored records in time order; `since` inclusive, `until` exclusive; filters by column
        (`agent_id="triage"` or `agent="triage"`, `status=`, `model=`...). Quarantined rows are
        not among them (see `quarantined()`)."""
        return self._get_store().records(since, until, filters)

    def totals(self, by: str | Sequence[str], since: dt.datetime | dt.date | str | None = None,
               until: dt.datetime | dt.date | str | None = None, **filters: Any) -> dict[Any, Decimal]:
        """Cost per `by` (agent, ticket, customer, day, model, provider, key) or per pair of
        them (keys are then tuples). Unpriced rows count as zero."""
        return self._get_store().totals(normalise_by(by), since, until, filters)

    def quarantined(self) -> list[Quarantined]:
        """Rows the database refused, with the reason and their values (JSON), oldest first."""
        return self._get_store().quarantined()

    def quarantine_count(self) -> int:
        return self._get_store().quarantine_count()

    def check(self, *, quick: bool = False) -> list[str]:
        """Problems with the stored ledger: the backend's integrity check (SQLite's
        `integrity_check`, or `quick_check`), run on the file as it is, damaged or not. Empty
        when it is sound."""
        if self._parsed.kind == "sqlite":
            from attrlint.ledger.stores.sqlite import SQLiteStore

            return SQLiteStore.check_file(self._parsed.path or "", quick=quick)
        return self._get_store().check()

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

    # -- fork ---------------------------------------------------------------------------------

    def _reset_after_fork(self) -> None:
        """In a forked child: a writer of its own. What the parent queued is the parent's to
        write; its connection and spill file stay the parent's (kept referenced, never closed
        from here: closing a PostgreSQL connection would end the parent's session)."""
        if self._store is not None:
            _inherited.append(self._store)
        self._store = None
        self._thread = None
        self._lock = threading.RLock()
        self._sync_lock = threading.RLock()
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._queue.clear()
        self._held = []
        self._inflight = None
        self._inflight_lock = threading.RLock()
        self._io = _IO()
        self._spill.forget()
        self._stats = LedgerStats()
        self._replay_due = True


# -- quarantine entries ---------------------------------------------------------------------------

def _fit(entry: Entry) -> Entry:
    """A spilled row in today's columns: one written before later columns existed gets their
    defaults; one from a newer attrlint, with columns this one lacks, is quarantined whole."""
    kind, value = entry
    if kind != "r" or len(value) == len(ROW_COLUMNS):
        return entry
    if len(value) < len(ROW_COLUMNS):
        return "r", tuple(value) + ROW_DEFAULTS[len(value):]
    payload = json.dumps(list(value), ensure_ascii=True, default=jsonable)
    ts = value[1] if isinstance(value[1], int) else None
    return "q", Quarantined(str(value[0]), ts, now_us(), f"spilled by a newer attrlint ({len(value)} columns, "
                            f"this one writes {len(ROW_COLUMNS)}): upgrade attrlint and replay", payload)


def _quarantine_row(row: Row, exc: BaseException) -> Quarantined:
    payload = json.dumps(dict(zip(ROW_COLUMNS, row)), ensure_ascii=True, sort_keys=True, default=jsonable)
    ts = row[1] if isinstance(row[1], int) and -(2**63) <= row[1] < 2**63 else None
    return Quarantined(str(row[0]), ts, now_us(), clean_text(_short(exc), 1000) or "refused", payload)


def _quarantine_record(record: CallRecord, exc: BaseException) -> Quarantined:
    values = record._asdict()
    try:
        payload = json.dumps(values, ensure_ascii=True, sort_keys=True, default=jsonable)
    except (TypeError, ValueError):  # keys JSON cannot hold: keep their repr
        payload = json.dumps({k: repr(v) for k, v in values.items()}, ensure_ascii=True, sort_keys=True)
    ts = record.ts_us if isinstance(record.ts_us, int) and -(2**63) <= record.ts_us < 2**63 else None
    reason = clean_text(f"cannot be made a row: {_short(exc)}", 1000) or "cannot be made a row"
    return Quarantined(str(record.id), ts, now_us(), reason, payload)


# -- the process: exit, fork, SIGTERM -------------------------------------------------------------

_live: weakref.WeakSet[Ledger] = weakref.WeakSet()
_inherited: list[Any] = []  # a forked child's copies of its parent's connections: never finalised


def close_all(timeout: float | None = None) -> None:
    """Close every open ledger of this process within `timeout` seconds in all (default: the
    longest of their own timeouts). For exit hooks the runtime cannot see: a gunicorn
    `worker_exit`, celery's `worker_process_shutdown`, a child that ends with `os._exit`."""
    ledgers = list(_live)
    if not ledgers:
        return
    budget = timeout if timeout is not None else max(book.timeout for book in ledgers)
    deadline = time.monotonic() + budget
    for book in ledgers:
        try:
            book.close(max(0.0, deadline - time.monotonic()))
        except Exception:  # pragma: no cover - exit must not fail
            log.exception("attrlint: could not close %r", book)


def flush_all(timeout: float | None = None) -> None:
    """Flush every open ledger of this process, within `timeout` seconds in all."""
    ledgers = list(_live)
    if not ledgers:
        return
    budget = timeout if timeout is not None else max(book.timeout for book in ledgers)
    deadline = time.monotonic() + budget
    for book in ledgers:
        with contextlib.suppress(Exception):
            book.flush(max(0.0, deadline - time.monotonic()))


_exiting = False


@atexit.register
def _at_exit() -> None:
    """Interpreter exit: from now on every record is written synchronously (a writer thread
    started now would be cut off mid-write), then every ledger is closed."""
    global _exiting
    _exiting = True
    close_all()


def _after_fork_in_child() -> None:
    for book in list(_live):
        book._reset_after_fork()
    _child_hook_pid.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_child_hook_pid: set[int] = set()


def _install_child_exit_hook() -> None:
    """A multiprocessing child (fork or forkserver) ends with `os._exit`, skipping atexit: run
    `close_all` from multiprocessing's own exit finalizers instead."""
    pid = os.getpid()
    if pid in _child_hook_pid or "multiprocessing" not in sys.modules:
        return
    _child_hook_pid.add(pid)
    import multiprocessing
    from multiprocessing import util

    if multiprocessing.parent_process() is not None:
        util.Finalize(None, close_all, exitpriority=100)


_sigterm_pid: int | None = None
_previous_sigterm: Any = None
_in_sigterm = False


def _install_sigterm_handler() -> None:
    """Drain every ledger on SIGTERM (how containers and process managers stop a process), then
    hand the signal on: to the handler that was installed before, else to the default action
    (the process ends as it would have). Only from the main thread, only once, and not when
    SIGTERM is ignored or `ATTRLINT_SIGTERM=0`."""
    global _sigterm_pid, _previous_sigterm
    if _sigterm_pid is not None or not hasattr(signal, "SIGTERM"):
        return
    if threading.current_thread() is not threading.main_thread():
        return
    if os.environ.get("ATTRLINT_SIGTERM", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    try:
        current = signal.getsignal(signal.SIGTERM)
        if current is signal.SIG_IGN or current is None:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter
        return
    _previous_sigterm = current
    _sigterm_pid = os.getpid()


def _on_sigterm(signum: int, frame: Any) -> None:
    global _in_sigterm
    previous = _previous_sigterm
    if not _in_sigterm:
        _in_sigterm = True
        try:
            if callable(previous):
                flush_all()  # the application's handler decides when to exit; atexit closes
            else:
                close_all()
        finally:
            _in_sigterm = False
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


# -- helpers --------------------------------------------------------------------------------------

def _tell(message: str) -> None:
    """A line on stderr, and in the log when the application configured one: what the user
    must know even with logging off."""
    if log.hasHandlers():
        log.error(message)
    with contextlib.suppress(Exception):
        print(message, file=sys.stderr, flush=True)


def _to_us(value: dt.datetime) -> int:
    from attrlint.ledger.records import datetime_to_us

    return datetime_to_us(value)


def _short(exc: BaseException, url: str | None = None) -> str:
    text = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
    if url:
        with contextlib.suppress(ValueError):
            password = urlsplit(url).password
            if password:
                message = message.replace(password, "***")
    return message

