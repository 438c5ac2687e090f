"""Helpers for the runtime-everywhere tests."""

from __future__ import annotations

from typing import Any

from attrlint.ledger import Ledger


def rows(ledger: Ledger) -> list[Any]:
    """Every stored record, once the queue is written."""
    ledger.flush()
    return list(ledger.records())
