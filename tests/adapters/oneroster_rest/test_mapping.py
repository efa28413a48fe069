"""OneRoster JSON -> unified records, field by field, for 1.2 and 1.1 shapes,
spec strings and JSON booleans, GUIDRefs and bare ids."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.oneroster_rest import _mapping as m
from adapters.oneroster_rest._resources import resources
from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Entity,
    Guardian,
    Organization,
    Score,
    Section,
    Student,
    Teacher,
)

STAMP = "2025-01-01T00:00:00Z"


def ref(kind: str, sourced_id: str) -> dict[str, str]:
    return {"href": f"https://sis.example/{kind}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def base(sourced_id: str) -> dict[str, str]:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": STAMP}


def test_org_and_session() -> None:
    org = {
        **base("school-1"),
        "name": "Maple High",
        "type": "School",
        "identifier": "S-1",
        "parent": ref("org", "d1"),
    }
    assert m.organization(org) == Organization(
        vendor_id="school-1", name="Maple High", type="school", identifier="S-1", parent_id="d1"
    )
    session = {
        **base("t1"),
        "title": "Fall",
        "startDate": "2025-08-15",
        "endDate": "2026-01-10",
        "type": "markingPeriod",
        "schoolYear": "2026",
        "parent": ref("academicSession", "y1"),
    }
    assert m.session(session) == AcademicSession(
        vendor_id="t1",
        title="Fall",
        type="gradingPeriod",
        start_date=dt.date(2025, 8, 15),
        end_date=dt.date(2026, 1, 10),
        school_year="2026",
        parent_id="y1",
    )


def test_course_and_class() -> None:
    course = {
        **base("c1"),
        "title": "Algebra I",
        "courseCode": "ALG1",
        "grades": ["9", "10"],
        "subjects": ["Mathematics"],
        "org": ref("org", "d1"),
        "schoolYear": ref("academicSession", "y1"),
    }
    assert m.course(course) == Course(
        vendor_id="c1",
        title="Algebra I",
        course_code="ALG1",
        grades=("09", "10"),
        subjects=("Mathematics",),
        org_id="d1",
        school_year_id="y1",
    )
    section = {
        **base("k1"),
        "title": "Algebra I - P1",
        "classCode": "ALG1-1",
        "classType": "Scheduled",
        "location": "Room 12",
        "grades": "K,1",
        "subjects": ["Mathematics"],
        "course": ref("course", "c1"),
        "school": "school-1",  # a bare id, as some providers send
        "terms": [ref("academicSession", "t1"), ref("academicSession", "t2")],
        "periods": ["1", "2"],
    }
    assert m.section(section) == Section(
        vendor_id="k1",
        title="Algebra I - P1",
        class_code="ALG1-1",
        class_type="scheduled",
        location="Room 12",
        periods=("1", "2"),
        subjects=("Mathematics",),
        grades=("KG", "01"),
        course_id="c1",
        school_id="school-1",
        term_ids=("t1", "t2"),
    )


def user_12(sourced_id: str, *roles: tuple[str, str, str], **extra: object) -> dict[str, object]:
    return {
        **base(sourced_id),
        "enabledUser": "true",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "roles": [{"roleType": kind, "role": role, "org": ref("org", org)} for kind, role, org in roles],
        **extra,
    }


@pytest.mark.parametrize("enabled", ["true", True, "TRUE", "1"])
def test_a_1_2_student_with_string_or_json_booleans(enabled: object) -> None:
    obj = user_12(
        "u1",
        ("primary", "student", "s1"),
        ("secondary", "student", "s2"),
        enabledUser=enabled,
        middleName="King",
        preferredFirstName="Addie",
        username="ada",
        email="ada@example.org",
        identifier="ID-1",
        grades=["9"],
        primaryOrg=ref("org", "s2"),
        agents=[ref("user", "g1"), ref("user", "g2")],
    )
    assert m.person(obj, Student) == Student(
        vendor_id="u1",
        given_name="Ada",
        family_name="Lovelace",
        middle_name="King",
        preferred_name="Addie",
        email="ada@example.org",
        username="ada",
        identifier="ID-1",
        enabled=True,
        grade_level="09",
        school_id="s2",
        school_ids=("s1", "s2"),
        guardian_ids=("g1", "g2"),
        directory_opt_out=False,
    )
    assert m.person(obj, Teacher) is None and m.person(obj, Guardian) is None


def test_staff_and_guardians_by_primary_role() -> None:
    principal = user_12("p1", ("secondary", "teacher", "s1"), ("primary", "principal", "s2"), phone="555")
    teacher = m.person(principal, Teacher)
    assert isinstance(teacher, Teacher)
    assert (teacher.role, teacher.school_ids, teacher.phone) == ("principal", ("s1", "s2"), "555")
    both = user_12("x1", ("primary", "parent", "s1"), ("secondary", "aide", "s1"))
    assert m.person(both, Guardian) is None  # staff wins over guardian
    assert isinstance(m.person(both, Teacher), Teacher)
    parent = user_12("g1", ("primary", "guardian", "s1"), agents=[ref("user", "u1")], enabledUser=False)
    guardian = m.person(parent, Guardian)
    assert guardian == Guardian(
        vendor_id="g1",
        given_name="Ada",
        family_name="Lovelace",
        enabled=False,
        relationship="guardian",
        student_ids=("u1",),
    )


def test_a_1_1_user_has_one_role_over_its_orgs() -> None:
    obj = {
        **base("604863"),
        "enabledUser": True,
        "givenName": "Mary",
        "familyName": "Archer",
        "role": "student",
        "orgs": [ref("org", "255901001"), ref("org", "255901002")],
        "grades": ["09"],
    }
    student = m.person(obj, Student)
    assert isinstance(student, Student)
    assert (student.school_id, student.school_ids, student.grade_level) == (
        "255901001",
        ("255901001", "255901002"),
        "09",
    )
    assert student.preferred_name is None
    admin = {**obj, "role": "administrator", "orgs": "255901"}  # a scalar org, seen in the wild
    teacher = m.person(admin, Teacher)
    assert isinstance(teacher, Teacher) and teacher.school_ids == ("255901",)


def test_gone_or_unidentified_objects_are_skipped() -> None:
    assert m.organization({**base("o1"), "status": "tobedeleted", "name": "x"}) is None
    assert m.organization({"name": "no id"}) is None
    assert m.person(user_12("u1"), Student) is None  # no roles: no kind


def test_demographics_join() -> None:
    student = Student(vendor_id="u1")
    m.apply_demographics(
        student,
        {
            **base("u1"),
            "birthDate": "2010-05-30",
            "sex": "Female",
            "asian": "true",
            "white": True,
            "blackOrAfricanAmerican": "false",
            "demographicRaceTwoOrMoreRaces": "true",
            "hispanicOrLatinoEthnicity": "false",
            "metadata": {"programs": "iep,ell", "directoryOptOut": "true"},
        },
    )
    assert student.birth_date == dt.date(2010, 5, 30)
    assert student.sex == "female"
    assert student.races == ("asian", "white", "demographicRaceTwoOrMoreRaces")
    assert student.hispanic_or_latino is False
    assert student.programs == ("IEP", "ELL")
    assert student.directory_opt_out is True
    unknown = Student(vendor_id="u2")
    m.apply_demographics(unknown, {**base("u2")})
    assert unknown.races is None and unknown.programs == () and unknown.directory_opt_out is False


def test_enrollment() -> None:
    obj = {
        **base("e1"),
        "user": ref("user", "u1"),
        "class": ref("class", "k1"),
        "school": ref("org", "s1"),
        "role": "Teacher",
        "primary": True,
        "beginDate": "2025-08-15",
        "endDate": "2026-06-13",
    }
    assert m.enrollment(obj) == Enrollment(
        vendor_id="e1",
        role="teacher",
        primary=True,
        begin_date=dt.date(2025, 8, 15),
        end_date=dt.date(2026, 6, 13),
        section_id="k1",
        person_id="u1",
        school_id="s1",
    )


def test_line_item_1_2_and_1_1() -> None:
    v12 = {
        **base("li1"),
        "title": "Quiz 1",
        "description": "Chapter 1",
        "assignDate": "2025-09-01T12:00:00Z",
        "dueDate": "2025-09-08",
        "class": ref("class", "k1"),
        "school": ref("org", "s1"),
        "category": ref("category", "cat-quiz"),
        "academicSession": ref("academicSession", "gp1"),
        "resultValueMin": 0,
        "resultValueMax": "20",
    }
    assert m.assignment(v12, {"cat-quiz": "Quiz"}) == Assignment(
        vendor_id="li1",
        title="Quiz 1",
        description="Chapter 1",
        assign_date=dt.datetime(2025, 9, 1, 12, tzinfo=dt.UTC),
        due_date=dt.datetime(2025, 9, 8, tzinfo=dt.UTC),
        category="Quiz",
        points_possible=20.0,
        section_id="k1",
        grading_period_id="gp1",
    )
    v11 = {k: val for k, val in v12.items() if k not in ("school", "academicSession")}
    v11["gradingPeriod"] = ref("academicSession", "gp2")
    found = m.assignment(v11, {})
    assert isinstance(found, Assignment)
    assert (found.grading_period_id, found.category) == ("gp2", None)


def test_results_1_2_and_1_1() -> None:
    v12 = {
        **base("r1"),
        "lineItem": ref("lineItem", "li1"),
        "student": ref("user", "u1"),
        "class": ref("class", "k1"),
        "scoreStatus": "fully graded",
        "score": 95,
        "scoreDate": "2025-01-15",
        "comment": "Well done",
        "late": "false",
        "missing": False,
    }
    assert m.score(v12, {}) == Score(
        vendor_id="r1",
        assignment_id="li1",
        student_id="u1",
        section_id="k1",
        score=95.0,
        score_status="FULLY_GRADED",
        late=False,
        missing=False,
        submitted_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC),
        comment="Well done",
    )
    v11 = {k: val for k, val in v12.items() if k not in ("class", "late", "missing")}
    found = m.score(v11 | {"scoreStatus": "notSubmitted", "score": "n/a"}, {"li1": "k9"})
    assert isinstance(found, Score)
    assert (found.section_id, found.score_status, found.score, found.late) == (
        "k9",
        "NOT_SUBMITTED",
        None,
        None,
    )


def test_extension_objects() -> None:
    grade = {
        **base("cg1"),
        "class": ref("class", "k1"),
        "student": ref("user", "u1"),
        "academicSession": ref("academicSession", "t1"),
        "letterGrade": "B+",
        "percent": 88.5,
    }
    assert m.course_grade(grade) == CourseGrade(
        vendor_id="cg1", student_id="u1", section_id="k1", term_id="t1", letter_grade="B+", percent=88.5
    )
    mark = {
        **base("a1"),
        "user": ref("user", "u1"),
        "school": ref("org", "s1"),
        "date": "2025-10-01",
        "attendanceStatus": "Early Departure",
    }
    assert m.attendance_event(mark) == AttendanceEvent(
        vendor_id="a1", student_id="u1", date=dt.date(2025, 10, 1), status="EARLY_DEPARTURE", school_id="s1"
    )


def test_fields_projection_names_oneroster_fields_per_version() -> None:
    v12, v11 = resources("1.2"), resources("1.1")
    students = v12[Entity.STUDENT]
    assert students.path == "ims/oneroster/rostering/v1p2/students" and students.key == "users"
    assert students.vendor_fields(frozenset({"given_name", "preferred_name"})) == (
        "givenName,preferredFirstName,primaryOrg,roles,sourcedId,status"
    )
    assert v11[Entity.STUDENT].vendor_fields(frozenset({"given_name", "preferred_name"})) == (
        "givenName,orgs,role,sourcedId,status"
    )
    assert v12[Entity.SCORE].path == "ims/oneroster/gradebook/v1p2/results"
    assert v11[Entity.SCORE].path == "ims/oneroster/v1p1/results"
    assert "class" not in v11[Entity.SCORE].vendor_fields(frozenset({"section_id"})).split(",")
    assert v12[Entity.ENROLLMENT].filters["section_id"] == "class.sourcedId"
    assert "section_id" not in v11[Entity.SCORE].filters
