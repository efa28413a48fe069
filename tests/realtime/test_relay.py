"""Mirror writes relayed between hub processes: another process's copy is brought up
to date from the store and its subscribers told, over PostgreSQL LISTEN/NOTIFY and
over Redis pub/sub (each skipped, with the reason, without its server)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.mirror.store import MirrorStore
from hub.model import RECORD_TYPES, Entity, data_fields
from hub.model.records import Score
from hub.realtime.relay import MAX_PENDING, ChangeRelay, PostgresRelay, RedisRelay, relay_for
from hub.sdk import FetchRequest
from hub.store import create_engine, upgrade
from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.store.fixtures import pg_database, sqlite_template  # noqa: F401

AT = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
SOURCE = "sis"
FIELDS = frozenset(data_fields(RECORD_TYPES[Entity.SCORE]))
REDIS_URL = os.environ.get("HOMEROOM_TEST_REDIS_URL")


def _scores(count: int, prefix: str = "r") -> list[Score]:
    return [
        Score(
            vendor_id=f"{prefix}{i}",
            assignment_id="a1",
            student_id=f"s{i % 3}",
            section_id="c1",
            score=float(i),
        )
        for i in range(count)
    ]


# ---------------------------------------------------------------- the messages


def test_an_announcement_names_a_source_and_nothing_else() -> None:
    sender, receiver = ChangeRelay(), ChangeRelay()
    message = sender.message(SOURCE)
    assert json.loads(message) == {"o": sender.origin, "s": SOURCE}
    receiver.take(message)
    assert receiver._incoming == {SOURCE}


def test_own_malformed_and_hostile_messages_are_ignored_and_bounded() -> None:
    relay = ChangeRelay()
    relay.take(relay.message(SOURCE))  # our own: its subscribers were told directly
    for bad in (
        "not json",
        b"\xff\xfe",
        "[]",
        json.dumps({"o": "x"}),
        json.dumps({"o": 1, "s": SOURCE}),
        json.dumps({"o": "x", "s": ["sis"]}),
        '{"o": "x", "s": "sis", "n": Infinity}'.replace("sis", "s" * 2000),
        json.dumps({"o": "x", "s": "s" * 2000}),
    ):
        relay.take(bad)
    assert relay._incoming == set()
    # A flood of made-up sources holds at most MAX_PENDING of them (the tick follows every source anyway).
    for n in range(MAX_PENDING * 4):
        relay.take(json.dumps({"o": "attacker", "s": f"made-up-{n}"}))
    assert len(relay._incoming) == MAX_PENDING
    assert "made-up-0" in relay._incoming


def test_the_relay_follows_the_store_and_the_setting() -> None:
    pg = "postgresql+asyncpg://postgres@127.0.0.1:5432/hub"
    assert relay_for("auto", "sqlite+aiosqlite:///hub.db", None) is None
    assert isinstance(relay_for("auto", pg, None), PostgresRelay)
    assert relay_for("off", pg, None) is None
    assert isinstance(
        relay_for("redis", "sqlite+aiosqlite:///hub.db", "redis://127.0.0.1:6379/0"), RedisRelay
    )
    with pytest.raises(ValueError, match="PostgreSQL"):
        relay_for("postgres", "sqlite+aiosqlite:///hub.db", None)


# ---------------------------------------------------------------- two processes


class _Process:
    """One hub process's store and relay; ``seen``: what its subscribers were told."""

    def __init__(self, url: str, relay: ChangeRelay) -> None:
        self.relay = relay
        self.seen: list[tuple[Entity, list[str], list[str]]] = []
        self.store = MirrorStore(create_engine(url), on_commit=relay.send, on_change=self._told)

    def _told(self, source: str, entity: Entity, records: Any, deleted: Any) -> None:
        self.seen.append((entity, sorted(r.vendor_id for r in records), sorted(deleted)))

    async def held_scores(self) -> dict[str, float | None]:
        assert self.store.held is not None
        async with asyncio.timeout(10):
            while self.store.held.get(SOURCE, Entity.SCORE) is None:
                await asyncio.sleep(0.02)
        request = FetchRequest(entity=Entity.SCORE, fields=frozenset({"score"}), limit=10_000)
        result = self.store.held.answer(SOURCE, Entity.SCORE, request)
        assert result is not None
        return {r.vendor_id: getattr(r, "score", None) for r in result.records}

    async def told(self, predicate: Callable[[tuple[Entity, list[str], list[str]]], bool]) -> None:
        async with asyncio.timeout(10):
            while not any(predicate(entry) for entry in self.seen):
                await asyncio.sleep(0.02)


@asynccontextmanager
async def _two(url: str, make: Callable[[], ChangeRelay]) -> AsyncIterator[tuple[_Process, _Process]]:
    writer, reader = _Process(url, make()), _Process(url, make())

    async def follow(source: str) -> None:
        await reader.store.follow(source)

    async def follow_all() -> None:
        await reader.store.follow(SOURCE)

    async def ignore(*_: object) -> None:
        return None

    await writer.relay.start(ignore, ignore)
    await reader.relay.start(follow, follow_all)
    try:
        async with asyncio.timeout(10):
            await writer.relay.connected.wait()
            await reader.relay.connected.wait()
        yield writer, reader
    finally:
        for process in (writer, reader):
            await process.relay.aclose()
            await process.store.aclose()


async def _relayed_writes_reach_the_other_process(url: str, make: Callable[[], ChangeRelay]) -> None:
    async with _two(url, make) as (writer, reader):
        await writer.store.replace_all(SOURCE, Entity.SCORE, _scores(5), FIELDS, AT)
        assert await reader.held_scores() == {f"r{i}": float(i) for i in range(5)}
        # A change: the reader's copy has it without a tick of its own, and its subscribers
        # are told the row that changed (as the store has it), once.
        await writer.store.upsert(
            SOURCE, Entity.SCORE, [Score(vendor_id="r1", score=77.0)], frozenset({"score"}), AT
        )
        await reader.told(lambda e: e == (Entity.SCORE, ["r1"], []))
        assert (await reader.held_scores())["r1"] == 77.0
        # A deletion.
        assert await writer.store.delete(SOURCE, Entity.SCORE, ["r2"]) == 1
        await reader.told(lambda e: e == (Entity.SCORE, [], ["r2"]))
        assert "r2" not in await reader.held_scores()
        # A burst: every row it changed, in one announcement's follow or a few.
        burst = _scores(600, prefix="burst-result-with-a-long-vendor-id-")
        await writer.store.upsert(SOURCE, Entity.SCORE, burst, FIELDS, AT)
        ids = {score.vendor_id for score in burst}
        async with asyncio.timeout(10):
            while not ids <= {i for entry in reader.seen for i in entry[1]}:
                await asyncio.sleep(0.02)
        assert ids <= set(await reader.held_scores())
        # Each change told once on each side: the writer's directly, the reader's by following.
        for process in (writer, reader):
            assert process.seen.count((Entity.SCORE, ["r1"], [])) == 1
        # A forged announcement (anyone may NOTIFY) only makes the reader look: nothing changed, nothing told.
        told = len(reader.seen)
        reader.relay.take(json.dumps({"o": "forger", "s": SOURCE}))
        await asyncio.sleep(0.5)
        assert len(reader.seen) == told
        assert (await reader.held_scores())["r1"] == 77.0


@pytest.fixture
async def pg_url(pg_database: str) -> str:  # noqa: F811
    await upgrade(pg_database)
    return pg_database


async def test_writes_reach_another_process_over_postgres(pg_url: str) -> None:
    relay = relay_for("postgres", pg_url, None)
    assert isinstance(relay, PostgresRelay)
    dsn = relay.dsn
    await _relayed_writes_reach_the_other_process(pg_url, lambda: PostgresRelay(dsn))


async def test_writes_reach_another_process_over_redis(tmp_path: Path, sqlite_template: Path) -> None:  # noqa: F811
    if not REDIS_URL:
        pytest.skip(
            "set HOMEROOM_TEST_REDIS_URL (for example redis://127.0.0.1:6379/0) to test the Redis relay"
        )
    target = tmp_path / "homeroom.db"
    target.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite+aiosqlite:///{target}"
    await _relayed_writes_reach_the_other_process(url, lambda: RedisRelay(REDIS_URL or ""))


# ---------------------------------------------------------------- two hubs, end to end


async def test_a_score_synced_by_one_hub_reaches_the_subscribers_of_both(
    pg_url: str, tmp_path: Path, district_folder: Path
) -> None:
    # Two hub processes' worth (each its hub, server, relay and copy) on one PostgreSQL
    # store: one syncs the source (the advisory lock decides which), the other only
    # follows. A teacher subscribed on each gets the changed score: on the hub that did
    # not sync, only the relay can have told it.
    from hub.federation.ids import decode_id
    from tests.realtime.test_subscriptions import (
        _a_score_of,
        _ack,
        _change_score,
        _message,
        _subscribe,
        live_hub,
    )

    async with live_hub(district_folder, pg_url) as one, live_hub(district_folder, pg_url) as two:
        assert one.hub.mirrors is not None and isinstance(one.hub.mirrors.relay, PostgresRelay)
        score_id, _ = await _a_score_of(one, "teacher")
        decoded = decode_id(score_id)
        assert decoded is not None
        async with one.socket(one.token("teacher")) as first, two.socket(two.token("teacher")) as second:
            for ws in (first, second):
                await _ack(ws)
                await _subscribe(ws, "subscription { scoreChanged { id score } }")
            await asyncio.sleep(0.5)
            _change_score(district_folder, decoded.vendor_id, "41.5")
            for ws in (first, second):
                message = await _message(ws)
                assert message["type"] == "next", message
                assert message["payload"]["data"]["scoreChanged"] == {"id": score_id, "score": 41.5}


@pytest.fixture
def district_folder(tmp_path: Path, simulator_credentials: None, fast_switching: None) -> Path:  # noqa: F811
    from tests.support import make_district

    return make_district(tmp_path / "district", 50)
