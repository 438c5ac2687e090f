"""`attrlint ledger replay` and `check`; what `report` and `keys audit` say about spill files
and quarantined rows; CSV exports that a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from support.ledgers import count_rows, record_many

from attrlint.cli import cli
from attrlint.ledger import Ledger


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _spilled(tmp_path: Path, n: int) -> tuple[str, Path]:
    """A SQLite ledger URL with `n` rows waiting in its spill folder (it was unreachable)."""
    folder = tmp_path / "db"
    folder.write_text("")
    url = f"sqlite:///{folder / 'ledger.db'}"
    book = Ledger(url)
    record_many(book, n)
    book.close()
    folder.unlink()
    folder.mkdir()
    return url, folder


def test_report_warns_while_spill_is_pending_and_replay_writes_it(tmp_path):
    url, folder = _spilled(tmp_path, 120)
    code, out, err = run("ledger", "report", "--ledger", url)
    assert code == 2 and out == ""  # the database was never created: it says where the rows are
    assert err.startswith(f"attrlint: error: no ledger at {folder / 'ledger.db'}") and "yet: 120 row(s)" in err
    assert "attrlint ledger replay" in err and len(err.splitlines()) == 1
    Ledger(url).open().close()  # the database exists now, empty
    code, out, err = run("ledger", "report", "--ledger", url)
    assert code == 0 and "total" not in out
    assert "120 row(s) wait in 1 spill file(s)" in err and "attrlint ledger replay" in err
    code, out, err = run("ledger", "check", "--ledger", url)
    assert code == 1 and "120 row(s) in 1 spill file(s) not yet in the ledger" in out

    code, out, err = run("ledger", "replay", "--ledger", url)
    assert (code, err) == (0, "")
    assert out.startswith("replayed 120 row(s) from 1 spill file(s)")
    assert count_rows(url) == (120, 120)
    code, out, err = run("ledger", "report", "--ledger", url)
    assert code == 0 and err == "" and re.search(r"^a +0\.120000$", out, re.M)
    code, out, err = run("ledger", "check", "--ledger", url)
    assert (code, out) == (0, "") and err.strip() == "ledger sound"


def test_replay_with_nothing_to_do_and_with_a_torn_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert run("ledger", "replay", "--ledger", url)[:2] == (0, f"replayed 0 row(s) from 0 spill file(s) in "
                                                               f"{Ledger(url).spill_dir}\n")
    url, _ = _spilled(tmp_path, 30)
    (path,) = Ledger(url).spilled_files()
    with open(path, "ab") as fh:
        fh.write(b"0badc0de [\"r\",[")
    code, out, err = run("ledger", "replay", "--ledger", url)
    assert code == 1 and out.startswith("replayed 30 row(s)")
    assert "1 damaged spill line(s)" in err
    code, out, _ = run("ledger", "check", "--ledger", url)
    assert code == 1 and "damaged spill lines set aside" in out


def test_replay_when_the_database_still_cannot_be_reached_is_exit_2(tmp_path):
    folder = tmp_path / "db"
    folder.write_text("")
    url = f"sqlite:///{folder / 'ledger.db'}"
    book = Ledger(url)
    record_many(book, 5)
    book.close()
    code, out, err = run("ledger", "replay", "--ledger", url)
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"attrlint: error: {folder / 'ledger.db'}: cannot open the SQLite ledger")


def test_quarantined_rows_are_counted_by_report_audit_and_check(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    record_many(book, 10)
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a", input_tokens=2**70,
                cost=Decimal(1))
    book.close()
    code, out, err = run("ledger", "report", "--ledger", url)
    assert code == 0 and "1 row(s) are quarantined" in err and re.search(r"^a +0\.010000$", out, re.M)
    code, out, err = run("ledger", "check", "--ledger", url)
    assert code == 0 and "1 row(s) quarantined" in out and "OverflowError" in out
    (tmp_path / "pyproject.toml").write_text('[tool.attrlint.keys.OPENAI_KEY_A]\nagent = "a"\n')
    result = CliRunner().invoke(cli, ["keys", "audit", "--ledger", url, "--config", str(tmp_path / "pyproject.toml")])
    assert "1 row(s) are quarantined" in result.stderr


def test_csv_export_neutralises_formulas(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    book = Ledger(url)
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain"]
    for i, value in enumerate(hostile):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=value, ticket_id=value,
                    customer_id="acme", metadata={"note": value}, cost=Decimal(i), timestamp=1_772_366_400_000_000 + i)
    book.close()
    code, out, _ = run("ledger", "export", "--ledger", url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["agent_id"] for r in rows] == ["'" + v for v in hostile[:-1]] + ["plain"]
    assert [r["ticket_id"] for r in rows] == ["'" + v for v in hostile[:-1]] + ["plain"]
    assert [r["cost"] for r in rows] == [f"{i}.000000000" for i in range(7)]  # numbers untouched
    code, out, _ = run("ledger", "report", "--ledger", url, "--by", "agent", "--format", "csv")
    cells = [row[0] for row in csv.reader(io.StringIO(out))][1:]
    assert all(c == "plain" or c.startswith("'") for c in cells)
    code, out, _ = run("ledger", "export", "--ledger", url, "--format", "jsonl")
    assert '"agent_id": "=HYPERLINK' in out  # JSON lines are data, not a spreadsheet: kept as they are
