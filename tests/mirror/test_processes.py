"""Several hub processes on one PostgreSQL mirror: one syncs a source (the
holder of its advisory lock), the others serve the shared tables and follow
``mirror_state``; when the holder's connection dies, another takes over and
resumes by delta. Skipped without ``HOMEROOM_TEST_POSTGRES_URL``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, text

from hub.mirror import MirroredAdapter, MirrorStore, SyncIntervals
from hub.mirror.control import SyncLock
from hub.mirror.tables import MIRROR_LINK, MIRROR_STATE, MIRROR_SYNCER, entity_table
from hub.model import Entity
from hub.sdk import FetchRequest
from hub.store import create_engine, upgrade

from .hubs import every_field
from .test_sync import FeedVendor, _records


@pytest.fixture
async def pg_url(pg_database: str) -> AsyncIterator[str]:
    await upgrade(pg_database)
    engine = create_engine(pg_database)
    async with engine.begin() as conn:
        for table in (MIRROR_LINK, MIRROR_STATE, MIRROR_SYNCER, *(entity_table(e) for e in Entity)):
            await conn.execute(delete(table))
    await engine.dispose()
    yield pg_database


def _process(vendor: FeedVendor, url: str, tick: float) -> MirroredAdapter:
    return MirroredAdapter(
        vendor,
        lambda: MirrorStore(create_engine(url)),
        every_field,
        intervals=SyncIntervals(rosters=3600, gradebook=3600, tick=tick),
    )


async def _until(check: object, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_one_process_syncs_and_another_takes_over_when_it_dies(pg_url: str) -> None:
    first_vendor, second_vendor = FeedVendor("sis", _records()), FeedVendor("sis", _records())
    # The first process looks at the store only hourly: the second is the one to notice its death.
    first, second = _process(first_vendor, pg_url, tick=3600), _process(second_vendor, pg_url, tick=0.05)
    await first.open()
    try:
        await first.first_sync_attempted()
        assert first.freshness.first_sync_done and first.sync is not None and first.sync.lock.held
        await second.open()
        try:
            await second.first_sync_attempted()
            assert second.sync is not None and not second.sync.lock.held
            assert second.freshness.first_sync_done  # served from the rows the first one wrote
            answer = await second.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"})))
            assert sorted(r.given_name for r in answer.records if r.given_name) == ["Ana", "Ben"]
            assert second.freshness.oldest_sync_at is not None
            await asyncio.sleep(0.3)  # several ticks: still following, never reading the vendor
            assert second_vendor.requests == [] and second_vendor.since == []
            # The first process dies: the server ends its lock's connection.
            pid = first.sync.lock.backend_pid
            assert pid is not None
            admin = create_engine(pg_url)
            try:
                async with admin.connect() as conn:
                    await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                    await conn.commit()
            finally:
                await admin.dispose()
            await _until(lambda: second.sync is not None and second.sync.lock.held)
            # It resumes from the stored watermarks: deltas, no full read.
            await _until(lambda: any(since is not None for since in second_vendor.since))
            assert second_vendor.requests == []
        finally:
            await second.aclose()
    finally:
        await first.aclose()


async def test_a_resync_without_a_hub_reads_under_the_sync_lock(pg_url: str) -> None:
    # A hub process holds the source's lock: a read in full elsewhere (what
    # `homeroom mirror resync` does when it sees no hub) must not run beside it.
    holder = create_engine(pg_url)
    lock = SyncLock(holder, "sis")
    try:
        assert await lock.acquire()
        vendor = FeedVendor("sis", _records())
        elsewhere = _process(vendor, pg_url, tick=3600)
        assert await elsewhere.read_in_full([Entity.SCORE]) is None
        assert vendor.requests == [], "the vendor was read while a hub holds the lock"
        await lock.release()
        assert await elsewhere.read_in_full([Entity.SCORE]) == {"Score": 2}
        # ... and it let the lock go again.
        assert await lock.acquire()
    finally:
        await lock.release()
        await holder.dispose()
