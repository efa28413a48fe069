"""Rejected tokens: one event per client and minute carrying the count, written when
the minute ends or the log closes, with bounded memory under a flood."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditEvent, AuditLog, AuditUnavailable, EventKind, RejectedTokenCounter
from hub.audit.log import EVENTS
from hub.audit.rejections import OTHER_CLIENTS

T0 = dt.datetime(2026, 11, 18, 9, 41, 0, tzinfo=dt.UTC)


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class Written:
    """A recorder keeping what it is given (or refusing, as a store that is down)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[AuditEvent] = []
        self.fail = fail

    async def __call__(self, event: AuditEvent) -> int:
        if self.fail:
            raise AuditUnavailable("OperationalError")
        self.events.append(event)
        return len(self.events)

    def counts(self) -> list[tuple[str | None, int, dt.datetime]]:
        return [(e.client, e.occurrences, e.at) for e in self.events]


async def test_one_event_per_client_and_minute_with_the_count() -> None:
    written, clock = Written(), Clock()
    counter = RejectedTokenCounter(written, clock=clock)
    for second in range(20):
        clock.now = T0 + dt.timedelta(seconds=second)
        counter.note("ip:10.0.0.1")
    counter.note("ip:10.0.0.2")
    counter.note(None)  # no peer address known
    clock.now = T0 + dt.timedelta(minutes=1, seconds=5)  # the next minute
    counter.note("ip:10.0.0.1")
    assert counter.pending == 23 and written.events == []  # nothing is written per request
    await counter.flush_all()
    assert written.counts() == [
        ("ip:10.0.0.1", 20, T0),
        ("ip:10.0.0.2", 1, T0 + dt.timedelta(seconds=19)),
        (None, 1, T0 + dt.timedelta(seconds=19)),
        ("ip:10.0.0.1", 1, T0 + dt.timedelta(minutes=1, seconds=5)),
    ]
    assert all(e.kind is EventKind.REJECTED_TOKEN and e.outcome == "UNAUTHENTICATED" for e in written.events)
    assert all(e.purpose is None and e.subject is None and e.people == {} for e in written.events)
    assert counter.pending == 0


async def test_a_flood_of_clients_is_counted_in_bounded_memory() -> None:
    written, clock = Written(), Clock()
    counter = RejectedTokenCounter(written, clock=clock, max_clients=3)
    for n in range(1000):
        counter.note(f"ip:10.0.{n // 256}.{n % 256}")
    counter.note("ip:10.0.0.0")  # already counted one by one: stays so
    assert counter.pending == 1001
    await counter.flush_all()
    assert [(e.client, e.occurrences) for e in written.events] == [
        ("ip:10.0.0.0", 2),
        ("ip:10.0.0.1", 1),
        ("ip:10.0.0.2", 1),
        (OTHER_CLIENTS, 997),
    ]


async def test_a_finished_minute_is_written_without_waiting_for_the_close() -> None:
    written = Written()
    counter = RejectedTokenCounter(written, window_seconds=0.2)
    for _ in range(5):
        counter.note("ip:10.0.0.9")
    async with asyncio.timeout(5):
        while not written.events:
            await asyncio.sleep(0.05)
    assert [(e.client, e.occurrences) for e in written.events] == [("ip:10.0.0.9", 5)]
    assert counter.pending == 0
    counter.note("ip:10.0.0.9")  # a new window starts a new timer
    await counter.flush_all()
    assert [e.occurrences for e in written.events] == [5, 1]


async def test_a_store_that_is_down_drops_the_batch_and_says_how_much(
    caplog: pytest.LogCaptureFixture,
) -> None:
    written = Written(fail=True)
    counter = RejectedTokenCounter(written, clock=Clock())
    for client in ("ip:10.0.0.1", "ip:10.0.0.1", "ip:10.0.0.2"):
        counter.note(client)
    with caplog.at_level(logging.ERROR, "homeroom.audit"):
        await counter.flush_all()
    assert "2 rejected-token events (3 rejections) NOT written" in caplog.text
    assert "10.0.0" not in caplog.text  # counts, not addresses
    assert counter.pending == 0


async def test_closing_the_log_writes_the_counts(audit: AuditLog, engine: AsyncEngine) -> None:
    audit.rejected_tokens = RejectedTokenCounter(audit.record, clock=Clock())
    for _ in range(3):
        audit.rejected_tokens.note("ip:192.0.2.7")
    await audit.aclose()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(EVENTS))).all()
    assert [(r.seq, r.kind, r.client, r.occurrences, r.hash_version) for r in rows] == [
        (1, "rejected_token", "ip:192.0.2.7", 3, 2)
    ]
    assert (await audit.verify()).ok
    # A count is part of what the hash covers.
    async with engine.begin() as conn:
        await conn.execute(EVENTS.update().values(occurrences=1))
    assert [p.kind.value for p in (await audit.verify()).problems] == ["edited"]
