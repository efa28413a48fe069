"""Alembic environment of the store.

Two ways in: ``hub.store.migrate`` passes an open (sync-adapted) connection in
``config.attributes["connection"]``, which is how the hub and its CLI migrate;
otherwise the URL in the ``sqlalchemy.url`` option is opened with the hub's own
async engine (WAL, transactional DDL on SQLite), e.g. for a developer running
``alembic`` with a config from ``hub.store.migrate.alembic_config``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from hub.store.engine import create_engine
from hub.store.migrate import VERSION_TABLE
from hub.store.tables import metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def _run(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode copies the table.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set the sqlalchemy.url option or pass a connection")
    asyncio.run(_run_with_url(url))


def _offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _offline()
else:
    _online()
