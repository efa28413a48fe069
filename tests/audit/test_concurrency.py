"""Concurrent writers keep one intact chain: tasks in one process, several logs
on separate engines, and separate processes, on both engines."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditLog
from hub.audit.log import EVENTS
from hub.store import create_engine
from tests.audit.helpers import event

WRITER = Path(__file__).with_name("writer_process.py")
REPO = Path(__file__).resolve().parents[2]
PER_WRITER = 40  # events per writer process (and from this one)


async def _seqs(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(EVENTS.c.seq).order_by(EVENTS.c.seq))).scalars())


async def test_tasks_and_separate_logs_keep_one_chain(migrated_url: str, engine: AsyncEngine) -> None:
    """8 tasks x 50 events, spread over two logs with their own engines (so the
    database lock, not only the in-process one, orders them)."""
    second_engine = create_engine(migrated_url)
    logs = [AuditLog(engine), AuditLog(second_engine)]
    try:

        async def writer(task: int) -> list[int]:
            log = logs[task % 2]
            return [await log.record(event(task * 100 + n)) for n in range(50)]

        results = await asyncio.gather(*(writer(t) for t in range(8)))
        report = await logs[0].verify()
    finally:
        for log in logs:
            await log.aclose()
        await second_engine.dispose()
    assert report.ok, report.describe()
    assert report.checked == 400
    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, 401))
    assert await _seqs(engine) == list(range(1, 401))


async def test_two_processes_and_this_one_keep_one_chain(migrated_url: str, audit: AuditLog) -> None:
    """Three processes append at once (started together): the database lock orders them."""
    if audit.engine.dialect.name == "sqlite":
        # Several hub processes share PostgreSQL; SQLite's write lock across
        # connections is exercised by the two-engine test above, without the
        # seconds it takes to start processes.
        pytest.skip("several writer processes are a PostgreSQL deployment")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WRITER),
            migrated_url,
            str(PER_WRITER),
            tag,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        for tag in ("a", "b")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        here = [await audit.record(event(n)) for n in range(PER_WRITER)]
        outputs = [await asyncio.wait_for(proc.communicate(), 60) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert len(here) == PER_WRITER
    report = await audit.verify()
    assert report.ok, report.describe()
    assert report.checked == 3 * PER_WRITER
    async with audit.engine.connect() as conn:
        by_subject = dict(
            (await conn.execute(select(EVENTS.c.subject, func.count()).group_by(EVENTS.c.subject))).all()
        )
    assert by_subject["process-a"] == by_subject["process-b"] == PER_WRITER
    page = await audit.disclosures_for("shared-student", first=500)
    assert len(page.items) == 2 * PER_WRITER and not page.has_next


async def test_many_requests_at_once_on_a_busy_loop_are_committed_in_groups(engine: AsyncEngine) -> None:
    """200 disclosures at once while the event loop is busy with other work (the
    dashboards being answered): every one is committed, in far fewer
    transactions than events, none waits past the log's timeout, and the chain
    holds. Each append taking the write lock in turn failed a third of them."""
    log = AuditLog(engine, timeout=10.0)
    commits = 0
    real = log._insert

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal commits
        commits += 1
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    log._insert = counted  # type: ignore[method-assign]

    async def busy() -> None:
        # CPU work between awaits, as a loop answering dashboards has.
        for _ in range(200):
            sum(range(20_000))
            await asyncio.sleep(0)

    try:
        results = await asyncio.gather(*(log.record(event(n)) for n in range(200)), busy())
        report = await log.verify()
    finally:
        await log.aclose()
    seqs = [seq for seq in results if isinstance(seq, int)]
    assert sorted(seqs) == list(range(1, 201))
    assert report.ok and report.checked == 200, report.describe()
    assert commits < 20, f"{commits} transactions for 200 events"


async def test_an_event_given_up_before_its_group_is_not_written(engine: AsyncEngine) -> None:
    log = AuditLog(engine, timeout=5.0)
    try:
        await log.record(event(0))
        async with log._lock:  # a group is being written: the next event waits
            waiting = asyncio.ensure_future(log.record(event(1)))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        assert log._queue == []
        await log.record(event(2))
        assert await _seqs(engine) == [1, 2]
    finally:
        await log.aclose()
