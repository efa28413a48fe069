"""A generated district (OneRoster 1.2 CSV) in Google Classroom's shape, for the simulator.

Each OneRoster class becomes a Classroom course: ``name`` is the catalogue
course title and ``section`` the rest of the class title ("Grade 1
Homeroom" / "Period 2 (Gupta)"), ``room`` the location, ``ownerId`` the
primary teacher, and its domain alias ``d:<class sourcedId>`` (as a SIS
roster sync leaves it). Rosters hold the enrollments running on the district's
"today" (``homeroom.today`` in the manifest): Classroom keeps current
members only. Line items become course work (``dueDate``/``dueTime`` split
in UTC, ``maxPoints``, ``gradeCategory``), results become student
submissions:

=================  =====================================================
OneRoster status   Classroom submission
=================  =====================================================
not submitted      ``CREATED``
submitted          ``TURNED_IN``
partially graded   ``TURNED_IN`` with the score as ``draftGrade``
fully graded       ``RETURNED`` with the score as ``assignedGrade``
exempt             none: the student is not among the work's assignees
=================  =====================================================

Ids are numeric strings derived from the sourcedIds (21 digits for users, 12
for courses and course work, ``Cg`` + 14 digits for submissions), so they
never equal a sourcedId; people keep their e-mail addresses, the key the hub
matches them on across sources.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ClassroomDistrict", "load_district"]

Json = dict[str, Any]

_GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})


@dataclass
class ClassroomDistrict:
    """The district as Classroom objects, by course and by student."""

    today: dt.date
    courses: list[Json] = field(default_factory=list)
    students: dict[str, list[Json]] = field(default_factory=dict)
    teachers: dict[str, list[Json]] = field(default_factory=dict)
    course_work: dict[str, list[Json]] = field(default_factory=dict)
    submissions: dict[str, list[Json]] = field(default_factory=dict)
    guardians: dict[str, list[Json]] = field(default_factory=dict)
    aliases: dict[str, list[Json]] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    course_ids: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    by_email: dict[str, str] = field(default_factory=dict)

    def user(self, key: str) -> str | None:
        """The Classroom user id of a user id, e-mail address or OneRoster sourcedId."""
        if key in self.emails or key in self.guardians:
            return key
        return self.by_email.get(key.lower()) or self.user_ids.get(key) or (key if key.isdigit() else None)

    def course(self, key: str) -> str | None:
        """The Classroom course id of a course id or OneRoster class sourcedId."""
        if key in self.students:
            return key
        return self.course_ids.get(key)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            yield {key: (value or "").strip() for key, value in row.items() if key}


def _multi(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(",") if part.strip()]


def _active(row: dict[str, str]) -> bool:
    return (row.get("status") or "active").lower() not in ("tobedeleted", "inactive")


class _Ids:
    """Numeric ids from sourcedIds: stable, distinct, never equal to a sourcedId.
    Asking again for the same kind and key gives the same id (a grade category
    is named by every work in it), so ids do not depend on the order rows come in."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._made: dict[tuple[str, str], str] = {}

    def make(self, kind: str, sourced_id: str, digits: int, prefix: str = "") -> str:
        made = self._made.get((kind, sourced_id))
        if made is not None:
            return made
        made = self._new(kind, sourced_id, digits, prefix)
        self._made[(kind, sourced_id)] = made
        return made

    def _new(self, kind: str, sourced_id: str, digits: int, prefix: str) -> str:
        seed = 0
        while True:
            digest = hashlib.sha256(f"{kind}:{sourced_id}:{seed}".encode()).hexdigest()
            low = 10 ** (digits - 1)
            candidate = prefix + str(low + int(digest, 16) % (9 * low))
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
            seed += 1


def _stamp(value: str, clock: str = "12:00:00") -> str:
    """An RFC 3339 timestamp with milliseconds, as Google writes them."""
    if "T" not in value:
        value = f"{value}T{clock}Z"
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(cell: str) -> float | int | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _link(kind: str, key: str) -> str:
    token = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
    return f"https://classroom.google.com/{kind}/{token}"


def _due(value: str) -> Json:
    """``dueDate`` and ``dueTime`` of an ISO due date; proto3 JSON leaves zero parts out."""
    if "T" not in value:
        day = dt.date.fromisoformat(value)
        return {"dueDate": {"year": day.year, "month": day.month, "day": day.day}}
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
    clock = {"hours": when.hour, "minutes": when.minute, "seconds": when.second}
    return {
        "dueDate": {"year": when.year, "month": when.month, "day": when.day},
        "dueTime": {name: part for name, part in clock.items() if part},
    }


def _today(data_dir: Path) -> dt.date:
    for row in _rows(data_dir / "manifest.csv"):
        if row.get("propertyName") == "homeroom.today":
            return dt.date.fromisoformat(row["value"])
    return dt.date.today()


def _running(row: dict[str, str], today: dt.date) -> bool:
    begin, end = row.get("beginDate"), row.get("endDate")
    return (not begin or dt.date.fromisoformat(begin) <= today) and (
        not end or today <= dt.date.fromisoformat(end)
    )


def _profile(user_id: str, row: dict[str, str]) -> Json:
    given, family = row.get("givenName", ""), row.get("familyName", "")
    profile: Json = {
        "id": user_id,
        "name": {"givenName": given, "familyName": family, "fullName": f"{given} {family}".strip()},
    }
    if row.get("email"):
        profile["emailAddress"] = row["email"]
    return profile


def load_district(data_dir: Path) -> ClassroomDistrict:
    """Read the CSV set in ``data_dir`` into Classroom objects."""
    district = ClassroomDistrict(today=_today(data_dir))
    ids = _Ids()
    users = {row["sourcedId"]: row for row in _rows(data_dir / "users.csv") if _active(row)}
    for sourced_id in users:
        district.user_ids[sourced_id] = ids.make("user", sourced_id, 21)
    for sourced_id, row in users.items():
        if row.get("email"):
            district.emails[district.user_ids[sourced_id]] = row["email"]
            district.by_email[row["email"].lower()] = district.user_ids[sourced_id]
    _courses(data_dir, district, ids, users)
    _course_work(data_dir, district, ids)
    _guardians(data_dir, district, users)
    return district


def _courses(
    data_dir: Path, district: ClassroomDistrict, ids: _Ids, users: dict[str, dict[str, str]]
) -> None:
    catalogue = {row["sourcedId"]: row for row in _rows(data_dir / "courses.csv")}
    terms = {row["sourcedId"]: row for row in _rows(data_dir / "academicSessions.csv")}
    members: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(data_dir / "enrollments.csv"):
        if _active(row) and _running(row, district.today) and row["userSourcedId"] in users:
            members[row["classSourcedId"]].append(row)
    for row in _rows(data_dir / "classes.csv"):
        if not _active(row):
            continue
        course_id = ids.make("course", row["sourcedId"], 12)
        district.course_ids[row["sourcedId"]] = course_id
        teachers = [m for m in members[row["sourcedId"]] if m["role"] in ("teacher", "aide")]
        students = [m for m in members[row["sourcedId"]] if m["role"] == "student"]
        owner = next((m for m in teachers if m.get("primary") == "true"), teachers[0] if teachers else None)
        title = catalogue.get(row["courseSourcedId"], {}).get("title", "")
        name, section = row["title"], ""
        if title and row["title"].startswith(f"{title} - "):
            name, section = title, row["title"][len(title) + 3 :]
        starts = [terms[t]["startDate"] for t in _multi(row.get("termSourcedIds", "")) if t in terms]
        course: Json = {
            "id": course_id,
            "name": name,
            "ownerId": district.user_ids[owner["userSourcedId"]] if owner else "",
            "creationTime": _stamp(min(starts) if starts else row["dateLastModified"]),
            "updateTime": _stamp(row["dateLastModified"]),
            "enrollmentCode": hashlib.sha256(course_id.encode()).hexdigest()[:7],
            "courseState": "ACTIVE",
            "alternateLink": _link("c", course_id),
            "guardiansEnabled": True,
        }
        for key, value in (("section", section), ("room", row.get("location", ""))):
            if value:
                course[key] = value
        subjects = _multi(row.get("subjects", ""))
        if subjects:
            course["subject"] = subjects[0]
        if not course["ownerId"]:
            del course["ownerId"]
        district.courses.append(course)
        # A SIS roster sync names each course by its class id: a domain alias.
        district.aliases[course_id] = [{"alias": f"d:{row['sourcedId']}"}]
        for role, rows in (("students", students), ("teachers", teachers)):
            listed = getattr(district, role).setdefault(course_id, [])
            for member in rows:
                user_id = district.user_ids[member["userSourcedId"]]
                profile = _profile(user_id, users[member["userSourcedId"]])
                listed.append({"courseId": course_id, "userId": user_id, "profile": profile})


def _history(state: str, at: str, actor: str) -> Json:
    return {"stateHistory": {"state": state, "stateTimestamp": at, "actorUserId": actor}}


def _course_work(data_dir: Path, district: ClassroomDistrict, ids: _Ids) -> None:
    categories = {row["sourcedId"]: row for row in _rows(data_dir / "categories.csv")}
    results: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(data_dir / "results.csv"):
        if _active(row):
            results[row["lineItemSourcedId"]].append(row)
    owners = {course["id"]: course.get("ownerId", "") for course in district.courses}
    for row in _rows(data_dir / "lineItems.csv"):
        course_id = district.course_ids.get(row["classSourcedId"])
        if course_id is None or not _active(row):
            continue
        rostered = {member["userId"] for member in district.students.get(course_id, [])}
        work_id = ids.make("courseWork", row["sourcedId"], 12)
        created = _stamp(row["assignDate"])
        work: Json = {
            "courseId": course_id,
            "id": work_id,
            "title": row["title"],
            "state": "PUBLISHED",
            "alternateLink": _link("c", f"{course_id}/a/{work_id}"),
            "creationTime": created,
            "updateTime": created,
            "workType": "ASSIGNMENT",
            "submissionModificationMode": "MODIFIABLE_UNTIL_TURNED_IN",
            "assigneeMode": "ALL_STUDENTS",
        }
        if row.get("description"):
            work["description"] = row["description"]
        if row.get("dueDate"):
            work.update(_due(row["dueDate"]))
        points = _number(row.get("resultValueMax", ""))
        if points:
            work["maxPoints"] = points
        if owners.get(course_id):
            work["creatorUserId"] = owners[course_id]
        category = categories.get(row.get("categorySourcedId", ""))
        if category:
            grade_category: Json = {
                # Classroom's grade categories belong to a course's gradebook settings.
                "id": ids.make("category", f"{course_id}/{category['sourcedId']}", 10),
                "name": category["title"],
            }
            weight = _number(category.get("weight", ""))
            if weight is not None:
                grade_category["weight"] = round(weight * 10_000) * 100  # 12.34 % is 123400
            work["gradeCategory"] = grade_category
        submissions = district.submissions.setdefault(course_id, [])
        exempt = set()
        for result in results.get(row["sourcedId"], []):
            user_id = district.user_ids.get(result["studentSourcedId"])
            if user_id is None or user_id not in rostered:
                continue
            if result["scoreStatus"] == "exempt":
                exempt.add(user_id)
                continue
            submissions.append(
                _submission(ids, result, course_id, work_id, user_id, owners.get(course_id), created)
            )
        if exempt:
            work["assigneeMode"] = "INDIVIDUAL_STUDENTS"
            work["individualStudentsOptions"] = {"studentIds": sorted(rostered - exempt)}
        district.course_work.setdefault(course_id, []).append(work)


def _submission(
    ids: _Ids,
    row: dict[str, str],
    course_id: str,
    work_id: str,
    user_id: str,
    teacher: str | None,
    created: str,
) -> Json:
    submission_id = ids.make("submission", row["sourcedId"], 14, prefix="Cg")
    status, score = row["scoreStatus"], _number(row.get("score", ""))
    history = [_history("CREATED", created, user_id)]
    turned_in = _stamp(row["scoreDate"], "15:00:00") if row.get("scoreDate") else created
    state = "CREATED"
    submission: Json = {
        "courseId": course_id,
        "courseWorkId": work_id,
        "id": submission_id,
        "userId": user_id,
        "creationTime": created,
        "alternateLink": _link("c", f"{course_id}/a/{work_id}/submissions/{submission_id}"),
        "courseWorkType": "ASSIGNMENT",
        "assignmentSubmission": {},
    }
    if status in ("submitted", "partially graded", "fully graded"):
        state = "TURNED_IN"
        history.append(_history("TURNED_IN", turned_in, user_id))
    if status in ("partially graded", "fully graded") and score is not None:
        submission["draftGrade"] = score
        change = "DRAFT_GRADE_POINTS_EARNED_CHANGE"
        history.append(
            {"gradeHistory": {"pointsEarned": score, "gradeTimestamp": turned_in, "gradeChangeType": change}}
        )
    if status == "fully graded":
        state = "RETURNED"
        returned = turned_in.replace("T15:00", "T16:00")
        if score is not None:
            submission["assignedGrade"] = score
        history.append(_history("RETURNED", returned, teacher or user_id))
    submission["state"] = state
    submission["updateTime"] = next(
        (h["stateHistory"]["stateTimestamp"] for h in reversed(history) if "stateHistory" in h), created
    )
    if row.get("late") == "true":
        submission["late"] = True
    submission["submissionHistory"] = history
    return submission


def _guardians(data_dir: Path, district: ClassroomDistrict, users: dict[str, dict[str, str]]) -> None:
    roles: dict[str, set[str]] = defaultdict(set)
    for row in _rows(data_dir / "roles.csv"):
        roles[row["userSourcedId"]].add(row["role"])
    for sourced_id, row in users.items():
        if row.get("role"):
            roles[sourced_id].add(row["role"])
    for sourced_id, row in users.items():
        if "student" not in roles[sourced_id]:
            continue
        student_id = district.user_ids[sourced_id]
        links = []
        for agent in _multi(row.get("agentSourcedIds", "")):
            if agent not in users or not roles[agent] & _GUARDIAN_ROLES:
                continue
            guardian_id = district.user_ids[agent]
            link: Json = {
                "studentId": student_id,
                "guardianId": guardian_id,
                "guardianProfile": _profile(guardian_id, users[agent]),
            }
            if users[agent].get("email"):
                link["invitedEmailAddress"] = users[agent]["email"]
            links.append(link)
        if links:
            district.guardians[student_id] = links
