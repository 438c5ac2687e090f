"""Ledger soak: a million calls across four processes, with three outages injected mid-stream.

    python benchmarks/ledger_soak.py                          # PostgreSQL (ATTRLINT_TEST_POSTGRES_URL)
    python benchmarks/ledger_soak.py --backend sqlite
    python benchmarks/ledger_soak.py --calls 200000 --duration 30

Four processes record `--calls` calls in all (each with a unique ticket id), paced to take about
`--duration` seconds, through `Ledger.record`, each ending as a plain process does (atexit).
A few calls carry a token count no database column holds (2**70): they must be quarantined,
not lost and not allowed to take their batch with them.

Outages, at fixed fractions of the run:
- PostgreSQL (reached through a TCP proxy this script controls, tests/support/proxy.py):
  1. the database refuses connections for a while (down);
  2. the link goes silent, connections open but nothing passes (a partition);
  3. every connection is cut and refused briefly (a restart).
- SQLite: another connection holds the write lock (BEGIN EXCLUSIVE) three times, for as long.

Afterwards one more `Ledger.replay()` writes what processes that ended during an outage left in
the spill folder, then the script counts, from the database itself: rows expected, landed,
quarantined, duplicated (rows sharing an id, and calls landed twice under two ids) and lost.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from attrlint.ledger import Ledger  # noqa: E402

PROCESSES = 4
POISON_EVERY = 125_000  # one call in this many carries 2**70 input tokens


def worker(url: str, index: int, calls: int, duration: float, spill_dir: str, results: object) -> None:
    book = Ledger(url, spill_dir=spill_dir, timeout=5)
    started = time.monotonic()
    for i in range(calls):
        poison = (index * calls + i) % POISON_EVERY == POISON_EVERY - 1
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=f"agent-{index}",
                    ticket_id=f"p{index}-{i}", customer_id=f"cust-{i % 300}",
                    input_tokens=2**70 if poison else 1000, output_tokens=100, cost=Decimal("0.0035"))
        if i % 500 == 499:  # pace the run so the outages land mid-stream
            ahead = started + duration * (i + 1) / calls - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    book.close()  # what atexit would do; its figures are reported below
    results.put((index, book.stats.as_dict()))  # type: ignore[attr-defined]


def outages_postgres(proxy: object, duration: float, log: list[str]) -> None:
    plan = [(0.15, "refused (database down)", 0.08, "refuse"),
            (0.45, "silent (partition)", 0.10, "pause"),
            (0.75, "cut and refused (restart)", 0.04, "drop")]
    start = time.monotonic()
    for at, label, length, kind in plan:
        time.sleep(max(0.0, start + at * duration - time.monotonic()))
        t = time.monotonic() - start
        if kind == "refuse":
            proxy.refuse()  # type: ignore[attr-defined]
        elif kind == "pause":
            proxy.pause()  # type: ignore[attr-defined]
        else:
            proxy.refuse()  # type: ignore[attr-defined]
        time.sleep(length * duration)
        if kind == "pause":
            proxy.resume()  # type: ignore[attr-defined]
        else:
            proxy.accept()  # type: ignore[attr-defined]
        log.append(f"{label}: {length * duration:.1f} s from {t:.1f} s")


def outages_sqlite(path: Path, duration: float, log: list[str]) -> None:
    plan = [(0.15, 0.08), (0.45, 0.10), (0.75, 0.04)]
    start = time.monotonic()
    for at, length in plan:
        time.sleep(max(0.0, start + at * duration - time.monotonic()))
        t = time.monotonic() - start
        conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(length * duration)
        conn.execute("ROLLBACK")
        conn.close()
        log.append(f"write lock held by another connection: {length * duration:.1f} s from {t:.1f} s")


def count(url: str, backend: str) -> dict[str, int]:
    queries = {
        "landed": "SELECT COUNT(*) FROM cost_records",
        "distinct_ids": "SELECT COUNT(DISTINCT id) FROM cost_records",
        "distinct_calls": "SELECT COUNT(DISTINCT ticket_id) FROM cost_records",
        "quarantined": "SELECT COUNT(*) FROM attrlint_quarantine",
    }
    if backend == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///"):])
        out = {k: conn.execute(q).fetchone()[0] for k, q in queries.items()}
        conn.close()
        return out
    import psycopg

    from attrlint.ledger.stores.postgres import split_url

    dsn, schema = split_url(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        return {k: conn.execute(q).fetchone()[0] for k, q in queries.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"],
                        default="postgres" if os.environ.get("ATTRLINT_TEST_POSTGRES_URL") else "sqlite")
    parser.add_argument("--postgres", default=os.environ.get("ATTRLINT_TEST_POSTGRES_URL"))
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls in all, across the processes")
    parser.add_argument("--duration", type=float, default=90.0, help="seconds the recording is paced over")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="attrlint-soak-"))
    spill_dir = str(tmp / "spill")
    per = args.calls // PROCESSES
    expected = per * PROCESSES
    poison = sum(1 for n in range(expected) if n % POISON_EVERY == POISON_EVERY - 1)
    log: list[str] = []
    proxy = None
    schema = None
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; backend {args.backend}")
    try:
        if args.backend == "postgres":
            if not args.postgres:
                sys.exit("--backend postgres needs --postgres URL or ATTRLINT_TEST_POSTGRES_URL")
            from support.proxy import Proxy

            parts = urlsplit(args.postgres)
            proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432)).start()
            schema = f"attrlint_soak_{os.getpid()}_{secrets.token_hex(3)}"
            url = proxy.url(args.postgres) + ("&" if "?" in args.postgres else "?") + f"schema={schema}"
            injector = threading.Thread(target=outages_postgres, args=(proxy, args.duration, log), daemon=True)
        else:
            url = f"sqlite:///{tmp / 'soak.db'}"
            injector = threading.Thread(target=outages_sqlite, args=(tmp / "soak.db", args.duration, log),
                                        daemon=True)
        Ledger(url, spill_dir=spill_dir).open().close()  # the schema, before the clock starts
        ctx = multiprocessing.get_context("spawn")
        results = ctx.Queue()
        started = time.monotonic()
        procs = [ctx.Process(target=worker, args=(url, i, per, args.duration, spill_dir, results))
                 for i in range(PROCESSES)]
        for proc in procs:
            proc.start()
        injector.start()
        stats = dict(results.get() for _ in procs)
        for proc in procs:
            proc.join()
        recorded_in = time.monotonic() - started
        injector.join()
        final = Ledger(url, spill_dir=spill_dir)
        left = final.pending_spill()
        final.replay()
        final.close()
        counts = count(url, args.backend)
    finally:
        if proxy is not None:
            proxy.close()
        if schema is not None:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(tmp, ignore_errors=True)

    landed, quarantined = counts["landed"], counts["quarantined"]
    duplicated = (landed - counts["distinct_ids"]) + (counts["distinct_ids"] - counts["distinct_calls"])
    lost = expected - counts["distinct_calls"] - quarantined
    print(f"\n{PROCESSES} processes x {per:,} calls, paced over {args.duration:.0f} s; recorded and closed in "
          f"{recorded_in:.1f} s ({expected / recorded_in:,.0f} calls/s)")
    print("outages:")
    for line in log:
        print(f"  {line}")
    print("per process (its own ledger's figures):")
    keys = ["recorded", "written", "duplicates", "quarantined", "spilled", "replayed", "lost"]
    print("  " + " ".join(f"{k:>11}" for k in ["process", *keys]))
    for index in sorted(stats):
        print("  " + " ".join(f"{v:>11,}" for v in [index, *(stats[index][k] for k in keys)]))
    print(f"left in spill files when the processes ended: {left.entries:,} rows in {len(left.files)} file(s); "
          "replayed by one final `Ledger.replay()`")
    print("\n| figure | rows |\n|---|---:|")
    for label, value in (("expected", expected), ("landed", landed), ("quarantined", quarantined),
                         ("  of which poison (2**70 tokens)", poison), ("duplicated", duplicated),
                         ("lost", lost)):
        print(f"| {label} | {value:,} |")
    ok = landed + quarantined == expected and duplicated == 0 and lost == 0 and quarantined == poison
    print(f"\n{'OK' if ok else 'FAILED'}: every call landed once or was quarantined" if ok else
          "\nFAILED: rows were lost or duplicated")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
