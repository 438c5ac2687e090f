"""`attrlint keys audit` on a generated 60-day ledger."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from support.ledgers import SPIKE_DAY, TODAY, write_sample

from attrlint.cli.keys import keys

# the registry comes from the sample's pyproject.toml in the working directory
pytestmark = pytest.mark.usefixtures("isolated")


def _audit(tmp_path, *args):
    url = write_sample(tmp_path)
    return CliRunner().invoke(keys, ["audit", "--ledger", url, "--today", TODAY.isoformat(), *args])


def test_audit_reports_each_problem_and_exits_1(tmp_path):
    result = _audit(tmp_path, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    kinds = {(f["kind"], f["key"]) for f in report["findings"]}
    assert kinds == {
        ("retire", "OLD_BATCH_KEY"),
        ("expired-in-use", "BILLING_ANTHROPIC_KEY"),
        ("unattributed", "BILLING_ANTHROPIC_KEY"),
        ("spike", "SUPPORT_OPENAI_KEY"),
        ("unregistered", "ROGUE_KEY"),
        ("unregistered", "fingerprint 0123456789ab"),
    }
    (spike,) = [f for f in report["findings"] if f["kind"] == "spike"]
    assert spike["details"]["day"] == SPIKE_DAY.isoformat()
    assert spike["details"]["agents"][0] == "backfill" and "gpt-4.1" in spike["details"]["models"]
    assert Decimal(spike["details"]["cost"]) == Decimal("22.25") and Decimal(spike["details"]["median"]) == Decimal("2.25")
    (expired,) = [f for f in report["findings"] if f["kind"] == "expired-in-use"]
    assert expired["details"] == {"expires": "2026-06-10", "calls_after_expiry": 60, "last_used": "2026-06-30"}
    rows = {k["env"]: k for k in report["keys"]}
    support = rows["SUPPORT_OPENAI_KEY"]
    assert support["calls"] == 30 * 5 + 20 and support["last_used"] == "2026-06-30"  # fingerprint-only rows join
    assert support["days_to_expiry"] == 184 and support["unattributed_share"] == 0
    assert rows["BILLING_ANTHROPIC_KEY"]["days_to_expiry"] == -20
    assert rows["BILLING_ANTHROPIC_KEY"]["unattributed_share"] == round(1 / 3, 4)
    assert rows["OLD_BATCH_KEY"]["calls"] == 0 and rows["OLD_BATCH_KEY"]["last_used"] is None


def test_table_and_markdown(tmp_path):
    table = _audit(tmp_path)
    assert table.exit_code == 1
    assert "SUPPORT_OPENAI_KEY" in table.output and "Findings (6)" in table.output
    assert "[retire] OLD_BATCH_KEY has no calls in the last 30 days (not used since at least 2026-05-18)" in table.output
    markdown = CliRunner().invoke(keys, ["audit", "--ledger", f"sqlite:///{tmp_path / 'ledger.db'}",
                                         "--today", TODAY.isoformat(), "--format", "markdown"])
    assert "| key | agent |" in markdown.output and "- [spike] SUPPORT_OPENAI_KEY cost $22.25" in markdown.output


def test_clean_window_exits_0(tmp_path):
    write_sample(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.attrlint.keys.SUPPORT_OPENAI_KEY]\nagent = "support"\nexpires = 2026-12-31\n')
    result = CliRunner().invoke(keys, ["audit", "--ledger", f"sqlite:///{tmp_path / 'ledger.db'}",
                                       "--today", "2026-06-10", "--days", "7", "--max-unattributed", "1"])
    # in the week to 2026-06-10 the registered key is steady; the other keys' rows are unregistered
    assert result.exit_code == 1 and "[spike]" not in result.output and "[retire]" not in result.output
    assert "[unregistered] BILLING_ANTHROPIC_KEY" in result.output


def test_no_registry_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(keys, ["audit", "--ledger", f"sqlite:///{tmp_path / 'l.db'}"])
    assert result.exit_code == 2 and "no [tool.attrlint.keys]" in result.output
