"""Retention: purging old events keeps the rest of the chain verifiable."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditIntegrityError, AuditLog, ProblemKind, run_retention
from hub.audit.log import CHECKPOINTS, STUDENTS
from tests.audit.helpers import T0, delete_event, event, row, set_columns, student

DAY = dt.timedelta(days=1)


async def _history(audit: AuditLog) -> None:
    """Events 1..6 one day apart from T0."""
    for n in range(6):
        await audit.record(event(n, at=T0 + n * DAY, students=(1, n + 2)))


async def test_purge_keeps_the_chain_verifiable(audit: AuditLog, engine: AsyncEngine) -> None:
    await _history(audit)
    now = T0 + 10 * DAY
    result = await audit.purge_older_than(7, now=now)  # cutoff: T0 + 3 days
    assert (result.removed, result.through_seq) == (3, 3)
    assert result.through_hash == (await row(engine, 4))["prev_hash"]
    report = await audit.verify()
    assert report.ok, report.describe()
    assert (report.checked, report.first_seq, report.checkpoint_seq) == (3, 4, 3)
    assert "after retention checkpoint at seq 3" in report.describe()
    # The student index of purged events went with them.
    async with engine.connect() as conn:
        left = set((await conn.execute(select(STUDENTS.c.event_seq))).scalars())
        checkpoint = (await conn.execute(select(CHECKPOINTS))).one()
    assert left == {4, 5, 6}
    assert (checkpoint.through_seq, checkpoint.removed, checkpoint.retention_days) == (3, 3, 7)
    # Appends go on from the head; a purge with nothing old enough is a no-op.
    await audit.record(event(7))
    assert (await audit.verify()).ok
    assert (await audit.purge_older_than(7, now=now)).removed == 0
    assert [e.seq for e in (await audit.disclosures_for(student(1))).items] == [6, 5, 4]


async def test_purge_everything_then_go_on(audit: AuditLog) -> None:
    await _history(audit)
    result = await audit.purge_older_than(1, now=T0 + 30 * DAY)
    assert result.removed == 6
    report = await audit.verify()
    assert report.ok and report.checked == 0 and report.checkpoint_seq == 6
    assert await audit.record(event(9)) == 7
    assert (await audit.verify()).ok


async def test_purge_twice(audit: AuditLog) -> None:
    await _history(audit)
    await audit.purge_older_than(8, now=T0 + 10 * DAY)
    await audit.purge_older_than(6, now=T0 + 10 * DAY)
    report = await audit.verify()
    assert report.ok and report.checkpoint_seq == 4 and report.checked == 2  # kept: T0 + 4 and 5 days


async def test_deletion_right_after_a_checkpoint_is_still_seen(audit: AuditLog, engine: AsyncEngine) -> None:
    await _history(audit)
    await audit.purge_older_than(7, now=T0 + 10 * DAY)
    await delete_event(engine, 4)
    assert [(p.seq, p.kind) for p in (await audit.verify()).problems] == [(4, ProblemKind.DELETED)]


async def test_purge_refuses_to_destroy_evidence(audit: AuditLog, engine: AsyncEngine) -> None:
    await _history(audit)
    await set_columns(engine, 2, subject="someone-else")
    with pytest.raises(AuditIntegrityError, match="do not verify"):
        await audit.purge_older_than(7, now=T0 + 10 * DAY)
    assert len((await audit.verify()).problems) == 1  # nothing was removed


async def test_retention_must_be_positive(audit: AuditLog) -> None:
    with pytest.raises(ValueError):
        await audit.purge_older_than(0)


async def test_retention_task_purges_until_stopped(audit: AuditLog) -> None:
    old = dt.datetime.now(dt.UTC) - 10 * DAY
    for n in range(3):
        await audit.record(event(n, at=old + n * dt.timedelta(hours=1)))
    stop = asyncio.Event()
    task = asyncio.create_task(run_retention(audit, 5, stop, interval_seconds=3600))
    try:
        async with asyncio.timeout(10):
            while (await audit.verify()).checkpoint_seq != 3:
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert task.done() and task.exception() is None
