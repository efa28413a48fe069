"""The real Clever v3.0 sample payloads (``../shared/data/clever/``, from
Clever's own Go client mocks) replayed through the adapter with respx, and
the mapped records checked field by field: ``M/D/YYYY`` birth dates, Y/N
flags, grade names, roles, contacts' relationships, sections' rosters.

Skipped, naming the folder, when the shared data is not beside the checkout.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.clever import CleverAdapter, capabilities
from hub.sdk import (
    Enrollment,
    Entity,
    FetchRequest,
    Guardian,
    Organization,
    Record,
    Section,
    Student,
    Teacher,
)
from tests.conftest import shared_path

from .conftest import TOKEN_ENV, clever_config, fetch_all

API = "https://api.clever.com/v3.0"


def _load(name: str) -> Any:
    return json.loads(shared_path("data", "clever", name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def samples() -> dict[str, Any]:
    return {
        "users": _load("users.sample.json"),
        "sections": _load("sections.sample.json"),
        "districts": _load("clever-go_tests_mocks_districts.json"),
        "tokens": _load("clever-go_auth_mocks_tokens.json"),
    }


@pytest.fixture
def token(samples: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """The district token exactly as Clever's token listing returns it."""
    (entry,) = samples["tokens"]["data"]
    assert entry["owner"]["type"] == "district"
    monkeypatch.setenv(TOKEN_ENV, entry["access_token"])
    return str(entry["access_token"])


def _by_role(users: dict[str, Any], role: str | None) -> list[Any]:
    return [item for item in users["data"] if role is None or role in item["data"]["roles"]]


@pytest.fixture
def clever(samples: dict[str, Any], token: str) -> Iterator[respx.MockRouter]:
    """Clever answering from the samples; ``role`` filters users as Clever does."""
    users = samples["users"]

    def list_users(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {token}"
        assert request.url.params["limit"] == "1000"
        data = _by_role(users, request.url.params.get("role"))
        return httpx.Response(200, json={"data": data, "links": users["links"]})

    def contacts_of(request: httpx.Request, student: str) -> httpx.Response:
        data = [
            item
            for item in _by_role(users, "contact")
            if any(
                link["student"] == student
                for link in item["data"]["roles"]["contact"]["student_relationships"]
            )
        ]
        return httpx.Response(200, json={"data": data, "links": []})

    def one_user(request: httpx.Request, user: str) -> httpx.Response:
        found = [item["data"] for item in users["data"] if item["data"]["id"] == user]
        if not found:
            return httpx.Response(404, json={"message": "Resource not found"})
        return httpx.Response(200, json={"data": found[0], "links": []})

    with respx.mock(assert_all_called=False) as router:
        host = "api.clever.com"
        router.get(host=host, path="/v3.0/districts").respond(200, json=samples["districts"])
        router.get(host=host, path="/v3.0/sections").respond(200, json=samples["sections"])
        router.get(host=host, path="/v3.0/users").mock(side_effect=list_users)
        router.get(host=host, path__regex=r"^/v3.0/users/(?P<student>\w+)/mycontacts$").mock(
            side_effect=contacts_of
        )
        router.get(host=host, path__regex=r"^/v3.0/users/(?P<user>\w+)$").mock(side_effect=one_user)
        yield router


async def _all(entity: Entity, identifier: str = "sis_id", **request: Any) -> list[Record]:
    config = clever_config("https://api.clever.com", identifier=identifier)
    fields = capabilities(config).entities[entity].fields
    adapter = CleverAdapter(config)
    try:
        await adapter.open()
        return await fetch_all(adapter, FetchRequest(entity=entity, fields=fields, **request))
    finally:
        await adapter.aclose()


def _us_date(text: str) -> dt.date:
    month, day, year = (int(part) for part in text.split("/"))
    return dt.date(year, month, day)


async def test_students_are_mapped_field_by_field(clever: respx.MockRouter, samples: dict[str, Any]) -> None:
    students = {r.vendor_id: r for r in await _all(Entity.STUDENT) if isinstance(r, Student)}
    raw = [item["data"] for item in _by_role(samples["users"], "student")]
    assert len(students) == len(raw) == 12
    steve = students["5a25ffb0c1bc2a00360003ed"]
    assert (steve.given_name, steve.middle_name, steve.family_name) == ("Steve", "G", "Ziemann")
    # The SIS id: what other sources' identifiers and the identity map's default rule carry.
    assert (steve.email, steve.username, steve.identifier) == ("z.steve@example.net", "stevez33", "100095233")
    assert steve.birth_date == dt.date(2007, 2, 11)  # "2/11/2007"
    assert (steve.grade_level, steve.sex) == ("KG", "male")  # "Kindergarten", "M"
    assert steve.hispanic_or_latino is True  # "Y"
    assert steve.races == ("blackOrAfricanAmerican",)
    assert steve.programs is None  # v3.0 without the program scopes: unknown, not "none"
    assert (steve.school_id, steve.school_ids) == ("5a25ff950a5f621109000005", ("5a25ff950a5f621109000005",))
    assert steve.preferred_name is None and steve.directory_opt_out is None
    grades = {
        "Kindergarten": "KG",
        "1": "01",
        "3": "03",
        "4": "04",
        "6": "06",
        "8": "08",
        "9": "09",
        "10": "10",
    }
    for obj in raw:
        record, role = students[obj["id"]], obj["roles"]["student"]
        assert record.birth_date == _us_date(role["dob"])
        assert record.grade_level == grades[role["grade"]]
        assert record.hispanic_or_latino is {"Y": True, "N": False}[role["hispanic_ethnicity"]]
        assert record.sex == {"M": "male", "F": "female"}[role["gender"]]
        assert record.identifier == role["sis_id"]
    assert students["5a25ffb0c1bc2a00360003f5"].races == ("demographicRaceTwoOrMoreRaces",)
    assert students["5a25ffb0c1bc2a00360003ee"].races == ("white",)  # "Caucasian"
    by_state_id = {
        r.vendor_id: r.identifier
        for r in await _all(Entity.STUDENT, identifier="state_id")
        if isinstance(r, Student)
    }
    assert by_state_id == {obj["id"]: obj["roles"]["student"]["state_id"] for obj in raw}


async def test_teachers_and_district_admins_are_staff_with_their_role(clever: respx.MockRouter) -> None:
    staff = {r.vendor_id: r for r in await _all(Entity.TEACHER) if isinstance(r, Teacher)}
    assert len(staff) == 15
    glover = staff["603ebb2ab452fb006c76396d"]
    assert (glover.given_name, glover.middle_name, glover.family_name) == ("Braeden", "L", "Glover")
    assert (glover.role, glover.identifier, glover.email) == (
        "teacher",
        "47",
        "braeden_glover@example.net",
    )
    assert glover.username == "braeden.gloverbraeden.gloverbraeden.gloverbraeden.glover"  # the mock's quirk
    assert glover.school_ids == ("5a25ff950a5f621109000004", "5a25ff950a5f621109000005")
    vicky = staff["603ebb2ab452fb006c7639ca"]
    assert (vicky.role, vicky.given_name, vicky.family_name) == ("districtAdministrator", "Vicky", "E")
    assert (vicky.identifier, vicky.username, vicky.school_ids) == (None, None, ())
    admins = await _all(Entity.TEACHER, filters={"role": ("districtAdministrator",)})
    assert {r.vendor_id for r in admins} == {
        "603ebb2ab452fb006c7639ca",
        "603ebb2ab452fb006c7639cb",
        "603ebb2ab452fb006c7639cc",
    }
    asked = {
        call.request.url.params.get("role")
        for call in clever.calls
        if call.request.url.path.endswith("/users")
    }
    assert "district_admin" in asked


async def test_contacts_are_guardians_of_their_students(clever: respx.MockRouter) -> None:
    guardians = {r.vendor_id: r for r in await _all(Entity.GUARDIAN) if isinstance(r, Guardian)}
    assert len(guardians) == 12
    berge = guardians["603ebb2bb452fb006c7639cd"]  # name: {"last": "Aaron Berge"} only
    assert (berge.given_name, berge.family_name, berge.email) == (
        None,
        "Aaron Berge",
        "aaron.berge@example.com",
    )
    assert (berge.phone, berge.identifier) == (None, None)  # "" both
    assert berge.student_ids == ("5a25ffb2c1bc2a00360007bf",)
    assert berge.relationship is None  # relationship "Other", type "Other"
    assert guardians["603ebb2bb452fb006c7639ce"].relationship == "guardian"  # type "Parent/Guardian"
    assert guardians["603ebb2bb452fb006c7639d1"].relationship == "relative"  # type "Family"


async def test_guardians_are_found_through_the_contacts_naming_a_student(clever: respx.MockRouter) -> None:
    # The sample is a slice of a district: its contacts name students outside it.
    rows = await _all(Entity.GUARDIAN, filters={"student_ids": ("5a25ffb2c1bc2a00360007bf",)})
    assert [r.vendor_id for r in rows] == ["603ebb2bb452fb006c7639cd"]
    (student,) = await _all(Entity.STUDENT, ids=("5a25ffb0c1bc2a00360003ed",))
    assert isinstance(student, Student) and student.guardian_ids == ()
    looked_up = [call.request.url.path for call in clever.calls if "/users/" in call.request.url.path]
    assert looked_up == [
        "/v3.0/users/5a25ffb2c1bc2a00360007bf/mycontacts",
        "/v3.0/users/5a25ffb0c1bc2a00360003ed",
        "/v3.0/users/5a25ffb0c1bc2a00360003ed/mycontacts",
    ]


async def test_sections_and_their_rosters(clever: respx.MockRouter, samples: dict[str, Any]) -> None:
    sections = {r.vendor_id: r for r in await _all(Entity.SECTION) if isinstance(r, Section)}
    assert len(sections) == 12
    first = sections["5a25ffc265e950634b00017c"]
    assert first.title == "Group Guidance - Greene - 0"
    assert (first.periods, first.grades, first.subjects) == (("0",), ("KG",), ("homeroom/advisory",))
    assert first.class_code is None  # section_number ""
    assert (first.course_id, first.school_id) == ("5a25ff963829500a3400020f", "5a25ff950a5f621109000004")
    assert first.term_ids == ("603ebb2ab452fb006c763964",)
    assert sections["5a25ffc265e950634b00017e"].grades == ("PK",)  # "PreKindergarten"
    enrollments = [r for r in await _all(Entity.ENROLLMENT) if isinstance(r, Enrollment)]
    raw = [item["data"] for item in samples["sections"]["data"]]
    assert len(enrollments) == sum(len(s["students"]) + len(s["teachers"]) for s in raw)
    mine = [e for e in enrollments if e.section_id == "5a25ffc265e950634b00017c"]
    teachers = [e for e in mine if e.role == "teacher"]
    assert [(e.person_id, e.primary) for e in teachers] == [
        ("603ebb2ab452fb006c763989", True),
        ("603ebb2ab452fb006c76398a", False),
        ("603ebb2ab452fb006c76398b", False),
        ("603ebb2ab452fb006c76398c", False),
    ]
    students = [e for e in mine if e.role == "student"]
    assert [e.person_id for e in students] == raw[0]["students"]
    assert all(e.school_id == "5a25ff950a5f621109000004" and e.primary is None for e in students)
    assert students[0].vendor_id == "5a25ffc265e950634b00017c:student:5a25ffb0c1bc2a0036000449"
    assert (students[0].begin_date, students[0].end_date) == (None, None)  # Clever has no enrollment dates


async def test_the_district(clever: respx.MockRouter) -> None:
    (district,) = await _all(Entity.ORGANIZATION, filters={"type": ("district",)})
    assert isinstance(district, Organization)
    assert (district.vendor_id, district.name) == ("5a0c91b95c7cc000010d417c", "#DEMO_DISTRICT")
    assert (district.type, district.identifier, district.parent_id) == ("district", None, None)
    assert not any(call.request.url.path.endswith("/schools") for call in clever.calls)
