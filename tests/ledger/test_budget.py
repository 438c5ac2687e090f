"""Monthly budgets: `attrlint ledger report --by agent` and `attrlint ledger budget`."""

from __future__ import annotations

import json

from click.testing import CliRunner
from support.ledgers import write_sample

from attrlint.cli import cli


def run(*args):
    result = CliRunner().invoke(cli, ["ledger", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_report_by_agent_shows_month_to_date_budget_burn_and_forecast(tmp_path):
    url = write_sample(tmp_path)
    code, out = run("report", "--ledger", url, "--today", "2026-06-30", "--since", "2026-06-01", "--format", "json")
    assert code == 0
    rows = {r["agent"]: r for r in json.loads(out)}
    # support: 30 days x (4 x 0.50 + 0.25) + 20 x 1.00 backfill is under the backfill agent
    assert rows["support"]["mtd_usd"] == "67.50" and rows["support"]["budget_usd"] == "100.00"
    assert rows["support"]["burn_usd_per_day"] == "2.25" and rows["support"]["forecast_usd"] == "67.50"
    assert rows["support"]["forecast_vs_budget"] == "68%"
    # billing: 30 x 3 x 0.40 = 36 over a budget of 20
    assert (rows["billing"]["mtd_usd"], rows["billing"]["forecast_vs_budget"]) == ("36.00", "180%")
    assert rows["backfill"]["budget_usd"] == "" and rows["backfill"]["mtd_usd"] == "20.00"


def test_mid_month_forecast_and_exit_code(tmp_path):
    url = write_sample(tmp_path)
    code, out = run("budget", "--ledger", url, "--today", "2026-06-10")
    assert code == 1
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.strip()}
    # billing, 10 days in: 12.00 spent, 1.20/day, 36.00 forecast for June (30 days)
    assert lines["billing"][1:] == ["12.00", "20.00", "1.20", "36.00", "180%", "OVER"]
    assert lines["support"][1:] == ["22.50", "100.00", "2.25", "67.50", "68%", "ok"]
    assert "forecast over budget: billing" in out


def test_budget_exits_0_when_all_within(tmp_path):
    url = write_sample(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.attrlint.agents.support]\npaths = ["s/**"]\n'
                                             'monthly-budget = 8500\n')
    code, out = run("budget", "--ledger", url, "--today", "2026-06-30", "--format", "markdown")
    assert code == 0 and "| support | 67.50 | 8500.00 |" in out


def test_plain_report_is_unchanged_without_budgets(tmp_path):
    url = write_sample(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    code, out = run("report", "--ledger", url)
    assert code == 0 and out.splitlines()[0].split() == ["agent", "cost_usd"]
    code, out = run("budget", "--ledger", url)
    assert code == 2 and "no agent has a monthly-budget" in out
