"""Issue #10, "Done when" (first item), end to end over real loopback HTTP: the
synthetic district served by a OneRoster REST SIS and a Canvas LMS (both
simulated, merged by the demo's identity map) answers every persona's
dashboards from the mirror with the same JSON as the live path, and the
vendors see not one data request while the mirror answers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.canvas.simulator import SimulatorConfig as CanvasSimulatorConfig
from adapters.canvas.simulator import SimulatorState as CanvasState
from adapters.canvas.simulator import create_simulator as create_canvas
from adapters.oneroster_rest.simulator import SimulatorConfig as RestSimulatorConfig
from adapters.oneroster_rest.simulator import SimulatorState as RestState
from adapters.oneroster_rest.simulator import create_simulator as create_rest
from bench.dashboard import QUERY as TEACHER_DASHBOARD
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.demo import IDENTITY, LMS_NAME
from hub.federation.clock import Clock
from hub.mirror import MirroredAdapter
from hub.personas import pick_personas
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing.server import serving
from tests.support import TODAY, RunningHub, make_district

from .hubs import CLIENT_ID_ENV, CLIENT_SECRET_ENV, rest_table, until_ready

STUDENTS = 50
PERSONAS = {"district_admin", "principal", "teacher", "guardian", "student"}
LMS_TOKEN_ENV = "HOMEROOM_TEST_MIRROR_CANVAS_TOKEN"
# Syncs are not what this test is about: no interval may fall due while the
# mirror answers, so every vendor request counted then would be a query's.
QUIET_SYNC = {"mirror_rosters_seconds": 3600, "mirror_gradebook_seconds": 3600}
# Searches and listings are read a few rows a page, so that they take several
# cursors; bounded so a cursor that never ends fails the test instead of hanging it.
MAX_PAGES = 40

# ``sources`` on records both vendors hold shows the identity map merged them.
FAMILY = """{
  viewer { person { id givenName familyName ... on Guardian { relationship students { id givenName } } }
  students { totalCount edges { node {
    id givenName familyName gradeLevel sources { source vendorId } school { name }
    sections(first: 10) { edges { node {
      title classCode sources { source vendorId } teachers { givenName familyName } } } }
    scores(first: 20) { totalCount edges { node {
      score scoreStatus late missing submittedAt sources { source vendorId }
      assignment { title dueDate pointsPossible } } } }
    courseGrades { letterGrade percent term { title } section { title } }
    attendance(from: "2026-09-01") { date status }
  } } } }
}"""

OWN_VIEW = """{
  viewer { roles person { id givenName familyName preferredName
    ... on Student { email gradeLevel sources { source vendorId }
      school { name } guardians { givenName familyName }
      sections { totalCount edges { node { title
        assignments(first: 10) { edges { node {
          title category dueDate pointsPossible sources { source vendorId } } } }
      } } }
      scores(first: 25) { edges { node { score scoreStatus late missing assignment { title } } } }
      courseGrades { letterGrade percent }
      attendance { date status } } } }
}"""

SCHOOLS = """{
  viewer { person { ... on Teacher { schools { id name identifier } } } }
  schools { id name type identifier parent { name } children { name } }
}"""

SCHOOL_ROSTER = """query($school: ID!) {
  students(first: 10, filter: {schoolId: $school}) { totalCount edges { node { id givenName gradeLevel } } }
  sections(first: 10, filter: {schoolId: $school}) { totalCount edges { node { id title classCode } } }
}"""

SEARCH = """query($after: String) {
  students(first: 8, after: $after, filter: {search: "a"}) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id givenName familyName gradeLevel } }
  }
}"""

SECTION_PAGES = """query($after: String) {
  sections(first: 10, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id title classCode sources { source vendorId } teachers { familyName } } }
  }
}"""

Answers = dict[tuple[str, str], Any]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("mirror-two-sources"), STUDENTS)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    rest = RestSimulatorConfig()
    monkeypatch.setenv(CLIENT_ID_ENV, rest.client_id)
    monkeypatch.setenv(CLIENT_SECRET_ENV, rest.client_secret)
    monkeypatch.setenv(LMS_TOKEN_ENV, CanvasSimulatorConfig().token)


pytestmark = pytest.mark.usefixtures("fast_switching")


def _canvas_table(base_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": LMS_NAME,
        "kind": "canvas",
        "base_url": base_url,
        "account_id": "self",
        "token_env": LMS_TOKEN_ENV,
        **overrides,
    }


@asynccontextmanager
async def _two_source_hub(tables: tuple[dict[str, Any], ...], store_url: str) -> AsyncIterator[RunningHub]:
    """A hub over ``tables`` with the demo's identity map, assembled as ``homeroom serve`` does."""
    signer = DevSigner(secrets.token_bytes(32))
    settings = load_settings(None, sources=tables, identity=IDENTITY, store={"url": store_url})
    await upgrade(store_url)
    hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
    app = create_app(hub, watch_policy=False, store_url=store_url)
    async with app.router.lifespan_context(app):
        await until_ready(hub)  # mirrors: their first sync runs in the background
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, personas)


async def _ask(running: RunningHub, persona: str, query: str, **variables: Any) -> dict[str, Any]:
    body = await running.query(query, persona=persona, variables=variables or None)
    assert body["_status"] == 200, (persona, body.get("errors"))
    return body


async def _pages(running: RunningHub, persona: str, query: str, root: str) -> list[dict[str, Any]]:
    """Every page of ``root`` for ``persona``, following ``endCursor``."""
    pages: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        body = await _ask(running, persona, query, after=after)
        pages.append(body)
        if body.get("data") is None:
            return pages
        info = body["data"][root]["pageInfo"]
        if not info["hasNextPage"]:
            return pages
        after = info["endCursor"]
    raise AssertionError(f"{root} for {persona} did not end within {MAX_PAGES} pages")


async def _answers(running: RunningHub) -> Answers:
    """Every persona's answer to every dashboard query (refusals included: they must match too)."""
    out: Answers = {}
    for persona in running.personas:
        for name, query in (("teacher", TEACHER_DASHBOARD), ("family", FAMILY), ("own", OWN_VIEW)):
            out[(persona, name)] = await _ask(running, persona, query)
        schools = await _ask(running, persona, SCHOOLS)
        out[(persona, "schools")] = schools
        listed = (schools.get("data") or {}).get("schools") or []
        # The roster of the school listed first: the same school in both modes,
        # or the schools answers already differ.
        if listed:
            out[(persona, "school roster")] = await _ask(
                running, persona, SCHOOL_ROSTER, school=listed[0]["id"]
            )
        out[(persona, "search")] = await _pages(running, persona, SEARCH, "students")
        out[(persona, "sections")] = await _pages(running, persona, SECTION_PAGES, "sections")
    return out


def _without_freshness(answer: Any) -> Any:
    """``answer`` with ``extensions.freshness`` (the mirror's data age) left out, recursively over pages."""
    if isinstance(answer, list):
        return [_without_freshness(page) for page in answer]
    out = dict(answer)
    extensions = dict(out.pop("extensions", None) or {})
    extensions.pop("freshness", None)
    if extensions:
        out["extensions"] = extensions
    return out


def _sources_of(node: dict[str, Any]) -> set[str]:
    return {ref["source"] for ref in node["sources"]}


def _bodies(answer: Any) -> list[dict[str, Any]]:
    return answer if isinstance(answer, list) else [answer]


def _data_requests(rest: RestState, canvas: CanvasState) -> dict[str, int]:
    # Canvas counts every API request (its /healthz is not one); OneRoster its data requests.
    return {"sis": rest.data_requests, LMS_NAME: canvas.requests}


async def test_two_mirrored_sources_answer_every_persona_as_live_without_the_vendors(
    district: Path, tmp_path: Path
) -> None:
    rest_app, canvas_app = create_rest(district), create_canvas(district)
    rest: RestState = rest_app.state.simulator
    canvas: CanvasState = canvas_app.state.simulator
    with serving(rest_app) as sis_url, serving(canvas_app) as lms_url:
        live_tables = (rest_table(sis_url, mode="live"), _canvas_table(lms_url, mode="live"))
        async with _two_source_hub(live_tables, f"sqlite+aiosqlite:///{tmp_path / 'live.db'}") as live:
            assert not live.hub.identity.ambiguities, [str(a) for a in live.hub.identity.ambiguities]
            live_personas = {name: p.sourced_id for name, p in live.personas.items()}
            before = _data_requests(rest, canvas)
            expected = await _answers(live)
            # The counters see these queries: live, each source was asked.
            after = _data_requests(rest, canvas)
            assert all(after[name] > before[name] for name in after), (before, after)
        mirrored_tables = (
            rest_table(sis_url, mode="mirror", **QUIET_SYNC),
            _canvas_table(lms_url, mode="mirror", **QUIET_SYNC),
        )
        async with _two_source_hub(mirrored_tables, f"sqlite+aiosqlite:///{tmp_path / 'm.db'}") as mirrored:
            assert {name: p.sourced_id for name, p in mirrored.personas.items()} == live_personas
            assert set(live_personas) == PERSONAS
            adapters = mirrored.hub.registry.adapters
            assert all(isinstance(adapters[name], MirroredAdapter) for name in ("sis", LMS_NAME))
            before = _data_requests(rest, canvas)
            got = await _answers(mirrored)
            assert _data_requests(rest, canvas) == before, "a mirrored source asked its vendor during queries"
    assert got.keys() == expected.keys()
    for key, body in expected.items():
        assert _without_freshness(got[key]) == _without_freshness(body), key
    answered = {persona for (persona, _), body in expected.items() if _bodies(body)[0]["data"] is not None}
    assert answered == PERSONAS
    for key, answer in got.items():
        for body in _bodies(answer):
            if body["data"] is not None:  # executed: it says how old each mirror's data is
                assert set(body["extensions"]["freshness"]) == {"sis", LMS_NAME}, key
    # Not vacuous: the answers hold rows merged from both sources, for the personas that read them.
    teacher = expected[("teacher", "teacher")]["data"]["viewer"]["sections"]["edges"]
    assert any(s["node"]["students"]["edges"] for s in teacher)
    children = expected[("guardian", "family")]["data"]["viewer"]["students"]["edges"]
    assert children and any(c["node"]["scores"]["edges"] for c in children)
    assert any(c["node"]["attendance"] for c in children)
    assert set().union(*(_sources_of(c["node"]) for c in children)) == {"sis", LMS_NAME}
    # The gradebook is Canvas's: its mirror, not only the SIS's, answered.
    assert any(LMS_NAME in _sources_of(e["node"]) for c in children for e in c["node"]["scores"]["edges"])
    assert expected[("student", "own")]["data"]["viewer"]["person"]["scores"]["edges"]
    assert expected[("principal", "schools")]["data"]["schools"]
    searched = expected[("district_admin", "search")]
    assert len(searched) > 1 and all(page["data"]["students"]["edges"] for page in searched)
