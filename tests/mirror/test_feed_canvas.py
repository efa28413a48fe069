"""Issue #10 for Canvas, over real loopback HTTP: a mirror over the canvas
adapter over its simulator reads everything once; a score changed in the
simulator's folder then arrives by the next scores delta (``graded_since`` /
``submitted_since`` per course), and that delta reads no submissions list in
full. The other entities have no feed: they are read in full at their interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.canvas import CanvasAdapter, CanvasConfig
from adapters.canvas.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import Entity
from hub.store import create_engine
from hub.testing.server import serving
from tests.adapters.canvas.changes import rows, score_key
from tests.mirror.hubs import every_field

from .folder import change_first_score, stored_score

TOKEN_ENV = "HOMEROOM_TEST_MIRROR_CANVAS_FEED_TOKEN"
SINCE = ("graded_since", "submitted_since")

pytestmark = pytest.mark.usefixtures("fast_switching")


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, SimulatorConfig().token)


def _mirror(base_url: str, url: str) -> MirroredAdapter:
    config = CanvasConfig.model_validate(
        {"name": "lms", "kind": "canvas", "base_url": base_url, "token_env": TOKEN_ENV, "retries": 1}
    )
    return MirroredAdapter(
        CanvasAdapter(config), lambda: MirrorStore(create_engine(url)), every_field, background=False
    )


def _reads(state: SimulatorState, mark: int) -> list[tuple[str, dict[str, Any]]]:
    return list(zip(state.paths[mark:], (dict(q) for q in state.queries[mark:]), strict=True))


async def test_a_changed_score_arrives_by_a_delta_without_a_full_read(folder: Path, url: str) -> None:
    app = create_simulator(folder)
    state: SimulatorState = app.state.simulator
    with serving(app) as base:
        mirrored = _mirror(base, url)
        report = await mirrored.open()  # the first sync: every entity in full
        try:
            assert mirrored.sync is not None and mirrored.store is not None
            assert report.counts["Score"] == len(rows(folder / "results.csv"))
            states = await mirrored.store.state("lms")
            assert states[Entity.SCORE].watermark is not None  # the scores' feed starts here
            assert all(s.watermark is None for e, s in states.items() if e is not Entity.SCORE)
            key = score_key(state.district, rows(folder / "results.csv")[0])
            before = await stored_score(mirrored, key)
            change_first_score(folder, "12.5")
            mark = state.requests
            await mirrored.sync.sync_once(Entity.SCORE)
            delta = _reads(state, mark)
            assert mirrored.freshness.last_error is None
            assert before != 12.5 and await stored_score(mirrored, key) == 12.5
            after = (await mirrored.store.state("lms"))[Entity.SCORE]
            assert after.last_delta_sync is not None and after.watermark is not None
            mark = state.requests
            await mirrored.sync.sync_once(Entity.COURSE)  # no feed: read in full
            courses = _reads(state, mark)
        finally:
            await mirrored.aclose()
    listed = [query for path, query in delta if path.endswith("/students/submissions")]
    assert listed and all(any(name in query for name in SINCE) for query in listed)
    # Besides the filtered lists: the course list, the changed course's sections, the one score by id.
    others = [path for path, query in delta if not path.endswith("/students/submissions")]
    assert len(others) == 3 and sum("/assignments/" in path for path in others) == 1
    assert [path for path, _ in courses] == ["/api/v1/accounts/self/courses"]
