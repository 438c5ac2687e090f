"""attrlint's runtime: instrumented LLM clients that record what each call cost, and for whom.

    from attrlint.runtime import instrument, attribution

    client = instrument(OpenAI(), agent_id="support-triage")
    with attribution(ticket_id="T-1042", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o", messages=[...])

This module is the public API only. Importing it imports no SDK, database driver or price
table; they load on first use.
"""

from __future__ import annotations

from typing import Any

from attrlint.runtime.context import attribution, current
from attrlint.runtime.sdk_hook import install, installed, uninstall
from attrlint.runtime.client_hook import instrument
from attrlint.runtime.settings import AttributionError, default_ledger

__all__ = ["AttributionError", "CostRecord", "Ledger", "attribution", "current", "default_ledger", "install",
           "installed", "instrument", "uninstall"]


def __getattr__(name: str) -> Any:
    if name in ("Ledger", "CostRecord"):
        import attrlint.ledger

        return getattr(attrlint.ledger, name)
    raise AttributeError(f"module 'attrlint.runtime' has no attribute {name!r}")
