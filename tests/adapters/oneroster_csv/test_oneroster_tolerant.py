"""What real exports do that the spec does not say, read anyway (issue #11), one tolerance a test.

Each test writes a small set, changes one thing the way a real export does,
and checks both what is served and what the report says about it.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from hub.sdk import (
    BadValue,
    Course,
    Enrollment,
    LoadReport,
    Section,
    Student,
    Teacher,
    parse_bool,
    parse_date,
    parse_grade,
)

from .csv_sets import adapter_for, fetch_all, write_set, zip_set

ORGS = """
    sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
    d1,active,2024-07-01,District,district,D,
    s1,active,2024-07-01,School,school,S,d1
"""
SESSIONS = """
    sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
    t1,active,,Fall,term,2024-08-15,2025-01-10,,2025
"""
COURSES = """
    sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId
    c1,active,,t1,Algebra,ALG,09,s1
"""
CLASSES = """
    sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds
    k1,active,,Algebra 1,09,c1,ALG-1,scheduled,R1,s1,t1
"""
USERS_12 = """
    sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,grades,primaryOrgSourcedId,preferredGivenName
    u1,active,,true,ann,Ann,Ash,09,s1,
    u2,active,,true,ben,Ben,Birch,,s1,
"""
ROLES = """
    sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId
    r1,active,,u1,primary,student,,,s1
    r2,active,,u2,primary,teacher,,,s1
"""
ENROLLMENTS = """
    sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
    e1,active,,k1,s1,u1,student,false,2024-08-15,
    e2,active,,k1,s1,u2,teacher,true,,
"""
MANIFEST = """
    propertyName,value
    manifest.version,1.0
    oneroster.version,1.2
    file.orgs,bulk
    file.academicSessions,bulk
    file.courses,bulk
    file.classes,bulk
    file.users,bulk
    file.roles,bulk
    file.enrollments,bulk
"""
BASE = {
    "manifest.csv": MANIFEST,
    "orgs.csv": ORGS,
    "academicSessions.csv": SESSIONS,
    "courses.csv": COURSES,
    "classes.csv": CLASSES,
    "users.csv": USERS_12,
    "roles.csv": ROLES,
    "enrollments.csv": ENROLLMENTS,
}


async def load(tmp_path: Path, **files: str) -> tuple[LoadReport, dict[str, Student], dict[str, Teacher]]:
    """Open the base set with ``files`` replaced (``users_csv=...``); the report and the people."""
    contents = {**BASE, **{name.replace("_csv", ".csv"): text for name, text in files.items()}}
    adapter = adapter_for(write_set(tmp_path / "set", contents))
    report = await adapter.open()
    return report, await fetch_all(adapter, Student), await fetch_all(adapter, Teacher)


def problems(report: LoadReport, where: str) -> list[tuple[int, str | None, str, bool]]:
    return [(p.line, p.column, p.reason, p.rejected) for p in report.problems if p.where == where]


# -- headers -------------------------------------------------------------------------


async def test_trailing_empty_header_cells_are_ignored_so_shorter_rows_fit(tmp_path: Path) -> None:
    # The LMS plugin's roles.csv: "...,orgSourcedId,," over 9-cell rows.
    roles = """
        sourcedId,status,dataLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,,
        r1,active,2025-01-01,u1,primary,student,2024-03-06,2025-09-23,s1
        r2,active,2025-01-01,u2,primary,teacher,2024-03-06,2025-09-23,s1
    """
    report, students, teachers = await load(tmp_path, roles_csv=roles)

    assert report.rejected == []
    assert list(students) == ["u1"] and list(teachers) == ["u2"]
    assert problems(report, "roles.csv") == [
        (1, "dateLastModified", "column spelled dataLastModified; read as dateLastModified", False)
    ]
    assert report.files["roles.csv"].accepted == 2


async def test_header_names_are_trimmed_and_matched_in_any_case_behind_a_bom(tmp_path: Path) -> None:
    header = "\ufeff SOURCEDID ,Status , dateLastModified,EnabledUser,userName,GIVENNAME,familyname"
    users = f"""
        {header},grades,primaryOrgSourcedId,preferredGivenName
        u1,active,,true,ann,Ann,Ash,09,s1,
        u2,active,,true,ben,Ben,Birch,,s1,
    """
    report, students, _ = await load(tmp_path, users_csv=users)

    assert report.rejected == []
    assert students["u1"].given_name == "Ann"
    assert problems(report, "users.csv") == []


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("prefferedGivenName", "preferredGivenName"),
        ("preferredFirstName", "preferredGivenName"),
        ("PreferredFirstName", "preferredGivenName"),
    ],
)
async def test_variant_spellings_are_read_and_reported_once_with_the_fix(
    tmp_path: Path, spelling: str, canonical: str
) -> None:
    users = USERS_12.replace("preferredGivenName", spelling).replace(
        "u1,active,,true,ann,Ann,Ash,09,s1,", "u1,active,,true,ann,Ann,Ash,09,s1,Annie"
    )
    report, students, _ = await load(tmp_path, users_csv=users)

    assert students["u1"].preferred_name == "Annie"
    [problem] = [p for p in report.problems if p.where == "users.csv"]
    assert (problem.line, problem.column, problem.rejected) == (1, canonical, False)
    assert problem.reason == f"column spelled {spelling}; read as {canonical}"
    assert problem.fix == "rename the column to the name OneRoster spells"


async def test_extension_columns_are_ignored_quietly_and_unknown_ones_reported(tmp_path: Path) -> None:
    users = """
        sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,grades,primaryOrgSourcedId,ext_vendor_id,metadata.house,favoriteColor
        u1,active,,true,ann,Ann,Ash,09,s1,77,Red,blue
        u2,active,,true,ben,Ben,Birch,,s1,,,
    """
    report, students, _ = await load(tmp_path, users_csv=users)

    assert set(students) == {"u1"}
    assert problems(report, "users.csv") == [(1, "favoriteColor", "unknown column ignored", False)]


async def test_a_header_cell_that_is_not_a_column_name_is_pointed_at_not_quoted(tmp_path: Path) -> None:
    users = USERS_12.replace("preferredGivenName", "preferredGivenName,Ann Ash 2010")
    users = users.replace("s1,\n", "s1,,\n")
    report, _, _ = await load(tmp_path, users_csv=users)

    text = "\n".join(str(p) for p in report.problems)
    assert "Ann Ash" not in text
    assert "#1 of the unknown columns" in text


async def test_a_duplicate_column_keeps_the_first(tmp_path: Path) -> None:
    users = """
        sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,grades,primaryOrgSourcedId,givenName
        u1,active,,true,ann,Ann,Ash,09,s1,Other
        u2,active,,true,ben,Ben,Birch,,s1,
    """
    report, students, _ = await load(tmp_path, users_csv=users)

    assert students["u1"].given_name == "Ann"
    assert problems(report, "users.csv") == [
        (1, "givenName", "column appears twice; the first one is read", False)
    ]


# -- row widths --------------------------------------------------------------------------


async def test_a_row_missing_only_optional_trailing_cells_is_padded(tmp_path: Path) -> None:
    users = USERS_12.replace("u2,active,,true,ben,Ben,Birch,,s1,", "u2,active,,true,ben,Ben")
    report, _, teachers = await load(tmp_path, users_csv=users)

    assert teachers["u2"].given_name == "Ben"
    assert teachers["u2"].family_name is None
    [(line, column, reason, rejected)] = problems(report, "users.csv")
    assert (line, column, rejected) == (0, None, False)
    assert reason.startswith("1 rows have fewer cells than the header (first at line 3)")


async def test_a_row_missing_a_required_cell_is_rejected_alone(tmp_path: Path) -> None:
    # roles.csv needs userSourcedId and role: a row cut before them cannot be read.
    roles = ROLES.replace("r2,active,,u2,primary,teacher,,,s1", "r2,active,,u2")
    report, students, teachers = await load(tmp_path, roles_csv=roles)

    assert problems(report, "roles.csv") == [(3, None, "row has 4 cells, the header has 9", True)]
    assert list(students) == ["u1"]
    # u2 lost its role row, but its teacher enrollment says who it is.
    assert teachers["u2"].role == "teacher"


async def test_extra_empty_cells_are_dropped_with_one_note(tmp_path: Path) -> None:
    users = USERS_12.replace("s1,\n", "s1,,,\n")
    report, _, _ = await load(tmp_path, users_csv=users)

    assert report.rejected == []
    assert [(p.line, p.reason) for p in report.problems] == [
        (0, "2 rows end in extra empty cells (first at line 2); ignored")
    ]
    assert report.files["users.csv"].accepted == 2


async def test_an_unquoted_list_is_read_when_the_file_has_one_list_column(tmp_path: Path) -> None:
    courses = """
        sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId
        c1,active,,t1,Algebra,ALG,9,10,s1
    """
    adapter = adapter_for(write_set(tmp_path / "set", {**BASE, "courses.csv": courses}))
    report = await adapter.open()

    course = (await fetch_all(adapter, Course))["c1"]
    assert (course.grades, course.org_id) == (("09", "10"), "s1")
    assert problems(report, "courses.csv") == [
        (2, "grades", "row holds an unquoted list; its extra cells were read into it", False)
    ]


async def test_an_unquoted_list_with_two_list_columns_is_rejected(tmp_path: Path) -> None:
    # grades and termSourcedIds are both lists: the extra cell could belong to either.
    classes = CLASSES.replace("ALG-1,scheduled,R1,s1,t1", "ALG-1,scheduled,R1,s1,t1,t2")
    report, _, _ = await load(tmp_path, classes_csv=classes)

    assert problems(report, "classes.csv") == [(2, None, "row has 12 cells, the header has 11", True)]


# -- values --------------------------------------------------------------------------


async def test_blank_status_and_date_last_modified_are_accepted(tmp_path: Path) -> None:
    users = USERS_12.replace("u1,active,,", "u1,,,")
    report, students, _ = await load(tmp_path, users_csv=users)

    assert report.rejected == [] and report.problems == []
    assert "u1" in students


async def test_a_day_first_date_is_reported_and_the_row_kept(tmp_path: Path) -> None:
    users = USERS_12.replace("u1,active,,", "u1,active,15/06/2023,").replace(
        "u2,active,,", "u2,active,1/05/2023,"
    )
    report, students, _ = await load(tmp_path, users_csv=users)

    assert "u1" in students
    [problem] = report.problems
    assert (problem.where, problem.line, problem.column, problem.rejected) == (
        "users.csv",
        2,
        "dateLastModified",
        False,
    )
    assert "day first" in problem.reason and "write YYYY-MM-DD" in problem.reason
    assert "2023" not in str(problem)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-08-15", dt.date(2024, 8, 15)),
        ("2024-08-15T00:00:00.000Z", dt.date(2024, 8, 15)),
        ("2024-08-15 13:05:00", dt.date(2024, 8, 15)),
        ("8/15/2024", dt.date(2024, 8, 15)),
        ("1/05/2023", dt.date(2023, 1, 5)),  # either way: read month first, the US way
    ],
)
async def test_enrollment_dates_in_every_spelling(tmp_path: Path, text: str, expected: dt.date) -> None:
    enrollments = ENROLLMENTS.replace("false,2024-08-15,", f"false,{text},")
    adapter = adapter_for(write_set(tmp_path / "set", {**BASE, "enrollments.csv": enrollments}))
    await adapter.open()

    assert (await fetch_all(adapter, Enrollment))["e1"].begin_date == expected


def test_the_shared_parsers_are_the_sdks() -> None:
    assert [parse_bool(t) for t in ("TRUE", "true", "1", "yes")] == [True] * 4
    assert [parse_grade(t) for t in ("9", "09", "KG", "K", "PK")] == ["09", "09", "KG", "KG", "PK"]
    with pytest.raises(BadValue, match="day first"):
        parse_date("15/06/2023")


# -- versions, manifest, archive -----------------------------------------------------------


async def test_1_1_users_role_and_1_2_roles_file_in_one_reader(tmp_path: Path) -> None:
    users_11 = """
        sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,grades
        u1,,,true,s1,student,ann,Ann,Ash,9
        u2,,,true,"s1,d1",teacher,ben,Ben,Birch,
    """
    files = {name: text for name, text in BASE.items() if name not in ("roles.csv", "manifest.csv")}
    adapter = adapter_for(write_set(tmp_path / "v11", {**files, "users.csv": users_11}))
    await adapter.open()
    teachers = await fetch_all(adapter, Teacher)

    assert adapter.version == "1.1"
    assert teachers["u2"].school_ids == ("s1", "d1")
    assert (await fetch_all(adapter, Student))["u1"].grade_level == "09"


async def test_a_partial_manifest_reads_the_files_it_leaves_out_with_a_warning(tmp_path: Path) -> None:
    manifest = """
        propertyName,value
        oneroster.version,1.2
        file.users,bulk
        file.orgs,bulk
    """  # the other five files are not listed
    adapter = adapter_for(write_set(tmp_path / "set", {**BASE, "manifest.csv": manifest}))
    report = await adapter.open()

    assert report.rejected == []
    unlisted = sorted(p.where for p in report.problems if p.reason.startswith("file not listed"))
    assert unlisted == ["academicSessions.csv", "classes.csv", "courses.csv", "enrollments.csv", "roles.csv"]
    assert report.counts["Enrollment"] == 2


async def test_a_file_homeroom_does_not_read_is_named_once(tmp_path: Path) -> None:
    report, _, _ = await load(tmp_path, userProfiles_csv=ROLES)

    assert problems(report, "userProfiles.csv") == [(0, None, "not a file Homeroom reads; ignored", False)]


async def test_a_damaged_file_in_a_zip_costs_only_its_own_entity(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "set", BASE)
    archive = zip_set(folder, tmp_path / "set.zip", wrap="Export")
    raw = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("Export/classes.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start : start + 8] = b"\xff" * 8  # corrupt the deflated bytes of classes.csv only
    archive.write_bytes(bytes(raw))

    adapter = adapter_for(archive)
    report = await adapter.open()

    [problem] = report.rejected
    assert (problem.where, problem.line) == ("classes.csv", 0)
    assert report.counts["Section"] == 0
    assert set(await fetch_all(adapter, Student)) == {"u1"}
    # Enrollments of the unreadable file's classes are kept: their class is unknown, not absent.
    assert {e.vendor_id for e in (await fetch_all(adapter, Enrollment)).values()} == {"e1", "e2"}


# -- references ---------------------------------------------------------------------------


async def test_a_user_without_a_role_is_still_a_person_and_the_report_says_so(tmp_path: Path) -> None:
    roles = ROLES.replace("    r1,active,,u1,primary,student,,,s1\n", "")
    report, students, _ = await load(tmp_path, roles_csv=roles)

    assert students["u1"].given_name == "Ann"
    assert problems(report, "users.csv") == [
        (2, "role", "no role row; served as student (from enrollments.csv)", False)
    ]


async def test_a_user_without_a_role_enrollment_or_grade_is_rejected_with_the_reason(tmp_path: Path) -> None:
    roles = ROLES.replace("    r2,active,,u2,primary,teacher,,,s1\n", "")
    enrollments = ENROLLMENTS.replace("    e2,active,,k1,s1,u2,teacher,true,,\n", "")
    report, _, teachers = await load(tmp_path, roles_csv=roles, enrollments_csv=enrollments)

    assert teachers == {}
    [(line, column, reason, rejected)] = problems(report, "users.csv")
    assert (line, column, rejected) == (3, "role", True)
    assert reason.startswith("user has no role")


async def test_rows_of_a_record_marked_tobedeleted_are_skipped_not_rejected(tmp_path: Path) -> None:
    classes = CLASSES + "    k2,tobedeleted,,Old,09,c1,OLD,scheduled,,s1,t1\n"
    enrollments = ENROLLMENTS + "    e3,active,,k2,s1,u1,student,,,\n    e4,active,,k9,s1,u1,student,,,\n"
    report, _, _ = await load(tmp_path, classes_csv=classes, enrollments_csv=enrollments)

    assert [(p.where, p.line, p.reason) for p in report.rejected] == [("enrollments.csv", 5, "no such class")]
    assert report.counts["skipped"] == 2  # k2 and e3
    assert report.files["enrollments.csv"].skipped == 1


async def test_a_class_with_unknown_term_course_and_school_is_kept_with_warnings(tmp_path: Path) -> None:
    classes = CLASSES.replace("c1,ALG-1,scheduled,R1,s1,t1", "c9,ALG-1,scheduled,R1,s9,t9")
    adapter = adapter_for(write_set(tmp_path / "set", {**BASE, "classes.csv": classes}))
    report = await adapter.open()

    section = (await fetch_all(adapter, Section))["k1"]
    assert (section.course_id, section.school_id, section.term_ids) == (None, None, ())
    assert sorted((p.column or "") for p in report.problems) == [
        "courseSourcedId",
        "schoolSourcedId",
        "termSourcedIds",
    ]
    assert report.counts["Enrollment"] == 2


async def test_a_role_at_an_unknown_org_still_gives_the_role(tmp_path: Path) -> None:
    roles = ROLES.replace("r2,active,,u2,primary,teacher,,,s1", "r2,active,,u2,primary,teacher,,,s9")
    report, _, teachers = await load(tmp_path, roles_csv=roles)

    assert teachers["u2"].school_ids == ()
    assert problems(report, "roles.csv") == [(3, "orgSourcedId", "no such org; left empty", False)]
