"""A OneRoster CSV set (the synthetic district, or a district's export) in Canvas's shape.

How the district becomes a Canvas account:

- every OneRoster *course* is a Canvas course (``sis_course_id`` = its
  sourcedId, ``course_code`` = its courseCode); every *class* is a section
  of its course (``sis_section_id`` = the class's sourcedId);
- the school years, semesters and terms are enrollment terms (plus Canvas's
  own "Default Term"); a course is in its school year's term;
- every user is a Canvas user (``sis_user_id`` = sourcedId, ``login_id`` =
  username); student, teacher and aide enrollments keep their dates; an
  enrollment that ended before the district's "today" is ``inactive``;
- guardians are observers: linked to their students (observees) and given
  an ``ObserverEnrollment`` beside each of the student's enrollments;
- line items are assignments of the course (in their category's assignment
  group); in a course with several sections, each is only for its class's
  section (``only_visible_to_overrides`` and a section override holding the
  dates);
- results are submissions (see :data:`WORKFLOW_OF_STATUS`); course grades
  are the grades of the student's enrollment.

Canvas ids are numbers in their own ranges, never the sourcedIds; a read of
changed files keeps the ids of the objects an earlier read made. What a read
builds is never changed afterwards: the stamps of changes
(:mod:`adapters.canvas._sim_changes`) go on the next read's objects.
"""

from __future__ import annotations

import csv
import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "WORKFLOW_OF_STATUS",
    "CanvasDistrict",
    "Result",
    "canvas_time",
    "graded_at",
    "handed_in",
    "is_graded",
    "load_district",
    "submission_json",
    "submitted_at",
    "workflow_state",
]

Json = dict[str, Any]

WORKFLOW_OF_STATUS = {
    "fully graded": "graded",
    "partially graded": "pending_review",
    "submitted": "submitted",
    "not submitted": "unsubmitted",
    "exempt": "graded",  # excused work counts as graded in Canvas, with excused: true
}
"""OneRoster ``scoreStatus`` -> Canvas submission ``workflow_state``."""

_TERM_TYPES = frozenset({"schoolYear", "semester", "term"})
_TYPE_OF_ROLE = {"student": "StudentEnrollment", "teacher": "TeacherEnrollment", "aide": "TaEnrollment"}
_ROLE_IDS = {"StudentEnrollment": 3, "TeacherEnrollment": 4, "TaEnrollment": 5, "ObserverEnrollment": 7}
_GUARDIAN_ROLES = frozenset({"guardian", "parent", "relative"})
_ACCOUNT_ID = 1
_DEFAULT_TERM_ID = 1
_HTML = "https://canvas.example"


@dataclass(frozen=True, slots=True)
class Result:
    """One OneRoster result, kept as read: a district has hundreds of thousands,
    so their Canvas submissions are written out only when asked for
    (:func:`submission_json`).

    ``submitted_stamp`` / ``graded_stamp``: when the simulator saw the work
    handed in or graded after the files changed (see
    :mod:`adapters.canvas._sim_changes`); ``None``: the ``scoreDate`` of the file.
    """

    id: int
    assignment: Json
    user_id: int
    status: str
    score: str
    day: str
    late: str
    missing: str
    comment: str
    grader: int | None
    submitted_stamp: dt.datetime | None = None
    graded_stamp: dt.datetime | None = None


@dataclass
class CanvasDistrict:
    """The account's objects, indexed the ways the API reads them.

    People's e-mail addresses are kept apart (``emails``): Canvas shows them
    only when asked with ``include[]=email``.
    """

    account: Json
    today: dt.date
    terms: list[Json] = field(default_factory=list)
    courses: list[Json] = field(default_factory=list)
    sections: list[Json] = field(default_factory=list)
    users: list[Json] = field(default_factory=list)
    enrollments: list[Json] = field(default_factory=list)
    emails: dict[int, str] = field(default_factory=dict)
    briefs: dict[int, Json] = field(default_factory=dict)
    by_id: dict[str, dict[int, Json]] = field(default_factory=lambda: defaultdict(dict))
    sis: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    course_sections: dict[int, list[Json]] = field(default_factory=lambda: defaultdict(list))
    course_enrollments: dict[int, list[Json]] = field(default_factory=lambda: defaultdict(list))
    section_enrollments: dict[int, list[Json]] = field(default_factory=lambda: defaultdict(list))
    user_enrollments: dict[int, list[Json]] = field(default_factory=lambda: defaultdict(list))
    user_types: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    groups: dict[int, list[Json]] = field(default_factory=lambda: defaultdict(list))
    assignments: dict[int, list[Json]] = field(default_factory=lambda: defaultdict(list))
    section_submissions: dict[int, list[Result]] = field(default_factory=lambda: defaultdict(list))
    submission: dict[tuple[int, int, int], Result] = field(default_factory=dict)
    observees: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    observers: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    ids: _Ids | None = None
    """The ids handed out, by natural key: a later read keeps them (:func:`load_district`)."""


class _Ids:
    """Canvas ids per kind, numbered in file order from each kind's own base.

    Given the ids of an earlier read of the files (``previous``), an object
    keeps its id (found by its natural key: a sourcedId, or the sourcedIds it
    joins) and a new one gets the next number never handed out, so ids stay
    put when the files change, as Canvas's do."""

    _BASES: ClassVar[dict[str, int]] = {
        "term": 101,
        "course": 2001,
        "section": 3001,
        "user": 10001,
        "enrollment": 400001,
        "group": 7001,
        "assignment": 50001,
        "override": 8001,
        "submission": 6000001,
        "comment": 900001,
    }

    def __init__(self, previous: _Ids | None = None) -> None:
        self._known: dict[tuple[str, str], int] = previous.given if previous is not None else {}
        self._next: dict[str, int] = dict(previous._next) if previous is not None else dict(self._BASES)
        self.given: dict[tuple[str, str], int] = {}
        self._used: set[tuple[str, int]] = set()

    def new(self, kind: str, key: str) -> int:
        """The id of the ``kind`` object ``key`` (the one it had before, if any)."""
        value = self._known.get((kind, key))
        if value is None or (kind, value) in self._used:  # new, or a duplicate row
            value = self._next[kind]
            self._next[kind] = value + 1
        self._used.add((kind, value))
        self.given.setdefault((kind, key), value)
        return value


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            yield {key: (value or "").strip() for key, value in row.items() if key}


def _multi(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(",") if part.strip()]


def _start(day: str) -> str | None:
    return f"{day}T00:00:00Z" if day else None


def _end(day: str) -> str | None:
    return f"{day}T23:59:59Z" if day else None


def _number(cell: str) -> float | None:
    try:
        return float(cell) if cell else None
    except ValueError:
        return None


def _today(data_dir: Path) -> dt.date:
    for row in _rows(data_dir / "manifest.csv"):
        if row.get("propertyName") == "homeroom.today":
            try:
                return dt.date.fromisoformat(row.get("value", ""))
            except ValueError:
                break
    return dt.date.today()


def load_district(
    data_dir: Path, stamp: str = "2026-01-01T00:00:00Z", previous: CanvasDistrict | None = None
) -> CanvasDistrict:
    """The Canvas account of the OneRoster CSV set in ``data_dir``; objects also
    in ``previous`` (an earlier read of the same folder) keep their ids."""
    district_name = next(
        (row["name"] for row in _rows(data_dir / "orgs.csv") if row.get("type") == "district"), "District"
    )
    district_sis = next(
        (row["sourcedId"] for row in _rows(data_dir / "orgs.csv") if row.get("type") == "district"),
        "district",
    )
    account = {
        "id": _ACCOUNT_ID,
        "name": district_name,
        "uuid": "homeroom-sim-account",
        "parent_account_id": None,
        "root_account_id": None,
        "default_time_zone": "America/Chicago",
        "sis_account_id": district_sis,
        "workflow_state": "active",
    }
    d = CanvasDistrict(account=account, today=_today(data_dir))
    ids = _Ids(previous.ids if previous is not None else None)
    d.ids = ids
    _load_catalogue(data_dir, d, ids, stamp)
    teachers = _load_people(data_dir, d, ids, stamp)
    _load_gradebook(data_dir, d, ids, stamp, teachers)
    return d


def _put(d: CanvasDistrict, kind: str, obj: Json, sis: str | None = None) -> None:
    d.by_id[kind][obj["id"]] = obj
    if sis:
        d.sis[kind][sis] = obj["id"]


def _load_catalogue(data_dir: Path, d: CanvasDistrict, ids: _Ids, stamp: str) -> None:
    default = {
        "id": _DEFAULT_TERM_ID,
        "name": "Default Term",
        "start_at": None,
        "end_at": None,
        "created_at": stamp,
        "workflow_state": "active",
        "grading_period_group_id": None,
        "sis_term_id": None,
        "sis_import_id": None,
    }
    d.terms.append(default)
    _put(d, "term", default)
    for row in _rows(data_dir / "academicSessions.csv"):
        if row.get("type") not in _TERM_TYPES:
            continue
        term = {
            **default,
            "id": ids.new("term", row["sourcedId"]),
            "name": row.get("title") or row["sourcedId"],
            "start_at": _start(row.get("startDate", "")),
            "end_at": _end(row.get("endDate", "")),
            "sis_term_id": row["sourcedId"],
        }
        d.terms.append(term)
        _put(d, "term", term, row["sourcedId"])

    for row in _rows(data_dir / "courses.csv"):
        term_id = d.sis["term"].get(row.get("schoolYearSourcedId", ""), _DEFAULT_TERM_ID)
        course: Json = {
            "id": ids.new("course", row["sourcedId"]),
            "name": row.get("title") or row["sourcedId"],
            "course_code": row.get("courseCode") or row.get("title") or row["sourcedId"],
            "sis_course_id": row["sourcedId"],
            "integration_id": None,
            "sis_import_id": None,
            "uuid": f"sim-course-{row['sourcedId']}",
            "account_id": _ACCOUNT_ID,
            "root_account_id": _ACCOUNT_ID,
            "enrollment_term_id": term_id,
            "workflow_state": "available",
            "start_at": None,
            "end_at": None,
            "created_at": stamp,
            "default_view": "modules",
            "is_public": False,
            "public_syllabus": False,
            "storage_quota_mb": 500,
            "apply_assignment_group_weights": True,
            "hide_final_grades": False,
            "restrict_enrollments_to_course_dates": False,
            "time_zone": "America/Chicago",
            "blueprint": False,
            "license": "private",
            "grading_standard_id": None,
        }
        d.courses.append(course)
        _put(d, "course", course, row["sourcedId"])

    for row in _rows(data_dir / "classes.csv"):
        course_id = d.sis["course"].get(row.get("courseSourcedId", ""))
        if course_id is None:
            continue
        course = d.by_id["course"][course_id]
        section = {
            "id": ids.new("section", row["sourcedId"]),
            "course_id": course_id,
            "name": row.get("title") or row["sourcedId"],
            "start_at": None,
            "end_at": None,
            "created_at": stamp,
            "restrict_enrollments_to_section_dates": None,
            "nonxlist_course_id": None,
            "sis_section_id": row["sourcedId"],
            "sis_course_id": course["sis_course_id"],
            "integration_id": None,
            "sis_import_id": None,
        }
        d.sections.append(section)
        d.course_sections[course_id].append(section)
        _put(d, "section", section, row["sourcedId"])


def _roles(data_dir: Path) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = defaultdict(set)
    for row in _rows(data_dir / "roles.csv"):
        roles[row["userSourcedId"]].add(row.get("role", ""))
    if not roles:  # OneRoster 1.1: one role column on users.csv
        for row in _rows(data_dir / "users.csv"):
            roles[row["sourcedId"]].add(row.get("role", ""))
    return roles


def _user(row: dict[str, str], user_id: int, stamp: str) -> Json:
    given, family = row.get("givenName", ""), row.get("familyName", "")
    preferred = row.get("preferredGivenName") or given
    return {
        "id": user_id,
        "name": f"{given} {family}".strip(),
        "sortable_name": f"{family}, {given}",
        "short_name": f"{preferred} {family}".strip(),
        "first_name": given,
        "last_name": family,
        "sis_user_id": row["sourcedId"],
        "sis_import_id": None,
        "integration_id": None,
        "login_id": row.get("username") or None,
        "created_at": stamp,
    }


_BRIEF_KEYS = ("id", "name", "sortable_name", "short_name", "sis_user_id", "login_id", "created_at")


def _brief(d: CanvasDistrict, user: Json) -> Json:
    """The user as an enrollment embeds it: one object per user, shared by all
    their enrollments (nothing changes it once loaded)."""
    brief = d.briefs.get(user["id"])
    if brief is None:
        brief = d.briefs[user["id"]] = {key: user[key] for key in _BRIEF_KEYS}
    return brief


def _enrollment(
    d: CanvasDistrict,
    enrollment_id: int,
    user: Json,
    section: Json,
    kind: str,
    begin: str,
    end: str,
    stamp: str,
) -> Json:
    course = d.by_id["course"][section["course_id"]]
    ended = bool(end) and end < d.today.isoformat()
    return {
        "id": enrollment_id,
        "user_id": user["id"],
        "course_id": course["id"],
        "type": kind,
        "created_at": stamp,
        "updated_at": stamp,
        "associated_user_id": None,
        "start_at": _start(begin),
        "end_at": _end(end),
        "course_section_id": section["id"],
        "root_account_id": _ACCOUNT_ID,
        "limit_privileges_to_course_section": False,
        "enrollment_state": "inactive" if ended else "active",
        "role": kind,
        "role_id": _ROLE_IDS[kind],
        "last_activity_at": None,
        "last_attended_at": None,
        "total_activity_time": 0,
        "sis_account_id": d.account["sis_account_id"],
        "sis_course_id": course["sis_course_id"],
        "sis_section_id": section["sis_section_id"],
        "sis_user_id": user["sis_user_id"],
        "html_url": f"{_HTML}/courses/{course['id']}/users/{user['id']}",
        "user": _brief(d, user),
    }


def _enrol(d: CanvasDistrict, enrollment: Json) -> None:
    d.enrollments.append(enrollment)
    d.by_id["enrollment"][enrollment["id"]] = enrollment
    d.course_enrollments[enrollment["course_id"]].append(enrollment)
    d.section_enrollments[enrollment["course_section_id"]].append(enrollment)
    d.user_enrollments[enrollment["user_id"]].append(enrollment)
    d.user_types[enrollment["user_id"]].add(enrollment["type"])


def _load_people(data_dir: Path, d: CanvasDistrict, ids: _Ids, stamp: str) -> dict[int, int]:
    """Users, enrollments and observer links; returns each section's first teacher."""
    roles = _roles(data_dir)
    agents: dict[str, list[str]] = {}
    for row in _rows(data_dir / "users.csv"):
        user = _user(row, ids.new("user", row["sourcedId"]), stamp)
        d.users.append(user)
        _put(d, "user", user, row["sourcedId"])
        if row.get("email"):
            d.emails[user["id"]] = row["email"]
        if roles.get(row["sourcedId"], set()) & _GUARDIAN_ROLES:
            agents[row["sourcedId"]] = _multi(row.get("agentSourcedIds", ""))

    teachers: dict[int, int] = {}
    for row in _rows(data_dir / "enrollments.csv"):
        kind = _TYPE_OF_ROLE.get(row.get("role", ""))
        user_id = d.sis["user"].get(row.get("userSourcedId", ""))
        section_id = d.sis["section"].get(row.get("classSourcedId", ""))
        if kind is None or user_id is None or section_id is None:
            continue
        user, section = d.by_id["user"][user_id], d.by_id["section"][section_id]
        begin, end = row.get("beginDate", ""), row.get("endDate", "")
        key = row.get("sourcedId") or f"{row.get('userSourcedId')}|{row.get('classSourcedId')}|{kind}"
        _enrol(d, _enrollment(d, ids.new("enrollment", key), user, section, kind, begin, end, stamp))
        if kind == "TeacherEnrollment":
            teachers.setdefault(section_id, user_id)

    for guardian_sis, students in agents.items():
        guardian = d.by_id["user"][d.sis["user"][guardian_sis]]
        for student_sis in students:
            student_id = d.sis["user"].get(student_sis)
            if student_id is None or "StudentEnrollment" not in d.user_types.get(student_id, set()):
                continue
            d.observees[guardian["id"]].append(student_id)
            d.observers[student_id].append(guardian["id"])
            for enrolled in list(d.user_enrollments[student_id]):
                if enrolled["type"] != "StudentEnrollment":
                    continue
                section = d.by_id["section"][enrolled["course_section_id"]]
                begin = (enrolled["start_at"] or "")[:10]
                end = (enrolled["end_at"] or "")[:10]
                key = f"observer|{guardian_sis}|{enrolled['id']}"
                observer = _enrollment(
                    d, ids.new("enrollment", key), guardian, section, "ObserverEnrollment", begin, end, stamp
                )
                observer["associated_user_id"] = student_id
                _enrol(d, observer)
    return teachers


def _load_gradebook(
    data_dir: Path, d: CanvasDistrict, ids: _Ids, stamp: str, teachers: dict[int, int]
) -> None:
    categories = list(_rows(data_dir / "categories.csv"))
    group_of: dict[tuple[int, str], int] = {}
    for course in d.courses:
        for position, row in enumerate(categories, start=1):
            group: Json = {
                "id": ids.new("group", f"{course['sis_course_id']}|{row['sourcedId']}"),
                "name": row.get("title") or row["sourcedId"],
                "position": position,
                "group_weight": round((_number(row.get("weight", "")) or 0.0) * 100, 2),
                "sis_source_id": None,
                "integration_data": {},
                "rules": {},
            }
            d.groups[course["id"]].append(group)
            group_of[(course["id"], row["sourcedId"])] = group["id"]

    line_items: dict[str, tuple[Json, Json]] = {}
    for row in _rows(data_dir / "lineItems.csv"):
        section_id = d.sis["section"].get(row.get("classSourcedId", ""))
        if section_id is None:
            continue
        section = d.by_id["section"][section_id]
        course_id = section["course_id"]
        shared = len(d.course_sections[course_id]) > 1
        assignment_id = ids.new("assignment", row["sourcedId"])
        due, unlock = row.get("dueDate") or None, row.get("assignDate") or None
        assignment = {
            "id": assignment_id,
            "name": row.get("title") or row["sourcedId"],
            "description": row.get("description") or None,
            "created_at": unlock or stamp,
            "updated_at": stamp,
            "due_at": None if shared else due,
            "unlock_at": None if shared else unlock,
            "lock_at": None,
            "course_id": course_id,
            "assignment_group_id": group_of.get((course_id, row.get("categorySourcedId", ""))),
            "points_possible": _number(row.get("resultValueMax", "")),
            "grading_type": "points",
            "submission_types": ["online_upload"],
            "due_date_required": False,
            "published": True,
            "workflow_state": "published",
            "only_visible_to_overrides": shared,
            "has_overrides": shared,
            "position": len(d.assignments[course_id]) + 1,
            "html_url": f"{_HTML}/courses/{course_id}/assignments/{assignment_id}",
            "omit_from_final_grade": False,
            "post_to_sis": False,
            "integration_id": row["sourcedId"],  # where Canvas keeps an assignment's SIS id
            "peer_reviews": False,
            "anonymous_grading": False,
            "overrides": [],
        }
        if shared:
            override = {
                "id": ids.new("override", row["sourcedId"]),
                "assignment_id": assignment_id,
                "course_section_id": section_id,
                "title": section["name"],
                "due_at": due,
                "unlock_at": unlock,
                "lock_at": None,
                "all_day": False,
                "all_day_date": None,
            }
            assignment["overrides"] = [override]
        d.assignments[course_id].append(assignment)
        d.by_id["assignment"][assignment_id] = assignment
        line_items[row["sourcedId"]] = (assignment, section)

    _load_grades(data_dir, d)
    for cells in _table(data_dir / "results.csv", _RESULT_COLUMNS):
        line_item, student, status, score, day, comment, late, missing = cells
        found = line_items.get(line_item.strip())
        user_id = d.sis["user"].get(student.strip())
        if found is None or user_id is None:
            continue
        assignment, section = found
        result = Result(
            ids.new("submission", f"{line_item.strip()}|{student.strip()}"),
            assignment,
            user_id,
            status.strip().lower(),
            score.strip(),
            day.strip(),
            late.strip(),
            missing.strip(),
            comment.strip(),
            teachers.get(section["id"]),
        )
        d.section_submissions[section["id"]].append(result)
        d.submission[(section["id"], assignment["id"], user_id)] = result


_RESULT_COLUMNS = (
    *("lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate", "comment"),
    *("late", "missing"),
)


def _table(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Rows of a big file as tuples of just ``columns`` (absent ones empty),
    picked in C: faster than a dict per row. Cells are as written; callers
    strip what they compare."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = [name.strip() for name in next(reader, [])]
        where = [header.index(name) if name in header else len(header) for name in columns]
        pick = operator.itemgetter(*where)
        width = len(header) + 1
        for row in reader:
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield pick(row)


def _flag(cell: str) -> bool:
    return cell.lower() in ("true", "t", "1", "yes", "y")


def workflow_state(result: Result) -> str:
    """The submission's Canvas ``workflow_state``."""
    return WORKFLOW_OF_STATUS.get(result.status, "unsubmitted")


def handed_in(result: Result) -> bool:
    """Whether the student handed the work in (it then has a ``submitted_at``)."""
    workflow = workflow_state(result)
    return workflow in ("submitted", "pending_review") or (workflow == "graded" and result.status != "exempt")


def is_graded(result: Result) -> bool:
    """Whether the work is graded, or partly (it then has a ``graded_at``)."""
    return workflow_state(result) in ("graded", "pending_review")


def submitted_at(result: Result) -> dt.datetime | None:
    """When the work was handed in: the simulator's stamp, else the file's ``scoreDate``."""
    if not handed_in(result):
        return None
    return result.submitted_stamp or _day_start(result.day)


def graded_at(result: Result) -> dt.datetime | None:
    """When the work was graded: the simulator's stamp, else the file's ``scoreDate``."""
    if not is_graded(result):
        return None
    return result.graded_stamp or _day_start(result.day)


@lru_cache(maxsize=4096)
def _day_start(day: str) -> dt.datetime | None:
    try:
        found = dt.date.fromisoformat(day) if day else None
    except ValueError:
        return None
    return dt.datetime(found.year, found.month, found.day, tzinfo=dt.UTC) if found is not None else None


def canvas_time(moment: dt.datetime | None) -> str | None:
    """``moment`` as Canvas writes times: UTC, whole seconds, ``Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def submission_json(result: Result, comments: bool = False) -> Json:
    """The Canvas submission of a result (with its comments when asked for)."""
    assignment = result.assignment
    workflow = workflow_state(result)
    excused = result.status == "exempt"
    score = None if excused else _number(result.score)
    graded = is_graded(result)
    late, missing = _flag(result.late), _flag(result.missing)
    due = assignment["due_at"] or next((o["due_at"] for o in assignment["overrides"]), None)
    grade = None if score is None else (str(int(score)) if score.is_integer() else str(score))
    graded_time = canvas_time(graded_at(result))
    attempted = handed_in(result)
    out: Json = {
        "id": result.id,
        "assignment_id": assignment["id"],
        "user_id": result.user_id,
        "workflow_state": workflow,
        "score": score,
        "grade": grade,
        "entered_score": score,
        "entered_grade": grade,
        "submitted_at": canvas_time(submitted_at(result)),
        "graded_at": graded_time,
        "posted_at": graded_time,
        "grader_id": result.grader if graded else None,
        "late": late,
        "missing": missing,
        "excused": excused,
        "late_policy_status": "late" if late else ("missing" if missing else None),
        "seconds_late": 86400 if late else 0,
        "points_deducted": None,
        "attempt": 1 if attempted else None,
        "submission_type": "online_upload" if attempted else None,
        "body": None,
        "url": None,
        "cached_due_date": due,
        "grade_matches_current_submission": True,
        "extra_attempts": None,
        "grading_period_id": None,
        "preview_url": f"{_HTML}/courses/{assignment['course_id']}/assignments/{assignment['id']}"
        f"/submissions/{result.user_id}",
    }
    if comments:
        said = [{"comment": result.comment}] if result.comment else []
        out["submission_comments"] = [
            {
                "id": result.id,
                "author_id": result.grader,
                "author_name": "Teacher",
                "created_at": graded_time,
                **c,
            }
            for c in said
        ]
    return out


def _load_grades(data_dir: Path, d: CanvasDistrict) -> None:
    marks: dict[tuple[int, int], tuple[float | None, str | None]] = {}
    for row in _rows(data_dir / "courseGrades.csv"):
        section_id = d.sis["section"].get(row.get("classSourcedId", ""))
        user_id = d.sis["user"].get(row.get("studentSourcedId", ""))
        if section_id is not None and user_id is not None:
            marks[(section_id, user_id)] = (_number(row.get("percent", "")), row.get("letterGrade") or None)
    for enrollment in d.enrollments:
        if enrollment["type"] != "StudentEnrollment":
            continue
        score, grade = marks.get((enrollment["course_section_id"], enrollment["user_id"]), (None, None))
        enrollment["grades"] = {
            "html_url": f"{_HTML}/courses/{enrollment['course_id']}/grades/{enrollment['user_id']}",
            "current_score": score,
            "current_grade": grade,
            "final_score": score,
            "final_grade": grade,
            "unposted_current_score": score,
            "unposted_current_grade": grade,
            "unposted_final_score": score,
            "unposted_final_grade": grade,
        }
