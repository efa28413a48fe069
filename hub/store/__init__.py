"""The hub's own database: identity links, the audit log, policy reload history.

SQLAlchemy 2 async; SQLite (``sqlite+aiosqlite:///homeroom.db``) needs no
set-up, PostgreSQL (``postgresql+asyncpg://...``) is for production and for
several hub processes sharing one store. The schema changes only through the
Alembic migrations shipped in ``hub/store/migrations``.
"""

from __future__ import annotations

from hub.store.engine import (
    DEFAULT_URL,
    STORE_URL_ENV,
    StoreError,
    create_engine,
    is_postgres,
    is_sqlite,
    redact_url,
    resolve_url,
    store_url,
    write_transaction,
)
from hub.store.migrate import (
    DatabaseBehind,
    UnknownRevision,
    alembic_config,
    current_revision,
    ensure_up_to_date,
    head_revision,
    is_up_to_date,
    upgrade,
)

__all__ = [
    "DEFAULT_URL",
    "STORE_URL_ENV",
    "DatabaseBehind",
    "StoreError",
    "UnknownRevision",
    "alembic_config",
    "create_engine",
    "current_revision",
    "ensure_up_to_date",
    "head_revision",
    "is_postgres",
    "is_sqlite",
    "is_up_to_date",
    "redact_url",
    "resolve_url",
    "store_url",
    "upgrade",
    "write_transaction",
]
