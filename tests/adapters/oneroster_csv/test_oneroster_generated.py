"""The synthetic district (``hub.testing``) loads without a rejected row, quickly."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from hub.sdk import Entity, FetchRequest, Student
from hub.testing import DistrictSpec, generate_district

from .csv_sets import adapter_for, of_type

TODAY = dt.date(2025, 3, 14)

# Data rows per file -> the entity whose records they become.
FILE_ENTITIES = {
    "orgs.csv": "Organization",
    "academicSessions.csv": "AcademicSession",
    "courses.csv": "Course",
    "classes.csv": "Section",
    "enrollments.csv": "Enrollment",
    "lineItems.csv": "Assignment",
    "results.csv": "Score",
    "courseGrades.csv": "CourseGrade",
    "attendance.csv": "AttendanceEvent",
}


async def test_three_hundred_students_load_without_problems(tmp_path: Path) -> None:
    district = generate_district(tmp_path / "district", DistrictSpec(students=300, today=TODAY))
    adapter = adapter_for(district.out_dir)

    report = await adapter.open()

    assert report.problems == []
    assert report.counts["Student"] == 300
    for file_name, entity in FILE_ENTITIES.items():
        assert report.counts[entity] == district.counts[file_name], file_name
    people = report.counts["Student"] + report.counts["Teacher"] + report.counts["Guardian"]
    assert people == district.counts["users.csv"]
    assert adapter.version == "1.2"

    result = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"guardian_ids"})))
    assert all(student.guardian_ids for student in of_type(result.records, Student))


@pytest.mark.slow
async def test_five_thousand_students_load_in_seconds(tmp_path: Path) -> None:
    district = generate_district(tmp_path / "district", DistrictSpec(students=5_000, today=TODAY))
    adapter = adapter_for(district.out_dir)

    started = time.perf_counter()
    report = await adapter.open()
    elapsed = time.perf_counter() - started

    assert report.rejected == []
    assert report.counts["Student"] == 5_000
    # About 4 s on a busy 2-core machine; the bound only catches a regression by a factor.
    assert elapsed < 20, f"loading 5,000 students took {elapsed:.1f} s"
