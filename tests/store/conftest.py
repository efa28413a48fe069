"""Store fixtures (see tests/store/fixtures.py)."""

from tests.store.fixtures import audit, backend, engine, migrated_url, pg_database, sqlite_template, store_url

__all__ = [
    "audit",
    "backend",
    "engine",
    "migrated_url",
    "pg_database",
    "sqlite_template",
    "store_url",
]
