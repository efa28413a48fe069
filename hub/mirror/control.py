"""Who syncs a mirrored source, and what admins ask of it.

- :class:`SyncLock`: on PostgreSQL, one hub process at a time syncs a source,
  the holder of a session advisory lock (``pg_try_advisory_lock``) kept on a
  connection of its own; when that process dies its connection goes and the
  lock with it, so another process takes over at its next tick. SQLite
  serves one hub process: the lock is always granted.
- ``mirror_syncer``: the holder notes each tick that it is alive, so
  ``homeroom mirror resync`` knows whether a hub will pick a request up.
- ``mirror_state.resync_requested``: a full re-read asked for by an admin.

Nothing here holds a record's values: host names, process ids and times only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import socket
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.mirror.tables import MIRROR_STATE, MIRROR_SYNCER
from hub.model import Entity
from hub.store import write_transaction

__all__ = [
    "SyncLock",
    "forget_syncer",
    "holder_name",
    "lock_key",
    "note_syncer",
    "request_resync",
    "syncer_seen",
]

log = logging.getLogger("homeroom.mirror")


def holder_name() -> str:
    """This process as ``mirror_syncer`` names it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_key(source: str) -> int:
    """The advisory lock key of ``source``: a signed 64-bit number stable across processes."""
    digest = hashlib.sha256(f"homeroom-mirror:{source}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SyncLock:
    """The right to sync ``source`` (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, source: str) -> None:
        self.engine = engine
        self.source = source
        self.shared = engine.dialect.name == "postgresql"
        self._conn: AsyncConnection | None = None
        self.backend_pid: int | None = None
        """The PostgreSQL backend holding the lock (tests end it to play a dying holder)."""

    @property
    def held(self) -> bool:
        """Whether this process syncs the source (always on SQLite)."""
        return not self.shared or self._conn is not None

    async def acquire(self) -> bool:
        """Take the lock if free (or keep it if still held); returns whether it is held."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                # Its connection died (the server ended it): so did the lock.
                log.warning("source %s: lost the sync lock with its connection", self.source)
                await self._drop()
        conn = await self.engine.connect()
        try:
            # Autocommit: a connection held for hours must not sit idle in a transaction.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.source)})
            ).scalar_one()
            if got:
                self.backend_pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                self._conn = conn
                log.info("source %s: this process syncs it", self.source)
                return True
        except SQLAlchemyError:
            pass
        await conn.close()
        return False

    async def release(self) -> None:
        """Give the lock up (closing its connection releases it in any case)."""
        if self._conn is None:
            return
        with contextlib.suppress(SQLAlchemyError):
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.source)})
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn, self.backend_pid = self._conn, None, None
        if conn is not None:
            # A dead connection may fail to close: it is gone either way.
            with contextlib.suppress(SQLAlchemyError, OSError):
                await conn.close()


async def note_syncer(engine: AsyncEngine, source: str, holder: str, at: dt.datetime) -> None:
    """Record that ``holder`` is syncing ``source`` at ``at``."""
    insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(MIRROR_SYNCER).values(source=source, holder=holder, seen_at=at)
    statement = statement.on_conflict_do_update(
        index_elements=[MIRROR_SYNCER.c.source], set_={"holder": holder, "seen_at": at}
    )
    async with write_transaction(engine) as conn:
        await conn.execute(statement)


async def forget_syncer(engine: AsyncEngine, source: str, holder: str) -> None:
    """``holder`` stopped syncing ``source`` (a clean shutdown)."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            delete(MIRROR_SYNCER).where(MIRROR_SYNCER.c.source == source, MIRROR_SYNCER.c.holder == holder)
        )


async def syncer_seen(engine: AsyncEngine, source: str) -> tuple[str, dt.datetime] | None:
    """The process last seen syncing ``source`` and when, if any."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(MIRROR_SYNCER.c.holder, MIRROR_SYNCER.c.seen_at).where(
                    MIRROR_SYNCER.c.source == source
                )
            )
        ).first()
    return None if row is None else (str(row[0]), row[1])


async def request_resync(
    engine: AsyncEngine, source: str, entities: Iterable[Entity], at: dt.datetime
) -> list[Entity]:
    """Mark ``source``'s ``entities`` for a full re-read; returns those held in
    the store (an entity never synced is read in full anyway)."""
    names = sorted(entity.value for entity in entities)
    async with write_transaction(engine) as conn:
        held = (
            await conn.execute(
                select(MIRROR_STATE.c.entity).where(
                    MIRROR_STATE.c.source == source, MIRROR_STATE.c.entity.in_(names)
                )
            )
        ).scalars()
        marked = sorted(held)
        if marked:
            await conn.execute(
                update(MIRROR_STATE)
                .where(MIRROR_STATE.c.source == source, MIRROR_STATE.c.entity.in_(marked))
                .values(resync_requested=at)
            )
    return [Entity(name) for name in marked]
