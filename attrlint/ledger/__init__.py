"""The cost ledger: `Ledger` (SQLite or PostgreSQL) and the `CostRecord`s it stores."""

from .ledger import Ledger, default_url
from .records import CostRecord
from .store import LedgerError

__all__ = ["CostRecord", "Ledger", "LedgerError", "default_url"]
