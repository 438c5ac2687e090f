"""One definition of "today": the UTC date, everywhere attrlint asks (key expiry, budgets, reports)."""

from __future__ import annotations

import datetime as dt


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def parse_date(value: str) -> dt.date:
    """`2026-12-31`; raises ValueError with a message that says what was expected."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date like 2026-12-31") from None
