"""Policy reload history in the store: every attempt to swap in changed
policy files, accepted or refused, so an admin can see what ran when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.tables import PolicyReload


async def record_reload(
    engine: AsyncEngine, *, at: dt.datetime, version: str, accepted: bool, reason: str | None
) -> None:
    """Append one reload attempt."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(PolicyReload), [{"at": at, "version": version, "accepted": accepted, "reason": reason}]
        )
