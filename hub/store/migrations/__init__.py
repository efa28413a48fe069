"""Alembic migrations of the store (script directory; see ``hub.store.migrate``)."""
