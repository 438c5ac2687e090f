"""attrlint's declarative data, shipped inside the package and documented for users to read
and extend: `providers.toml` (the provider catalogue) and `schema.toml` (the attribution schema)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def data_path(name: str) -> Path:
    """The path of one of attrlint's data files (`providers.toml`, `schema.toml`)."""
    return DATA_DIR / name
