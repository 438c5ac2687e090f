"""Storage backends of the ledger: SQLite (embedded) and PostgreSQL (shared)."""
