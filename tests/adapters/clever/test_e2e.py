"""End to end over loopback HTTP: a hub whose source is the simulated Clever
answers a roster query (sections, their teachers and students, the students'
guardians) exactly as a hub over the same generated district's CSV set, the
ground truth. A failing Clever gives a partial answer naming the source.

Hub ids differ by source, so answers are compared without ids, lists in a
canonical order. Only fields Clever carries are asked; ``races`` are compared
as Clever can carry them (one value: several races are "two or more").
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.clever.simulator import SimulatorConfig, SimulatorState, create_simulator
from hub.sdk import Entity, FetchRequest, Person
from hub.testing.server import serving
from tests.support import make_district, running_hub

from .conftest import clever_table
from .hubs import clever_hub

ROSTER = """
{ sections(first: 100) { totalCount edges { node {
    title classCode periods
    school { name identifier type parent { name } }
    course { title courseCode }
    terms { title startDate endDate }
    teachers { givenName familyName middleName email username identifier }
    students(first: 100) { totalCount edges { node {
        givenName familyName middleName email username identifier gradeLevel birthDate sex races
        hispanicOrLatino programs school { name }
        guardians { givenName familyName middleName email phone relationship
            students { givenName familyName } }
    } } }
} } } }
"""
TWO_OR_MORE = "demographicRaceTwoOrMoreRaces"


def _canonical(value: Any, key: str = "") -> Any:
    """The answer without hub ids and cursors, lists sorted, races as Clever carries them."""
    if key == "races" and isinstance(value, list):
        return [TWO_OR_MORE] if len(value) > 1 else value
    if isinstance(value, dict):
        return {k: _canonical(item, k) for k, item in value.items() if k not in ("id", "cursor", "endCursor")}
    if isinstance(value, list):
        return sorted((_canonical(item) for item in value), key=repr)
    return value


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("clever-e2e"), 120)


@pytest.fixture(scope="module")
def fast_switching() -> Iterator[None]:
    # The simulator runs in a thread of this process: hand the GIL over more
    # often than every 5 ms, or each loopback request waits for it.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture(scope="module")
def clever_app(district: Path) -> Starlette:
    return create_simulator(district, SimulatorConfig(api_version="v3.1"))


@pytest.fixture(scope="module")
def clever_url(clever_app: Starlette, fast_switching: None) -> Iterator[str]:
    with serving(clever_app) as base_url:
        yield base_url


async def test_the_roster_equals_the_generated_ground_truth(district: Path, clever_url: str) -> None:
    async with running_hub(district) as csv_hub:
        ground_truth = await csv_hub.query(ROSTER, persona="district_admin")
    assert "errors" not in ground_truth, ground_truth.get("errors")
    # OneRoster's identifier column is the state id: ask Clever for that key here.
    table = clever_table(clever_url, api_version="v3.1", identifier="state_id")
    async with clever_hub(table) as hub:
        assert hub.hub.registry.states["clever"].state == "UP"
        assert set(hub.personas) >= {"district_admin", "principal", "teacher", "guardian", "student"}
        body = await hub.query(ROSTER, persona="district_admin")
    assert body["_status"] == 200
    assert "errors" not in body, body.get("errors")
    sections = body["data"]["sections"]["edges"]
    # Not trivially equal: every section, most with students, guardians behind them.
    assert len(sections) == ground_truth["data"]["sections"]["totalCount"] == 91
    students = [s for section in sections for s in section["node"]["students"]["edges"]]
    assert len(students) > 600
    assert sum(1 for s in students if s["node"]["guardians"]) > 500
    assert _canonical(body["data"]) == _canonical(ground_truth["data"])


async def test_a_guardian_sees_their_children_through_clever_contacts(clever_url: str) -> None:
    query = "{ viewer { person { ... on Guardian { relationship students { givenName gradeLevel } } } } }"
    async with clever_hub(clever_table(clever_url, api_version="v3.1")) as hub:
        body = await hub.query(query, persona="guardian")
    assert "errors" not in body, body.get("errors")
    children = body["data"]["viewer"]["person"]["students"]
    assert children and all(child["gradeLevel"] for child in children)


async def test_clever_records_merge_with_the_sis_on_configured_keys(district: Path, clever_url: str) -> None:
    """Clever beside the OneRoster SIS it syncs from: people match on sis_id
    (the default rule ``vendor_id=identifier``, else e-mail), sections on
    their class code, courses on their number; nothing is ambiguous."""
    sis = {"name": "sis", "kind": "oneroster-csv", "path": str(district)}
    rules = {
        "source": "clever",
        "sections": ["class_code=class_code"],
        "courses": ["course_code=course_code"],
    }
    async with clever_hub(
        sis, clever_table(clever_url, api_version="v3.1"), identity={"primary": "sis", "match": [rules]}
    ) as hub:
        identity = hub.hub.identity
        clever = hub.hub.registry.adapters["clever"]
        people = {
            entity: (
                await clever.fetch(FetchRequest(entity=entity, fields=frozenset({"identifier", "email"})))
            ).records
            for entity in (Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN)
        }
        body = await hub.query(
            "{ students(first: 5) { edges { node { sources { source } } } } }", persona="district_admin"
        )
    assert not identity.ambiguities, [str(a) for a in identity.ambiguities]
    for entity, rows in people.items():
        for row in rows:
            assert isinstance(row, Person)
            primary = identity.canonical(entity, "clever", row.vendor_id)
            assert primary[0] == "sis", (entity, row)
            if row.identifier:  # district admins have no sis_id: matched by e-mail
                assert primary == ("sis", row.identifier)
    keys = Counter((entity, key) for entity, _, _, key in identity.links())
    assert keys[(Entity.STUDENT, "vendor_id=identifier")] == len(people[Entity.STUDENT]) == 120
    assert keys[(Entity.TEACHER, "email=email")] == 2  # the district admins
    assert keys[(Entity.SECTION, "class_code=class_code")] == 91
    assert keys[(Entity.COURSE, "course_code=course_code")] > 0
    sources = [{s["source"] for s in e["node"]["sources"]} for e in body["data"]["students"]["edges"]]
    assert sources and all(found == {"sis", "clever"} for found in sources)


async def test_a_failing_clever_gives_a_partial_answer_naming_the_source(
    clever_app: Starlette, clever_url: str
) -> None:
    query = """{ sections(first: 3) { edges { node { title
        students(first: 5) { edges { node { givenName } } } } } } }"""
    table = clever_table(clever_url, api_version="v3.1", retries=1, backoff_base=0.05, total_timeout=5)
    async with clever_hub(table) as hub:
        state: SimulatorState = clever_app.state.simulator
        original = state.config
        state.config = replace(original, error_rate=1.0, error_status=503, fault_paths=("/v3.1/users",))
        try:
            before = state.requests_to("/v3.1/users")
            started = time.monotonic()
            body = await hub.query(query, persona="district_admin")
            elapsed = time.monotonic() - started
            tries = state.requests_to("/v3.1/users") - before
        finally:
            state.config = original
    assert body["_status"] == 200 and elapsed < 5
    sections = body["data"]["sections"]["edges"]
    assert [s["node"]["title"] for s in sections] and all(
        s["node"]["students"]["edges"] == [] for s in sections
    )
    (error,) = [e for e in body["errors"] if e.get("extensions", {}).get("source") == "clever"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["message"].startswith("source 'clever': ")
    assert "answered 503: simulated failure" in error["message"]
    assert tries >= 2  # the first attempt and one retry


async def test_a_wrong_token_leaves_the_source_down_with_a_clear_reason(
    clever_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEROOM_TEST_CLEVER_TOKEN", "not-the-token")
    async with clever_hub(clever_table(clever_url, api_version="v3.1")) as hub:
        health = (await hub.client.get("/healthz")).json()
        body = await hub.query(
            "{ sections(first: 1) { edges { node { title } } } }", persona="district_admin"
        )
    assert health["sources"]["clever"]["state"] != "UP"
    assert "HOMEROOM_TEST_CLEVER_TOKEN" in health["sources"]["clever"]["error"]
    assert "not-the-token" not in str(health) + str(body)
    (error,) = [e for e in body["errors"] if e.get("extensions", {}).get("source") == "clever"]
    assert error["extensions"]["code"] == "SOURCE_AUTH_FAILED"
