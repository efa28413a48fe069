"""Retention: purge old audit events on a schedule inside a running hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hub.audit.log import AuditIntegrityError, AuditLog, AuditUnavailable

__all__ = ["run_retention"]

log = logging.getLogger("homeroom.audit")


async def run_retention(
    audit: AuditLog, days: int, stop: asyncio.Event, *, interval_seconds: float = 86_400.0
) -> None:
    """Purge events older than ``days`` now and then every ``interval_seconds``
    until ``stop`` is set. A failed purge is logged and retried next time: it
    never stops the hub (keeping events longer is the safe side)."""
    while not stop.is_set():
        try:
            await audit.purge_older_than(days)
        except AuditIntegrityError as exc:
            log.error("audit retention skipped: %s", exc)
        except (AuditUnavailable, OSError) as exc:
            log.warning("audit retention failed (%s); retrying later", type(exc).__name__)
        except Exception as exc:  # a database error: never let it end the task
            log.warning("audit retention failed (%s); retrying later", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
