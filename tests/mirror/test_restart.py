"""A restarted hub resumes its mirror: over a OneRoster REST simulator on real
loopback HTTP, a second hub on the same store serves at once, asks the vendor
only for deltas, and a score changed in the folder while the hub was down
arrives by the delta; a policy that grants a new field re-reads that entity alone."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from adapters.oneroster_rest.simulator import SimulatorState, create_simulator
from hub.assemble import default_policy_dir
from hub.mirror import MirroredAdapter
from hub.model import Entity
from hub.testing.server import serving
from tests.support import RunningHub

from .folder import change_first_score, full_reads, stored_score
from .hubs import rest_hub, rest_table

HEALTH_TIMEOUT = 30.0


pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")


def _mirror(running: RunningHub) -> MirroredAdapter:
    adapter = running.hub.registry.adapters["sis"]
    assert isinstance(adapter, MirroredAdapter)
    return adapter


async def _until_score(adapter: MirroredAdapter, vendor_id: str, score: float) -> None:
    async with asyncio.timeout(HEALTH_TIMEOUT):
        while await stored_score(adapter, vendor_id) != score:
            await asyncio.sleep(0.05)


async def test_a_restart_resumes_by_delta_without_a_full_read(folder: Path, tmp_path: Path) -> None:
    simulator = create_simulator(folder)
    state: SimulatorState = simulator.state.simulator
    url = f"sqlite+aiosqlite:///{tmp_path / 'mirror.db'}"
    with serving(simulator) as base:
        table = rest_table(base, mode="mirror", mirror_gradebook_seconds=1)
        async with rest_hub(table, url) as first:
            answer = await first.query("{ students(first: 5) { edges { node { id } } } }")
            assert answer["_status"] == 200 and answer["data"]["students"]["edges"]
        first_start = list(state.queries)
        assert len(full_reads(first_start)) > 10  # the first start read everything
        # While the hub is down, a score changes in the vendor's files.
        changed = change_first_score(folder, "12.5")
        mark = len(state.queries)
        async with rest_hub(table, url) as second:
            adapter = _mirror(second)
            # Served at once from the store: no first sync, nothing to wait for.
            assert second.hub.registry.mirrors_syncing() == []
            health = await second.client.get("/healthz")
            assert health.json()["status"] == "ok"
            assert health.json()["sources"]["sis"]["rows"]["Score"] > 0
            await _until_score(adapter, changed, 12.5)
            answer = await second.query("{ students(first: 5) { edges { node { id } } } }")
            assert answer["_status"] == 200 and answer["data"]["students"]["edges"]
        since = state.queries[mark:]
        assert since, "the second start asked the vendor nothing"
        assert full_reads(since) == [], "the second start read a collection in full"
        assert any("dateLastModified" in query.get("filter", "") for query in since)


async def test_a_newly_granted_field_rereads_that_entity_alone(folder: Path, tmp_path: Path) -> None:
    # The first hub runs under a policy without Student.birthDate; the second under the shipped one.
    narrow = tmp_path / "narrow"
    narrow.mkdir()
    for name in ("model.conf", "roles.csv", "policy.csv"):
        shutil.copyfile(default_policy_dir() / name, narrow / name)
    with (narrow / "policy.csv").open("a", encoding="utf-8") as stream:
        stream.write("\np, member, Student.birthDate, read, *, deny\n")
        stream.write("p, school_records, Student.birthDate, read, *, deny\n")
    simulator = create_simulator(folder)
    state: SimulatorState = simulator.state.simulator
    url = f"sqlite+aiosqlite:///{tmp_path / 'mirror.db'}"
    with serving(simulator) as base:
        table = rest_table(base, mode="mirror")
        async with rest_hub(table, url, narrow) as first:
            assert "birth_date" not in _mirror(first).capabilities().entities[Entity.STUDENT].fields
        mark = len(state.queries)
        async with rest_hub(table, url) as second:
            adapter = _mirror(second)
            assert "birth_date" in adapter.capabilities().entities[Entity.STUDENT].fields
            assert adapter.store is not None
            stored = (await adapter.store.state("sis"))[Entity.STUDENT]
            assert stored.fields is not None and "birth_date" in stored.fields
    reread = {
        path.rsplit("/", 1)[-1]
        for path, query in zip(state.paths[mark:], state.queries[mark:], strict=True)
        if query in full_reads([query])
    }
    # Students (and the demographics joined into them) only: every other entity resumed.
    assert "students" in reread
    assert reread <= {"students", "demographics"}, reread
