"""What the totals leave out or only estimate: unpriced calls (no price known: not counted as $0),
pending calls (background responses and batches not finished) and calls whose cost comes from a
local token estimate. Reports show these apart from the totals.

A background response is recorded twice: `pending` when submitted, then its result when it is
retrieved, under the same request id. The pending row is kept (the ledger only appends), and a
call whose result is recorded is not counted as pending: each call counts once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_UNPRICED_STATUSES = ("unpriced", "incomplete", "failed", "error", "unattributed", "ok")


@dataclass(frozen=True)
class Apart:
    unpriced: int
    pending: int
    estimated: int
    estimated_cost: Decimal

    def notes(self) -> list[str]:
        out = []
        if self.unpriced:
            out.append(f"{self.unpriced} unpriced call(s) not in the totals (no price known; add "
                       "[tool.attrlint.pricing] or update genai-prices, then `attrlint ledger reprice`)")
        if self.pending:
            out.append(f"{self.pending} pending call(s) not in the totals (background responses or batches "
                       "not finished)")
        if self.estimated:
            out.append(f"{self.estimated} call(s) priced from a local token estimate, ${self.estimated_cost:.6f} "
                       "of the totals (usage not reported by the provider)")
        return out


def apart(ledger: Any, *, since: Any = None, until: Any = None, **filters: Any) -> Apart:
    """Counts of unpriced, pending and estimated rows in the range (reads only those rows)."""
    statuses = {key for key in ledger.totals("status", since=since, until=until, **filters)}
    unpriced = 0
    for status in statuses:
        if status == "pending":
            continue
        if status == "unpriced":
            unpriced += sum(1 for _ in ledger.records(since=since, until=until, status=status, **filters))
        elif status in ("incomplete", "failed", "error"):
            unpriced += sum(1 for r in ledger.records(since=since, until=until, status=status, **filters)
                            if r.cost is None)
    pending = sum(1 for r in ledger.records(since=since, until=until, status="pending", **filters)
                  if not _finished(ledger, r)) if "pending" in statuses else 0
    estimated = [r for r in ledger.records(since=since, until=until, estimated=True, **filters)]
    cost = sum((r.cost for r in estimated if r.cost is not None), Decimal(0))
    return Apart(unpriced, pending, len(estimated), cost)


def _finished(ledger: Any, row: Any) -> bool:
    """A pending call whose result has been recorded (another row with its request id)."""
    if not row.request_id:
        return False
    return any(r.status != "pending" for r in ledger.records(request_id=row.request_id))
