"""OneRoster 1.2 bulk CSV: headers, roster rows of the synthetic district, writing.

Conventions the rows follow: ``status`` is ``active`` and ``dateLastModified``
one fixed timestamp; booleans are ``true``/``false``; dates ISO 8601;
multi-valued cells (``grades``, ``agentSourcedIds``, ``metadata.programs``) are
comma-separated inside one quoted cell.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from hub.testing._district import District
from hub.testing._people import RACE_COLUMNS, Person, StudentRecord

__all__ = [
    "ABSENT_FILES",
    "HEADERS",
    "MANIFEST_FILE",
    "class_rows",
    "course_rows",
    "demographic_rows",
    "enrollment_rows",
    "org_rows",
    "read_manifest",
    "role_rows",
    "session_rows",
    "user_rows",
    "write_csv",
]

Row = list[str]
MANIFEST_FILE = "manifest.csv"

# Written files in the order they are written; the last two are Homeroom extensions.
# fmt: off
HEADERS: dict[str, tuple[str, ...]] = {
    "orgs.csv": (
        "sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId",
    ),
    "academicSessions.csv": (
        "sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId",
        "schoolYear",
    ),
    "courses.csv": (
        "sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades",
        "orgSourcedId", "subjects", "subjectCodes",
    ),
    "classes.csv": (
        "sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
        "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods",
    ),
    "users.csv": (
        "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName",
        "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
        "password", "userMasterIdentifier", "preferredGivenName", "preferredMiddleName",
        "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
    ),
    "roles.csv": (
        "sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate",
        "endDate", "orgSourcedId", "userProfileSourcedId",
    ),
    "demographics.csv": (
        "sourcedId", "status", "dateLastModified", "birthDate", "sex", *RACE_COLUMNS,
        "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
        "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus", "metadata.programs",
        "metadata.directoryOptOut",
    ),
    "enrollments.csv": (
        "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId",
        "role", "primary", "beginDate", "endDate",
    ),
    "categories.csv": (
        "sourcedId", "status", "dateLastModified", "title", "weight",
    ),
    "lineItems.csv": (
        "sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate",
        "classSourcedId", "categorySourcedId", "academicSessionSourcedId", "resultValueMin", "resultValueMax",
        "schoolSourcedId",
    ),
    "results.csv": (
        "sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId", "scoreStatus",
        "score", "scoreDate", "comment", "textScore", "classSourcedId", "inProgress", "incomplete", "late",
        "missing",
    ),
    "courseGrades.csv": (
        "sourcedId", "status", "dateLastModified", "classSourcedId", "studentSourcedId",
        "academicSessionSourcedId", "letterGrade", "percent",
    ),
    "attendance.csv": (
        "sourcedId", "status", "dateLastModified", "userSourcedId", "classSourcedId", "schoolSourcedId",
        "date", "attendanceStatus",
    ),
}
# fmt: on

# OneRoster 1.2 files this generator does not write; the manifest marks them absent.
ABSENT_FILES: tuple[str, ...] = (
    "classResources",
    "courseResources",
    "lineItemLearningObjectiveIds",
    "lineItemScoreScales",
    "resources",
    "resultLearningObjectiveIds",
    "resultScoreScales",
    "scoreScales",
    "userProfiles",
    "userResources",
)


_FLUSH_EVERY = 8192  # lines


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Row]) -> int:
    """Write ``header`` and ``rows`` as UTF-8 CSV (QUOTE_MINIMAL, ``\\n`` line ends); returns the row count.

    The csv module is the reference, but it costs several microseconds a row
    and results run to millions of rows; a row with no comma, quote or line
    break inside a cell is joined directly, which gives the very same bytes.
    """
    lines: list[str] = []
    writer = csv.writer(_LineSink(lines), quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(header)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        for row in rows:
            line = ",".join(row)
            if len(row) > 1 and line.count(",") == len(row) - 1 and not _has_quote_or_break(line):
                lines.append(line + "\n")
            else:
                writer.writerow(row)
            written += 1
            if len(lines) >= _FLUSH_EVERY:
                stream.write("".join(lines))
                lines.clear()
        stream.write("".join(lines))
    return written


def _has_quote_or_break(line: str) -> bool:
    return '"' in line or "\n" in line or "\r" in line


class _LineSink:
    """A file-like target for csv.writer that collects lines in a list."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def write(self, text: str) -> int:
        self._lines.append(text)
        return len(text)


def read_manifest(path: Path) -> dict[str, str] | None:
    """``propertyName -> value`` of a manifest.csv, or None if it is missing or unreadable."""
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            return {row[0]: row[1] for row in csv.reader(stream) if len(row) >= 2}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def org_rows(district: District, stamp: str) -> Iterator[Row]:
    """orgs.csv rows: the district, then its schools."""
    yield [district.sourced_id, "active", stamp, district.name, "district", district.identifier, ""]
    for school in district.schools:
        yield [
            school.sourced_id,
            "active",
            stamp,
            school.name,
            "school",
            school.identifier,
            district.sourced_id,
        ]


def session_rows(district: District, stamp: str) -> Iterator[Row]:
    """academicSessions.csv rows: school year, semesters, grading periods."""
    for term in district.calendar.terms:
        yield [
            term.sourced_id,
            "active",
            stamp,
            term.title,
            term.type,
            term.start.isoformat(),
            term.end.isoformat(),
            term.parent_id,
            term.school_year,
        ]


def course_rows(district: District, stamp: str) -> Iterator[Row]:
    """courses.csv rows."""
    year_id = district.calendar.year.sourced_id
    for course in district.courses:
        offering = course.offering
        yield [
            course.sourced_id,
            "active",
            stamp,
            year_id,
            offering.title,
            offering.code,
            ",".join(offering.grades),
            course.school.sourced_id,
            offering.subject,
            "",
        ]


def class_rows(district: District, stamp: str) -> Iterator[Row]:
    """classes.csv rows; the title names the period and the teacher, as SIS exports do."""
    for section in district.sections:
        offering = section.course.offering
        teacher = section.teacher
        teacher_note = f" ({teacher.family_name})" if teacher is not None else ""
        yield [
            section.sourced_id,
            "active",
            stamp,
            f"{offering.title} - Period {section.period}{teacher_note}",
            ",".join(section.grades),
            section.course.sourced_id,
            f"{offering.code}-{section.number:02d}",
            "scheduled",
            section.location,
            section.course.school.sourced_id,
            section.term_id,
            offering.subject,
            "",
            str(section.period),
        ]


def _user_row(person: Person, stamp: str, grades: str, master_identifier: str) -> Row:
    return [
        person.sourced_id,
        "active",
        stamp,
        "true",
        person.username,
        f"{{SIS:{person.sis_id}}}",
        person.given_name,
        person.family_name,
        person.middle_name,
        person.identifier,
        person.email,
        person.sms,
        person.phone,
        ",".join(person.agent_ids),
        grades,
        "",
        master_identifier,
        person.preferred_given_name,
        "",
        "",
        person.primary_org_id,
        "",
    ]


def user_rows(district: District, stamp: str) -> Iterator[Row]:
    """users.csv rows: staff, students, then guardians."""
    for member in district.staff:
        yield _user_row(member, stamp, "", "")
    for student in district.students:
        yield _user_row(student, stamp, student.grade, student.identifier)
    for guardian in district.guardians:
        yield _user_row(guardian, stamp, "", "")


def role_rows(district: District, stamp: str) -> Iterator[Row]:
    """roles.csv rows; a guardian has a role at each school of their children,
    the first primary and the others secondary."""
    begin = district.calendar.year.start.isoformat()
    end = district.calendar.year.end.isoformat()

    def row(user_id: str, role_type: str, role: str, org_id: str) -> Row:
        role_id = f"role-{user_id}-{org_id.removeprefix('org-')}"
        return [role_id, "active", stamp, user_id, role_type, role, begin, end, org_id, ""]

    for member in district.staff:
        yield row(member.sourced_id, "primary", member.role, member.org_id)
    for student in district.students:
        yield row(student.sourced_id, "primary", "student", student.school.sourced_id)
    for guardian in district.guardians:
        for position, school_id in enumerate(guardian.school_ids):
            yield row(
                guardian.sourced_id,
                "primary" if position == 0 else "secondary",
                guardian.relationship,
                school_id,
            )


def _demographic_row(student: StudentRecord, stamp: str) -> Row:
    return [
        student.sourced_id,
        "active",
        stamp,
        student.birth_date.isoformat(),
        student.sex,
        *(_flag(flag) for flag in student.race_flags),
        _flag(student.two_or_more_races),
        _flag(student.hispanic),
        student.birth_country,
        student.birth_state,
        student.birth_city,
        "",
        ",".join(student.programs),
        _flag(student.directory_opt_out),
    ]


def demographic_rows(district: District, stamp: str) -> Iterator[Row]:
    """demographics.csv rows, one per student (sourcedId = the student's)."""
    for student in district.students:
        yield _demographic_row(student, stamp)


def enrollment_rows(district: District, stamp: str) -> Iterator[Row]:
    """enrollments.csv rows: per class its teacher (primary), then its students."""
    counter = 0
    for section in district.sections:
        school_id = section.course.school.sourced_id
        begin = section.term_start.isoformat()
        end = section.term_end.isoformat()
        if section.teacher is not None:
            counter += 1
            teacher_id = section.teacher.sourced_id
            yield [
                "enr-" + str(counter).zfill(7),
                "active",
                stamp,
                section.sourced_id,
                school_id,
                teacher_id,
                "teacher",
                "true",
                begin,
                end,
            ]
        for index in section.student_indexes:
            counter += 1
            student_id = district.students[index].sourced_id
            last_day = section.drop_dates.get(index)
            yield [
                "enr-" + str(counter).zfill(7),
                "active",
                stamp,
                section.sourced_id,
                school_id,
                student_id,
                "student",
                "false",
                begin,
                end if last_day is None else last_day.isoformat(),
            ]
