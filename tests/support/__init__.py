"""Plain helpers for the test suite, one module per concern; the fixtures are in the conftest.py files."""
