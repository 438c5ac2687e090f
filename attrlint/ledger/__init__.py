"""The cost ledger: `Ledger` (SQLite or PostgreSQL) and the `CostRecord`s it stores.

`close_all()` and `flush_all()` drain every ledger of the process, for exit hooks attrlint cannot
install itself (gunicorn's `worker_exit`, celery's `worker_process_shutdown`, before `os._exit`)."""

from attrlint.ledger.ledger import Ledger, LedgerStats, close_all, default_url, flush_all
from attrlint.ledger.records import CostRecord
from attrlint.ledger.stores.base import LedgerError, Quarantined

__all__ = ["CostRecord", "Ledger", "LedgerError", "LedgerStats", "Quarantined", "close_all", "default_url",
           "flush_all"]
