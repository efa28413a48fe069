"""One student across sources: an SIS roster and an LMS gradebook holding the
same people under their own ids become one hub record; ambiguity is reported
and never merged."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.oneroster_csv import SPEC as CSV
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.federation.registry import SourceRegistry
from hub.model import RECORD_TYPES, Entity, Record, Student, data_fields
from hub.personas import pick_personas
from hub.sdk import FetchRequest
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing.memory import MemoryAdapter
from tests.support import READ_EVERYTHING, TODAY, RunningHub, make_district

ROSTER = (
    Entity.ORGANIZATION,
    Entity.ACADEMIC_SESSION,
    Entity.COURSE,
    Entity.SECTION,
    Entity.STUDENT,
    Entity.TEACHER,
    Entity.GUARDIAN,
    Entity.ENROLLMENT,
)
GRADEBOOK = (Entity.ASSIGNMENT, Entity.SCORE)
LMS_LINKS = ("student_id", "section_id", "assignment_id", "person_id")


async def _records(data_dir: Path) -> dict[Entity, list[Record]]:
    adapter = CSV.create(CSV.config(name="csv", kind="oneroster-csv", path=data_dir))
    await adapter.open()
    out = {}
    for entity, record_type in RECORD_TYPES.items():
        result = await adapter.fetch(FetchRequest(entity, frozenset(data_fields(record_type))))
        out[entity] = list(result.records)
    return out


def _lms_id(vendor_id: str) -> str:
    return "lms-" + vendor_id[::-1]


def _lms_copy(records: dict[Entity, list[Record]]) -> list[Record]:
    """The LMS's view: its own ids, the SIS id kept as identifier/class_code
    (like Canvas sis_user_id / sis_section_id), and the gradebook."""
    out: list[Record] = []
    for entity in (Entity.STUDENT, Entity.TEACHER):
        for row in records[entity]:
            out.append(
                dataclasses.replace(
                    row,
                    vendor_id=_lms_id(row.vendor_id),
                    identifier=row.vendor_id,
                    school_id=None,
                    school_ids=(),
                    guardian_ids=(),
                )
                if entity is Entity.STUDENT
                else dataclasses.replace(
                    row, vendor_id=_lms_id(row.vendor_id), identifier=row.vendor_id, school_ids=()
                )
            )
    for row in records[Entity.COURSE]:
        # No shared key: LMS course codes are their own (they merge through their sections).
        out.append(
            dataclasses.replace(
                row, vendor_id=_lms_id(row.vendor_id), course_code=None, org_id=None, school_year_id=None
            )
        )
    for row in records[Entity.SECTION]:
        out.append(
            dataclasses.replace(
                row,
                vendor_id=_lms_id(row.vendor_id),
                class_code=row.vendor_id,
                course_id=_lms_id(str(row.course_id)),
                school_id=None,
                term_ids=(),
            )
        )
    for entity in (Entity.ENROLLMENT, *GRADEBOOK):
        for row in records[entity]:
            changes = {
                name: _lms_id(value)
                for name in LMS_LINKS
                if isinstance(value := getattr(row, name, None), str)
            }
            out.append(dataclasses.replace(row, vendor_id=_lms_id(row.vendor_id), **changes))
    return out


@asynccontextmanager
async def two_source_hub(
    data_dir: Path,
    lms_records: Sequence[Record],
    sis_records: dict[Entity, list[Record]] | None = None,
    store_url: str | None = None,
) -> AsyncIterator[RunningHub]:
    records = sis_records or await _records(data_dir)
    sis = MemoryAdapter("sis", [r for e in ROSTER for r in records[e]])
    lms = MemoryAdapter("lms", list(lms_records))
    settings = load_settings(
        None, identity={"primary": "sis", "match": [{"source": "lms"}]}, server=READ_EVERYTHING
    )
    signer = DevSigner(secrets.token_bytes(32))
    hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
    hub.registry = SourceRegistry([sis, lms], {"sis": "memory", "lms": "memory"})
    if store_url is not None:
        await upgrade(store_url)
    app = create_app(hub, watch_policy=False, store_url=store_url)
    async with app.router.lifespan_context(app):
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client:
            yield RunningHub(hub, signer, client, personas)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 120)


DASHBOARD = """{ viewer { sections { edges { node { title sources { source vendorId }
  students { edges { node { id givenName sources { source vendorId }
    scores(first: 500) { edges { node { score assignment { title } sources { source } } } } } } } } } } } }"""


async def test_the_teacher_sees_sis_rosters_merged_with_lms_scores(district: Path) -> None:
    records = await _records(district)
    async with two_source_hub(district, _lms_copy(records)) as running:
        assert not running.hub.identity.ambiguities
        course = records[Entity.COURSE][0].vendor_id
        assert running.hub.identity.canonical(Entity.COURSE, "lms", _lms_id(course)) == ("sis", course)
        body = await running.query(DASHBOARD, persona="teacher")
        assert "errors" not in body, body.get("errors")
        # The teacher reads the scores of the sections they teach only.
        truth: dict[tuple[str, str], dict[str, float | None]] = {}
        titles = {a.vendor_id: a.title for a in records[Entity.ASSIGNMENT]}  # type: ignore[attr-defined]
        for score in records[Entity.SCORE]:
            key = (score.student_id, score.section_id)  # type: ignore[attr-defined]
            truth.setdefault(key, {})[titles[score.assignment_id]] = score.score  # type: ignore[attr-defined]
        seen = 0
        for section in body["data"]["viewer"]["sections"]["edges"]:
            section_sources = {ref["source"]: ref["vendorId"] for ref in section["node"]["sources"]}
            assert set(section_sources) == {"sis", "lms"}
            ids = [edge["node"]["id"] for edge in section["node"]["students"]["edges"]]
            assert len(ids) == len(set(ids)), "a student is listed twice"
            for edge in section["node"]["students"]["edges"]:
                student = edge["node"]
                sources = {ref["source"]: ref["vendorId"] for ref in student["sources"]}
                assert set(sources) == {"sis", "lms"}
                assert sources["lms"] == _lms_id(sources["sis"])
                got = {
                    s["node"]["assignment"]["title"]: s["node"]["score"] for s in student["scores"]["edges"]
                }
                assert all(s["node"]["sources"][0]["source"] == "lms" for s in student["scores"]["edges"])
                assert got == truth.get((sources["sis"], section_sources["sis"]), {})
                seen += 1
        assert seen > 20


async def test_conflicting_identities_are_reported_and_kept_apart(district: Path) -> None:
    records = await _records(district)
    lms = _lms_copy(records)
    lms_students = [r for r in lms if isinstance(r, Student)]
    sis_students = records[Entity.STUDENT]
    # 1. Two LMS users claim the same SIS student.
    claimant = dataclasses.replace(lms_students[1], identifier=lms_students[0].identifier)
    # 2. One LMS user's only key (an e-mail) belongs to two SIS students.
    shared = "shared.family@example.org"
    sis_students[2] = dataclasses.replace(sis_students[2], email=shared)
    sis_students[3] = dataclasses.replace(sis_students[3], email=shared)
    stranger = dataclasses.replace(lms_students[4], identifier="no-such-sis-id", email=shared.upper())
    lms = [claimant if r is lms_students[1] else stranger if r is lms_students[4] else r for r in lms]
    async with two_source_hub(district, lms, records) as running:
        identity = running.hub.identity
        reasons = {a.vendor_ids: a for a in identity.ambiguities if a.entity is Entity.STUDENT}
        claimed = reasons[tuple(sorted((lms_students[0].vendor_id, lms_students[1].vendor_id)))]
        assert "claim the same record" in claimed.reason
        two = reasons[(stranger.vendor_id,)]
        assert "matches 2 records" in two.reason and two.key == "email=email"
        for vendor_id in (lms_students[0].vendor_id, lms_students[1].vendor_id, stranger.vendor_id):
            assert identity.canonical(Entity.STUDENT, "lms", vendor_id) == ("lms", vendor_id)
        body = await running.query(
            "query($id: ID!) { student(id: $id) { sources { source note } } }",
            variables={"id": identity.hub_id(Entity.STUDENT, "sis", sis_students[0].vendor_id)},
        )
        refs = body["data"]["student"]["sources"]
        assert [ref["source"] for ref in refs] == ["sis"]
        assert "kept apart" in refs[0]["note"] and "claim the same record" in refs[0]["note"]
        # Everyone else was merged.
        merged = identity.canonical(Entity.STUDENT, "lms", lms_students[5].vendor_id)
        assert merged == ("sis", lms_students[5].identifier)


async def test_links_are_remembered_across_restarts(district: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    records = await _records(district)
    lms = _lms_copy(records)
    async with two_source_hub(district, lms, store_url=url) as running:
        first = running.hub.identity
        student = next(r for r in lms if isinstance(r, Student))
        merged_id = first.hub_id(Entity.STUDENT, "lms", student.vendor_id)
        assert first.canonical(Entity.STUDENT, "lms", student.vendor_id)[0] == "sis"
    # The LMS loses the key that made the link (and the e-mail changes): the link holds.
    changed = [
        dataclasses.replace(r, identifier=None, email="changed@example.org") if r is student else r
        for r in lms
    ]
    async with two_source_hub(district, changed, store_url=url) as running:
        assert running.hub.identity.hub_id(Entity.STUDENT, "lms", student.vendor_id) == merged_id
    # Without the store, the same change leaves the LMS record on its own.
    async with two_source_hub(district, changed) as running:
        assert running.hub.identity.hub_id(Entity.STUDENT, "lms", student.vendor_id) != merged_id
