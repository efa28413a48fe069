"""The synthetic district: deterministic, referentially complete, realistic enough."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from hub.testing import DistrictSpec, GeneratedDistrict, generate_district, is_generated, read_generated_spec
from hub.testing._calendar import build_calendar
from hub.testing._oneroster_csv import write_csv

WINTER_DAY = dt.date(2026, 3, 4)  # a Wednesday in the spring semester
GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]

EXPECTED_HEADERS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "courses.csv": (
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
        "subjects,subjectCodes"
    ),
    "classes.csv": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
        "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
        "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,"
        "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns"
    ),
    "roles.csv": (
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
        "userProfileSourcedId"
    ),
    "demographics.csv": (
        "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
        "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
        "publicSchoolResidenceStatus,metadata.programs,metadata.directoryOptOut"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
        "beginDate,endDate"
    ),
    "categories.csv": "sourcedId,status,dateLastModified,title,weight",
    "lineItems.csv": (
        "sourcedId,status,dateLastModified,title,description,assignDate,dueDate,classSourcedId,"
        "categorySourcedId,academicSessionSourcedId,resultValueMin,resultValueMax,schoolSourcedId"
    ),
    "results.csv": (
        "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,"
        "comment,textScore,classSourcedId,inProgress,incomplete,late,missing"
    ),
    "courseGrades.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,studentSourcedId,academicSessionSourcedId,"
        "letterGrade,percent"
    ),
    "attendance.csv": (
        "sourcedId,status,dateLastModified,userSourcedId,classSourcedId,schoolSourcedId,date,attendanceStatus"
    ),
}


def read_rows(folder: Path, file_name: str) -> list[dict[str, str]]:
    with (folder / file_name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def split_cell(cell: str) -> list[str]:
    return [value for value in cell.split(",") if value]


class District:
    """The files of a generated district, read once."""

    def __init__(self, generated: GeneratedDistrict) -> None:
        self.generated = generated
        self.folder = generated.out_dir
        self.today = generated.spec.today
        self._cache: dict[str, list[dict[str, str]]] = {}

    def rows(self, file_name: str) -> list[dict[str, str]]:
        if file_name not in self._cache:
            self._cache[file_name] = read_rows(self.folder, file_name)
        return self._cache[file_name]

    def ids(self, file_name: str) -> set[str]:
        return {row["sourcedId"] for row in self.rows(file_name)}

    def roles_of(self, role: str) -> list[dict[str, str]]:
        return [row for row in self.rows("roles.csv") if row["role"] == role]

    def user_ids_with_role(self, *roles: str) -> set[str]:
        return {row["userSourcedId"] for row in self.rows("roles.csv") if row["role"] in roles}

    def sections_by_user(self, role: str) -> dict[str, list[str]]:
        sections: dict[str, list[str]] = defaultdict(list)
        for row in self.rows("enrollments.csv"):
            if row["role"] == role:
                sections[row["userSourcedId"]].append(row["classSourcedId"])
        return sections


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> District:
    folder = tmp_path_factory.mktemp("district-2000")
    return District(generate_district(folder, DistrictSpec(students=2000, seed=11, today=WINTER_DAY)))


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.csv"))}


# Determinism


def test_the_same_spec_writes_identical_bytes(tmp_path: Path) -> None:
    spec = DistrictSpec(students=300, seed=5, today=WINTER_DAY)
    generate_district(tmp_path / "first", spec)
    generate_district(tmp_path / "second", spec)

    first, second = file_bytes(tmp_path / "first"), file_bytes(tmp_path / "second")

    assert len(first) == 14
    assert first == second


def test_a_different_seed_writes_a_different_district(tmp_path: Path) -> None:
    generate_district(tmp_path / "seven", DistrictSpec(students=300, seed=7, today=WINTER_DAY))
    generate_district(tmp_path / "eight", DistrictSpec(students=300, seed=8, today=WINTER_DAY))

    seven, eight = file_bytes(tmp_path / "seven"), file_bytes(tmp_path / "eight")

    assert seven["users.csv"] != eight["users.csv"]
    assert seven["results.csv"] != eight["results.csv"]


def test_regenerating_into_the_same_folder_overwrites_it(tmp_path: Path) -> None:
    generate_district(tmp_path, DistrictSpec(students=300, seed=1, today=WINTER_DAY))
    generate_district(tmp_path, DistrictSpec(students=100, seed=2, today=WINTER_DAY))

    assert len(read_rows(tmp_path, "demographics.csv")) == 100
    assert read_generated_spec(tmp_path) == DistrictSpec(students=100, seed=2, today=WINTER_DAY)


# File format


def test_headers_are_exact(district: District) -> None:
    for file_name, header in EXPECTED_HEADERS.items():
        first_line = (district.folder / file_name).read_text(encoding="utf-8").split("\n", 1)[0]
        assert first_line == header, file_name


def test_counts_match_the_files(district: District) -> None:
    assert set(district.generated.counts) == set(EXPECTED_HEADERS)
    for file_name, count in district.generated.counts.items():
        assert len(district.rows(file_name)) == count, file_name


def test_lines_end_with_newline_only_and_multi_valued_cells_are_quoted(district: District) -> None:
    users_text = (district.folder / "users.csv").read_text(encoding="utf-8")
    assert "\r" not in users_text
    guardians_of_two = [
        row for row in district.rows("users.csv") if len(split_cell(row["agentSourcedIds"])) == 2
    ]
    some_guardian = guardians_of_two[0]
    assert f'"{some_guardian["agentSourcedIds"]}"' in users_text


def test_the_fast_csv_writer_matches_the_csv_module(tmp_path: Path) -> None:
    rows = [
        ["plain", "row", ""],
        ["KG,01,02", "has comma", "x"],
        ['say "hi"', "quote", "x"],
        ["line\nbreak", "carriage\rreturn", "x"],
        [""],
        ["Zoë", "José", "naïve"],
        ["", "", ""],
    ]
    expected = io.StringIO()
    csv.writer(expected, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerows([["a", "b", "c"], *rows])

    count = write_csv(tmp_path / "out.csv", ["a", "b", "c"], rows)

    assert count == len(rows)
    assert (tmp_path / "out.csv").read_bytes() == expected.getvalue().encode("utf-8")


def test_every_row_is_active_and_stamped_from_today(district: District) -> None:
    stamp = f"{WINTER_DAY.isoformat()}T23:30:00Z"
    for file_name in EXPECTED_HEADERS:
        for row in district.rows(file_name)[:50]:
            assert (row["status"], row["dateLastModified"]) == ("active", stamp), file_name


def test_manifest_declares_every_file(district: District) -> None:
    lines = (district.folder / "manifest.csv").read_text(encoding="utf-8").splitlines()
    manifest = dict(csv.reader(lines))

    assert manifest["propertyName"] == "value"
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == "1.2"
    assert manifest["source.systemName"] == "Homeroom synthetic district"
    assert manifest["source.systemCode"] == "homeroom-synthetic"
    for file_name in EXPECTED_HEADERS:
        assert manifest[f"file.{file_name.removesuffix('.csv')}"] == "bulk"
    for absent in ("resources", "classResources", "courseResources", "userProfiles", "scoreScales"):
        assert manifest[f"file.{absent}"] == "absent"


# Referential completeness


def test_every_reference_resolves(district: District) -> None:
    orgs, sessions = district.ids("orgs.csv"), district.ids("academicSessions.csv")
    courses, classes = district.ids("courses.csv"), district.ids("classes.csv")
    users, line_items = district.ids("users.csv"), district.ids("lineItems.csv")
    categories = district.ids("categories.csv")
    references: list[tuple[str, str, set[str]]] = [
        ("orgs.csv", "parentSourcedId", orgs),
        ("academicSessions.csv", "parentSourcedId", sessions),
        ("courses.csv", "schoolYearSourcedId", sessions),
        ("courses.csv", "orgSourcedId", orgs),
        ("classes.csv", "courseSourcedId", courses),
        ("classes.csv", "schoolSourcedId", orgs),
        ("classes.csv", "termSourcedIds", sessions),
        ("users.csv", "agentSourcedIds", users),
        ("users.csv", "primaryOrgSourcedId", orgs),
        ("roles.csv", "userSourcedId", users),
        ("roles.csv", "orgSourcedId", orgs),
        ("demographics.csv", "sourcedId", users),
        ("enrollments.csv", "classSourcedId", classes),
        ("enrollments.csv", "schoolSourcedId", orgs),
        ("enrollments.csv", "userSourcedId", users),
        ("lineItems.csv", "classSourcedId", classes),
        ("lineItems.csv", "categorySourcedId", categories),
        ("lineItems.csv", "academicSessionSourcedId", sessions),
        ("lineItems.csv", "schoolSourcedId", orgs),
        ("results.csv", "lineItemSourcedId", line_items),
        ("results.csv", "studentSourcedId", users),
        ("results.csv", "classSourcedId", classes),
        ("courseGrades.csv", "classSourcedId", classes),
        ("courseGrades.csv", "studentSourcedId", users),
        ("courseGrades.csv", "academicSessionSourcedId", sessions),
        ("attendance.csv", "userSourcedId", users),
        ("attendance.csv", "classSourcedId", classes),
        ("attendance.csv", "schoolSourcedId", orgs),
    ]
    for file_name, column, known in references:
        dangling = {value for row in district.rows(file_name) for value in split_cell(row[column])} - known
        assert not dangling, f"{file_name}.{column}: {sorted(dangling)[:5]}"


def test_sourced_ids_are_unique_per_file(district: District) -> None:
    for file_name in EXPECTED_HEADERS:
        rows = district.rows(file_name)
        assert len({row["sourcedId"] for row in rows}) == len(rows), file_name


def test_usernames_and_emails_are_unique(district: District) -> None:
    users = district.rows("users.csv")
    assert len({row["email"] for row in users}) == len(users)
    assert len({row["username"] for row in users}) == len(users)


# Orgs and calendar


def test_one_district_and_schools_of_realistic_names(district: District) -> None:
    orgs = district.rows("orgs.csv")
    (the_district,) = [org for org in orgs if org["type"] == "district"]
    schools = [org for org in orgs if org["type"] == "school"]

    assert len(schools) == 5  # about one per 400 students
    assert all(school["parentSourcedId"] == the_district["sourcedId"] for school in schools)
    assert all(
        school["name"].endswith(("Elementary School", "Middle School", "High School")) for school in schools
    )


@pytest.mark.parametrize(("students", "schools"), [(50, 2), (500, 2), (1300, 3), (5000, 12), (5200, 13)])
def test_about_one_school_per_400_students(tmp_path: Path, students: int, schools: int) -> None:
    generated = generate_district(
        tmp_path,
        DistrictSpec(students=students, today=WINTER_DAY, assignments_per_section=0, attendance_days=0),
    )
    assert generated.counts["orgs.csv"] == schools + 1


@pytest.mark.parametrize("students", [50, 2000])
def test_every_grade_level_is_present(tmp_path: Path, students: int) -> None:
    generate_district(tmp_path, DistrictSpec(students=students, today=WINTER_DAY))
    users = read_rows(tmp_path, "users.csv")
    student_grades = {row["grades"] for row in users if row["grades"]}
    class_grades = {
        grade for row in read_rows(tmp_path, "classes.csv") for grade in split_cell(row["grades"])
    }

    assert student_grades == set(GRADES)
    assert class_grades == set(GRADES)


def test_schools_serve_the_grades_of_their_level(district: District) -> None:
    names = {org["sourcedId"]: org["name"] for org in district.rows("orgs.csv")}
    served: dict[str, set[str]] = defaultdict(set)
    for row in district.rows("users.csv"):
        if row["grades"]:
            served[names[row["primaryOrgSourcedId"]]].add(row["grades"])
    spans = {
        "Elementary School": set(GRADES[0:6]),
        "Middle School": set(GRADES[6:9]),
        "High School": set(GRADES[9:13]),
    }
    for name, grades in served.items():
        (span,) = [grades_of for suffix, grades_of in spans.items() if name.endswith(suffix)]
        assert grades == span, name


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2026, 7, 1),
        dt.date(2026, 7, 20),
        dt.date(2026, 8, 14),
        dt.date(2026, 8, 15),
        dt.date(2026, 12, 25),
        dt.date(2027, 1, 1),
        dt.date(2027, 1, 15),
        dt.date(2027, 1, 16),
        dt.date(2028, 2, 29),
        dt.date(2027, 6, 15),
        dt.date(2027, 6, 16),
        dt.date(2027, 6, 30),
    ],
)
def test_today_lies_in_the_year_one_semester_and_one_grading_period(today: dt.date) -> None:
    calendar = build_calendar(today)

    assert calendar.year.contains(today)
    assert [term.contains(today) for term in calendar.semesters].count(True) == 1
    assert [term.contains(today) for term in calendar.grading_periods].count(True) == 1
    assert calendar.current_grading_period.contains(today)
    assert calendar.year.school_year == str(calendar.year.end.year)


@pytest.mark.parametrize("today", [dt.date(2026, 7, 10), dt.date(2027, 1, 12), dt.date(2026, 10, 1)])
def test_academic_sessions_contain_today(tmp_path: Path, today: dt.date) -> None:
    generate_district(tmp_path, DistrictSpec(students=50, today=today))
    sessions = read_rows(tmp_path, "academicSessions.csv")

    def containing(session_type: str) -> list[dict[str, str]]:
        return [
            row
            for row in sessions
            if row["type"] == session_type
            and dt.date.fromisoformat(row["startDate"]) <= today <= dt.date.fromisoformat(row["endDate"])
        ]

    (year,) = containing("schoolYear")
    (semester,) = containing("semester")
    (period,) = containing("gradingPeriod")
    assert year["schoolYear"] == str(today.year + 1 if today.month >= 7 else today.year)
    assert semester["parentSourcedId"] == year["sourcedId"]
    assert period["parentSourcedId"] == semester["sourcedId"]
    assert {row["title"] for row in sessions if row["type"] == "semester"} == {
        f"Fall Semester {year['title'][:9]}",
        f"Spring Semester {year['title'][:9]}",
    }


def test_the_school_year_label_is_the_ending_year() -> None:
    calendar = build_calendar(dt.date(2026, 9, 1))

    assert (calendar.year.start, calendar.year.end) == (dt.date(2026, 8, 15), dt.date(2027, 6, 15))
    assert calendar.year.school_year == "2027"
    assert len(calendar.grading_periods) == 4


def test_course_grades_are_for_the_current_grading_period(district: District) -> None:
    sessions = {row["sourcedId"]: row for row in district.rows("academicSessions.csv")}
    period_ids = {row["academicSessionSourcedId"] for row in district.rows("courseGrades.csv")}

    (period_id,) = period_ids
    period = sessions[period_id]
    assert period["type"] == "gradingPeriod"
    assert (
        dt.date.fromisoformat(period["startDate"]) <= WINTER_DAY <= dt.date.fromisoformat(period["endDate"])
    )


# Timetable


def test_students_take_six_or_seven_sections(district: District) -> None:
    sections = district.sections_by_user("student")

    assert len(sections) == 2000
    assert {len(classes) for classes in sections.values()} == {6, 7}


def test_teachers_teach_four_to_six_sections(district: District) -> None:
    sections = district.sections_by_user("teacher")

    assert sections.keys() == district.user_ids_with_role("teacher")
    assert {len(classes) for classes in sections.values()} <= {4, 5, 6}
    assert statistics.mean(len(classes) for classes in sections.values()) == pytest.approx(5, abs=0.5)


def test_nobody_is_in_two_places_in_one_period(district: District) -> None:
    period_of = {row["sourcedId"]: row["periods"] for row in district.rows("classes.csv")}
    for role in ("student", "teacher"):
        for user_id, classes in district.sections_by_user(role).items():
            periods = [period_of[class_id] for class_id in classes]
            assert len(periods) == len(set(periods)), user_id


def test_sections_hold_20_to_30_students_of_one_school(district: District) -> None:
    school_of_class = {row["sourcedId"]: row["schoolSourcedId"] for row in district.rows("classes.csv")}
    school_of_student = {row["userSourcedId"]: row["orgSourcedId"] for row in district.roles_of("student")}
    sizes: Counter[str] = Counter()
    for row in district.rows("enrollments.csv"):
        if row["role"] == "student":
            sizes[row["classSourcedId"]] += 1
            assert school_of_student[row["userSourcedId"]] == school_of_class[row["classSourcedId"]]

    assert 20 <= statistics.median(sizes.values()) <= 30
    assert max(sizes.values()) <= 30


def test_core_sections_hold_one_grade_matching_their_students(district: District) -> None:
    grades_of_class = {row["sourcedId"]: split_cell(row["grades"]) for row in district.rows("classes.csv")}
    grade_of_student = {
        row["sourcedId"]: row["grades"] for row in district.rows("users.csv") if row["grades"]
    }
    for row in district.rows("enrollments.csv"):
        if row["role"] == "student":
            assert grade_of_student[row["userSourcedId"]] in grades_of_class[row["classSourcedId"]]


def test_about_two_percent_of_student_enrollments_were_dropped(district: District) -> None:
    student_rows = [row for row in district.rows("enrollments.csv") if row["role"] == "student"]
    dropped = [row for row in student_rows if dt.date.fromisoformat(row["endDate"]) < WINTER_DAY]

    assert 0.01 <= len(dropped) / len(student_rows) <= 0.03
    assert all(row["beginDate"] <= row["endDate"] for row in dropped)


def test_teacher_enrollments_are_primary(district: District) -> None:
    primary_by_role = {(row["role"], row["primary"]) for row in district.rows("enrollments.csv")}
    assert primary_by_role == {("teacher", "true"), ("student", "false")}


# People


def test_required_personas_exist(district: District) -> None:
    today = WINTER_DAY.isoformat()
    teachers_teaching_now = {
        row["userSourcedId"]
        for row in district.rows("enrollments.csv")
        if row["role"] == "teacher" and row["beginDate"] <= today <= row["endDate"]
    }
    guardian_ids = district.user_ids_with_role("parent", "guardian", "relative")
    guardians = [row for row in district.rows("users.csv") if row["sourcedId"] in guardian_ids]
    students = [row for row in district.rows("users.csv") if row["grades"]]
    schools = {row["sourcedId"] for row in district.rows("orgs.csv") if row["type"] == "school"}
    demographics = district.rows("demographics.csv")

    assert teachers_teaching_now
    assert {row["orgSourcedId"] for row in district.roles_of("principal")} == schools
    assert len(district.roles_of("principal")) == len(schools)
    assert {row["orgSourcedId"] for row in district.roles_of("counselor")} == schools
    assert len(district.roles_of("districtAdministrator")) == 2
    assert any(len(split_cell(row["agentSourcedIds"])) == 2 for row in guardians)
    assert any(row["agentSourcedIds"] for row in students)
    assert any(row["metadata.directoryOptOut"] == "true" for row in demographics)
    assert any(row["metadata.programs"] for row in demographics)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_even_the_smallest_district_has_the_personas(tmp_path: Path, seed: int) -> None:
    generate_district(tmp_path, DistrictSpec(students=50, seed=seed, today=WINTER_DAY))
    users = read_rows(tmp_path, "users.csv")
    demographics = read_rows(tmp_path, "demographics.csv")

    assert any(len(split_cell(row["agentSourcedIds"])) == 2 for row in users if not row["grades"])
    assert any(row["metadata.directoryOptOut"] == "true" for row in demographics)
    assert any({"IEP", "504", "ELL"} & set(split_cell(row["metadata.programs"])) for row in demographics)


def test_counselors_grow_with_enrollment(district: District) -> None:
    assert len(district.roles_of("counselor")) == 5 + 2000 // 800


def test_students_and_guardians_point_at_each_other(district: District) -> None:
    users = {row["sourcedId"]: row for row in district.rows("users.csv")}
    students = district.user_ids_with_role("student")
    guardian_roles = district.user_ids_with_role("parent", "guardian", "relative")

    for student_id in students:
        guardians = split_cell(users[student_id]["agentSourcedIds"])
        assert 1 <= len(guardians) <= 2
        for guardian_id in guardians:
            assert guardian_id in guardian_roles
            assert student_id in split_cell(users[guardian_id]["agentSourcedIds"])


def test_guardians_are_mostly_parents_with_roles_at_their_childrens_schools(district: District) -> None:
    users = {row["sourcedId"]: row for row in district.rows("users.csv")}
    school_of = {row["userSourcedId"]: row["orgSourcedId"] for row in district.roles_of("student")}
    relationships: Counter[str] = Counter()
    orgs_of_guardian: dict[str, set[str]] = defaultdict(set)
    for role in district.rows("roles.csv"):
        if role["role"] in ("parent", "guardian", "relative"):
            relationships[role["role"]] += 1
            orgs_of_guardian[role["userSourcedId"]].add(role["orgSourcedId"])

    assert relationships.most_common(1)[0][0] == "parent"
    assert relationships["guardian"] > 0
    for guardian_id, orgs in orgs_of_guardian.items():
        children = split_cell(users[guardian_id]["agentSourcedIds"])
        assert orgs == {school_of[child] for child in children}


def test_each_user_has_exactly_one_primary_role(district: District) -> None:
    primary = Counter(
        row["userSourcedId"] for row in district.rows("roles.csv") if row["roleType"] == "primary"
    )
    assert set(primary) == district.ids("users.csv")
    assert set(primary.values()) == {1}


def test_contact_details_follow_the_district_conventions(district: District) -> None:
    users = {row["sourcedId"]: row for row in district.rows("users.csv")}
    student = users[next(iter(district.user_ids_with_role("student")))]
    teacher = users[next(iter(district.user_ids_with_role("teacher")))]
    guardian = users[next(iter(district.user_ids_with_role("parent")))]

    assert ".k12.us" in student["email"]
    assert student["email"].split("@")[1].startswith("students.")
    assert student["email"].split("@")[1] == f"students.{teacher['email'].split('@')[1]}"
    assert len(student["identifier"]) == 10
    assert student["identifier"].isdigit()
    assert student["userIds"].startswith("{SIS:")
    assert student["userIds"].endswith("}")
    assert student["phone"] == ""
    assert teacher["phone"]
    assert guardian["phone"]


def test_about_five_percent_of_students_have_a_preferred_name(district: District) -> None:
    students = [row for row in district.rows("users.csv") if row["grades"]]
    share = sum(1 for row in students if row["preferredGivenName"]) / len(students)
    assert 0.025 <= share <= 0.08


def test_opt_out_and_program_shares_for_2000_students(district: District) -> None:
    demographics = district.rows("demographics.csv")
    opted_out = sum(1 for row in demographics if row["metadata.directoryOptOut"] == "true")
    in_program = sum(
        1 for row in demographics if {"IEP", "504", "ELL"} & set(split_cell(row["metadata.programs"]))
    )

    assert 0.015 <= opted_out / len(demographics) <= 0.05
    assert 0.11 <= in_program / len(demographics) <= 0.19
    assert {program for row in demographics for program in split_cell(row["metadata.programs"])} == {
        "IEP",
        "504",
        "ELL",
        "FRL",
    }


def test_birth_dates_fit_the_grade(district: District) -> None:
    grade_of = {row["sourcedId"]: row["grades"] for row in district.rows("users.csv") if row["grades"]}
    september_first = dt.date(2025, 9, 1)
    for row in district.rows("demographics.csv"):
        birth = dt.date.fromisoformat(row["birthDate"])
        age = september_first.year - birth.year - ((birth.month, birth.day) > (9, 1))
        grade = grade_of[row["sourcedId"]]
        usual_age = 5 if grade == "KG" else 5 + int(grade)
        assert age in (usual_age, usual_age + 1), row["sourcedId"]


def test_race_flags_are_booleans(district: District) -> None:
    flags = (
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "white",
        "hispanicOrLatinoEthnicity",
    )
    for row in district.rows("demographics.csv"):
        assert {row[flag] for flag in flags} <= {"true", "false"}


# Gradebook and attendance


def test_line_items_spread_over_the_term_up_to_two_weeks_ahead(district: District) -> None:
    terms = {row["sourcedId"]: row for row in district.rows("academicSessions.csv")}
    term_of_class = {row["sourcedId"]: terms[row["termSourcedIds"]] for row in district.rows("classes.csv")}
    line_items = district.rows("lineItems.csv")
    per_class = Counter(row["classSourcedId"] for row in line_items)

    assert set(per_class.values()) == {6}
    assert {row["resultValueMax"] for row in line_items} == {"10", "20", "50", "100"}
    for row in line_items:
        assert row["dueDate"].endswith("Z")
        due = dt.date.fromisoformat(row["dueDate"][:10])
        term = term_of_class[row["classSourcedId"]]
        assert dt.date.fromisoformat(term["startDate"]) <= due <= WINTER_DAY + dt.timedelta(days=14)
        assert row["assignDate"] <= row["dueDate"]
        assert terms[row["academicSessionSourcedId"]]["type"] == "gradingPeriod"
    assert any(dt.date.fromisoformat(row["dueDate"][:10]) > WINTER_DAY for row in line_items)


def test_results_cover_enrolled_students_and_past_due_work(district: District) -> None:
    due = {
        row["sourcedId"]: dt.date.fromisoformat(row["dueDate"][:10]) for row in district.rows("lineItems.csv")
    }
    points = {row["sourcedId"]: float(row["resultValueMax"]) for row in district.rows("lineItems.csv")}
    last_day = {
        (row["classSourcedId"], row["userSourcedId"]): dt.date.fromisoformat(row["endDate"])
        for row in district.rows("enrollments.csv")
    }
    results = district.rows("results.csv")
    statuses = Counter(row["scoreStatus"] for row in results)

    assert set(statuses) == {"fully graded", "submitted", "not submitted", "exempt", "partially graded"}
    assert statuses.most_common(1)[0][0] == "fully graded"
    for row in results:
        assert due[row["lineItemSourcedId"]] <= min(
            WINTER_DAY, last_day[(row["classSourcedId"], row["studentSourcedId"])]
        )
        if row["score"]:
            assert 0 <= float(row["score"]) <= points[row["lineItemSourcedId"]]
        assert (row["missing"] == "true") == (row["scoreStatus"] == "not submitted")


def test_one_result_per_enrolled_student_and_past_due_item(district: District) -> None:
    due_dates_of_class: dict[str, list[dt.date]] = defaultdict(list)
    for row in district.rows("lineItems.csv"):
        due_dates_of_class[row["classSourcedId"]].append(dt.date.fromisoformat(row["dueDate"][:10]))
    expected = 0
    for row in district.rows("enrollments.csv"):
        if row["role"] == "student":
            last_day = min(WINTER_DAY, dt.date.fromisoformat(row["endDate"]))
            expected += sum(1 for due in due_dates_of_class[row["classSourcedId"]] if due <= last_day)
    results = district.rows("results.csv")

    assert len(results) == expected
    assert len({(row["lineItemSourcedId"], row["studentSourcedId"]) for row in results}) == expected


def test_some_results_are_late_missing_or_commented(district: District) -> None:
    results = district.rows("results.csv")
    late = sum(1 for row in results if row["late"] == "true") / len(results)
    missing = sum(1 for row in results if row["missing"] == "true") / len(results)
    commented = sum(1 for row in results if row["comment"]) / len(results)

    assert 0.02 <= late <= 0.1
    assert 0.01 <= missing <= 0.1
    assert 0.02 <= commented <= 0.15


def test_course_grades_cover_current_enrollments_with_matching_letters(district: District) -> None:
    current = {
        (row["classSourcedId"], row["userSourcedId"])
        for row in district.rows("enrollments.csv")
        if row["role"] == "student" and dt.date.fromisoformat(row["endDate"]) >= WINTER_DAY
    }
    grades = district.rows("courseGrades.csv")
    cut_offs = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"), (0.0, "F"))

    assert {(row["classSourcedId"], row["studentSourcedId"]) for row in grades} == current
    assert len(grades) == len(current)
    for row in grades:
        percent = float(row["percent"])
        assert 0.0 <= percent <= 100.0
        assert row["percent"] == f"{percent:.1f}"
        assert row["letterGrade"] == next(letter for floor, letter in cut_offs if percent >= floor)
    assert Counter(row["letterGrade"] for row in grades).keys() == {"A", "B", "C", "D", "F"}


def test_attendance_marks_each_student_on_the_recent_school_days(district: District) -> None:
    attendance = district.rows("attendance.csv")
    school_of = {row["userSourcedId"]: row["orgSourcedId"] for row in district.roles_of("student")}
    days = sorted({dt.date.fromisoformat(row["date"]) for row in attendance})
    statuses = Counter(row["attendanceStatus"] for row in attendance)

    assert len(days) == 10
    assert days[-1] == WINTER_DAY
    assert all(day.weekday() < 5 for day in days)
    assert (days[-1] - days[0]).days == 13  # ten weekdays span two weeks
    assert len(attendance) == 10 * 2000
    assert Counter((row["userSourcedId"], row["date"]) for row in attendance).most_common(1)[0][1] == 1
    assert set(statuses) == {"present", "absent", "tardy", "excused", "earlyDeparture"}
    assert statuses["present"] / len(attendance) > 0.85
    for row in attendance:
        assert row["classSourcedId"] == ""
        assert row["schoolSourcedId"] == school_of[row["userSourcedId"]]


def test_attendance_skips_the_weekend_and_stops_at_the_start_of_the_year(tmp_path: Path) -> None:
    saturday = dt.date(2026, 3, 7)
    generate_district(tmp_path / "saturday", DistrictSpec(students=50, today=saturday, attendance_days=3))
    second_school_day = dt.date(2025, 8, 18)  # the year starts on Friday, August 15
    generate_district(
        tmp_path / "start", DistrictSpec(students=50, today=second_school_day, attendance_days=10)
    )

    saturday_days = sorted({row["date"] for row in read_rows(tmp_path / "saturday", "attendance.csv")})
    start_days = sorted({row["date"] for row in read_rows(tmp_path / "start", "attendance.csv")})

    assert saturday_days == ["2026-03-04", "2026-03-05", "2026-03-06"]
    assert start_days == ["2025-08-15", "2025-08-18"]


# Manifest round trip and spec


def test_the_manifest_records_the_spec(district: District) -> None:
    assert is_generated(district.folder)
    assert read_generated_spec(district.folder) == district.generated.spec
    assert district.generated.spec == DistrictSpec(students=2000, seed=11, today=WINTER_DAY)


def test_a_folder_not_written_by_the_generator_is_not_ours(tmp_path: Path) -> None:
    assert not is_generated(tmp_path)
    assert read_generated_spec(tmp_path) is None
    (tmp_path / "manifest.csv").write_text(
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nsource.systemCode,ClassLink\n",
        encoding="utf-8",
    )
    assert not is_generated(tmp_path)
    assert read_generated_spec(tmp_path) is None
    assert not is_generated(tmp_path / "missing")
    assert read_generated_spec(tmp_path / "missing") is None


def test_a_damaged_manifest_of_ours_is_reported(tmp_path: Path) -> None:
    generate_district(tmp_path, DistrictSpec(students=50, today=WINTER_DAY))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("homeroom.students,50", "homeroom.students,many"),
        encoding="utf-8",
    )

    assert is_generated(tmp_path)
    with pytest.raises(ValueError, match=r"manifest\.csv"):
        read_generated_spec(tmp_path)


def test_today_defaults_to_the_current_date(tmp_path: Path) -> None:
    before = dt.date.today()
    generated = generate_district(tmp_path, DistrictSpec(students=50))
    after = dt.date.today()

    assert generated.spec.today in (before, after)
    assert read_generated_spec(tmp_path) == generated.spec


@pytest.mark.parametrize(
    ("field", "value"),
    [("students", 49), ("students", 50_001), ("assignments_per_section", -1), ("attendance_days", -1)],
)
def test_out_of_range_specs_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        DistrictSpec(**{field: value})  # type: ignore[arg-type]


def test_zero_assignments_and_attendance_days_write_empty_files(tmp_path: Path) -> None:
    generated = generate_district(
        tmp_path, DistrictSpec(students=50, today=WINTER_DAY, assignments_per_section=0, attendance_days=0)
    )

    assert generated.counts["lineItems.csv"] == 0
    assert generated.counts["results.csv"] == 0
    assert generated.counts["attendance.csv"] == 0
    assert generated.counts["courseGrades.csv"] > 0


@pytest.mark.slow
def test_50000_students(tmp_path: Path) -> None:
    spec = DistrictSpec(students=50_000, seed=3, today=WINTER_DAY)
    generated = generate_district(tmp_path, spec)

    assert generated.counts["demographics.csv"] == 50_000
    assert generated.counts["orgs.csv"] == 61
    assert generated.counts["attendance.csv"] == 500_000
    assert generated.counts["results.csv"] > 1_000_000
    assert read_generated_spec(tmp_path) == spec
    classes = {row["sourcedId"] for row in read_rows(tmp_path, "classes.csv")}
    assert {row["classSourcedId"] for row in read_rows(tmp_path, "enrollments.csv")} == classes
