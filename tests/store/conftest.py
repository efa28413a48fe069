"""Store fixtures (see tests/store/fixtures.py)."""

from tests.store.fixtures import audit, engine, migrated_url, pg_database, store_url

__all__ = ["audit", "engine", "migrated_url", "pg_database", "store_url"]
