"""The cost ledger: `Ledger` (SQLite or PostgreSQL) and the `CostRecord`s it stores."""

from attrlint.ledger.ledger import Ledger, default_url
from attrlint.ledger.records import CostRecord
from attrlint.ledger.stores.base import LedgerError

__all__ = ["CostRecord", "Ledger", "LedgerError", "default_url"]
