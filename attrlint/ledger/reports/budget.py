"""Monthly budgets per agent (`[tool.attrlint.agents.NAME] monthly-budget = USD`): month-to-date
spend, burn rate and a month-end forecast from the ledger.

The forecast is linear: month-to-date spend divided by the days elapsed (today counts as
elapsed), times the days in the month."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from attrlint.core.config import Config

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class AgentBudget:
    agent: str
    month_to_date: Decimal
    budget: Decimal | None
    burn_per_day: Decimal
    forecast: Decimal
    days_elapsed: int
    days_in_month: int

    @property
    def forecast_share(self) -> Decimal | None:
        """Forecast as a fraction of the budget."""
        return (self.forecast / self.budget) if self.budget else None

    @property
    def over(self) -> bool:
        return self.budget is not None and self.forecast > self.budget


def month_start(today: dt.date) -> dt.date:
    return today.replace(day=1)


def budgets(config: Config, ledger: Any, today: dt.date) -> list[AgentBudget]:
    """One row per agent that has a budget or spent this month, most-forecast first."""
    start = month_start(today)
    end = today + dt.timedelta(days=1)
    spent = {agent: cost for agent, cost in ledger.totals("agent", since=start, until=end).items()}
    return from_totals(config, spent, today)


def from_totals(config: Config, spent: dict[Any, Decimal], today: dt.date) -> list[AgentBudget]:
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    elapsed = today.day
    names = {a for a, c in config.agents.items() if c.monthly_budget is not None} | {a for a in spent if a}
    rows = []
    for agent in names:
        mtd = spent.get(agent, _ZERO)
        burn = mtd / elapsed
        entry = config.agents.get(agent)
        rows.append(AgentBudget(agent, mtd, entry.monthly_budget if entry else None, burn,
                                burn * days_in_month, elapsed, days_in_month))
    return sorted(rows, key=lambda r: (-(r.forecast_share or _ZERO), -r.forecast, r.agent))


def money(value: Decimal | None) -> str:
    return "" if value is None else str(value.quantize(_CENT))


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"
