"""The ledger keeps its promise in-process: poison values land normalised or go to the quarantine
(never the whole batch), writes are idempotent, spill files are checksummed and found from any
directory, shutdown is bounded, a closed ledger still records, forked children write their own.
Each test counts rows landed, quarantined and lost exactly (read from the database directly).
The subprocess and network cases are in test_faults.py."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from support.ledgers import count_quarantined, count_rows, record_many

from attrlint.ledger import Ledger, LedgerError
from attrlint.ledger.records import (
    METADATA_VALUE_LIMIT,
    TEXT_LIMIT,
    TRUNCATED,
    clean_text,
    metadata_json,
    new_id,
)

TS = 1_772_366_400_000_000  # 2026-03-01T12:00Z


# -- ids ------------------------------------------------------------------------------------------

def test_ids_are_uuid7_time_ordered_and_unique_in_one_microsecond():
    ids = [new_id(TS) for _ in range(100_000)]
    assert len(set(ids)) == 100_000
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert int(ids[0][:8] + ids[0][9:13], 16) == TS // 1000  # the 48-bit millisecond timestamp
    assert new_id(TS) < new_id(TS + 1) < new_id(TS + 1000)  # sub-millisecond precision orders them too


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_ids_made_in_a_forked_child_and_in_threads_never_repeat_the_parents():
    import threading

    new_id(TS)  # the parent has random bytes buffered when it forks
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, "\n".join(new_id(TS) for _ in range(2000)).encode())
        os._exit(0)
    os.close(write)
    ours = {new_id(TS) for _ in range(2000)}
    with os.fdopen(read) as fh:
        theirs = set(fh.read().split("\n"))
    os.waitpid(pid, 0)
    assert len(theirs) == 2000 and not ours & theirs
    made: list[list[str]] = [[] for _ in range(8)]
    threads = [threading.Thread(target=lambda out: out.extend(new_id(TS) for _ in range(5000)), args=(made[i],))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({i for ids in made for i in ids}) == 40_000


def test_record_returns_the_id_it_stores(ledger):
    rid = ledger.record(provider="openai", operation="chat", model="gpt-4o", cost=Decimal(1))
    ledger.flush()
    (record,) = ledger.records()
    assert record.id == rid and uuid.UUID(rid).version == 7


# -- normalisation ----------------------------------------------------------------------------------

def test_text_is_normalised_to_what_every_backend_stores():
    assert clean_text("a\x00b") == "ab"
    assert clean_text("x\ud800y") == "x\\ud800y"
    assert clean_text("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"
    long = clean_text("z" * 1_000_000)
    assert len(long) == TEXT_LIMIT and long.endswith(TRUNCATED)
    assert clean_text(None) is None and clean_text(42) == "42"
    meta = json.loads(metadata_json({"k": "v" * 10_000, 7: "int key", "nul\x00": "a\x00", "none": None}))
    assert len(meta["k"]) == METADATA_VALUE_LIMIT and meta["k"].endswith(TRUNCATED)
    assert meta["7"] == "int key" and meta["nul"] == "a" and "none" not in meta
    wide = json.loads(metadata_json({f"f{i:03d}": "x" for i in range(100)}))
    assert len(wide) == 65 and wide["attrlint_truncated_fields"] == "36"


# -- poison rows ------------------------------------------------------------------------------------

def _poison(book: Ledger) -> dict[str, str]:
    ids = {
        "surrogate": book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="lone \ud83d here",
                                 cost=Decimal("0.001")),
        "nul": book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a", ticket_id="T\x00-1",
                           cost=Decimal("0.001")),
        "megabyte": book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a",
                                customer_id="c" * 1_000_000, metadata={"prompt": "p" * 1_000_000},
                                cost=Decimal("0.001")),
        # refused by the database itself (64-bit columns on both backends): quarantined
        "overflow1": book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a",
                                 input_tokens=2**70, cost=Decimal("0.001")),
        "overflow2": book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a",
                                 output_tokens=-(2**64), cost=Decimal("0.001")),
        # cannot even be made a row: quarantined with its values as recorded
        "unconvertible": book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a",
                                     input_tokens="lots", cost=Decimal("0.001")),  # type: ignore[arg-type]
    }
    return ids


def test_poison_rows_never_fail_the_batch(backend_url, tmp_path):
    book = Ledger(backend_url, spill_dir=tmp_path / "spill")
    record_many(book, 500, agent="innocent")
    ids = _poison(book)
    record_many(book, 500, agent="innocent", start=500)
    book.flush()
    stats = book.stats
    assert (stats.recorded, stats.written, stats.quarantined, stats.spilled, stats.lost) == (1006, 1003, 3, 0, 0)
    assert count_rows(backend_url) == (1003, 1003)
    assert count_quarantined(backend_url) == 3
    assert book.totals("agent")["innocent"] == Decimal("1.000")
    by_id = {r.id: r for r in book.records()}
    assert by_id[ids["surrogate"]].agent_id == "lone \\ud83d here"
    assert by_id[ids["nul"]].ticket_id == "T-1"
    big = by_id[ids["megabyte"]]
    assert len(big.customer_id) == TEXT_LIMIT and big.customer_id.endswith(TRUNCATED)
    assert len(big.metadata["prompt"]) == METADATA_VALUE_LIMIT
    quarantined = {q.id: q for q in book.quarantined()}
    assert set(quarantined) == {ids["overflow1"], ids["overflow2"], ids["unconvertible"]}
    assert json.loads(quarantined[ids["overflow1"]].payload)["input_tokens"] == 2**70  # kept exactly
    assert json.loads(quarantined[ids["unconvertible"]].payload)["input_tokens"] == "lots"
    assert quarantined[ids["unconvertible"]].reason.startswith("cannot be made a row")
    assert book.spilled_files() == []
    book.close()


def test_repeated_poison_never_inflates_costs(backend_url, tmp_path):
    """0.1.0 re-committed the rows before a poison row on every replay: 300 rows became 1,500."""
    book = Ledger(backend_url, spill_dir=tmp_path / "spill", batch_size=100)
    for round_ in range(5):
        record_many(book, 60, agent="innocent", start=round_ * 60)
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="bad", input_tokens=2**65,
                    cost=Decimal(1))
        book.flush()
    assert count_rows(backend_url) == (300, 300)
    assert count_quarantined(backend_url) == 5
    assert book.totals("agent") == {"innocent": Decimal("0.300")}
    assert book.stats.lost == 0 and book.spilled_files() == []
    book.close()


# -- the database unavailable: spill, replay, idempotence -----------------------------------------

class Blocked:
    """A SQLite ledger path that cannot be opened until `unblock()` (its folder is a file)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "db"
        self.folder.write_text("not a directory")
        self.url = f"sqlite:///{self.folder / 'ledger.db'}"

    def unblock(self) -> None:
        self.folder.unlink()
        self.folder.mkdir()


def test_rows_spill_while_the_database_is_down_and_land_once_it_is_back(tmp_path):
    blocked = Blocked(tmp_path)
    book = Ledger(blocked.url)
    record_many(book, 1200)
    book.flush()
    status = book.pending_spill()
    assert status.entries == 1200 and book.stats.spilled == 1200
    # one documented place per ledger URL: the state directory, whatever the current folder
    assert status.directory.parent == tmp_path / "state" / "attrlint" / "spill"
    assert (status.directory / "LEDGER").read_text().strip() == blocked.url
    book.close()
    assert book.pending_spill().entries == 1200  # still down at close: the files stay

    blocked.unblock()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # another process, started in another folder, finds them
    later = Ledger(blocked.url)
    stats = later.replay()
    assert (stats.replayed, stats.duplicates, stats.damaged) == (1200, 0, 0)
    assert count_rows(blocked.url) == (1200, 1200)
    assert later.pending_spill().files == []
    later.close()


def test_the_next_write_replays_what_another_process_spilled(tmp_path):
    blocked = Blocked(tmp_path)
    book = Ledger(blocked.url)
    record_many(book, 300, agent="before")
    book.close()
    blocked.unblock()
    later = Ledger(blocked.url)
    record_many(later, 10, agent="after")
    later.flush()
    assert count_rows(blocked.url) == (310, 310)
    assert later.stats.replayed == 300
    later.close()


def test_replaying_twice_or_after_a_partial_commit_never_duplicates(backend_url, tmp_path):
    book = Ledger(backend_url, spill_dir=tmp_path / "spill")
    record_many(book, 10, agent="up")
    book.close()
    # spill files made by a ledger whose database cannot be reached, replayed into this one
    spill_dir = tmp_path / "spill"
    (tmp_path / "file").write_text("")
    unreachable = Ledger(f"sqlite:///{tmp_path / 'file' / 'x.db'}", spill_dir=spill_dir, batch_size=500)
    ids = record_many(unreachable, 2000, agent="down")
    unreachable.close()
    assert unreachable.stats.spilled == 2000
    saved = tmp_path / "saved"
    shutil.copytree(spill_dir, saved)

    target = Ledger(backend_url, spill_dir=spill_dir, batch_size=500)
    partial = target.replay(timeout=0)  # stops after its first chunk: a partial commit
    assert 0 < partial.replayed < 2000
    assert target.pending_spill().entries == 2000  # the file stays whole until it is all written
    target.replay()
    assert count_rows(backend_url) == (2010, 2010)
    for path in saved.glob("*.spill"):  # the same file, replayed again
        shutil.copy(path, spill_dir / path.name)
    stats = target.replay()
    assert count_rows(backend_url) == (2010, 2010)
    assert stats.replayed == 2000 and stats.duplicates == 2000 + partial.replayed
    assert {r.id for r in target.records(agent="down")} == set(ids)
    target.close()


# -- the spill format -------------------------------------------------------------------------------

def _spill_999(tmp_path: Path) -> tuple[Blocked, Path]:
    blocked = Blocked(tmp_path)
    book = Ledger(blocked.url)
    record_many(book, 999)
    book.close()
    (path,) = book.spilled_files()
    return blocked, path


def test_a_torn_spill_tail_is_skipped_and_reported(tmp_path, caplog):
    blocked, path = _spill_999(tmp_path)
    with open(path, "ab") as fh:
        fh.write(path.read_bytes().splitlines(keepends=True)[0][:37])  # a crash mid-write: no newline
    blocked.unblock()
    book = Ledger(blocked.url)
    stats = book.replay()
    assert (stats.replayed, stats.damaged) == (999, 1)
    assert count_rows(blocked.url) == (999, 999)
    (aside,) = book.pending_spill().damaged_files
    assert aside.read_bytes().count(b"\n") == 1
    assert "1 damaged line(s)" in caplog.text
    assert book.pending_spill().files == []
    book.close()


def test_a_corrupt_line_in_the_middle_is_skipped_and_the_rest_replayed(tmp_path):
    blocked, path = _spill_999(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[500] = lines[500].replace(b'"openai"', b'"openaj"')  # a flipped bit: the checksum fails
    path.write_bytes(b"".join(lines))
    blocked.unblock()
    book = Ledger(blocked.url)
    stats = book.replay()
    assert (stats.replayed, stats.damaged) == (998, 1)
    assert count_rows(blocked.url) == (998, 998)
    book.close()


def test_spill_files_of_attrlint_0_1_0_are_replayed(tmp_path):
    """0.1.0 kept spill files in .attrlint/spill of the directory it ran in, as plain JSON rows,
    and left `.replaying-PID` files behind when a replay died."""
    import hashlib

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    legacy = tmp_path / ".attrlint" / "spill"
    legacy.mkdir(parents=True)
    tag = hashlib.sha256(url.encode()).hexdigest()[:12]
    rows = [[f"{TS + i:014x}0badf00d{i:04x}", TS + i, "openai", "chat", "gpt-4o", "old", str(i), None, None, None,
             10, 0, 0, 1, 0, 1000, "override", None, None, "ok", None, None, None] for i in range(40)]
    (legacy / f"{tag}-999999998-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:25]))
    (legacy / f"{tag}-999999997-1.replaying-999999997").write_text(
        "".join(json.dumps(r) + "\n" for r in rows[25:]) + '["torn')
    book = Ledger(url)
    stats = book.replay()
    assert (stats.replayed, stats.damaged) == (40, 1)
    assert count_rows(url) == (40, 40)
    assert not list(legacy.glob(f"{tag}-*.jsonl")) and not list(legacy.glob(f"{tag}-*.replaying-*"))
    book.close()


# -- bounded shutdown -------------------------------------------------------------------------------

def test_database_and_spill_both_unwritable_close_reports_the_count_and_returns(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    book = Ledger(f"sqlite:///{tmp_path / 'file' / 'x.db'}", spill_dir=tmp_path / "file" / "spill")
    record_many(book, 500)
    started = time.monotonic()
    book.close(timeout=2)
    assert time.monotonic() - started < 4
    stats = book.stats
    assert (stats.recorded, stats.written, stats.spilled, stats.lost) == (500, 0, 0, 500)
    assert "attrlint: 500 cost record(s) lost" in capsys.readouterr().err


def test_flush_and_close_give_up_on_a_locked_database_and_spill(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger(url).open().close()
    locker = sqlite3.connect(tmp_path / "ledger.db", timeout=0, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock for minutes
    book = Ledger(url, timeout=1)
    record_many(book, 250)
    started = time.monotonic()
    book.close()
    assert time.monotonic() - started < 3
    assert (book.stats.written, book.stats.spilled, book.stats.lost) == (0, 250, 0)
    assert book.pending_spill().entries == 250
    locker.execute("ROLLBACK")
    locker.close()
    later = Ledger(url)
    later.replay()
    assert count_rows(url) == (250, 250)
    later.close()


# -- closed means closed ----------------------------------------------------------------------------

def test_a_closed_ledger_records_synchronously(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    book.close()
    rid = book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="late", cost=Decimal(1))
    assert count_rows(url) == (1, 1)  # written before record() returned
    assert [r.id for r in book.records()] == [rid]
    assert book.stats.recorded == 1


def test_a_closed_ledger_spills_synchronously_when_the_database_is_down(tmp_path):
    blocked = Blocked(tmp_path)
    book = Ledger(blocked.url)
    book.close()
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="late", cost=Decimal(1))
    assert book.pending_spill().entries == 1
    blocked.unblock()
    Ledger(blocked.url).replay()
    assert count_rows(blocked.url) == (1, 1)


# -- 100,000 calls in one microsecond ---------------------------------------------------------------

def test_a_hundred_thousand_rows_with_one_timestamp_all_land(backend_url, tmp_path):
    """0.1.0's id counter wrapped at 0xFFFF: PostgreSQL kept 65,536 of 100,000."""
    book = Ledger(backend_url, spill_dir=tmp_path / "spill", batch_size=20_000)
    for i in range(100_000):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="same", timestamp=TS,
                    cost=Decimal("0.000001"))
    book.flush()
    assert count_rows(backend_url) == (100_000, 100_000)
    assert book.totals("agent") == {"same": Decimal("0.1")}
    assert book.stats.lost == 0
    book.close()


# -- malformed URLs ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "message"), [
    ("postgresql:/user:s3cretpw@db.example/ledger", "two slashes"),
    ("postgressql://user:s3cretpw@db.example/ledger", "did you mean postgresql://"),
    ("postgres:user:s3cretpw@db.example/ledger", "two slashes"),
    ("user:s3cretpw@db.example/ledger", "unsupported scheme"),
    ("mysql://user:s3cretpw@db.example/ledger", "unsupported scheme"),
    ("sqlite:/x.db", "three slashes"),
    ("sqlite:///", "needs a path"),
    ("postgresql://user:s3cretpw@db.example:port/ledger", "Port could not be cast"),
])
def test_a_malformed_url_is_a_clear_error_with_the_password_redacted(url, message, tmp_path):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(LedgerError) as caught:
        Ledger(url)
    text = str(caught.value)
    assert message in text and "s3cretpw" not in text and "\n" not in text
    if "s3cretpw" in url:
        assert ":***@" in text
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert after == before  # nothing created, least of all a file named after the password


def test_no_spill_path_holds_a_credential(tmp_path):
    book = Ledger("postgresql://user:s3cretpw@127.0.0.1:1/ledger", spill_dir=None)
    assert "s3cretpw" not in str(book.spill_dir) and "s3cretpw" not in repr(book)
    book._closed = True  # never opened; nothing to write


# -- forked children --------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_writes_its_own_rows_and_never_the_parents(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url, flush_interval=60)
    record_many(book, 100, agent="parent")  # queued, not yet written, when the process forks
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            record_many(book, 50, agent="child")
            from attrlint.ledger import close_all

            close_all()
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)  # what multiprocessing, gunicorn and celery children end with
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    book.close()
    assert count_rows(url) == (150, 150)
    assert Ledger(url).totals("agent") == {"parent": Decimal("0.100"), "child": Decimal("0.050")}


def _mp_child(url: str, n: int, agent: str) -> None:
    book = Ledger(url)
    for i in range(n):  # a fast loop, no flush, no close: the process ends with os._exit
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=agent, ticket_id=str(i),
                    cost=Decimal("0.001"))


@pytest.mark.skipif(sys.platform != "linux", reason="the fork start method")
def test_multiprocessing_children_drain_before_they_exit(tmp_path):
    import multiprocessing

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger(url).open().close()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_mp_child, args=(url, 20_000, f"p{i}")) for i in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert count_rows(url) == (40_000, 40_000)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.starmap(_mp_child, [(url, 1000, "pool0"), (url, 1000, "pool1")])
    assert count_rows(url) == (42_000, 42_000)
