"""Storage tests use the `database` fixture of tests/conftest.py (SQLite and PostgreSQL)."""
