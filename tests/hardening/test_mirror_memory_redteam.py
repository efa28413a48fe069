"""Red-team pass over the mirror's copy in memory (commit 96f12d5:
``hub/mirror/memory.py``, ``hub/mirror/held.py`` and their wiring).

Found by a red-team pass over the in-memory copy, and fixed (each test failed before its fix):

1. A sync write that began under the old policy lands after the policy
   change's erase: the withdrawn attribute is written back to the tables and,
   read back, into the copy in memory, until the next full read.
2. PostgreSQL: ``MirrorStore._bump`` reads the version and writes it + 1, so
   two concurrent writes (a sync's, another process's erase) can both end at
   the same version; a process that loaded between them never reloads.
3. A load that has to be read again (a write of this process committed
   meanwhile) is read again only once: a second write during that re-read
   leaves a copy older than the tables, rows the vendor deleted included.
4. A load under way when an erase's reload fails installs a copy from before
   the erase: the withdrawn values are back in memory.
5. ``gc.freeze()`` after every load freezes whatever is alive then (requests
   in flight): cyclic garbage they leave later is never collected.
6. A restart whose policy both withdraws and grants an attribute of an entity
   leaves the withdrawn one stored (the entity waits for a back-fill, and
   ``resume`` skips its erase) for as long as that full read fails.
7. ``HeldEntity._shared`` keeps every short value ever put: a deleted row's
   name and birth date stay referenced by the copy until it is reloaded.
8. A store whose versions went back (restored from a backup under running
   hubs) is never taken up: every reload is discarded as older than the copy,
   which serves rows the store no longer has until the process restarts.

Held (passing): odd requests mean the same in memory as in SQL through
``MirroredAdapter.fetch`` (answered or a 4xx, never another exception); the
index/row-by-row choice for ``visible_if`` changes no answer or error however
many hidden rows a filter chooses; new indexes and projectors stay bounded
whatever values requests carry; a copy replaced by a reload is freed, and an
erase leaves nothing of the erased values in the new copy's shared values.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import select, text

import hub.mirror.held as held_module
from hub.mirror import MirroredAdapter, MirrorStore
from hub.mirror.memory import HeldEntity
from hub.mirror.query import MOST_VALUES, fetch_rows
from hub.mirror.tables import entity_table
from hub.model import RECORD_TYPES, Entity, Record, Score, Student, data_fields
from hub.sdk import (
    Changes,
    FetchRequest,
    FetchResult,
    SourceError,
    SourceUnavailable,
    UnsupportedRequest,
)
from hub.sdk._projection import _made
from hub.store import create_engine
from hub.testing.memory import MemoryAdapter
from tests.mirror.conftest import mirror, url
from tests.store.fixtures import backend, migrated_url, pg_database, sqlite_template

__all__ = ["backend", "migrated_url", "mirror", "pg_database", "sqlite_template", "url"]

SOURCE = "sis"
AT = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
ALL = {entity: frozenset(data_fields(RECORD_TYPES[entity])) for entity in Entity}
EVERY_SCORE = FetchRequest(entity=Entity.SCORE, fields=frozenset())


def _scores(count: int = 8) -> list[Score]:
    return [
        Score(
            vendor_id=f"r{i}",
            student_id=f"s{i % 2}",
            section_id="c1",
            score=float(i),
            late=i % 2 == 0,
            comment=f"note {i}",
        )
        for i in range(count)
    ]


def _students() -> list[Student]:
    return [
        Student(vendor_id="p1", given_name="Ana", family_name="Lopez", school_id="sch1"),
        Student(vendor_id="p2", given_name="Ben", family_name="Anand", school_id="sch1"),
    ]


def _every_field(entity: Entity) -> frozenset[str]:
    return ALL[entity]


async def _column(store: MirrorStore, entity: Entity, name: str) -> list[Any]:
    table = entity_table(entity)
    async with store.engine.connect() as conn:
        query = select(table.c[name]).where(table.c.source == SOURCE).order_by(table.c.vendor_id)
        return list((await conn.execute(query)).scalars())


def _held(store: MirrorStore, entity: Entity) -> HeldEntity:
    """The copy held now (without starting a load, as ``HeldCopies.get`` would)."""
    assert store.held is not None
    copy = store.held.held(SOURCE).get(entity)
    assert copy is not None, "no copy held"
    return copy


def _values(copy: HeldEntity, entity: Entity, name: str) -> list[Any]:
    rows = copy.answer(FetchRequest(entity=entity, fields=frozenset({name}))).records
    return [getattr(row, name) for row in rows]


def _ids(result: FetchResult) -> list[str]:
    return [row.vendor_id for row in result.records]


class _GatedLoad:
    """Wraps ``HeldCopies._load``: each load reads the store, says so on
    ``loaded`` (with the version read), then waits for ``release``. A load
    numbered in ``failing`` raises instead, as a pool timeout would."""

    def __init__(self, inner: Callable[[str, Entity], Awaitable[HeldEntity]], failing: Sequence[int] = ()):
        self.inner = inner
        self.failing = set(failing)
        self.calls = 0
        self.loaded: asyncio.Queue[int] = asyncio.Queue()
        self.release: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, source: str, entity: Entity) -> HeldEntity:
        self.calls += 1
        if self.calls in self.failing:
            raise TimeoutError("QueuePool limit reached")
        copy = await self.inner(source, entity)
        self.loaded.put_nowait(copy.version)
        await self.release.get()
        return copy


@contextlib.asynccontextmanager
async def _stores(
    url: str, *, writer_in_memory: bool = False
) -> AsyncIterator[tuple[MirrorStore, MirrorStore]]:
    """Two stores on one database: one to set rows up, and a process's store
    with nothing in memory yet (just started)."""
    setup = MirrorStore(create_engine(url), in_memory=writer_in_memory)
    process = MirrorStore(create_engine(url))
    try:
        yield setup, process
    finally:
        await setup.aclose()
        await process.aclose()


async def _until_loaded(store: MirrorStore) -> None:
    assert store.held is not None
    async with asyncio.timeout(10):
        while store.held._loading:
            await asyncio.gather(*store.held._loading.values())


# ---------------------------------------------------------------- 1. a stale write after an erase


class _GatedFeed(MemoryAdapter):
    """A vendor with a change feed whose next delta (of scores) waits for ``go``:
    a delta read under way while the policy changes."""

    def __init__(self, records: Sequence[Record]) -> None:
        super().__init__(SOURCE, list(records))
        self.hold = False
        self.asked = asyncio.Event()
        self.go = asyncio.Event()
        self.fields_asked: list[frozenset[str]] = []

    async def changes(self, entity: Entity, since: str | None, fields: frozenset[str]) -> Changes:
        if since is None or entity is not Entity.SCORE or not self.hold:
            return Changes(watermark=since or "w0")
        self.fields_asked.append(fields)
        self.asked.set()
        await self.go.wait()
        # The vendor answers with the fields it was asked for.
        new = Score(vendor_id="r9", student_id="s1", score=4.0, comment="call home about this")
        values = {name: getattr(new, name) for name in fields}
        return Changes(records=[Score(vendor_id="r9", **values)], watermark="w1")


async def test_a_delta_under_way_does_not_write_back_what_a_policy_change_erased(url: str) -> None:
    granted = set(ALL[Entity.SCORE])
    vendor = _GatedFeed(_scores(3))
    adapter = MirroredAdapter(
        vendor,
        lambda: MirrorStore(create_engine(url)),
        lambda entity: frozenset(granted) if entity is Entity.SCORE else ALL[entity],
        background=False,
    )
    await adapter.open()
    try:
        assert adapter.sync is not None and adapter.store is not None
        store = adapter.store
        assert _values(_held(store, Entity.SCORE), Entity.SCORE, "comment")[0] == "note 0"
        vendor.hold = True
        delta = asyncio.create_task(adapter.sync.sync_once(Entity.SCORE))
        await asyncio.wait_for(vendor.asked.wait(), 10)
        # The policy withdraws the comment while the delta's vendor read is under way.
        granted.discard("comment")
        assert await adapter.policy_changed()
        assert _values(_held(store, Entity.SCORE), Entity.SCORE, "comment") == [None] * 3
        vendor.go.set()
        await asyncio.wait_for(delta, 10)
        assert "comment" in vendor.fields_asked[0]  # the delta was asked under the old policy
        assert "comment" not in adapter.capabilities().entities[Entity.SCORE].fields
        # Neither the tables nor the copy in memory may hold it again.
        in_memory = _values(_held(store, Entity.SCORE), Entity.SCORE, "comment")
        in_tables = await _column(store, Entity.SCORE, "comment")
        assert (in_memory, in_tables) == ([None] * 4, [None] * 4)
    finally:
        await adapter.aclose()


# ---------------------------------------------------------------- 2. PostgreSQL: a lost version


async def _until_waiting_for_a_lock(store: MirrorStore) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10):
        while True:
            async with store.engine.connect() as conn:
                if (await conn.execute(query)).scalar_one():
                    return
            await asyncio.sleep(0.02)


async def test_concurrent_writes_on_postgresql_each_raise_the_version(
    backend: str, mirror: MirrorStore, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite takes the write lock at BEGIN: its writers never overlap")
    writer = mirror
    eraser = MirrorStore(create_engine(migrated_url), in_memory=False)  # another process
    follower = MirrorStore(create_engine(migrated_url))  # and a third, serving
    try:
        await writer.replace_all(SOURCE, Entity.SCORE, _scores(3), ALL[Entity.SCORE], AT)
        start = (await writer.state(SOURCE))[Entity.SCORE].version

        # A delta adding a row (no comment in it), held open after its version was raised.
        w_bumped, w_go = asyncio.Event(), asyncio.Event()
        count = writer._count

        async def paused_count(conn: Any, source: str, entity: Entity) -> int:
            w_bumped.set()
            await w_go.wait()
            return await count(conn, source, entity)

        monkeypatch.setattr(writer, "_count", paused_count)
        new = [Score(vendor_id="r9", score=1.0)]
        write = asyncio.create_task(writer.upsert(SOURCE, Entity.SCORE, new, frozenset({"score"}), AT))
        await asyncio.wait_for(w_bumped.wait(), 10)

        # Meanwhile another process erases the comment (a policy change), held before commit.
        e_bumped, e_go = asyncio.Event(), asyncio.Event()
        bump = eraser._bump

        async def paused_bump(conn: Any, source: str, entity: Entity) -> tuple[int, int]:
            versions = await bump(conn, source, entity)
            e_bumped.set()
            await e_go.wait()
            return versions

        monkeypatch.setattr(eraser, "_bump", paused_bump)
        erase = asyncio.create_task(eraser.erase(SOURCE, Entity.SCORE, {"comment"}))
        await _until_waiting_for_a_lock(follower)  # the erase waits for the delta's row lock
        w_go.set()
        await asyncio.wait_for(write, 10)
        await asyncio.wait_for(e_bumped.wait(), 10)
        # A third process loads now: the delta is committed, the erase not yet.
        assert follower.held is not None
        await follower.held.reload(SOURCE, Entity.SCORE)
        e_go.set()
        await asyncio.wait_for(erase, 10)

        await follower.follow(SOURCE, await follower.state(SOURCE))
        comments = _values(_held(follower, Entity.SCORE), Entity.SCORE, "comment")
        version = (await follower.state(SOURCE))[Entity.SCORE].version
        assert (comments, version) == ([None] * 4, start + 2)
    finally:
        await eraser.aclose()
        await follower.aclose()


# ---------------------------------------------------------------- 3. a load read again only once


async def test_a_copy_loaded_across_two_writes_holds_neither_deleted_row(url: str) -> None:
    async with _stores(url) as (setup, process):
        await setup.replace_all(SOURCE, Entity.SCORE, _scores(), ALL[Entity.SCORE], AT)
        assert process.held is not None
        gate = _GatedLoad(process.held._load)
        process.held._load = gate
        # The first fetch starts the load (the tables answer meanwhile).
        assert len(_ids(await process.fetch(SOURCE, EVERY_SCORE))) == 8
        assert await asyncio.wait_for(gate.loaded.get(), 10) == 1
        assert await process.delete(SOURCE, Entity.SCORE, ["r1"]) == 1  # version 2
        gate.release.put_nowait(None)  # read before the delete: read again
        assert await asyncio.wait_for(gate.loaded.get(), 10) == 2
        assert await process.delete(SOURCE, Entity.SCORE, ["r2"]) == 1  # version 3, during the re-read
        for _ in range(3):  # as many reads as it takes to catch up
            gate.release.put_nowait(None)
        await _until_loaded(process)
        answered = _ids(await process.fetch(SOURCE, EVERY_SCORE))
        current = (await process.state(SOURCE))[Entity.SCORE].version
        assert (answered, _held(process, Entity.SCORE).version) == (
            ["r0", "r3", "r4", "r5", "r6", "r7"],
            current,
        )


async def test_a_copy_loaded_across_one_write_is_read_again(url: str) -> None:
    # Held: the one re-read _load_now does covers a single write during the load.
    async with _stores(url) as (setup, process):
        await setup.replace_all(SOURCE, Entity.SCORE, _scores(), ALL[Entity.SCORE], AT)
        assert process.held is not None
        gate = _GatedLoad(process.held._load)
        process.held._load = gate
        await process.fetch(SOURCE, EVERY_SCORE)
        await asyncio.wait_for(gate.loaded.get(), 10)
        assert await process.delete(SOURCE, Entity.SCORE, ["r1"]) == 1
        gate.release.put_nowait(None)
        await asyncio.wait_for(gate.loaded.get(), 10)
        gate.release.put_nowait(None)
        await _until_loaded(process)
        assert "r1" not in _ids(await process.fetch(SOURCE, EVERY_SCORE))


# ---------------------------------------------------------------- 4. an erase whose reload fails


async def test_an_erase_whose_reload_fails_leaves_no_erased_value_in_memory(url: str) -> None:
    async with _stores(url) as (setup, process):
        await setup.replace_all(SOURCE, Entity.STUDENT, _students(), ALL[Entity.STUDENT], AT)
        assert process.held is not None
        gate = _GatedLoad(process.held._load, failing=[2])
        process.held._load = gate
        student = FetchRequest(entity=Entity.STUDENT, fields=frozenset())
        await process.fetch(SOURCE, student)  # starts the load
        await asyncio.wait_for(gate.loaded.get(), 10)  # read before the erase
        await process.erase(SOURCE, Entity.STUDENT, {"given_name"})  # its reload fails (call 2)
        assert await _column(process, Entity.STUDENT, "given_name") == [None, None]
        for _ in range(3):  # the load begun before the erase is read again after it
            gate.release.put_nowait(None)
        await _until_loaded(process)
        assert _values(_held(process, Entity.STUDENT), Entity.STUDENT, "given_name") == [None, None]
        found = await process.fetch(SOURCE, dataclasses.replace(student, filters={"search": ("ana",)}))
        assert _ids(found) == ["p2"]  # by family name ("Anand"); "Ana" (p1's given name) is gone


# ---------------------------------------------------------------- 5. gc.freeze after each load


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


async def test_a_reload_does_not_make_garbage_of_requests_in_flight_immortal(
    mirror: MirrorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every settle a deep one here (in service, at most every DEEP_SETTLE_SECONDS).
    monkeypatch.setattr(held_module, "DEEP_SETTLE_SECONDS", 0.0)
    in_flight = _Node()  # e.g. a request's task and its exception's traceback
    gone = weakref.ref(in_flight)
    try:
        await mirror.replace_all(SOURCE, Entity.SCORE, _scores(2), ALL[Entity.SCORE], AT)  # reloads
        del in_flight
        # Kept at most until the next deep settle, which collects what the last one froze.
        await mirror.replace_all(SOURCE, Entity.SCORE, _scores(3), ALL[Entity.SCORE], AT)
        assert gone() is None
    finally:
        gc.unfreeze()  # leave the test process's collector as it was
        gc.collect()


# ---------------------------------------------------------------- 6. a restart: withdraw and grant


class _Vendor(MemoryAdapter):
    failing = False

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if self.failing:
            raise SourceUnavailable(self.name, "vendor answered 503")
        return await super().fetch(request)


async def test_a_restart_that_withdraws_and_grants_erases_at_once(url: str) -> None:
    granted = {"given_name", "family_name"}
    vendor = _Vendor(SOURCE, _students())

    def adapter() -> MirroredAdapter:
        return MirroredAdapter(
            vendor,
            lambda: MirrorStore(create_engine(url)),
            lambda entity: frozenset(granted) if entity is Entity.STUDENT else ALL[entity],
            background=False,
        )

    first = adapter()
    await first.open()
    await first.aclose()
    # While the hub is down the policy withdraws given_name and grants sex; the vendor is down.
    granted.discard("given_name")
    granted.add("sex")
    vendor.failing = True
    second = adapter()
    try:
        with contextlib.suppress(SourceError):
            await second.open()
        assert second.store is not None
        assert await _column(second.store, Entity.STUDENT, "given_name") == [None, None]
    finally:
        await second.aclose()


# ---------------------------------------------------------------- 7. shared values outlive their rows


async def test_a_deleted_row_leaves_no_value_behind_in_memory(mirror: MirrorStore) -> None:
    gone = Student(vendor_id="p9", given_name="Zelda", family_name="Quist", birth_date=dt.date(2014, 5, 6))
    await mirror.replace_all(SOURCE, Entity.STUDENT, [*_students(), gone], ALL[Entity.STUDENT], AT)
    copy = _held(mirror, Entity.STUDENT)
    assert await mirror.delete(SOURCE, Entity.STUDENT, ["p9"]) == 1
    assert _held(mirror, Entity.STUDENT) is copy and len(copy) == 2  # dropped in place
    kept = set(copy._shared)
    assert kept.isdisjoint({"Zelda", "Quist", dt.date(2014, 5, 6)})


# ---------------------------------------------------------------- 8. versions that go back


async def test_a_store_restored_to_older_versions_is_taken_up(url: str) -> None:
    async with _stores(url) as (setup, process):
        await setup.replace_all(SOURCE, Entity.SCORE, _scores(), ALL[Entity.SCORE], AT)
        for _ in range(3):
            await setup.upsert(SOURCE, Entity.SCORE, _scores(), frozenset({"score"}), AT)
        assert process.held is not None
        await process.held.reload(SOURCE, Entity.SCORE)
        assert _held(process, Entity.SCORE).version == 4
        # The database is restored from last night's backup: fewer rows, version 1.
        restored = MirrorStore(create_engine(url), in_memory=False)
        try:
            await restored.delete(SOURCE, Entity.SCORE, ["r5", "r6", "r7"])
            async with restored.engine.begin() as conn:
                await conn.execute(text("UPDATE mirror_state SET version = 1"))
        finally:
            await restored.aclose()
        await process.follow(SOURCE, await process.state(SOURCE))
        assert _ids(await process.fetch(SOURCE, EVERY_SCORE)) == ["r0", "r1", "r2", "r3", "r4"]


# ---------------------------------------------------------------- held: reloads free and forget


async def test_a_reloaded_copy_is_freed_and_an_erase_shares_no_erased_value(mirror: MirrorStore) -> None:
    await mirror.replace_all(SOURCE, Entity.STUDENT, _students(), ALL[Entity.STUDENT], AT)
    old = weakref.ref(_held(mirror, Entity.STUDENT))
    await mirror.erase(SOURCE, Entity.STUDENT, {"given_name"})
    # Freed by its count of references alone (gc.freeze() would keep a cycle forever).
    assert old() is None
    copy = _held(mirror, Entity.STUDENT)
    assert set(copy._shared).isdisjoint({"Ana", "Ben"})
    assert _values(copy, Entity.STUDENT, "given_name") == [None, None]


# ---------------------------------------------------------------- held: odd requests, one meaning


def _odd_requests() -> list[FetchRequest]:
    score = FetchRequest(entity=Entity.SCORE, fields=frozenset({"score"}))
    attendance = FetchRequest(entity=Entity.ATTENDANCE_EVENT, fields=frozenset())
    student = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}))
    many = tuple(f"{i}.0" for i in range(MOST_VALUES + 1))
    return [
        *(
            dataclasses.replace(score, cursor=c)
            for c in ("m", "m-1", "M1", "m1234567890123", "m999999999999")
        ),
        dataclasses.replace(score, limit=-5, cursor="m2"),
        dataclasses.replace(score, filters={"score": many}),
        dataclasses.replace(score, filters={"score": ("1e0", "1.0", "nan", "inf", "-0.0", "")}),
        dataclasses.replace(score, filters={"late": ("True", "1", "")}),
        dataclasses.replace(score, filters={"submitted_at": ("2026-11-03T15:30:00Z", "x", "")}),
        dataclasses.replace(score, filters={"student_id": ()}, ids=()),
        dataclasses.replace(score, filters={"student_id": tuple(f"s{i}" for i in range(50_000))}),
        dataclasses.replace(score, ids=("r1",), visible_if=(("late", ("true",) * (MOST_VALUES + 1)),)),
        dataclasses.replace(score, visible_if=(("late", ("true",) * (MOST_VALUES + 1)),)),
        dataclasses.replace(score, visible_if=(("score", ("x",)), ("vendor_id", ()))),
        *(
            dataclasses.replace(attendance, filters={name: value})
            for name in ("date_from", "date_to")
            for value in ((), ("",), ("2026-02-30",), ("20261101",), ("2026-W44-1",), ("9999-12-31",))
        ),
        dataclasses.replace(student, filters={"search": ("",)}),
        dataclasses.replace(student, filters={"search": ()}),
        dataclasses.replace(student, filters={"search": (" \t ",)}),
        dataclasses.replace(student, filters={"search": ("%_\\ ß \u212a " * 200,)}),
        dataclasses.replace(student, filters={"grade_level": ("\u0000",)}),
        dataclasses.replace(student, filters={"grade_level": ("\ud800",)}),
    ]


def _outcome(answer: FetchResult | BaseException) -> Any:
    if isinstance(answer, BaseException):
        return type(answer)
    return list(answer.records), answer.next_cursor, answer.total


async def _through(adapter: MirroredAdapter, request: FetchRequest) -> FetchResult | BaseException:
    try:
        return await adapter.fetch(request)
    except (UnsupportedRequest, SourceUnavailable) as exc:
        return exc


async def test_odd_requests_mean_the_same_in_memory_and_never_fail_otherwise(url: str) -> None:
    records: list[Record] = [*_scores(), *_students()]
    records.append(RECORD_TYPES[Entity.ATTENDANCE_EVENT](vendor_id="e1", date=dt.date(2026, 11, 2)))
    answers: dict[bool, list[Any]] = {}
    for in_memory in (True, False):
        adapter = MirroredAdapter(
            MemoryAdapter(SOURCE, records),
            lambda in_memory=in_memory: MirrorStore(create_engine(url), in_memory=in_memory),
            _every_field,
            background=False,
        )
        await adapter.open()
        try:
            if in_memory:
                assert adapter.store is not None and adapter.store.held is not None
                assert len(adapter.store.held.held(SOURCE)) == 3  # every answer below is from memory
            answers[in_memory] = [_outcome(await _through(adapter, r)) for r in _odd_requests()]
        finally:
            await adapter.aclose()
    assert answers[True] == answers[False]
    # Each is an answer or a clear refusal: never "source unavailable" for the caller's input.
    assert all(a is UnsupportedRequest or isinstance(a, tuple) for a in answers[True])


# ---------------------------------------------------------------- held: visible_if, both paths


async def test_how_many_hidden_rows_a_filter_chooses_changes_no_answer_or_error(mirror: MirrorStore) -> None:
    """The copy tests the caller's pairs row by row or through the indexes by how
    many rows the other conditions chose (hidden ones included): both ways must
    give the tables' answer, and the same refusal."""
    visible = [Score(vendor_id=f"mine{i}", student_id="me", section_id=f"c{i % 3}") for i in range(12)]
    asks = [
        FetchRequest(
            entity=Entity.SCORE, fields=frozenset(), filters={"section_id": ("c1",)}, visible_if=pairs
        )
        for pairs in (
            (("student_id", ("me",)),),
            (("student_id", ("me",)), ("late", ("true",))),
            (("student_id", ("me",)), ("late", ("true",) * (MOST_VALUES + 1))),
            (("student_id", ("me",)), ("nope", ("x",))),
        )
    ]
    outcomes: list[list[Any]] = []
    for hidden in (0, 2, 200):  # rows of section c1 the caller cannot see
        others = [Score(vendor_id=f"h{i}", student_id=f"x{i}", section_id="c1") for i in range(hidden)]
        await mirror.replace_all(SOURCE, Entity.SCORE, [*visible, *others], ALL[Entity.SCORE], AT)
        copy = _held(mirror, Entity.SCORE)
        mine: list[Any] = []
        for ask in asks:
            try:
                held: FetchResult | BaseException = copy.answer(ask)
            except Exception as exc:
                held = exc
            try:
                async with mirror.engine.connect() as conn:
                    tables: FetchResult | BaseException = await fetch_rows(conn, SOURCE, ask)
            except Exception as exc:
                tables = exc
            assert _outcome(held) == _outcome(tables), (hidden, ask.visible_if)
            mine.append(_outcome(held))
        outcomes.append(mine)
    assert outcomes[0] == outcomes[1] == outcomes[2]


# ---------------------------------------------------------------- held: bounded per request


async def test_request_values_grow_no_index_projector_or_collection(
    mirror: MirrorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled: list[None] = []
    monkeypatch.setattr(held_module, "_settle", lambda: settled.append(None))
    await mirror.replace_all(SOURCE, Entity.STUDENT, _students(), ALL[Entity.STUDENT], AT)
    copy = _held(mirror, Entity.STUDENT)
    indexed = copy.indexed
    settled.clear()
    for i in range(300):
        ask = FetchRequest(
            entity=Entity.STUDENT,
            fields=frozenset({"given_name"}),
            filters={"grade_level": (f"g{i}",), "search": (f"x{i}",)},
            visible_if=(("school_id", (f"sch{i}",)), ("directory_opt_out", ("false",))),
        )
        assert _ids(await mirror.fetch(SOURCE, ask)) == []
        await asyncio.sleep(0)  # let a scheduled settle run
    # One index per attribute filtered on (grade_level, directory_opt_out), one settle per new index at most.
    assert copy.indexed == indexed + 2
    assert len(settled) <= 2
    assert len(_made) <= 1024
