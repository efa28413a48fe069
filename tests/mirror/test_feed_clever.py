"""Issue #10 for Clever, over real loopback HTTP: a mirrored Clever source (the
Clever adapter over its simulator) is read in full once; then a name, a
section or a roster changed in the simulator's CSV folder arrives by one
``sync_once`` through Clever's Events API, and that delta reads no whole
collection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from adapters.clever import CleverAdapter, CleverConfig
from adapters.clever.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import Entity, Section, Student
from hub.sdk import FetchRequest, Record
from hub.store import create_engine
from hub.testing.server import serving
from tests.adapters.clever.folder import drop_rows, rows, section_id, set_cell, user_id
from tests.mirror.hubs import every_field

TOKEN_ENV = "HOMEROOM_TEST_MIRROR_CLEVER_TOKEN"
V30 = "/v3.0"
EVENTS = f"{V30}/events"
LISTS = {f"{V30}/{name}" for name in ("districts", "schools", "terms", "courses", "sections", "users")}
STUDENT = "stu-000001"

pytestmark = pytest.mark.usefixtures("fast_switching")


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, SimulatorConfig().token)


@asynccontextmanager
async def _mirrored(base_url: str, url: str) -> AsyncIterator[MirroredAdapter]:
    """The Clever source at ``base_url`` mirrored into ``url``, read in full on opening."""
    config = CleverConfig.model_validate(
        {
            "name": "clever",
            "kind": "clever",
            "base_url": base_url,
            "token_env": TOKEN_ENV,
            "rate_limit_per_second": None,
            "retries": 1,
            "total_timeout": 20,
        }
    )
    adapter = MirroredAdapter(
        CleverAdapter(config), lambda: MirrorStore(create_engine(url)), every_field, background=False
    )
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.aclose()


async def _held(adapter: MirroredAdapter, entity: Entity, *ids: str) -> list[Record]:
    """What the mirror holds of these records (the vendor is not asked)."""
    fields = adapter.capabilities().entities[entity].fields
    return list((await adapter.fetch(FetchRequest(entity=entity, fields=fields, ids=ids))).records)


async def test_a_renamed_student_arrives_by_one_delta_without_a_full_read(folder: Path, url: str) -> None:
    app = create_simulator(folder)
    state: SimulatorState = app.state.simulator
    student = user_id(STUDENT)
    with serving(app) as base:
        async with _mirrored(base, url) as adapter:
            assert adapter.sync is not None and adapter.store is not None
            assert set(state.paths) >= LISTS  # the first sync read every collection
            (before,) = await _held(adapter, Entity.STUDENT, student)
            assert isinstance(before, Student) and before.given_name != "Zelda"
            set_cell(folder, "users.csv", STUDENT, "givenName", "Zelda")
            mark = len(state.paths)
            await adapter.sync.sync_once(Entity.STUDENT)
            (after,) = await _held(adapter, Entity.STUDENT, student)
            held = (await adapter.store.state("clever"))[Entity.STUDENT]
            delta = state.paths[mark:]
    assert isinstance(after, Student) and after.given_name == "Zelda"
    assert after.family_name == before.family_name and after.guardian_ids == before.guardian_ids
    assert delta == [EVENTS, f"{V30}/users/{student}/mycontacts"]  # the event, the student's contacts
    assert state.events is not None and held.watermark == state.events.events[-1]["id"]
    assert adapter.freshness.last_error is None


async def test_a_retitled_section_and_a_changed_roster_arrive_by_delta(folder: Path, url: str) -> None:
    app = create_simulator(folder)
    state: SimulatorState = app.state.simulator
    klass = rows(folder, "classes.csv")[0]["sourcedId"]
    (left,) = [
        row
        for row in rows(folder, "enrollments.csv")
        if row["classSourcedId"] == klass and row["role"] == "student"
    ][:1]
    enrollment = f"{section_id(klass)}:student:{user_id(left['userSourcedId'])}"
    with serving(app) as base:
        async with _mirrored(base, url) as adapter:
            assert adapter.sync is not None
            assert await _held(adapter, Entity.ENROLLMENT, enrollment)
            set_cell(folder, "classes.csv", klass, "title", "Robotics")
            drop_rows(folder, "enrollments.csv", lambda row: row["sourcedId"] != left["sourcedId"])
            mark = len(state.paths)
            await adapter.sync.sync_once(Entity.SECTION)
            await adapter.sync.sync_once(Entity.ENROLLMENT)
            (section,) = await _held(adapter, Entity.SECTION, section_id(klass))
            gone = await _held(adapter, Entity.ENROLLMENT, enrollment)
            delta = state.paths[mark:]
    assert isinstance(section, Section) and section.title == "Robotics"
    assert gone == []
    assert delta == [EVENTS, EVENTS]


async def test_a_removed_student_leaves_the_mirror_by_delta(folder: Path, url: str) -> None:
    app = create_simulator(folder)
    state: SimulatorState = app.state.simulator
    student = user_id(STUDENT)
    with serving(app) as base:
        async with _mirrored(base, url) as adapter:
            assert adapter.sync is not None
            assert await _held(adapter, Entity.STUDENT, student)
            drop_rows(folder, "users.csv", lambda row: row["sourcedId"] != STUDENT)
            mark = len(state.paths)
            for entity in (Entity.STUDENT, Entity.GUARDIAN, Entity.ENROLLMENT):
                await adapter.sync.sync_once(entity)
            held = await _held(adapter, Entity.STUDENT, student)
            enrolled = await adapter.fetch(
                FetchRequest(
                    entity=Entity.ENROLLMENT,
                    fields=frozenset({"person_id"}),
                    filters={"person_id": (student,)},
                )
            )
            delta = state.paths[mark:]
    assert held == [] and list(enrolled.records) == []
    assert delta and not set(delta) & LISTS
