"""Fail closed: when the event cannot be committed the caller gets AuditUnavailable,
and nothing about the student reaches the logs."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditLog, AuditUnavailable
from hub.audit.log import ADVISORY_LOCK_KEY
from hub.store import create_engine
from tests.audit.helpers import event, student


async def test_unmigrated_store_refuses(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        async with AuditLog(engine) as audit:
            with pytest.raises(AuditUnavailable) as caught, caplog.at_level(logging.ERROR, "homeroom.audit"):
                await audit.record(event(1, students=(1,), subject="teacher-secret"))
    finally:
        await engine.dispose()
    shown = str(caught.value) + caplog.text
    assert "audit log unavailable" in str(caught.value)
    assert "audit event NOT written" in caplog.text
    for private in (student(1), "teacher-secret", "givenName"):
        assert private not in shown


async def test_unreachable_server_refuses_quickly() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none", connect_args={"timeout": 2})
    try:
        async with AuditLog(engine, timeout=5) as audit:
            with pytest.raises(AuditUnavailable):
                await audit.record(event(1))
    finally:
        await engine.dispose()


async def test_a_store_that_hangs_times_out(engine: AsyncEngine, migrated_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("holds PostgreSQL's advisory lock from another session")
    blocker = await asyncpg.connect(
        make_url(migrated_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        async with blocker.transaction():
            await blocker.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY)
            async with AuditLog(engine, timeout=0.5) as audit:
                with pytest.raises(AuditUnavailable, match="TimeoutError"):
                    await audit.record(event(1))
    finally:
        await blocker.close()
    async with AuditLog(engine) as audit:  # and it recovers once the store answers
        assert await audit.record(event(2)) == 1
        assert (await audit.verify()).ok


async def test_recovers_after_a_failure(audit: AuditLog, engine: AsyncEngine) -> None:
    await audit.record(event(1))
    assert audit._writer is not None
    await audit._writer.invalidate()  # as if the server restarted under the held connection
    assert await audit.record(event(2)) == 2
    assert (await audit.verify()).ok
    await asyncio.sleep(0)
