"""One OneRoster CSV row -> one unified record, for every file but the people files.

Each file has a :class:`RowMapper`: the columns it reads and a function that
takes those cells, the row's line, the file's problem log and the records
loaded so far, and returns a record or raises :class:`Rejected`. Optional
values that cannot be read become ``None`` with a warning; required ones and
broken references cost the row. Messages name the
column and what is wrong, never the cell: it may be personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from adapters.oneroster_csv._fixes import fix_for
from adapters.oneroster_csv._values import (
    ATTENDANCE_STATUSES,
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    ORG_TYPES,
    SCORE_STATUSES,
    SESSION_TYPES,
    BadValue,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_float,
    parse_grade,
    split_multi,
)
from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Organization,
    Person,
    RowProblem,
    Score,
    Section,
    Student,
)

__all__ = [
    "ASSIGNMENTS",
    "ATTENDANCE",
    "CATEGORIES",
    "COURSES",
    "COURSE_GRADES",
    "ENROLLMENTS",
    "ORGS",
    "SCORES",
    "SECTIONS",
    "SESSIONS",
    "Cells",
    "FileLog",
    "Missing",
    "Refs",
    "Rejected",
    "RowMapper",
    "grades",
    "multi",
    "optional_ref",
    "optional_value",
    "required_ref",
    "required_value",
]

T = TypeVar("T")
RecordT = TypeVar("RecordT", covariant=True)
Cells = tuple[str, ...]


class Rejected(Exception):
    """The row cannot become a record; ``column`` and ``reason`` say why."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Missing(Rejected):
    """The row refers to a ``what`` (``class``, ``user``...) that was not loaded.

    ``target`` is the sourcedId referred to, kept so the loader can tell a
    record the set marks as deleted (the row goes with it, skipped) from
    one that never existed (the row is rejected). Never put into a message.
    """

    def __init__(self, column: str, what: str, target: str) -> None:
        super().__init__(column, f"no such {what}")
        self.what = what
        self.target = target


@dataclass(slots=True)
class FileLog:
    """Problems found in one file, appended to the load report's list."""

    where: str
    problems: list[RowProblem]

    def reject(self, line: int, reason: str, column: str | None = None) -> None:
        """Record a row that was not loaded."""
        self.problems.append(RowProblem(self.where, line, reason, column, True, fix_for(reason)))

    def warn(self, line: int, reason: str, column: str | None = None) -> None:
        """Record a row that was loaded, with a value left empty or a note (line 0: the file)."""
        self.problems.append(RowProblem(self.where, line, reason, column, False, fix_for(reason)))


@dataclass(slots=True)
class Refs:
    """Records loaded so far, by sourcedId, for checking references.

    ``None`` means the file was not read (absent from the set or the
    manifest): references into it are kept unchecked rather than rejected.
    """

    orgs: dict[str, Organization] | None = None
    sessions: dict[str, AcademicSession] | None = None
    courses: dict[str, Course] | None = None
    sections: dict[str, Section] | None = None
    categories: dict[str, str] | None = None
    assignments: dict[str, Assignment] | None = None
    people: dict[str, Person] | None = None
    students: dict[str, Student] | None = None


def optional_value(text: str, column: str, parse: Callable[[str], T], line: int, log: FileLog) -> T | None:
    """The parsed cell, or ``None`` when blank or unreadable (with a warning)."""
    if not text:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        log.warn(line, f"{_reason(exc)}; left empty", column)
        return None


def required_value(text: str, column: str, parse: Callable[[str], T]) -> T:
    """The parsed cell; a blank or unreadable cell rejects the row."""
    if not text:
        raise Rejected(column, "required value is blank")
    try:
        return parse(text)
    except ValueError as exc:
        raise Rejected(column, _reason(exc)) from None


def _reason(error: ValueError) -> str:
    # Only our own parsers' messages are known to be free of the cell's value.
    return str(error) if isinstance(error, BadValue) else "not a valid value"


def required_ref(value: str, column: str, targets: Mapping[str, object] | None, what: str) -> str:
    """A sourcedId that must be present and, when its file was read, exist."""
    if not value:
        raise Rejected(column, f"required {what} reference is blank")
    if targets is not None and value not in targets:
        raise Missing(column, what, value)
    return value


def optional_ref(
    value: str, column: str, targets: Mapping[str, object] | None, what: str, line: int, log: FileLog
) -> str | None:
    """A sourcedId that may be blank; a dangling one is dropped with a warning."""
    if not value:
        return None
    if targets is not None and value not in targets:
        log.warn(line, f"no such {what}; left empty", column)
        return None
    return value


def multi(cell: str) -> tuple[str, ...]:
    """The items of a multi-valued cell; ``()`` when blank."""
    return split_multi(cell) if cell else ()


def grades(cell: str) -> tuple[str, ...]:
    """A ``grades`` cell as CEDS grade levels."""
    return tuple(parse_grade(grade) for grade in split_multi(cell)) if cell else ()


@dataclass(frozen=True, slots=True)
class RowMapper(Generic[RecordT]):
    """A file's mapping: the columns it reads, in order, and the function reading them.

    The loader hands ``build`` a tuple of those columns' cells (``""`` for a
    column the file lacks), so a mapper unpacks cells instead of looking up
    names: the per-row path stays free of dict building.
    """

    columns: tuple[str, ...]
    build: Callable[[Cells, int, FileLog, Refs], RecordT]


def _org(cells: Cells, line: int, log: FileLog, refs: Refs) -> Organization:
    vendor_id, name, org_type, identifier, parent_id = cells
    return Organization(
        vendor_id=vendor_id,
        name=name or None,
        type=optional_value(org_type, "type", ORG_TYPES, line, log),
        identifier=identifier or None,
        parent_id=parent_id or None,
    )


ORGS = RowMapper(("sourcedId", "name", "type", "identifier", "parentSourcedId"), _org)
"""orgs.csv -> Organization. ``parentSourcedId`` is checked once the whole file is read."""


def _session(cells: Cells, line: int, log: FileLog, refs: Refs) -> AcademicSession:
    vendor_id, title, session_type, start, end, school_year, parent_id = cells
    return AcademicSession(
        vendor_id=vendor_id,
        title=title or None,
        type=optional_value(session_type, "type", SESSION_TYPES, line, log),
        start_date=required_value(start, "startDate", parse_date),
        end_date=required_value(end, "endDate", parse_date),
        school_year=school_year or None,
        parent_id=parent_id or None,
    )


SESSIONS = RowMapper(
    ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear", "parentSourcedId"), _session
)
"""academicSessions.csv -> AcademicSession; start and end dates are required."""


def _course(cells: Cells, line: int, log: FileLog, refs: Refs) -> Course:
    vendor_id, title, code, grade_cell, subjects, org_id, year_id = cells
    return Course(
        vendor_id=vendor_id,
        title=title or None,
        course_code=code or None,
        grades=grades(grade_cell),
        subjects=multi(subjects),
        org_id=optional_ref(org_id, "orgSourcedId", refs.orgs, "org", line, log),
        school_year_id=optional_ref(
            year_id, "schoolYearSourcedId", refs.sessions, "academic session", line, log
        ),
    )


COURSES = RowMapper(
    ("sourcedId", "title", "courseCode", "grades", "subjects", "orgSourcedId", "schoolYearSourcedId"), _course
)
"""courses.csv -> Course."""


def _section(cells: Cells, line: int, log: FileLog, refs: Refs) -> Section:
    vendor_id, title, code, class_type, location, periods, subjects, grade_cell, course, school, terms = cells
    term_ids = multi(terms)
    sessions = refs.sessions
    if sessions is not None and term_ids:
        known = tuple(term for term in term_ids if term in sessions)
        if known and len(known) < len(term_ids):
            missing = len(term_ids) - len(known)
            log.warn(line, f"{missing} unknown academic sessions left out", "termSourcedIds")
        term_ids = known
    if not term_ids:
        # The spec requires a term, but a class without one is still a class
        # its teachers and students meet in: keep it, say so.
        log.warn(line, "no known academic session; the class has no term", "termSourcedIds")
    if not course:
        log.warn(line, "course reference is blank; left empty", "courseSourcedId")
    if not school:
        log.warn(line, "school reference is blank; left empty", "schoolSourcedId")
    return Section(
        vendor_id=vendor_id,
        title=title or None,
        class_code=code or None,
        class_type=optional_value(class_type, "classType", CLASS_TYPES, line, log),
        location=location or None,
        periods=multi(periods),
        subjects=multi(subjects),
        grades=grades(grade_cell),
        course_id=optional_ref(course, "courseSourcedId", refs.courses, "course", line, log),
        school_id=optional_ref(school, "schoolSourcedId", refs.orgs, "org", line, log),
        term_ids=term_ids,
    )


SECTIONS = RowMapper(
    (
        *("sourcedId", "title", "classCode", "classType", "location", "periods", "subjects", "grades"),
        *("courseSourcedId", "schoolSourcedId", "termSourcedIds"),
    ),
    _section,
)
"""classes.csv -> Section. A missing course, school or term is left empty with a warning:
the class still exists for its enrollments."""


def _enrollment(cells: Cells, line: int, log: FileLog, refs: Refs) -> Enrollment:
    vendor_id, class_id, user_id, school, role, primary, begin, end = cells
    section_id = required_ref(class_id, "classSourcedId", refs.sections, "class")
    school_id = optional_ref(school, "schoolSourcedId", refs.orgs, "org", line, log)
    if school_id is None and refs.sections is not None:
        school_id = refs.sections[section_id].school_id
    return Enrollment(
        vendor_id=vendor_id,
        role=required_value(role, "role", ENROLLMENT_ROLES),
        primary=optional_value(primary, "primary", parse_bool, line, log),
        begin_date=optional_value(begin, "beginDate", parse_date, line, log),
        end_date=optional_value(end, "endDate", parse_date, line, log),
        section_id=section_id,
        person_id=required_ref(user_id, "userSourcedId", refs.people, "user"),
        school_id=school_id,
    )


ENROLLMENTS = RowMapper(
    (
        *("sourcedId", "classSourcedId", "userSourcedId", "schoolSourcedId", "role", "primary"),
        *("beginDate", "endDate"),
    ),
    _enrollment,
)
"""enrollments.csv -> Enrollment. A blank school falls back to the class's school."""


def _category(cells: Cells, line: int, log: FileLog, refs: Refs) -> tuple[str, str]:
    vendor_id, title = cells
    return vendor_id, title


CATEGORIES = RowMapper(("sourcedId", "title"), _category)
"""categories.csv -> ``(sourcedId, title)``: categories are not records of their own."""


def _assignment(cells: Cells, line: int, log: FileLog, refs: Refs) -> Assignment:
    vendor_id, title, description, assign, due, class_id, category_id, period_1_1, session, points = cells
    period_column = "gradingPeriodSourcedId" if period_1_1 else "academicSessionSourcedId"
    category = optional_ref(category_id, "categorySourcedId", refs.categories, "category", line, log)
    categories = refs.categories
    return Assignment(
        vendor_id=vendor_id,
        title=title or None,
        description=description or None,
        assign_date=optional_value(assign, "assignDate", parse_datetime, line, log),
        due_date=optional_value(due, "dueDate", parse_datetime, line, log),
        category=(categories.get(category) or None) if categories and category else None,
        points_possible=optional_value(points, "resultValueMax", parse_float, line, log),
        section_id=required_ref(class_id, "classSourcedId", refs.sections, "class"),
        grading_period_id=optional_ref(
            period_1_1 or session, period_column, refs.sessions, "academic session", line, log
        ),
    )


ASSIGNMENTS = RowMapper(
    (
        *("sourcedId", "title", "description", "assignDate", "dueDate", "classSourcedId"),
        *("categorySourcedId", "gradingPeriodSourcedId", "academicSessionSourcedId", "resultValueMax"),
    ),
    _assignment,
)
"""lineItems.csv -> Assignment; 1.1 ``gradingPeriodSourcedId`` or 1.2 ``academicSessionSourcedId``."""


def _score(cells: Cells, line: int, log: FileLog, refs: Refs) -> Score:
    vendor_id, line_item, student, class_id, score, status, late, missing, score_date, comment = cells
    assignment_id = required_ref(line_item, "lineItemSourcedId", refs.assignments, "line item")
    section_id = optional_ref(class_id, "classSourcedId", refs.sections, "class", line, log)
    if section_id is None and refs.assignments is not None:
        section_id = refs.assignments[assignment_id].section_id
    return Score(
        vendor_id=vendor_id,
        assignment_id=assignment_id,
        student_id=required_ref(student, "studentSourcedId", refs.students, "student"),
        section_id=section_id,
        score=optional_value(score, "score", parse_float, line, log),
        score_status=optional_value(status, "scoreStatus", SCORE_STATUSES, line, log),
        late=optional_value(late, "late", parse_bool, line, log),
        missing=optional_value(missing, "missing", parse_bool, line, log),
        submitted_at=optional_value(score_date, "scoreDate", parse_datetime, line, log),
        comment=comment or None,
    )


SCORES = RowMapper(
    (
        *("sourcedId", "lineItemSourcedId", "studentSourcedId", "classSourcedId", "score", "scoreStatus"),
        *("late", "missing", "scoreDate", "comment"),
    ),
    _score,
)
"""results.csv -> Score. The section is ``classSourcedId``, else the line item's class."""


def _course_grade(cells: Cells, line: int, log: FileLog, refs: Refs) -> CourseGrade:
    vendor_id, class_id, student, session, letter, percent = cells
    return CourseGrade(
        vendor_id=vendor_id,
        student_id=required_ref(student, "studentSourcedId", refs.students, "student"),
        section_id=required_ref(class_id, "classSourcedId", refs.sections, "class"),
        term_id=optional_ref(
            session, "academicSessionSourcedId", refs.sessions, "academic session", line, log
        ),
        letter_grade=letter or None,
        percent=optional_value(percent, "percent", parse_float, line, log),
    )


COURSE_GRADES = RowMapper(
    (
        *("sourcedId", "classSourcedId", "studentSourcedId", "academicSessionSourcedId"),
        *("letterGrade", "percent"),
    ),
    _course_grade,
)
"""courseGrades.csv (Homeroom extension) -> CourseGrade."""


def _attendance(cells: Cells, line: int, log: FileLog, refs: Refs) -> AttendanceEvent:
    vendor_id, user_id, class_id, school, date, status = cells
    student_id = required_ref(user_id, "userSourcedId", refs.students, "student")
    day: dt.date = required_value(date, "date", parse_date)
    section_id = optional_ref(class_id, "classSourcedId", refs.sections, "class", line, log)
    school_id = optional_ref(school, "schoolSourcedId", refs.orgs, "org", line, log)
    # A blank school falls back to the class's, then the student's, so that
    # school-level filters still find the mark.
    if school_id is None and section_id is not None and refs.sections is not None:
        school_id = refs.sections[section_id].school_id
    if school_id is None and refs.students is not None:
        school_id = refs.students[student_id].school_id
    return AttendanceEvent(
        vendor_id=vendor_id,
        student_id=student_id,
        date=day,
        status=required_value(status, "attendanceStatus", ATTENDANCE_STATUSES),
        section_id=section_id,
        school_id=school_id,
    )


ATTENDANCE = RowMapper(
    ("sourcedId", "userSourcedId", "classSourcedId", "schoolSourcedId", "date", "attendanceStatus"),
    _attendance,
)
"""attendance.csv (Homeroom extension) -> AttendanceEvent."""
