"""The control plane's storage: workflows and versions, runs and step events,
users, tokens, roles and grants, connections, the audit log.

SQLAlchemy 2 (async) on SQLite by default (`<data dir>/switchyard.db`) or
PostgreSQL through `SWITCHYARD_DATABASE_URL`; the schema is owned by the
Alembic migrations in `control/migrations/` (never `create_all`).
"""
