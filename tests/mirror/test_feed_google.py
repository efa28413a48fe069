"""Issue #10 for Google Classroom, over real loopback HTTP: a mirror of the
Classroom adapter over the simulator follows a change in the CSV folder.

An assignment's new title and due date arrive by the course work feed (read
newest first, stopped at the watermark), in fewer requests than a full read
of the assignments; a changed score, which Classroom has no delta mechanism
for, arrives by the full read the hub makes of scores at their interval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.google_classroom import CAPABILITIES, GoogleClassroomAdapter, GoogleClassroomConfig
from adapters.google_classroom.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import Entity, of_type
from hub.sdk import Assignment, FetchRequest, Score, fetch_every_page
from hub.store import create_engine
from hub.testing.server import serving
from tests.adapters.google_classroom.folder import first_row, set_cells

TOKEN_ENV = "HOMEROOM_TEST_MIRROR_CLASSROOM_TOKEN"
CLASS = "cls-01-hr-kg-01"
# The simulator answers at most five items a page and each course holds six
# works: more than a page, as courses do a few months into a school year. A
# full read then takes every page of every course, a delta only the first.
PAGE = 5

pytestmark = pytest.mark.usefixtures("fast_switching")


@pytest.fixture
async def mirrored(
    folder: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[MirroredAdapter, SimulatorState]]:
    token = SimulatorConfig().token
    assert token is not None
    monkeypatch.setenv(TOKEN_ENV, token)
    app = create_simulator(folder, SimulatorConfig(max_page_size=PAGE))
    state: SimulatorState = app.state.simulator
    with serving(app) as base:
        config = GoogleClassroomConfig.model_validate(
            {"name": "lms", "kind": "google-classroom", "base_url": base, "token_env": TOKEN_ENV}
        )
        inner = GoogleClassroomAdapter(config)

        def every(entity: Entity) -> frozenset[str]:
            support = CAPABILITIES.entities.get(entity)
            return support.fields if support is not None else frozenset()

        adapter = MirroredAdapter(inner, lambda: MirrorStore(create_engine(url)), every, background=False)
        await adapter.open()  # the first sync: every entity read in full
        try:
            yield adapter, state
        finally:
            await adapter.aclose()


async def _assignment(adapter: MirroredAdapter, vendor_id: str) -> Assignment:
    fields = frozenset({"title", "due_date"})
    result = await adapter.fetch(FetchRequest(entity=Entity.ASSIGNMENT, fields=fields, ids=(vendor_id,)))
    (found,) = of_type(result.records, Assignment)
    return found


async def test_a_changed_assignment_arrives_by_the_feed_in_fewer_requests(
    mirrored: tuple[MirroredAdapter, SimulatorState], folder: Path
) -> None:
    adapter, state = mirrored
    assert adapter.sync is not None and adapter.store is not None
    row = first_row(folder, "lineItems.csv", classSourcedId=CLASS)
    course_id = state.district.course_ids[CLASS]
    (work,) = [w for w in state.district.course_work[course_id] if w["title"] == row["title"]]
    vendor_id = f"{course_id}/{work['id']}"
    held = await _assignment(adapter, vendor_id)
    assert held.title == row["title"]
    watermark = (await adapter.store.state("lms"))[Entity.ASSIGNMENT].watermark
    assert watermark is not None, "the full read started the feed"

    set_cells(folder, "lineItems.csv", row["sourcedId"], title="Agenda Check, revised", dueDate="2026-12-01")
    before = state.data_requests
    await adapter.sync.sync_once(Entity.ASSIGNMENT)
    delta_requests = state.data_requests - before

    now = await _assignment(adapter, vendor_id)
    assert now.title == "Agenda Check, revised"
    assert now.due_date is not None and now.due_date.date().isoformat() == "2026-12-01"
    stored = (await adapter.store.state("lms"))[Entity.ASSIGNMENT]
    assert stored.last_delta_sync is not None and stored.last_error is None
    assert stored.watermark is not None and stored.watermark != watermark
    rows = await fetch_every_page(
        adapter.fetch, FetchRequest(entity=Entity.ASSIGNMENT, fields=frozenset({"title"}))
    )
    assert len(rows) == sum(len(works) for works in state.district.course_work.values())

    # What a full read of the assignments costs on the same simulator.
    before = state.data_requests
    await fetch_every_page(
        adapter.inner.fetch,
        FetchRequest(entity=Entity.ASSIGNMENT, fields=adapter.sync.stored()[Entity.ASSIGNMENT]),
    )
    full_requests = state.data_requests - before
    assert delta_requests < full_requests, (delta_requests, full_requests)


async def test_a_changed_score_arrives_by_a_full_read_at_its_interval(
    mirrored: tuple[MirroredAdapter, SimulatorState], folder: Path
) -> None:
    adapter, state = mirrored
    assert adapter.sync is not None and adapter.store is not None
    assert (await adapter.store.state("lms"))[Entity.SCORE].watermark is None, "no feed for scores"
    result = first_row(folder, "results.csv", scoreStatus="fully graded")
    course_id = state.district.course_ids[result["classSourcedId"]]
    user_id = state.district.user_ids[result["studentSourcedId"]]
    work_id = next(
        w["id"]
        for w in state.district.course_work[course_id]
        if w["title"] == first_row(folder, "lineItems.csv", sourcedId=result["lineItemSourcedId"])["title"]
    )
    (submission,) = [
        s
        for s in state.district.submissions[course_id]
        if s["userId"] == user_id and s["courseWorkId"] == work_id
    ]
    vendor_id = f"{course_id}/{work_id}/{submission['id']}"
    set_cells(folder, "results.csv", result["sourcedId"], score="12.5")
    await adapter.sync.sync_once(Entity.SCORE)
    answer = await adapter.fetch(
        FetchRequest(entity=Entity.SCORE, fields=frozenset({"score"}), ids=(vendor_id,))
    )
    (score,) = of_type(answer.records, Score)
    assert score.score == 12.5
    assert (await adapter.store.state("lms"))[Entity.SCORE].last_delta_sync is None
