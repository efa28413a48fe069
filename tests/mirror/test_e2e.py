"""End to end over real loopback HTTP: a hub over a ``mode = "mirror"`` OneRoster
REST source answers every persona's dashboard with the same JSON as the same
hub in live mode, without one upstream request during the queries; a stopped
vendor leaves it answering, with the age of its data; a field no grant reads
is never asked of the vendor nor stored, and is erased when the last grant goes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.oneroster_rest.simulator import SimulatorState, create_simulator
from hub.assemble import default_policy_dir
from hub.mirror import MirroredAdapter
from hub.mirror.tables import entity_table
from hub.model import Entity
from hub.sdk import FetchRequest, FetchResult
from hub.testing.server import serving
from tests.support import RunningHub, make_district

from .folder import change_first_score, full_reads, stored_score
from .hubs import rest_hub, rest_table

DASHBOARD = """query TeacherDashboard {
  viewer { sections { edges { node { id title
    students { edges { node { id givenName familyName preferredName gradeLevel
      scores(first: 10) { edges { node { score scoreStatus late missing } } }
      attendance(from: "2026-11-10") { date status } } } }
  } } } }
}"""

VIEWER = """{
  viewer {
    roles
    person { id givenName familyName ... on Teacher { email phone schools { name } } }
    sections { totalCount edges { node {
      id title classCode
      students(first: 50) { totalCount edges { node { id givenName familyName } } }
      assignments(first: 10) { totalCount edges { node { title category pointsPossible dueDate } } }
    } } }
    students(first: 60) { totalCount pageInfo { hasNextPage endCursor } edges { node {
      id givenName familyName preferredName email gradeLevel programs school { name }
      guardians { givenName familyName email phone relationship }
      scores(first: 10) { edges { node { score scoreStatus late missing submittedAt assignment { title } } } }
      courseGrades { letterGrade percent }
      attendance { date status }
    } } }
  }
  students(first: 20, filter: {search: "an"}) { totalCount edges { node { id givenName familyName } } }
}"""

FAMILY = """{
  viewer { person { id givenName familyName } students { edges { node {
    id givenName familyName gradeLevel school { name }
    sections(first: 10) { edges { node { title teachers { givenName familyName } } } }
    scores(first: 10) { edges { node { score scoreStatus late missing assignment { title dueDate } } } }
    courseGrades { letterGrade percent term { title } }
    attendance { date status }
  } } } }
}"""

SOURCES = "{ sources { name state mode lastSyncAt lagSeconds lastError } }"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("mirror-e2e"), 60)


pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")


def _url(tmp_path: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


async def _answers(running: RunningHub) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for persona in running.personas:
        for name, query in (("dashboard", DASHBOARD), ("viewer", VIEWER), ("family", FAMILY)):
            body = await running.query(query, persona=persona)
            assert body["_status"] == 200, body
            out[(persona, name)] = body
    return out


def _mirror(running: RunningHub) -> MirroredAdapter:
    adapter = running.hub.registry.adapters["sis"]
    assert isinstance(adapter, MirroredAdapter)
    return adapter


async def test_the_mirror_answers_every_persona_as_live_without_the_vendor(
    district: Path, tmp_path: Path
) -> None:
    simulator = create_simulator(district)
    state: SimulatorState = simulator.state.simulator
    with serving(simulator) as base:
        async with rest_hub(rest_table(base, mode="live"), _url(tmp_path, "live.db")) as live:
            expected = await _answers(live)
            live_personas = {name: p.sourced_id for name, p in live.personas.items()}
        async with rest_hub(rest_table(base, mode="mirror"), _url(tmp_path, "mirror.db")) as mirrored:
            assert {name: p.sourced_id for name, p in mirrored.personas.items()} == live_personas
            assert set(live_personas) == {"district_admin", "principal", "teacher", "guardian", "student"}
            before = state.data_requests
            got = await _answers(mirrored)
            assert state.data_requests == before, "the mirror asked the vendor during the queries"
    answered = 0
    for key, body in expected.items():
        answer = dict(got[key])
        extensions = answer.pop("extensions", None)
        assert answer == body, key
        if body["data"] is not None:  # refused by the policy gate: nothing was read
            answered += 1
            assert extensions is not None and list(extensions["freshness"]) == ["sis"], key
    refused = {key: body["errors"][0]["message"] for key, body in expected.items() if body["data"] is None}
    assert answered >= 11, refused
    # Not vacuous: the dashboards hold rows (a teacher's students and their scores).
    teacher = expected[("teacher", "viewer")]["data"]["viewer"]
    assert teacher["students"]["edges"]
    assert any(s["node"]["scores"]["edges"] for s in teacher["students"]["edges"])


async def test_a_stopped_vendor_leaves_the_mirror_answering_with_its_age(
    district: Path, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(district, tmp_path / "district"))
    vendor = create_simulator(folder)
    state: SimulatorState = vendor.state.simulator
    simulator = serving(vendor)
    base = simulator.__enter__()
    stopped = False
    try:
        async with rest_hub(rest_table(base, mode="mirror"), _url(tmp_path, "mirror.db")) as running:
            health = await running.client.get("/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert health.json()["sources"]["sis"]["mode"] == "mirror"
            first = await running.query(DASHBOARD, persona="teacher")
            # The vendor goes away (its server stops); the hub keeps serving.
            simulator.__exit__(None, None, None)
            stopped = True
            adapter = _mirror(running)
            assert adapter.sync is not None
            await adapter.sync.sync_once(Entity.SCORE)  # the vendor is gone: recorded, not raised
            assert adapter.freshness.last_error is not None
            answer = await running.query(DASHBOARD, persona="teacher")
            assert answer["_status"] == 200 and "errors" not in answer
            assert answer["data"] == first["data"] and answer["data"]["viewer"]["sections"]["edges"]
            synced = adapter.freshness.oldest_sync_at
            assert synced is not None
            assert answer["extensions"]["freshness"] == {"sis": synced.isoformat().replace("+00:00", "Z")}
            sources = await running.query(SOURCES, persona="district_admin")
            (status,) = sources["data"]["sources"]
            assert status["mode"] == "mirror" and status["state"] == "DEGRADED"
            assert status["lastSyncAt"] is not None and status["lagSeconds"] >= 0
            assert "last sync failed" in status["lastError"]
            health = await running.client.get("/healthz")
            assert health.json()["sources"]["sis"]["lagSeconds"] >= 0
            # A score changes while the vendor is down; it comes back on the same address.
            changed = change_first_score(folder, "12.5")
            mark = len(state.queries)
            with serving(vendor, port=int(base.rsplit(":", 1)[1])):
                await adapter.sync.sync_once(Entity.SCORE)
            assert adapter.freshness.last_error is None
            assert await stored_score(adapter, changed) == 12.5
            assert state.queries[mark:] and full_reads(state.queries[mark:]) == [], "not a delta"
            down_since = status["lastSyncAt"]
            # Healthy again as soon as the sync is, with no query reading the source in between.
            sources = await running.query(SOURCES, persona="district_admin")
            (status,) = sources["data"]["sources"]
            assert (status["state"], status["lastError"]) == ("UP", None)
            again = await running.query(DASHBOARD, persona="teacher")
            assert again["_status"] == 200 and "errors" not in again
            sources = await running.query(SOURCES, persona="district_admin")
            (status,) = sources["data"]["sources"]
            assert (status["state"], status["lastError"]) == ("UP", None)
            assert _instant(status["lastSyncAt"]) > _instant(down_since)
    finally:
        if not stopped:
            simulator.__exit__(None, None, None)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _policy_without_birth_dates(target: Path) -> Path:
    """The shipped policy with no grant of ``Student.birthDate`` (and without its
    test cases, which expect that grant)."""
    target.mkdir()
    for name in ("model.conf", "roles.csv", "policy.csv"):
        shutil.copyfile(default_policy_dir() / name, target / name)
    with (target / "policy.csv").open("a", encoding="utf-8") as stream:
        # Every role holds member, except the group school staff inherit from.
        stream.write("\np, member, Student.birthDate, read, *, deny\n")
        stream.write("p, school_records, Student.birthDate, read, *, deny\n")
    return target


async def _stored_birth_dates(running: RunningHub) -> int:
    store = _mirror(running).store
    assert store is not None
    table = entity_table(Entity.STUDENT)
    async with store.engine.connect() as conn:
        query = select(func.count()).select_from(table).where(table.c.birth_date.is_not(None))
        return int((await conn.execute(query)).scalar_one())


async def test_a_field_no_grant_reads_is_never_asked_for_nor_stored(district: Path, tmp_path: Path) -> None:
    policy = _policy_without_birth_dates(tmp_path / "policy")
    with serving(create_simulator(district)) as base:
        async with rest_hub(rest_table(base, mode="mirror"), _url(tmp_path, "m.db"), policy) as running:
            assert await _stored_birth_dates(running) == 0
            adapter = _mirror(running)
            students = adapter.capabilities().entities[Entity.STUDENT].fields
            assert "birth_date" not in students and "sex" in students  # sex is still granted
            # What the mirror asks of the vendor's adapter on a full read.
            asked: list[FetchRequest] = []
            inner_fetch = adapter.inner.fetch

            async def recording(request: FetchRequest) -> FetchResult:
                asked.append(request)
                return await inner_fetch(request)

            adapter.inner.fetch = recording  # type: ignore[method-assign]
            assert adapter.sync is not None
            await adapter.sync.full(Entity.STUDENT)
            assert asked and all("birth_date" not in request.fields for request in asked)
            assert any("sex" in request.fields for request in asked)
            assert await _stored_birth_dates(running) == 0


async def test_the_vendor_is_not_asked_for_a_field_no_grant_reads(district: Path, tmp_path: Path) -> None:
    policy = _policy_without_birth_dates(tmp_path / "policy")
    simulator = create_simulator(district)
    state: SimulatorState = simulator.state.simulator
    with serving(simulator) as base:
        async with rest_hub(rest_table(base, mode="mirror"), _url(tmp_path, "m.db"), policy):
            pass
    asked = [q["fields"] for q in state.queries if "fields" in q]
    assert asked, "the adapter pushed no projection to the vendor"
    assert [fields for fields in asked if "birthDate" in fields] == []


async def test_a_withdrawn_field_is_erased_at_once(district: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), policy, ignore=shutil.ignore_patterns("tests"))
    with serving(create_simulator(district)) as base:
        async with rest_hub(rest_table(base, mode="mirror"), _url(tmp_path, "m.db"), policy) as running:
            assert await _stored_birth_dates(running) > 0  # granted: kept
            _policy_without_birth_dates(tmp_path / "next")
            shutil.copyfile(tmp_path / "next" / "policy.csv", policy / "policy.csv")
            assert running.hub.policy.try_reload().swapped
            adapter = _mirror(running)
            assert await adapter.policy_changed()
            assert await _stored_birth_dates(running) == 0
            running.hub.registry.refresh_capabilities("sis")
            assert "birth_date" not in running.hub.registry.supported_fields("sis", Entity.STUDENT)
