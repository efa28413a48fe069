"""MirroredAdapter and MirrorSync over in-memory vendors: the first full read,
deltas from a change feed (deletes included), a vendor outage that costs only
freshness, the background loop, policy changes, config wiring and /healthz."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.assemble import assemble
from hub.federation.registry import SourceRegistry, build_registry
from hub.mirror import MirroredAdapter, MirrorStore, SyncIntervals
from hub.mirror.wiring import MirrorWiring, first_syncs_attempted, follow_policy
from hub.model import Entity, Score, Student
from hub.sdk import Changes, FetchRequest, FetchResult, SourceConfig, SourceUnavailable
from hub.settings import load_settings
from hub.store import create_engine
from hub.testing.memory import MemoryAdapter
from tests.mirror.hubs import every_field


def _records() -> list[Any]:
    return [
        Student(vendor_id="s1", given_name="Ana", school_id="sch1"),
        Student(vendor_id="s2", given_name="Ben", school_id="sch1"),
        Score(vendor_id="r1", student_id="s1", score=7.0),
        Score(vendor_id="r2", student_id="s2", score=9.0),
    ]


class Vendor(MemoryAdapter):
    """A vendor whose records can change, that can fail, and (``feed``) has a change feed."""

    failing: bool = False
    pending: Changes | None = None
    since: list[str | None]

    def __init__(self, name: str, records: Sequence[Any]) -> None:
        super().__init__(name, list(records))
        self.since = []

    def replace(self, records: Sequence[Any]) -> None:
        self._by_entity = {}
        self.records = list(records)
        self.__post_init__()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if self.failing:
            raise SourceUnavailable(self.name, "vendor answered 503")
        return await super().fetch(request)


class FeedVendor(Vendor):
    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        self.since.append(since)
        if self.failing:
            raise SourceUnavailable(self.name, "vendor answered 503")
        if since is None or self.pending is None or entity is not Entity.SCORE:
            return Changes(watermark=since or "w0")
        pending, self.pending = self.pending, None
        return pending


def _adapter(vendor: Vendor, url: str, **kwargs: Any) -> MirroredAdapter:
    return MirroredAdapter(
        vendor, lambda: MirrorStore(create_engine(url)), every_field, background=False, **kwargs
    )


async def _ids(adapter: MirroredAdapter, entity: Entity) -> list[str]:
    result = await adapter.fetch(FetchRequest(entity=entity, fields=frozenset()))
    return [r.vendor_id for r in result.records]


async def test_open_reads_everything_and_fetch_never_asks_the_vendor(url: str) -> None:
    vendor = Vendor("sis", _records())
    adapter = _adapter(vendor, url)
    report = await adapter.open()
    try:
        assert report.counts == {"Student": 2, "Score": 2}
        asked = len(vendor.requests)
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), ids=("s2",))
        assert [r.given_name for r in (await adapter.fetch(request)).records] == ["Ben"]
        assert len(vendor.requests) == asked
        assert adapter.freshness.first_sync_done and adapter.freshness.oldest_sync_at is not None
    finally:
        await adapter.aclose()


async def test_a_change_feed_applies_changes_and_deletes(url: str) -> None:
    vendor = FeedVendor("sis", _records())
    adapter = _adapter(vendor, url)
    await adapter.open()
    try:
        assert adapter.sync is not None and adapter.store is not None
        state = (await adapter.store.state("sis"))[Entity.SCORE]
        assert state.watermark == "w0"  # taken before the full read
        vendor.pending = Changes(
            records=[Score(vendor_id="r3", student_id="s1", score=5.0)], deleted=["r1"], watermark="w1"
        )
        asked = len(vendor.requests)
        await adapter.sync.sync_once(Entity.SCORE)
        assert len(vendor.requests) == asked, "a delta, not a full read"
        assert await _ids(adapter, Entity.SCORE) == ["r2", "r3"]
        state = (await adapter.store.state("sis"))[Entity.SCORE]
        assert state.watermark == "w1" and state.last_delta_sync is not None
        # A feed with a gap: the entity is read in full instead.
        vendor.pending = Changes(complete=False)
        await adapter.sync.sync_once(Entity.SCORE)
        assert len(vendor.requests) > asked
        assert await _ids(adapter, Entity.SCORE) == ["r1", "r2"]
    finally:
        await adapter.aclose()


class FeedlessStart(FeedVendor):
    """A change feed that cannot say where it starts (its events endpoint is down)."""

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        if since is None:
            raise SourceUnavailable(self.name, "events answered 503")
        return await super().changes(entity, since, fields)


async def test_a_feed_without_a_starting_point_still_reads_in_full(url: str) -> None:
    vendor = FeedlessStart("sis", _records())
    adapter = _adapter(vendor, url)
    report = await adapter.open()
    try:
        assert report.counts == {"Student": 2, "Score": 2}
        assert adapter.store is not None
        state = (await adapter.store.state("sis"))[Entity.SCORE]
        assert state.watermark is None and state.last_full_sync is not None
        assert adapter.freshness.first_sync_done
    finally:
        await adapter.aclose()


async def test_a_vendor_outage_costs_freshness_not_answers(url: str) -> None:
    vendor = Vendor("sis", _records())
    adapter = _adapter(vendor, url)
    registry = SourceRegistry([adapter], {"sis": "memory"})
    assert await registry.open()
    try:
        assert adapter.sync is not None and adapter.store is not None
        vendor.failing = True
        await adapter.sync.sync_once(Entity.STUDENT)
        answer = await registry.fetch("sis", FetchRequest(entity=Entity.STUDENT, fields=frozenset()))
        assert [r.vendor_id for r in answer.records] == ["s1", "s2"]
        state = registry.states["sis"]
        assert (state.mode, state.state) == ("mirror", "DEGRADED")
        assert state.last_error is not None and "vendor answered 503" in state.last_error
        assert state.lag_seconds is not None and state.last_sync_at is not None
        stored = (await adapter.store.state("sis"))[Entity.STUDENT]
        assert stored.last_error == "vendor answered 503"
        vendor.failing = False
        await adapter.sync.sync_once(Entity.STUDENT)
        await registry.fetch("sis", FetchRequest(entity=Entity.STUDENT, fields=frozenset()))
        assert (registry.states["sis"].state, registry.states["sis"].last_error) == ("UP", None)
    finally:
        await registry.aclose()


async def test_the_background_sync_picks_up_vendor_changes(url: str) -> None:
    vendor = Vendor("sis", _records())
    adapter = MirroredAdapter(
        vendor,
        lambda: MirrorStore(create_engine(url)),
        every_field,
        intervals=SyncIntervals(rosters=3600, gradebook=0.05),
    )
    await adapter.open()
    try:
        vendor.replace([*_records()[:3], Score(vendor_id="r9", student_id="s2", score=1.0)])
        async with asyncio.timeout(10):
            while await _ids(adapter, Entity.SCORE) != ["r1", "r9"]:
                await asyncio.sleep(0.02)
        # Rosters are on their own, longer interval.
        assert await _ids(adapter, Entity.STUDENT) == ["s1", "s2"]
    finally:
        await adapter.aclose()


async def test_a_policy_change_erases_and_backfills(url: str) -> None:
    granted = {"given_name", "school_id"}
    vendor = Vendor("sis", _records())
    adapter = MirroredAdapter(
        vendor,
        lambda: MirrorStore(create_engine(url)),
        lambda entity: frozenset(granted) if entity is Entity.STUDENT else every_field(entity),
        background=False,
    )
    registry = SourceRegistry([adapter])
    await registry.open()
    try:
        one = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), ids=("s1",))
        assert [r.given_name for r in (await adapter.fetch(one)).records] == ["Ana"]
        granted.discard("given_name")
        granted.add("family_name")
        on_reload = follow_policy(lambda: registry.adapters.values(), registry.refresh_capabilities)
        on_reload(dataclasses.make_dataclass("Outcome", [("swapped", bool)])(True))
        async with asyncio.timeout(10):
            while "family_name" not in registry.supported_fields("sis", Entity.STUDENT):
                await asyncio.sleep(0.01)
        assert "given_name" not in registry.supported_fields("sis", Entity.STUDENT)
        ask = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"family_name"}))
        assert len((await adapter.fetch(ask)).records) == 2
        store = adapter.store
        assert store is not None
        async with store.engine.connect() as conn:
            from sqlalchemy import select

            from hub.mirror.tables import entity_table

            names = (await conn.execute(select(entity_table(Entity.STUDENT).c.given_name))).scalars().all()
        assert names == [None, None]
    finally:
        await registry.aclose()


def test_every_source_table_accepts_the_mirror_keys(tmp_path: Path) -> None:
    config = SourceConfig(name="sis", kind="x", mode="mirror", mirror_gradebook_seconds=30)
    assert (config.mode, config.mirror_rosters_seconds, config.mirror_gradebook_seconds) == (
        "mirror",
        900,
        30,
    )
    with pytest.raises(ValueError, match="mode"):
        SourceConfig(name="sis", kind="x", mode="cached")  # type: ignore[arg-type]
    table = {"name": "sis", "kind": "oneroster-csv", "path": str(tmp_path), "mode": "mirror"}
    # Without the hub's store and policy (``homeroom sources check``) a source is built live.
    live = build_registry([table])
    assert live.states["sis"].mode == "live"
    wired = MirrorWiring(store_url="sqlite+aiosqlite://", policy=_shipped_policy)
    mirrored = build_registry([{**table, "mirror_rosters_seconds": 120}], wired)
    adapter = mirrored.adapters["sis"]
    assert isinstance(adapter, MirroredAdapter) and mirrored.states["sis"].mode == "mirror"
    assert adapter.intervals.rosters == 120 and adapter.intervals.gradebook == 60


def _shipped_policy() -> Any:
    settings = load_settings(None)
    return assemble(settings).policy.current


def test_assemble_wraps_mirror_sources_with_the_hub_store(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        sources=({"name": "sis", "kind": "oneroster-csv", "path": str(tmp_path), "mode": "mirror"},),
        store={"url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"},
    )
    hub = assemble(settings)
    adapter = hub.registry.adapters["sis"]
    assert isinstance(adapter, MirroredAdapter)
    student = hub.registry.supported_fields("sis", Entity.STUDENT)
    # Granted fields, links and what relations read; no field of its own without a grant.
    assert {"given_name", "school_ids", "guardian_ids", "directory_opt_out"} <= student
    enrollment = hub.registry.supported_fields("sis", Entity.ENROLLMENT)
    assert {"section_id", "person_id", "role", "begin_date", "end_date"} <= enrollment


async def test_healthz_says_syncing_until_the_first_full_read(url: str) -> None:
    settings = load_settings(None)
    hub = assemble(settings)
    adapter = _adapter(Vendor("sis", _records()), url)
    hub.registry = SourceRegistry([adapter])
    hub.ready = True
    app = create_app(hub, watch_policy=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        syncing = await client.get("/healthz")
        assert (syncing.status_code, syncing.json()["status"]) == (503, "syncing")
        await hub.registry.open()
        try:
            done = await client.get("/healthz")
            assert (done.status_code, done.json()["status"]) == (200, "ok")
            assert done.json()["sources"]["sis"]["lastSyncAt"] is not None
        finally:
            await hub.registry.aclose()


def test_intervals_by_entity() -> None:
    intervals = SyncIntervals.from_table({"mirror_rosters_seconds": 600})
    assert intervals.of(Entity.SCORE) == 60 and intervals.of(Entity.STUDENT) == 600
    assert intervals.of(Entity.ATTENDANCE_EVENT) == 60 and intervals.of(Entity.ENROLLMENT) == 600
    assert dt.timedelta(seconds=intervals.reconcile) == dt.timedelta(days=1)


async def test_an_unmigrated_store_makes_the_source_down_not_the_hub_wait(tmp_path: Path) -> None:
    # A store with no mirror tables (never `homeroom db upgrade`d): the source is
    # down with the reason, and waiting for its first sync (the hub's readiness) ends.
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    adapter = MirroredAdapter(Vendor("sis", _records()), lambda: MirrorStore(create_engine(url)), every_field)
    registry = SourceRegistry([adapter], {"sis": "memory"})
    try:
        assert not await registry.open()
        state = registry.states["sis"]
        assert state.state == "DOWN" and "homeroom db upgrade" in (state.last_error or "")
        async with asyncio.timeout(5):
            await first_syncs_attempted(registry.adapters.values())
    finally:
        await registry.aclose()
