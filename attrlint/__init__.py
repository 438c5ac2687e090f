"""attrlint: cost attribution discipline for LLM calls."""

__version__ = "0.1.0"
