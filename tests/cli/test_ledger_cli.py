"""`attrlint ledger report|export|reprice|reconcile`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner

from attrlint.cli import cli
from attrlint.ledger import Ledger

UTC = dt.timezone.utc

# test_reprice reads prices from pyproject.toml in the working directory; no ATTRLINT_LEDGER_URL may leak in
pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    book = Ledger(url)
    for i in range(12):
        book.record(provider="openai", operation="chat", model="gpt-4o", agent_id=("triage", "billing")[i % 2],
                    ticket_id=f"T-{i % 3}", customer_id="acme", input_tokens=1_000_000, attributed=i % 4 != 0,
                    timestamp=dt.datetime(2026, 3, 1 + i % 3, tzinfo=UTC))
    book.record(provider="openai", operation="chat", model="acme-llm", agent_id="triage", input_tokens=10,
                timestamp=dt.datetime(2026, 3, 1, tzinfo=UTC))
    book.close()
    return url


def run(*args, env=None):
    result = CliRunner().invoke(cli, ["ledger", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_report_by_agent(url):
    code, out = run("report", "--ledger", url)
    assert code == 0
    assert out.splitlines()[0].split() == ["agent", "cost_usd"]
    assert "billing  15.000000" in out and "total    30.000000" in out


def test_report_two_dimensions_markdown(url):
    code, out = run("report", "--ledger", url, "--by", "agent", "--by2", "day", "--format", "markdown")
    assert code == 0
    assert out.startswith("**LLM cost by agent and day**")
    assert "| agent | day | cost_usd |" in out and "|---|---|---:|" in out
    assert "| triage | 2026-03-01 | 5.000000 |" in out


def test_report_json_csv_and_filters(url):
    code, out = run("report", "--ledger", url, "--by", "ticket", "--agent", "billing", "--format", "json",
                    "--since", "2026-03-02")
    assert code == 0
    assert {row["ticket"]: row["cost_usd"] for row in json.loads(out)} == {"T-1": "5.000000", "T-2": "5.000000"}
    code, out = run("report", "--by", "day", "--format", "csv", env={"ATTRLINT_LEDGER_URL": url})
    assert code == 0 and list(csv.reader(io.StringIO(out)))[0] == ["day", "cost_usd"]


def test_export_csv_and_jsonl(url):
    code, out = run("export", "--ledger", url, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 13 and rows[0]["cost"] == "2.500000000"
    code, out = run("export", "--ledger", url)
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(table) == 13 and table[0]["agent_id"] == "triage"


def test_reprice(url, tmp_path, monkeypatch):
    code, out = run("reprice", "--ledger", url)
    assert code == 0 and "priced 0 row(s); 1 still unpriced" in out
    (tmp_path / "pyproject.toml").write_text('[tool.attrlint.pricing."openai:acme-llm"]\ninput = 100\n')
    code, out = run("reprice", "--ledger", url)
    assert code == 0 and "priced 1 row(s); 0 still unpriced" in out


def test_reconcile_shows_the_unattributed_remainder(url, tmp_path):
    invoice = tmp_path / "costs.csv"
    invoice.write_text("date,line_item,cost\n2026-03-01,gpt-4o,11.00\n2026-03-02,gpt-4o,10.00\n")
    code, out = run("reconcile", "--ledger", url, "--invoice", str(invoice), "--format", "json")
    assert code == 0
    rows = {row["day"]: row for row in json.loads(out)}
    # 2026-03-01: 4 calls at $2.50, one of them unattributed
    assert rows["2026-03-01"]["ledger_attributed_usd"] == "7.500000"
    assert rows["2026-03-01"]["ledger_unattributed_usd"] == "2.500000"
    assert rows["2026-03-01"]["unattributed_remainder_usd"] == "3.500000"
    assert rows["2026-03-03"]["invoice_usd"] == "0.000000"


def test_errors_exit_2_and_say_what_to_do(url, tmp_path):
    code, out = run("reconcile", "--ledger", url, "--invoice", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in out and "cannot read" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what\n1,2\n")
    code, out = run("reconcile", "--ledger", url, "--invoice", str(bad))
    assert code == 2 and "bad.csv" in out and "cost column" in out
    code, out = run("report", "--ledger", "mysql://db/x")
    assert code == 2 and "ATTRLINT_LEDGER_URL" in out
    code, out = run("report", "--ledger", url, "--since", "yesterday")
    assert code == 2 and "--since" in out
    code, out = run("report", "--ledger", url, "--by", "colour")
    assert code == 2
