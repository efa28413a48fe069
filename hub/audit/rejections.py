"""Rejected tokens, counted: one audit event per client and minute.

A bad token is a security event an admin should be able to review, but one
chain event per request would let anyone grow the chain at will (and make
the hub write once per refused request). So refusals are counted in memory
per client (peer address) and minute, and each (client, minute) becomes one
``rejected_token`` event carrying the count, written when the minute is over
or when the log is closed (a clean stop loses no count; a crash loses at most
the counts not yet written). The caller is not signed in: nothing it sent
(its purpose header, its token) is kept.

Memory stays bounded under a flood from many addresses: past
:data:`MAX_CLIENTS` distinct clients in one minute, the rest are counted
together under :data:`OTHER_CLIENTS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.audit.events import AuditEvent, EventKind

__all__ = ["MAX_CLIENTS", "OTHER_CLIENTS", "RejectedTokenCounter"]

log = logging.getLogger("homeroom.audit")

# Distinct clients counted one by one per minute; the rest are counted together.
MAX_CLIENTS = 256
OTHER_CLIENTS = "other-clients"
WINDOW_SECONDS = 60.0
OUTCOME = "UNAUTHENTICATED"

Recorder = Callable[[AuditEvent], Awaitable[int]]
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class _Count:
    first_at: dt.datetime
    count: int = 1


class RejectedTokenCounter:
    """Counts rejected tokens per client and window and writes one event for each.

    ``record`` appends an event (``AuditLog.record``); ``window_seconds`` and
    ``clock`` are there for tests. Call :meth:`note` per refusal (cheap, no
    I/O) and :meth:`flush_all` before closing the log.
    """

    def __init__(
        self,
        record: Recorder,
        *,
        window_seconds: float = WINDOW_SECONDS,
        max_clients: int = MAX_CLIENTS,
        clock: Clock = _now,
    ) -> None:
        if window_seconds <= 0 or max_clients < 1:
            raise ValueError("rejected-token counting needs a positive window and at least one client")
        self._record = record
        self._window = window_seconds
        self._max_clients = max_clients
        self._clock = clock
        # window number -> client -> count; at most max_clients + 1 clients each.
        self._windows: dict[int, dict[str | None, _Count]] = {}
        self._timer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._final = False

    @property
    def pending(self) -> int:
        """Rejections counted and not yet written."""
        return sum(c.count for clients in self._windows.values() for c in clients.values())

    def note(self, client: str | None) -> None:
        """Count one rejected token from ``client`` (its peer address, or ``None``).

        Must be called on the running event loop: the first count of a window
        starts the timer that writes it once the window is over.
        """
        at = self._clock()
        clients = self._windows.setdefault(self._window_of(at), {})
        counted = clients.get(client)
        if counted is None and len(clients) >= self._max_clients:
            client = OTHER_CLIENTS
            counted = clients.get(client)
        if counted is None:
            clients[client] = _Count(at)
        else:
            counted.count += 1
        if self._timer is None:
            # A context of its own: it writes every client's counts, not the request that started it.
            self._timer = asyncio.get_running_loop().create_task(
                self._write_when_due(), context=contextvars.Context()
            )

    async def flush_all(self) -> None:
        """Write every count now, finished windows or not (before the log closes)."""
        self._final = True
        self._wake.set()
        try:
            if self._timer is not None:
                await self._timer  # it writes everything, then ends
            await self._write(self._take(everything=True))
        finally:
            self._final = False

    def _window_of(self, at: dt.datetime) -> int:
        return int(at.timestamp() // self._window)

    def _seconds_left(self, window: int) -> float:
        return (window + 1) * self._window - self._clock().timestamp()

    def _take(self, *, everything: bool) -> list[AuditEvent]:
        """Remove finished windows (all of them when ``everything``) and return their events."""
        current = self._window_of(self._clock())
        done = sorted(w for w in self._windows if everything or w < current)
        events = []
        for window in done:
            clients = self._windows.pop(window)
            for client in sorted(clients, key=lambda c: (c is None, c or "")):
                counted = clients[client]
                events.append(
                    AuditEvent.create(
                        EventKind.REJECTED_TOKEN,
                        client=client,
                        occurrences=counted.count,
                        outcome=OUTCOME,
                        at=counted.first_at,
                    )
                )
        return events

    async def _write(self, events: list[AuditEvent]) -> None:
        """Best effort: the requests were refused whether or not this is written.
        On the first failure the rest of the batch is dropped (the store is down;
        retrying each would hold the timer for minutes), with a count in the log."""
        for written, event in enumerate(events):
            try:
                await self._record(event)
            except Exception:  # AuditUnavailable, already logged with its reason
                lost = events[written:]
                log.error(
                    "audit: %d rejected-token events (%d rejections) NOT written",
                    len(lost),
                    sum(e.occurrences for e in lost),
                )
                return

    async def _write_when_due(self) -> None:
        try:
            while self._windows:
                if not self._final:
                    delay = self._seconds_left(min(self._windows))
                    if delay > 0:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), timeout=delay)
                await self._write(self._take(everything=self._final))
        finally:
            self._timer = None
