"""Clever values and objects -> unified records: the rules the sample
payloads do not show (v3.1 flags, emergency contacts, users with several
roles, odd values)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.clever import _mapping as m
from adapters.clever import _values as v

SIS = m.Options()


@pytest.mark.parametrize(
    ("clever", "ceds"),
    [
        ("Kindergarten", "KG"),
        ("PreKindergarten", "PK"),
        ("TransitionalKindergarten", "TK"),
        ("InfantToddler", "IT"),
        ("Preschool", "PR"),
        ("1", "01"),
        ("12", "12"),
        ("13", "13"),
        ("PostGraduate", "PS"),
        ("Ungraded", "UG"),
        ("Other", "Other"),
        ("", None),
        ("14", None),
        (None, None),
    ],
)
def test_grades_become_ceds_levels(clever: Any, ceds: str | None) -> None:
    assert v.grade(clever) == ceds


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2/11/2007", dt.date(2007, 2, 11)),
        ("12/23/2003", dt.date(2003, 12, 23)),
        ("02/03/2010", dt.date(2010, 2, 3)),
        ("2021-03-10", dt.date(2021, 3, 10)),
        ("2021-03-02T22:24:53.347Z", dt.date(2021, 3, 2)),
        ("2/30/2007", None),
        ("13/1/2007", None),
        ("", None),
        ("yesterday", None),
        (20070211, None),
    ],
)
def test_dates_are_parsed_not_passed_through(text: Any, day: dt.date | None) -> None:
    assert v.date(text) == day


def test_flags_genders_and_races() -> None:
    assert [v.yes_no(x) for x in ("Y", "N", "y", "", "maybe", None, True)] == [
        True,
        False,
        True,
        None,
        None,
        None,
        True,
    ]
    assert [v.sex(x) for x in ("M", "F", "X", "", None)] == ["male", "female", "other", None, None]
    assert v.race("Hawaiian or Other Pacific Islander") == ("nativeHawaiianOrOtherPacificIslander",)
    assert v.race("American Indian") == ("americanIndianOrAlaskaNative",)
    assert v.race("Unknown") is None and v.race("") is None


def _student(**role: Any) -> dict[str, Any]:
    return {"id": "s" * 24, "name": {"first": "Ada"}, "roles": {"student": {"school": "k" * 24, **role}}}


def test_v31_program_flags_become_programs_in_a_fixed_order() -> None:
    record = m.student(
        _student(
            ell_status="Y",
            iep_status="Y",
            section_504_status="N",
            frl_status="Reduced",
            preferred_name={"first": "Addie"},
        ),
        SIS,
    )
    assert record is not None
    assert record.programs == ("IEP", "ELL", "FRL")
    assert record.preferred_name == "Addie"
    paid = m.student(_student(ell_status="N", frl_status="Paid"), SIS)
    assert paid is not None and paid.programs == ()
    unknown = m.student(_student(), SIS)
    assert unknown is not None and unknown.programs is None
    assert unknown.school_ids == ("k" * 24,)


def test_a_user_without_the_role_is_not_that_record() -> None:
    contact = {"id": "c" * 24, "roles": {"contact": {"student_relationships": []}}}
    assert m.student(contact, SIS) is None and m.teacher(contact, SIS) is None
    assert m.guardian({"roles": {"contact": {}}}, SIS) is None  # no id


def test_a_user_with_several_staff_roles_is_one_teacher_named_by_precedence() -> None:
    user = {
        "id": "t" * 24,
        "roles": {
            "staff": {"roles": ["Principal"], "schools": ["b" * 24], "staff_id": "E1"},
            "district_admin": {"title": "Superintendent"},
            "teacher": {"school": "a" * 24, "schools": ["a" * 24], "sis_id": "T1", "state_id": "S1"},
        },
    }
    record = m.teacher(user, SIS)
    assert record is not None
    assert (record.role, record.identifier) == ("teacher", "T1")
    assert record.school_ids == ("a" * 24, "b" * 24)
    admin = m.teacher(
        {"id": "d" * 24, "roles": {"district_admin": {}, "staff": {"roles": ["counselor"]}}}, SIS
    )
    assert admin is not None and admin.role == "districtAdministrator"


@pytest.mark.parametrize(
    ("names", "role"),
    [
        (["School Admin"], "siteAdministrator"),
        (["counselor"], "counselor"),
        (["Librarian"], "staff"),
        ([], "staff"),
    ],
)
def test_staff_roles_use_oneroster_names(names: list[str], role: str) -> None:
    record = m.teacher({"id": "x" * 24, "roles": {"staff": {"roles": names, "staff_id": "E9"}}}, SIS)
    assert record is not None and record.role == role and record.identifier == "E9"
    by_state = m.teacher(
        {"id": "x" * 24, "roles": {"staff": {"roles": names, "staff_id": "E9"}}}, m.Options("state_id")
    )
    assert by_state is not None and by_state.identifier is None


def _contact(*links: tuple[str, str, str]) -> dict[str, Any]:
    relationships = [{"student": s, "relationship": r, "type": t} for s, r, t in links]
    return {"id": "g" * 24, "roles": {"contact": {"sis_id": "G1", "student_relationships": relationships}}}


def test_emergency_contacts_are_not_guardians_unless_configured() -> None:
    contact = _contact(
        ("s1", "Other", "Emergency"), ("s2", "Aunt/Uncle", "Emergency"), ("s3", "Parent", "Emergency")
    )
    default = m.guardian(contact, SIS)
    assert default is not None
    assert default.student_ids == ("s3",)  # a parent listed for emergencies is still a parent
    assert default.relationship == "parent"
    opted_in = m.guardian(contact, m.Options(emergency_contacts_are_guardians=True))
    assert opted_in is not None and opted_in.student_ids == ("s1", "s2", "s3")
    assert opted_in.relationship == "relative"  # the first link that says what it is


@pytest.mark.parametrize(
    ("relationship", "kind", "expected"),
    [
        ("Parent", "Secondary", "parent"),
        ("Grandparent", "Other", "relative"),
        ("Sibling", "", "relative"),
        ("Other", "Parent/Guardian", "guardian"),
        ("", "Family", "relative"),
        ("Self", "Primary", None),
        ("Other", "Other", None),
    ],
)
def test_relationships_become_parent_guardian_or_relative(
    relationship: str, kind: str, expected: str | None
) -> None:
    record = m.guardian(_contact(("s1", relationship, kind)), SIS)
    assert record is not None and record.relationship == expected and record.student_ids == ("s1",)
    assert record.identifier == "G1"


def test_enrollment_ids_name_their_section() -> None:
    key = m.enrollment_id("a" * 24, "student", "b" * 24)
    assert m.section_of_enrollment(key) == "a" * 24
    assert m.section_of_enrollment("b" * 24) is None
    assert m.section_of_enrollment("a:b") is None
    section = {"id": "z" * 24, "teachers": ["t1", "t2"], "students": ["s1", "s1"], "school": "k"}
    rows = m.enrollments(section)
    assert [(r.role, r.person_id, r.primary) for r in rows] == [
        ("teacher", "t1", True),
        ("teacher", "t2", False),
        ("student", "s1", None),
    ]
