"""Fixtures for the whole suite; the helpers themselves live in helpers.py."""

from helpers import _isolated_cache, run_cli  # noqa: F401 - fixtures, registered by import
