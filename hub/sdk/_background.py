"""Reads no one waits for: how long an adapter's call may take during a mirror's sync.

A query must never wait past a source's ``total_timeout``; a mirror's sync
reading a whole collection (every guardian of 10,000 students, one request
each on some vendors) is no query, and must be allowed to finish. The sync
runs its reads inside :func:`background_reads`; an adapter's deadline
(:meth:`hub.sdk.http.VendorClient.deadline`) takes it from there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["background_deadline", "background_reads"]

_BACKGROUND: ContextVar[float | None] = ContextVar("homeroom_background_reads", default=None)


@contextlib.contextmanager
def background_reads(seconds: float) -> Iterator[None]:
    """Within this block (and the tasks it starts), an adapter's call may take up to ``seconds``."""
    token = _BACKGROUND.set(seconds)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def background_deadline() -> float | None:
    """The seconds a call may take in the current background read, or ``None`` in a query."""
    return _BACKGROUND.get()
