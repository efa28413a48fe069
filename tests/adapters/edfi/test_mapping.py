"""Ed-Fi payloads replayed with respx, mapped field by field.

The payloads follow the Ed-Fi documentation's Grand Bend samples (student
604822, section ``25590100102Trad220ALG112011``) in DS 5 and DS 4 shapes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.edfi import EdFiAdapter
from hub.sdk import (
    AttendanceEvent,
    CourseGrade,
    Entity,
    FetchRequest,
    Guardian,
    Score,
    SourceAuthFailed,
    Student,
)
from hub.sdk.http import RequestRejected
from tests.adapters.edfi.conftest import edfi_config, every_field

BASE = "http://ods.test"
API = f"{BASE}/data/v3/ed-fi"
D = "uri://ed-fi.org"
SECTION_REF = {
    "localCourseCode": "ALG-1",
    "schoolId": 255901001,
    "schoolYear": 2022,
    "sectionIdentifier": "25590100102Trad220ALG112011",
    "sessionName": "2021-2022 Fall Semester",
}
SECTION_ID = "section/ALG-1/255901001/2022/2021-2022 Fall Semester/25590100102Trad220ALG112011"
STUDENT = {
    "id": "e313650d5b074fe0a4beb8973043ed29",
    "studentUniqueId": "604822",
    "birthDate": "2008-09-13",
    "firstName": "Lisa",
    "lastSurname": "Woods",
    "middleName": "Sybil",
    "personalTitlePrefix": "Ms",
    "identificationDocuments": [],
    "otherNames": [],
    "personalIdentificationDocuments": [],
    "visas": [],
    "_etag": "5249403375939998898",
}
STUDENT_REF = {"studentUniqueId": "604822", "link": {"rel": "Student", "href": "/ed-fi/students/e313"}}


def _flat(item: dict[str, Any]) -> dict[str, str]:
    """Searchable values, written independently of the adapter's own module."""
    values: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                if not isinstance(inner_value, dict):
                    values.setdefault(inner, str(inner_value))
        elif not isinstance(value, list):
            values.setdefault(key, str(value).lower() if isinstance(value, bool) else str(value))
    return values


class FakeOds:
    """Answers searches over fixed collections and records every query."""

    def __init__(self, collections: dict[str, list[dict[str, Any]]]) -> None:
        self.collections = collections
        self.queries: list[tuple[str, dict[str, str]]] = []
        self.token_headers: list[str] = []

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_headers.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={"access_token": "t0k", "token_type": "bearer", "expires_in": 1800})

    def data(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer t0k"
        name = request.url.path.rsplit("/", 1)[-1]
        params = dict(request.url.params)
        self.queries.append((name, params))
        items = self.collections.get(name, [])
        search = {k: v for k, v in params.items() if k not in ("offset", "limit", "totalCount")}
        found = [i for i in items if all(_flat(i).get(k) == v for k, v in search.items())]
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 25))
        return httpx.Response(
            200, json=found[offset : offset + limit], headers={"Total-Count": str(len(found))}
        )


@pytest.fixture
def ods() -> Iterator[FakeOds]:
    fake = FakeOds({"schools": [{"schoolId": 255901001, "nameOfInstitution": "Grand Bend High School"}]})
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{BASE}/oauth/token").mock(side_effect=fake.token)
        mock.get(url__startswith=API).mock(side_effect=fake.data)
        yield fake


async def _fetch(entity: Entity, *, data_standard: str = "5", **request: Any) -> list[Any]:
    adapter = EdFiAdapter(edfi_config(BASE, data_standard=data_standard))
    try:
        await adapter.open()
        fields = request.pop("fields", every_field(entity) & adapter.capabilities().entities[entity].fields)
        result = await adapter.fetch(FetchRequest(entity=entity, fields=fields, **request))
        return list(result.records)
    finally:
        await adapter.aclose()


async def test_student_with_demographics_schools_guardians_and_programs(ods: FakeOds) -> None:
    ods.collections |= {
        "students": [STUDENT],
        "studentEducationOrganizationAssociations": [
            {
                "educationOrganizationReference": {"educationOrganizationId": 255901},
                "studentReference": STUDENT_REF,
                "sexDescriptor": f"{D}/SexDescriptor#Female",
                "hispanicLatinoEthnicity": True,
                "races": [
                    {"raceDescriptor": f"{D}/RaceDescriptor#Asian"},
                    {"raceDescriptor": f"{D}/RaceDescriptor#White"},
                ],
                "electronicMails": [
                    {
                        "electronicMailTypeDescriptor": f"{D}/ElectronicMailTypeDescriptor#Home/Personal",
                        "electronicMailAddress": "lisa@home.example",
                    },
                    {
                        "electronicMailTypeDescriptor": f"{D}/ElectronicMailTypeDescriptor#Organization",
                        "electronicMailAddress": "lwoods@gbisd.example",
                        "primaryEmailAddressIndicator": True,
                    },
                ],
                "loginId": "lwoods",
                "limitedEnglishProficiencyDescriptor": f"{D}/LimitedEnglishProficiencyDescriptor#Limited",
                "studentCharacteristics": [
                    {
                        "studentCharacteristicDescriptor": f"{D}/StudentCharacteristicDescriptor#"
                        "Economic Disadvantaged"
                    }
                ],
                "studentIndicators": [{"indicatorName": "Directory Opt Out", "indicator": "Yes"}],
            }
        ],
        "studentSchoolAssociations": [
            {
                "studentReference": STUDENT_REF,
                "schoolReference": {"schoolId": 255901044},
                "entryDate": "2020-08-20",
                "entryGradeLevelDescriptor": f"{D}/GradeLevelDescriptor#Eighth grade",
                "exitWithdrawDate": "2021-06-01",
            },
            {
                "studentReference": STUDENT_REF,
                "schoolReference": {"schoolId": 255901001},
                "entryDate": "2021-08-23",
                "entryGradeLevelDescriptor": f"{D}/GradeLevelDescriptor#Ninth grade",
                "primarySchool": True,
            },
        ],
        "studentContactAssociations": [
            {
                "studentReference": STUDENT_REF,
                "contactReference": {"contactUniqueId": "778393"},
                "relationDescriptor": f"{D}/RelationDescriptor#Mother",
                "primaryContactStatus": True,
            }
        ],
        "studentSpecialEducationProgramAssociations": [
            {
                "studentReference": STUDENT_REF,
                "beginDate": "2021-08-23",
                "programReference": {
                    "educationOrganizationId": 255901,
                    "programName": "Special Education",
                    "programTypeDescriptor": f"{D}/ProgramTypeDescriptor#Special Education",
                },
            }
        ],
    }
    (student,) = await _fetch(Entity.STUDENT, ids=("student/604822",))
    assert student == Student(
        vendor_id="student/604822",
        given_name="Lisa",
        family_name="Woods",
        middle_name="Sybil",
        email="lwoods@gbisd.example",
        username="lwoods",
        identifier="604822",
        grade_level="09",
        birth_date=dt.date(2008, 9, 13),
        sex="female",
        races=("asian", "white", "demographicRaceTwoOrMoreRaces"),
        hispanic_or_latino=True,
        programs=("IEP", "ELL", "FRL"),
        directory_opt_out=True,
        school_id="edorg/255901001",
        school_ids=("edorg/255901001",),
        guardian_ids=("contact/778393",),
    )
    assert (
        "students",
        {"studentUniqueId": "604822", "totalCount": "true", "limit": "500", "offset": "0"},
    ) in ods.queries
    assert ods.token_headers[0].startswith("Basic ")


async def test_only_the_associations_a_request_needs_are_read(ods: FakeOds) -> None:
    ods.collections["students"] = [STUDENT]
    (student,) = await _fetch(Entity.STUDENT, ids=("student/604822",), fields=frozenset({"given_name"}))
    assert student == Student(vendor_id="student/604822", given_name="Lisa")
    assert {name for name, _ in ods.queries} == {"schools", "students"}


async def test_ds4_parents_and_their_students(ods: FakeOds) -> None:
    ods.collections |= {
        "parents": [
            {
                "parentUniqueId": "778393",
                "firstName": "Mary",
                "lastSurname": "Woods",
                "loginId": "mwoods",
                "telephones": [
                    {
                        "telephoneNumberTypeDescriptor": f"{D}/TelephoneNumberTypeDescriptor#Mobile",
                        "telephoneNumber": "(555) 555-0101",
                        "orderOfPriority": 2,
                    },
                    {
                        "telephoneNumberTypeDescriptor": f"{D}/TelephoneNumberTypeDescriptor#Home",
                        "telephoneNumber": "(555) 555-0100",
                        "orderOfPriority": 1,
                    },
                ],
            }
        ],
        "studentParentAssociations": [
            {
                "studentReference": STUDENT_REF,
                "parentReference": {"parentUniqueId": "778393"},
                "relationDescriptor": f"{D}/RelationDescriptor#Mother",
            }
        ],
    }
    (parent,) = await _fetch(Entity.GUARDIAN, data_standard="4", filters={"student_ids": ("student/604822",)})
    assert parent == Guardian(
        vendor_id="parent/778393",
        given_name="Mary",
        family_name="Woods",
        username="mwoods",
        identifier="778393",
        phone="(555) 555-0100",
        relationship="parent",
        student_ids=("student/604822",),
    )


async def test_scores_take_their_section_from_the_gradebook_entry(ods: FakeOds) -> None:
    entry = {"gradebookEntryIdentifier": "ABCD9875654", "namespace": "uri://canvas.com"}
    ods.collections |= {
        "gradebookEntries": [
            {
                **entry,
                "sectionReference": SECTION_REF,
                "title": "Assignment 12354",
                "dateAssigned": "2021-06-01",
                "sourceSectionIdentifier": "x",
            }
        ],
        "studentGradebookEntries": [
            {
                "gradebookEntryReference": entry,
                "studentReference": STUDENT_REF,
                "pointsEarned": 10,
                "dateFulfilled": "2021-06-22",
                "timeFulfilled": "17:07:54",
                "submissionStatusDescriptor": f"{D}/SubmissionStatusDescriptor#Submitted",
                "assignmentLateStatusDescriptor": f"{D}/AssignmentLateStatusDescriptor#Late",
                "diagnosticStatement": "Good work",
            }
        ],
    }
    (score,) = await _fetch(Entity.SCORE, filters={"student_id": ("student/604822",)})
    assert score == Score(
        vendor_id="studentGradebookEntry/uri:%2F%2Fcanvas.com/ABCD9875654/604822",
        assignment_id="gradebookEntry/uri:%2F%2Fcanvas.com/ABCD9875654",
        student_id="student/604822",
        section_id=SECTION_ID,
        score=10.0,
        score_status="SUBMITTED",
        late=True,
        missing=False,
        submitted_at=dt.datetime(2021, 6, 22, 17, 7, 54, tzinfo=dt.UTC),
        comment="Good work",
    )


async def test_grades_with_ds4_period_sequence_and_attendance_categories(ods: FakeOds) -> None:
    period = {
        "gradingPeriodDescriptor": f"{D}/GradingPeriodDescriptor#First Six Weeks",
        "periodSequence": 1,
        "schoolId": 255901001,
        "schoolYear": 2022,
    }
    ods.collections |= {
        "grades": [
            {
                "gradeTypeDescriptor": f"{D}/GradeTypeDescriptor#Grading Period",
                "gradingPeriodReference": period,
                "studentSectionAssociationReference": {
                    **SECTION_REF,
                    "beginDate": "2021-08-23",
                    "studentUniqueId": "604822",
                },
                "letterGradeEarned": "B",
                "numericGradeEarned": 84.5,
            }
        ],
        "studentSchoolAttendanceEvents": [
            {
                "attendanceEventCategoryDescriptor": f"{D}/AttendanceEventCategoryDescriptor#{category}",
                "eventDate": f"2021-09-0{day}",
                "schoolReference": {"schoolId": 255901001},
                "sessionReference": {
                    "schoolId": 255901001,
                    "schoolYear": 2022,
                    "sessionName": "2021-2022 Fall Semester",
                },
                "studentReference": STUDENT_REF,
            }
            for day, category in enumerate(
                [
                    "In Attendance",
                    "Excused Absence",
                    "Unexcused Absence",
                    "Tardy",
                    "Early departure",
                    "Partial",
                ],
                start=1,
            )
        ],
    }
    (grade,) = await _fetch(Entity.COURSE_GRADE, data_standard="4", filters={"section_id": (SECTION_ID,)})
    assert grade == CourseGrade(
        vendor_id=f"grade/604822/{SECTION_ID.removeprefix('section/')}/2021-08-23/"
        "255901001/2022/First Six Weeks/1/Grading Period",
        student_id="student/604822",
        section_id=SECTION_ID,
        term_id="gradingPeriod/255901001/2022/First Six Weeks/1",
        letter_grade="B",
        percent=84.5,
    )
    events = await _fetch(
        Entity.ATTENDANCE_EVENT, filters={"student_id": ("student/604822",), "date_to": ("2021-09-05",)}
    )
    assert [(e.date.day, e.status) for e in events] == [
        (1, "PRESENT"),
        (2, "EXCUSED"),
        (3, "ABSENT"),
        (4, "TARDY"),
        (5, "EARLY_DEPARTURE"),
    ]
    assert all(
        isinstance(e, AttendanceEvent) and e.school_id == "edorg/255901001" and e.section_id is None
        for e in events
    )
    # A section filter cannot match school-day events: that collection is not read for it.
    assert await _fetch(Entity.ATTENDANCE_EVENT, filters={"section_id": (SECTION_ID,)}) == []
    assert not [
        q for name, q in ods.queries if name == "studentSchoolAttendanceEvents" and "localCourseCode" in q
    ]


async def test_a_batch_is_searched_value_by_value_or_read_whole(ods: FakeOds) -> None:
    students = [
        {**STUDENT, "id": str(n), "studentUniqueId": str(n), "firstName": f"S{n}"} for n in range(3000)
    ]
    ods.collections["students"] = students
    few = await _fetch(Entity.STUDENT, ids=("student/1", "student/2"), fields=frozenset({"given_name"}))
    assert [s.given_name for s in few] == ["S1", "S2"]
    searched = [q for name, q in ods.queries if name == "students" and "studentUniqueId" in q]
    assert len(searched) == 2
    ods.queries.clear()
    many = tuple(f"student/{n}" for n in range(0, 60, 2))
    found = await _fetch(Entity.STUDENT, ids=many, fields=frozenset({"given_name"}))
    assert len(found) == 30
    reads = [q for name, q in ods.queries if name == "students"]
    # 3000 students are 6 pages: cheaper than 30 searches, so the collection is read whole.
    assert len(reads) == 1 + 6 and not any("studentUniqueId" in q for q in reads)


async def test_refused_credentials_name_the_variables() -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{BASE}/oauth/token").mock(
            return_value=httpx.Response(401, json={"error": "invalid_client"})
        )
        adapter = EdFiAdapter(edfi_config(BASE))
        with pytest.raises(SourceAuthFailed) as caught:
            await adapter.open()
        await adapter.aclose()
    assert "HOMEROOM_TEST_EDFI_KEY / HOMEROOM_TEST_EDFI_SECRET" in caught.value.reason


async def test_problem_details_are_summarised_without_values() -> None:
    ods = FakeOds({})
    problem = {
        "detail": "The request is invalid.",
        "type": "urn:ed-fi:api:bad-request",
        "title": "Bad Request",
        "status": 400,
        "errors": ["Invalid studentUniqueId '604822'"],
        "correlationId": "abc",
    }
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{BASE}/oauth/token").mock(side_effect=ods.token)
        mock.get(url__startswith=API).mock(
            return_value=httpx.Response(
                400, content=json.dumps(problem), headers={"content-type": "application/problem+json"}
            )
        )
        adapter = EdFiAdapter(edfi_config(BASE))
        with pytest.raises(RequestRejected) as caught:
            await adapter.fetch(
                FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), ids=("student/604822",))
            )
        await adapter.aclose()
    assert caught.value.status == 400
    assert "604822" not in str(caught.value)
