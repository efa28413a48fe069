"""Issue #10 over Ed-Fi, on real loopback HTTP: a mirror of the Ed-Fi adapter
over its simulator reads every entity once, then a score changed in the CSV
folder arrives by a Change Queries delta that reads no collection in full, a
removed score leaves the mirror the same way, and a sync with nothing changed
costs the vendor one request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.edfi import EdFiAdapter
from adapters.edfi._keys import make_id
from adapters.edfi._sim_data import NAMESPACE
from adapters.edfi.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import Entity
from hub.store import create_engine
from hub.testing.server import serving
from tests.adapters.edfi.changes import API, VERSIONS, drop_first, set_first, unique_id
from tests.adapters.edfi.conftest import KEY_ENV, SECRET_ENV, edfi_config
from tests.mirror.hubs import every_field

from .folder import stored_score

PAGING = frozenset({"offset", "limit", "totalCount"})


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    defaults = SimulatorConfig()
    monkeypatch.setenv(KEY_ENV, defaults.key)
    monkeypatch.setenv(SECRET_ENV, defaults.secret)
    yield


pytestmark = pytest.mark.usefixtures("fast_switching")


def full_reads(state: SimulatorState, mark: int) -> list[str]:
    """Collections read since ``mark`` without a change-version range or a search."""
    return [
        path
        for path, query in zip(state.paths[mark:], state.queries[mark:], strict=True)
        if path.startswith(API) and not path.endswith(("/deletes", "/keyChanges")) and not set(query) - PAGING
    ]


def score_id(folder: Path, line_item: str, student: str) -> str:
    """The vendor id the Ed-Fi adapter gives the result of ``student`` for ``line_item``."""
    built = make_id("studentGradebookEntry", NAMESPACE, line_item, unique_id(folder, student))
    assert built is not None
    return built


async def test_a_changed_score_arrives_by_a_change_queries_delta(folder: Path, url: str) -> None:
    simulator = create_simulator(folder)
    state: SimulatorState = simulator.state.simulator
    with serving(simulator) as base:
        inner = EdFiAdapter(edfi_config(base, retries=1, total_timeout=30))
        adapter = MirroredAdapter(
            inner, lambda: MirrorStore(create_engine(url)), every_field, background=False
        )
        await adapter.open()  # the first sync: every entity read in full
        try:
            sync, store = adapter.sync, adapter.store
            assert sync is not None and store is not None
            assert len(full_reads(state, 0)) > 10
            assert state.changes is not None
            held = await store.state(adapter.name)
            assert held[Entity.SCORE].watermark == str(state.changes.newest)

            # Nothing changed: one request, to availableChangeVersions.
            mark = len(state.paths)
            await sync.sync_once(Entity.SCORE)
            assert state.paths[mark:] == [VERSIONS]

            row = set_first(folder, "results.csv", score="12.5")
            changed = score_id(folder, row["lineItemSourcedId"], row["studentSourcedId"])
            assert await stored_score(adapter, changed) == float(row["score"])
            mark = len(state.paths)
            await sync.sync_once(Entity.SCORE)
            assert await stored_score(adapter, changed) == 12.5
            assert adapter.freshness.last_error is None
            delta = list(zip(state.paths[mark:], state.queries[mark:], strict=True))
            assert full_reads(state, mark) == [], "the delta read a collection in full"
            assert delta[0][0] == VERSIONS
            ranged = [query for path, query in delta if "minChangeVersion" in query]
            assert ranged and all(query["maxChangeVersion"] == str(state.changes.newest) for query in ranged)
            assert len(delta) <= 6
            held = await store.state(adapter.name)
            assert held[Entity.SCORE].watermark == str(state.changes.newest)

            # A removed result leaves the mirror by the next delta, again without a full read.
            gone = drop_first(folder, "results.csv")
            removed = score_id(folder, gone["lineItemSourcedId"], gone["studentSourcedId"])
            mark = len(state.paths)
            await sync.sync_once(Entity.SCORE)
            assert await stored_score(adapter, removed) is None
            assert full_reads(state, mark) == []
            assert adapter.freshness.rows[Entity.SCORE] > 0
        finally:
            await adapter.aclose()
