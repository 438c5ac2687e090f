"""Fault injection: processes killed with SIGKILL while writing and while replaying, SIGTERM, a
database and spill folder that both refuse, a network partition (through a TCP proxy the test
controls), a damaged SQLite page, malformed URLs at the command line. Each case counts the rows
landed, quarantined and reported lost, read from the database directly. No row is lost unless
the process was killed hard, and then only rows it had not flushed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import subprocess_env
from support.ledgers import PG_URL, count_quarantined, count_rows, record_many, with_schema
from support.proxy import Proxy

from attrlint.cli import cli
from attrlint.ledger import Ledger, LedgerError
from attrlint.ledger.stores.sqlite import SQLiteStore

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start(code: str, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    """A Python child running `code` (this tree's attrlint), its stdout a pipe of lines."""
    script = tmp_path / f"child_{time.monotonic_ns()}.py"
    # a child that hangs prints every thread's stack and ends, instead of stalling the suite
    script.write_text("import faulthandler\nfaulthandler.dump_traceback_later(50, exit=True)\n"
                      + textwrap.dedent(code))
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env(**env), cwd=tmp_path)


def read_until(proc: subprocess.Popen[str], done: object, timeout: float = 60) -> list[str]:
    """Lines the child prints until `done(lines)` is true."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while not done(lines):  # type: ignore[operator]
        assert time.monotonic() < deadline, f"child stalled: {lines[-3:]}"
        line = proc.stdout.readline()
        assert line, f"child ended early: {proc.stderr.read() if proc.stderr else ''}"
        lines.append(line.strip())
    return lines


def tickets(url: str) -> list[int]:
    return sorted(int(r.ticket_id) for r in Ledger(url).records())


# -- kill -9 --------------------------------------------------------------------------------------

WRITER = """
    import sys
    from decimal import Decimal
    from attrlint.ledger import Ledger

    book = Ledger({url!r}, spill_dir={spill!r})
    i = 0
    while True:
        for _ in range(100):
            book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="k", ticket_id=str(i),
                        cost=Decimal("0.001"))
            i += 1
        book.flush()
        print(i, flush=True)
"""


@POSIX
def test_kill_9_during_writes_loses_only_the_unflushed_tail(backend_url, tmp_path):
    spill = str(tmp_path / "spill")
    proc = start(WRITER.format(url=backend_url, spill=spill), tmp_path)
    lines = read_until(proc, lambda lines: len(lines) >= 30)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    flushed = int(lines[-1])
    landed, distinct = count_rows(backend_url)
    assert landed == distinct  # no row twice
    assert flushed <= landed <= flushed + 100 + 100  # what it flushed, and at most the batch in the works
    assert tickets(backend_url) == list(range(landed))  # a prefix: nothing lost before the kill
    assert count_quarantined(backend_url) == 0
    # the database is sound and takes new rows; nothing was left to replay
    book = Ledger(backend_url, spill_dir=spill)
    assert book.check() == [] and book.pending_spill().entries == 0
    record_many(book, 10, agent="after", start=landed)
    book.close()
    assert count_rows(backend_url) == (landed + 10, landed + 10)


REPLAYER = """
    from attrlint.ledger import Ledger

    Ledger({url!r}, batch_size=100).replay()
    print("finished", flush=True)
"""


@POSIX
def test_kill_9_during_a_replay_leaves_the_file_to_the_next_replay(tmp_path):
    folder = tmp_path / "db"
    folder.write_text("")  # the database cannot be opened: every row spills
    url = f"sqlite:///{folder / 'ledger.db'}"
    book = Ledger(url)
    record_many(book, 50_000)
    book.close()
    assert book.stats.spilled == 50_000
    folder.unlink()
    folder.mkdir()
    SQLiteStore(folder / "ledger.db").close()  # the schema, and nothing replayed yet

    proc = start(REPLAYER.format(url=url), tmp_path, XDG_STATE_HOME=str(tmp_path / "state"))
    deadline = time.monotonic() + 60
    while count_rows(url)[0] == 0:  # part-way through: its first chunks are committed
        assert time.monotonic() < deadline and proc.poll() is None, "the replay ended before it could be killed"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    part, _ = count_rows(url)
    assert 0 < part < 50_000
    later = Ledger(url)
    assert later.pending_spill().entries == 50_000  # nothing was deleted half-replayed
    stats = later.replay()
    assert count_rows(url) == (50_000, 50_000) and count_quarantined(url) == 0
    assert (stats.replayed, stats.duplicates, stats.damaged, stats.lost) == (50_000 - part, part, 0, 0)
    assert later.pending_spill().files == []
    later.close()


# -- SIGTERM --------------------------------------------------------------------------------------

QUEUED = """
    import signal, sys, time
    from decimal import Decimal
    from attrlint.ledger import Ledger

    if {chain!r}:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(3))
    book = Ledger({url!r}, flush_interval=3600, batch_size=100_000).open()
    for i in range(1000):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="t", ticket_id=str(i),
                    cost=Decimal("0.001"))
    print("ready", flush=True)
    time.sleep(60)
"""


@POSIX
@pytest.mark.parametrize("chain", [False, True], ids=["default-action", "chained-handler"])
def test_sigterm_drains_the_queue_then_does_what_it_would_have(tmp_path, chain):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    proc = start(QUEUED.format(url=url, chain=chain), tmp_path, XDG_STATE_HOME=str(tmp_path / "state"))
    read_until(proc, lambda lines: lines[-1:] == ["ready"])
    assert count_rows(url) == (0, 0)  # all 1000 are still queued
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    assert code == (3 if chain else -signal.SIGTERM)
    assert count_rows(url) == (1000, 1000) and count_quarantined(url) == 0


LOOP = """
    from decimal import Decimal
    from attrlint.ledger import Ledger

    book = Ledger({url!r})
    i = 0
    print("started", flush=True)
    while True:
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="t", ticket_id=str(i),
                    cost=Decimal("0.001"))
        i += 1
"""


@POSIX
def test_sigterm_in_a_tight_loop_loses_nothing_recorded(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    proc = start(LOOP.format(url=url), tmp_path, XDG_STATE_HOME=str(tmp_path / "state"))
    read_until(proc, lambda lines: lines[-1:] == ["started"])
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == -signal.SIGTERM
    landed, distinct = count_rows(url)
    assert landed > 0 and landed == distinct and count_quarantined(url) == 0
    assert tickets(url) == list(range(landed))  # every call recorded before the signal landed


# -- database and spill folder both unwritable ---------------------------------------------------------

UNWRITABLE = """
    import time
    from decimal import Decimal
    from attrlint.ledger import Ledger

    book = Ledger({url!r}, spill_dir={spill!r}, timeout=2)
    for i in range(500):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="u", cost=Decimal("0.001"))
    print(time.monotonic(), flush=True)
"""


def test_database_and_spill_unwritable_at_exit_end_within_the_deadline_and_say_how_many(tmp_path):
    (tmp_path / "file").write_text("")  # a file where the folders should be (a read-only or full disk)
    url = f"sqlite:///{tmp_path / 'file' / 'ledger.db'}"
    proc = start(UNWRITABLE.format(url=url, spill=str(tmp_path / "file" / "spill")), tmp_path)
    out, err = proc.communicate(timeout=60)
    ended = time.monotonic()
    assert proc.returncode == 0
    assert ended - float(out.strip()) < 2 + 3  # the 2 s deadline, and interpreter teardown
    lost = [line for line in err.splitlines() if "lost" in line]
    assert len(lost) == 1 and lost[0].startswith("attrlint: 500 cost record(s) lost:")
    assert "Traceback" not in err


# -- a network partition, through a proxy -------------------------------------------------------------

@pytest.fixture
def proxy() -> Proxy:
    from urllib.parse import urlsplit

    url = os.environ.get("ATTRLINT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set ATTRLINT_TEST_POSTGRES_URL to test the PostgreSQL ledger through a proxy")
    parts = urlsplit(url)
    running = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432)).start()
    yield running
    running.close()


def test_a_partition_never_holds_close_past_its_timeout(proxy, pg_schema, tmp_path):
    url = with_schema(proxy.url(PG_URL or ""), pg_schema)
    spill = tmp_path / "spill"
    book = Ledger(url, spill_dir=spill, timeout=2)
    record_many(book, 100, agent="before")
    book.flush()
    proxy.pause()  # the link goes silent: no error, no answer
    record_many(book, 300, agent="during", start=100)
    started = time.monotonic()
    book.close(timeout=2)
    assert time.monotonic() - started < 3.5
    # all 300 spilled (some perhaps twice, by the stuck writer and by close(): replays skip known ids)
    assert book.stats.spilled >= 300 and book.stats.lost == 0
    proxy.resume()  # the stalled write may complete now: the replay must not count it twice
    later = Ledger(url, spill_dir=spill)
    later.replay()
    assert count_rows(url) == (400, 400) and count_quarantined(url) == 0
    assert later.totals("agent") == {"before": Decimal("0.100"), "during": Decimal("0.300")}
    later.close()


def test_connections_cut_and_refused_spill_then_replay(proxy, pg_schema, tmp_path):
    url = with_schema(proxy.url(PG_URL or ""), pg_schema)
    book = Ledger(url, spill_dir=tmp_path / "spill")
    record_many(book, 10, agent="up")
    book.flush()
    proxy.drop()  # a restart: the open connection is cut; the next write reconnects
    record_many(book, 10, agent="cut", start=10)
    book.flush()
    assert (book.stats.written, book.stats.spilled) == (20, 0)
    proxy.refuse()  # down: rows spill
    record_many(book, 25, agent="down", start=20)
    book.flush()
    assert book.pending_spill().entries == 25
    proxy.accept()  # back: the next write (after the reconnect delay) replays the spill
    time.sleep(2.1)
    record_many(book, 1, agent="back", start=45)
    book.flush()
    assert book.pending_spill().files == []
    assert count_rows(url) == (46, 46) and count_quarantined(url) == 0
    assert book.stats.as_dict() | {"held": 0} == {
        "recorded": 46, "written": 46, "duplicates": 0, "quarantined": 0, "spilled": 25, "replayed": 25,
        "damaged": 0, "lost": 0, "held": 0}
    book.close()


# -- a damaged SQLite page -------------------------------------------------------------------------------

def test_a_damaged_sqlite_page_is_found_and_nothing_is_written_into_it(tmp_path):
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    book = Ledger(url)
    for i in range(4000):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=f"agent-{i % 50}",
                    ticket_id=f"T-{i}", customer_id=f"customer-{i % 300}", cost=Decimal("0.001"))
    book.close()  # the last connection checkpoints the WAL into the file
    size = path.stat().st_size
    page = 4096
    with open(path, "r+b") as fh:  # a bad sector mid-file
        fh.seek((size // page // 2) * page)
        fh.write(b"\x5a" * page)

    with pytest.raises(LedgerError, match="damaged"):
        Ledger(url).open()
    writer = Ledger(url)
    record_many(writer, 10, agent="later")
    writer.flush()  # the writer refuses the damaged file: the rows wait in the spill folder
    assert (writer.stats.written, writer.stats.spilled, writer.stats.lost) == (0, 10, 0)
    writer.close()

    runner = CliRunner()
    for command in (["report"], ["export"], ["export", "--format", "jsonl"]):
        result = runner.invoke(cli, ["ledger", *command, "--ledger", url])
        assert result.exit_code == 2, command
        assert result.exception is None or isinstance(result.exception, SystemExit)
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"attrlint: error: {path}: the SQLite ledger is damaged") and "ledger check" in line
    result = runner.invoke(cli, ["ledger", "check", "--ledger", url])
    assert result.exit_code == 1
    assert f"{url}: damaged:" in result.stdout and "10 row(s) in 1 spill file(s)" in result.stdout


# -- malformed URLs at the command line ------------------------------------------------------------------

@pytest.mark.parametrize("url", ["postgresql:/user:s3cretpw@db.example/ledger",
                                 "postgressql://user:s3cretpw@db.example/ledger"])
@pytest.mark.parametrize("command", ["report", "export", "replay", "check"])
def test_a_malformed_url_is_one_line_exit_2_and_creates_nothing(url, command, tmp_path):
    result = CliRunner().invoke(cli, ["ledger", command, "--ledger", url])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("attrlint: error: ledger URL") and "s3cretpw" not in line and ":***@" in line
    assert not any("s3cretpw" in str(p) for p in tmp_path.rglob("*"))
    assert not any("s3cretpw" in str(p) for p in (tmp_path / "state").rglob("*")) if (tmp_path / "state").exists() else True
