"""The change feed against an ODS/API replayed with respx: the payload shapes
of the Change Queries documentation (``availableChangeVersions`` in ODS/API
5.x Pascal case and 6+ camel case, ``/deletes`` rows with ``keyValues``,
``/keyChanges`` rows with ``oldKeyValues``), and the answers that make the
feed incomplete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.edfi import EdFiAdapter
from hub.sdk import BadVendorData, Changes, CourseGrade, Entity, SourceUnavailable

from .conftest import edfi_config

BASE = "http://ods.test"
API = f"{BASE}/data/v3/ed-fi"
VERSIONS = f"{BASE}/changeQueries/v1/availableChangeVersions"
D = "uri://ed-fi.org"
FIELDS = frozenset({"student_id", "section_id", "term_id", "letter_grade", "percent"})
SECTION = {
    "localCourseCode": "ALG-1",
    "schoolId": 255901001,
    "schoolYear": 2022,
    "sectionIdentifier": "25590100102Trad220ALG112011",
    "sessionName": "2021-2022 Fall Semester",
}
SECTION_PATH = "ALG-1/255901001/2022/2021-2022 Fall Semester/25590100102Trad220ALG112011"


def grade_key(student: str, period: int, *, begin: str = "2021-08-23") -> dict[str, Any]:
    """A DS 4 grade's ``keyValues``, named as the resource's identity search parameters."""
    return {
        "beginDate": begin,
        "gradeTypeDescriptor": f"{D}/GradeTypeDescriptor#Grading Period",
        "gradingPeriodDescriptor": f"{D}/GradingPeriodDescriptor#First Six Weeks",
        "periodSequence": period,
        "gradingPeriodSchoolYear": 2022,
        **SECTION,
        "studentUniqueId": student,
    }


def grade_id(student: str, period: int) -> str:
    return f"grade/{student}/{SECTION_PATH}/2021-08-23/255901001/2022/First Six Weeks/{period}/Grading Period"


CHANGED_GRADE = {
    "id": "b5f5c0c1d1b54a51a36d6c1a8f0a4c11",
    "gradeTypeDescriptor": f"{D}/GradeTypeDescriptor#Grading Period",
    "gradingPeriodReference": {
        "gradingPeriodDescriptor": f"{D}/GradingPeriodDescriptor#First Six Weeks",
        "periodSequence": 1,
        "schoolId": 255901001,
        "schoolYear": 2022,
    },
    "studentSectionAssociationReference": {**SECTION, "beginDate": "2021-08-23", "studentUniqueId": "604822"},
    "letterGradeEarned": "A",
    "numericGradeEarned": 93.0,
    "_etag": "5250168731208835523",
    "_lastModifiedDate": "2021-09-13T17:41:09.6432167Z",
}


class Ods:
    """Answers the token, the versions and fixed rows per path; records the queries."""

    def __init__(self, versions: dict[str, Any]) -> None:
        self.versions = versions
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.status: dict[str, int] = {}
        self.queries: list[tuple[str, dict[str, str]]] = []

    def token(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "t0k", "token_type": "bearer", "expires_in": 1800})

    def available(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(("availableChangeVersions", dict(request.url.params)))
        status = self.status.get("availableChangeVersions", 200)
        return httpx.Response(status, json=self.versions if status == 200 else {"message": "no"})

    def data(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/data/v3/ed-fi/")
        params = dict(request.url.params)
        self.queries.append((path, params))
        status = self.status.get(path, 200)
        if status != 200:
            return httpx.Response(status, json={"message": "The request is invalid."})
        rows = self.rows.get(path, [])
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 25))
        return httpx.Response(
            200, json=rows[offset : offset + limit], headers={"Total-Count": str(len(rows))}
        )


def _ods(versions: dict[str, Any]) -> Iterator[Ods]:
    fake = Ods(versions)
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{BASE}/oauth/token").mock(side_effect=fake.token)
        mock.get(VERSIONS).mock(side_effect=fake.available)
        mock.get(url__startswith=API).mock(side_effect=fake.data)
        yield fake


@pytest.fixture
def ods5x() -> Iterator[Ods]:
    """An ODS/API 5.x (Data Standard 4): Pascal-case version names."""
    yield from _ods({"OldestChangeVersion": 0, "NewestChangeVersion": 120})


@pytest.fixture
def ods7x() -> Iterator[Ods]:
    """An ODS/API 7.x (Data Standard 5): camel-case version names."""
    yield from _ods({"oldestChangeVersion": 40, "newestChangeVersion": 120})


async def _changes(
    since: str | None, *, data_standard: str = "4", entity: Entity = Entity.COURSE_GRADE
) -> Changes:
    adapter = EdFiAdapter(edfi_config(BASE, data_standard=data_standard))
    try:
        fields = FIELDS if entity is Entity.COURSE_GRADE else frozenset({"score"})
        return await adapter.changes(entity, since, fields)
    finally:
        await adapter.aclose()


async def test_changes_deletes_and_key_changes_of_an_ods_5x(ods5x: Ods) -> None:
    ods5x.rows["grades"] = [CHANGED_GRADE]
    ods5x.rows["grades/deletes"] = [
        {"id": "0f2c1a77a1b84d7e9f1d6f0e4a5b3c21", "changeVersion": 110, "keyValues": grade_key("604823", 1)}
    ]
    ods5x.rows["grades/keyChanges"] = [
        {
            "id": "7d1f3e2b9c4a4f0b8e6d5c4b3a291807",
            "changeVersion": 115,
            # An ODS writing the key's date as a midnight date-time: the item itself has the date.
            "oldKeyValues": grade_key("604824", 2, begin="2021-08-23T00:00:00"),
            "newKeyValues": grade_key("604824", 3),
        }
    ]
    changes = await _changes("100")
    assert changes == Changes(
        records=(
            CourseGrade(
                vendor_id=grade_id("604822", 1),
                student_id="student/604822",
                section_id=f"section/{SECTION_PATH}",
                term_id="gradingPeriod/255901001/2022/First Six Weeks/1",
                letter_grade="A",
                percent=93.0,
            ),
        ),
        deleted=(grade_id("604823", 1), grade_id("604824", 2)),
        watermark="120",
    )
    window = {"minChangeVersion": "101", "maxChangeVersion": "120"}
    assert [path for path, _ in ods5x.queries] == [
        "availableChangeVersions",
        "grades",
        "grades/deletes",
        "grades/keyChanges",
    ]
    assert all(window.items() <= query.items() for path, query in ods5x.queries[1:])


async def test_a_key_change_into_the_range_keeps_the_new_record(ods5x: Ods) -> None:
    # Deleted and created again under the same key within the range: the item is there now.
    ods5x.rows["grades"] = [CHANGED_GRADE]
    ods5x.rows["grades/deletes"] = [{"id": "x", "changeVersion": 104, "keyValues": grade_key("604822", 1)}]
    changes = await _changes("100")
    assert [record.vendor_id for record in changes.records] == [grade_id("604822", 1)]
    assert changes.deleted == ()


async def test_a_camel_case_ods_and_its_oldest_version(ods7x: Ods) -> None:
    assert await _changes(None, data_standard="5") == Changes(watermark="120")
    assert await _changes("119", data_standard="5") == Changes(watermark="120")
    assert await _changes("120", data_standard="5") == Changes(watermark="120")
    assert ods7x.queries[-1][0] == "availableChangeVersions"  # nothing new anywhere: one request
    # The oldest version still tracked (40) is the lowest minChangeVersion that sees every change.
    assert (await _changes("39", data_standard="5")).complete
    assert await _changes("38", data_standard="5") == Changes(watermark="38", complete=False)
    assert (await _changes("38", data_standard="5", entity=Entity.SCORE)).complete is False


async def test_deletes_without_natural_keys_are_incomplete(ods5x: Ods) -> None:
    # ODS/API before 5.3 listed deletes by resource id only: the vendor id cannot be told.
    ods5x.rows["grades/deletes"] = [{"id": "0f2c1a77a1b84d7e9f1d6f0e4a5b3c21", "changeVersion": 110}]
    assert await _changes("100") == Changes(watermark="100", complete=False)


async def test_refused_change_queries_are_incomplete_and_outages_raise(ods5x: Ods) -> None:
    ods5x.status["grades"] = 400  # a host refusing minChangeVersion
    assert await _changes("100") == Changes(watermark="100", complete=False)
    ods5x.status["grades"] = 200
    ods5x.status["grades/keyChanges"] = 404  # no key-change tracking
    assert await _changes("100") == Changes(watermark="100", complete=False)
    ods5x.status["availableChangeVersions"] = 404  # change queries off
    assert await _changes(None) == Changes(complete=False)
    ods5x.status["availableChangeVersions"] = 503
    with pytest.raises(SourceUnavailable):
        await _changes("100")


async def test_a_body_without_versions_is_bad_vendor_data(ods5x: Ods) -> None:
    ods5x.versions = {"version": "5.3"}
    with pytest.raises(BadVendorData, match="no newest change version"):
        await _changes(None)
