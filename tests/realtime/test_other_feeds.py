"""The other subscription feeds end to end, over the same real WebSocket hub as
``test_subscriptions.py`` (uvicorn on loopback, mirroring a OneRoster REST
simulator that serves a generated district's CSV folder, course grades and
attendance included): a changed attendance mark reaches the teacher of the
student and not one who never taught them, a changed course grade reaches the
child's guardian only, ``sectionId`` / ``studentId`` narrow what is delivered
and never widen it, and every delivered event is audited, naming the caller
and the student it is about."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.federation.ids import decode_id, encode_id
from hub.model import Entity
from tests.csv_files import Row, csv_rows, rewrite_csv
from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.realtime import test_subscriptions as shared
from tests.realtime.test_subscriptions import LiveHub, _ack, _message, _subscribe, live_hub

# That module's fixtures, named here so that pytest finds them for this module's tests too.
district = shared.district
folder = shared.folder

pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")

QUIET = 2.5
"""Seconds without a message after which a socket is taken to have had everything
(the mirror syncs the gradebook every second here)."""

TEACHING = """query { viewer { sections { edges { node { id
  students { edges { node { id } } } } } } } }"""
CHILDREN = """query { viewer { students { edges { node { id
  courseGrades { id letterGrade percent } } } } } }"""

Event = dict[str, Any]
Changes = dict[str, dict[str, dict[str, str]]]
"""File name -> sourcedId -> the cells to write in that row."""


def _doc(feed: str, selection: str, **narrowing: str) -> str:
    """``subscription { feed(narrowing) { selection } }``, each argument an id."""
    arguments = ", ".join(f'{name}: "{value}"' for name, value in narrowing.items())
    return f"subscription {{ {feed}{f'({arguments})' if arguments else ''} {{ {selection} }} }}"


def _store(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


def _vendor(hub_id: str) -> str:
    decoded = decode_id(hub_id)
    assert decoded is not None, hub_id
    return decoded.vendor_id


def _first(rows: list[Row], test: Callable[[Row], bool], what: str) -> Row:
    for row in rows:
        if test(row):
            return row
    raise AssertionError(f"the district has no {what}")


def _other_status(row: Row) -> str:
    return "tardy" if row["attendanceStatus"] == "absent" else "absent"


def _graded(row: Row) -> bool:
    return row["score"].replace(".", "", 1).isdigit()


async def _query(live: LiveHub, persona: str, query: str) -> dict[str, Any]:
    """The ``data`` of ``query`` asked over HTTP as ``persona`` (no error allowed)."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            live.url.replace("ws://", "http://"),
            json={"query": query},
            headers={"Authorization": f"Bearer {live.token(persona)}"},
        )
    body = response.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def _write(files: Path, changes: Changes) -> None:
    """Each file's rows named in ``changes`` rewritten with those cells (all of them must exist)."""
    for name, cells in changes.items():

        def change(rows: list[Row], cells: dict[str, dict[str, str]] = cells) -> list[Row]:
            found = [row for row in rows if row["sourcedId"] in cells]
            assert sorted(row["sourcedId"] for row in found) == sorted(cells), "a row to change is missing"
            for row in found:
                row.update(cells[row["sourcedId"]])
            return rows

        rewrite_csv(files / name, change)


async def _feeds(
    live: LiveHub, persona: str, subscriptions: dict[str, str], files: Path, changes: Changes
) -> dict[str, list[Event]]:
    """Per subscription (operation id -> document, one socket of ``persona``), the
    events delivered after ``changes`` are written: everything until the socket has
    been quiet for ``QUIET`` seconds (20 s for the first message)."""
    async with live.socket(live.token(persona)) as ws:
        await _ack(ws)
        for operation, document in subscriptions.items():
            await _subscribe(ws, document, operation)
        async with asyncio.timeout(10):
            while live.hub.changes.subscribers() < len(subscriptions):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # every feed subscribed (and primed) before the change
        _write(files, changes)
        out: dict[str, list[Event]] = {}
        timeout = 20.0
        while True:
            try:
                message = await _message(ws, timeout=timeout)
            except TimeoutError:
                return out
            timeout = QUIET
            assert message["type"] == "next", message
            assert not message["payload"].get("errors"), message
            (event,) = message["payload"]["data"].values()
            out.setdefault(message["id"], []).append(event)


def _by_id(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda event: str(event["id"]))


class Audit:
    """The audit events naming some students, from the moment it is made."""

    def __init__(self, live: LiveHub, before: dict[str, int]) -> None:
        self.live, self.before = live, before

    @classmethod
    async def start(cls, live: LiveHub, students: list[str]) -> Audit:
        assert live.hub.audit is not None
        return cls(live, {s: len(await live.hub.audit.events_for(s)) for s in students})

    async def since(self, student: str) -> list[tuple[str | None, dict[str, tuple[str, ...]]]]:
        """(subject, the fields disclosed about ``student`` per type) of each event since the start."""
        assert self.live.hub.audit is not None
        events = (await self.live.hub.audit.events_for(student))[self.before[student] :]
        return [(e.subject, dict(e.fields)) for e in events]

    async def deliveries(self, student: str) -> Counter[tuple[str | None, str]]:
        """How many events since the start disclosed something of each type about
        ``student``, per (subject, type)."""
        return Counter(
            (subject, type_name) for subject, fields in await self.since(student) for type_name in fields
        )


def _subject(live: LiveHub, persona: str) -> str:
    return f"demo:{persona}:{live.personas[persona].sourced_id}"


@dataclass(frozen=True)
class Gradebook:
    """Rows of the teacher persona's gradebook to change, from the files, matched
    with the sections and students the hub shows her.

    ``one`` and ``another`` are two of her sections; ``mine`` a student of ``one``
    and ``theirs`` another student, of ``another``, each with a score, a course
    grade in that section and an attendance mark; ``foreign`` the same of a
    student she never taught, in a section she never taught."""

    source: str
    one: str
    another: str
    mine: dict[str, Row]
    theirs: dict[str, Row]
    foreign: dict[str, Row]

    def hub_id(self, entity: Entity, vendor_id: str) -> str:
        return encode_id(entity.value, self.source, vendor_id)

    def student(self, rows: dict[str, Row]) -> str:
        return self.hub_id(Entity.STUDENT, rows["results.csv"]["studentSourcedId"])

    def event_id(self, name: str, rows: dict[str, Row]) -> str:
        entity = {
            "results.csv": Entity.SCORE,
            "courseGrades.csv": Entity.COURSE_GRADE,
            "attendance.csv": Entity.ATTENDANCE_EVENT,
        }[name]
        return self.hub_id(entity, rows[name]["sourcedId"])

    def changes(self, *whose: dict[str, Row]) -> Changes:
        """New values for the rows of ``whose``: a score, a course grade and a mark each."""
        out: Changes = {"results.csv": {}, "courseGrades.csv": {}, "attendance.csv": {}}
        for n, rows in enumerate(whose):
            out["results.csv"][rows["results.csv"]["sourcedId"]] = {"score": f"{n + 1}.5"}
            out["courseGrades.csv"][rows["courseGrades.csv"]["sourcedId"]] = {"percent": f"{n + 41}.25"}
            marked = rows["attendance.csv"]
            out["attendance.csv"][marked["sourcedId"]] = {"attendanceStatus": _other_status(marked)}
        return out


async def _gradebook(live: LiveHub, files: Path) -> Gradebook:
    teacher = live.personas["teacher"]
    assert teacher.sourced_id is not None and teacher.source is not None
    data = await _query(live, "teacher", TEACHING)
    teaching = {
        _vendor(edge["node"]["id"]): {_vendor(s["node"]["id"]) for s in edge["node"]["students"]["edges"]}
        for edge in data["viewer"]["sections"]["edges"]
    }
    enrollments = csv_rows(files / "enrollments.csv")
    ever_classes = {r["classSourcedId"] for r in enrollments if r["userSourcedId"] == teacher.sourced_id}
    ever_students = {
        r["userSourcedId"]
        for r in enrollments
        if r["classSourcedId"] in ever_classes and r["role"] == "student"
    }
    assert set(teaching) <= ever_classes
    results = [r for r in csv_rows(files / "results.csv") if _graded(r)]
    grades = csv_rows(files / "courseGrades.csv")
    marks = csv_rows(files / "attendance.csv")

    def rows_of(student: str, section: Callable[[str], bool]) -> dict[str, Row] | None:
        score = next(
            (r for r in results if r["studentSourcedId"] == student and section(r["classSourcedId"])), None
        )
        grade = next(
            (r for r in grades if r["studentSourcedId"] == student and section(r["classSourcedId"])), None
        )
        mark = next((r for r in marks if r["userSourcedId"] == student), None)
        if score is None or grade is None or mark is None:
            return None
        return {"results.csv": score, "courseGrades.csv": grade, "attendance.csv": mark}

    picked: list[tuple[str, dict[str, Row]]] = []
    for section, students in teaching.items():
        for student in sorted(students - {r["results.csv"]["studentSourcedId"] for _, r in picked}):
            rows = rows_of(student, lambda c, section=section: c == section)
            if rows is not None:
                picked.append((section, rows))
                break
        if len(picked) == 2:
            break
    assert len(picked) == 2, "the teacher needs two sections with a student's score, grade and mark each"
    outsiders = sorted({r["studentSourcedId"] for r in results} - ever_students)
    foreign = next(
        (rows for s in outsiders if (rows := rows_of(s, lambda c: c not in ever_classes)) is not None), None
    )
    assert foreign is not None, "the district needs a student and a section the teacher never taught"
    (one, mine), (another, theirs) = picked
    return Gradebook(teacher.source, one, another, mine, theirs, foreign)


async def test_a_teacher_gets_the_attendance_mark_of_her_student_and_not_anothers_audited(
    folder: Path, tmp_path: Path
) -> None:
    async with live_hub(folder, _store(tmp_path)) as live:
        book = await _gradebook(live, folder)
        own, other = book.mine["attendance.csv"], book.foreign["attendance.csv"]
        student, outsider = book.student(book.mine), book.student(book.foreign)
        audit = await Audit.start(live, [student, outsider])
        # The other student's mark is changed in the same file: only hers may arrive.
        changes = {
            "attendance.csv": {
                other["sourcedId"]: {"attendanceStatus": _other_status(other)},
                own["sourcedId"]: {"attendanceStatus": _other_status(own)},
            }
        }
        events = await _feeds(
            live,
            "teacher",
            {"marks": _doc("attendanceChanged", "id status date student { id }")},
            folder,
            changes,
        )
        assert events == {
            "marks": [
                {
                    "id": book.event_id("attendance.csv", book.mine),
                    "status": _other_status(own).upper(),
                    "date": own["date"],
                    "student": {"id": student},
                }
            ]
        }
        # Audited before it left: the student's record names the teacher's reading of the mark.
        teacher = _subject(live, "teacher")
        assert [(s, "status" in f.get("AttendanceEvent", ())) for s, f in await audit.since(student)] == [
            (teacher, True)
        ]
        assert await audit.since(outsider) == []


async def test_a_guardian_gets_their_childs_course_grade_and_not_anothers_audited(
    folder: Path, tmp_path: Path
) -> None:
    async with live_hub(folder, _store(tmp_path)) as live:
        data = await _query(live, "guardian", CHILDREN)
        children = {e["node"]["id"]: e["node"]["courseGrades"] for e in data["viewer"]["students"]["edges"]}
        child, grade = next((c, grades[0]) for c, grades in children.items() if grades)
        child_vendors = {_vendor(c) for c in children}
        other = _first(
            csv_rows(folder / "courseGrades.csv"),
            lambda r: r["studentSourcedId"] not in child_vendors,
            "course grade of another student",
        )
        source = live.personas["guardian"].source
        assert source is not None
        outsider = encode_id(Entity.STUDENT.value, source, other["studentSourcedId"])
        audit = await Audit.start(live, [child, outsider])
        changes = {
            "courseGrades.csv": {
                other["sourcedId"]: {"letterGrade": "A", "percent": "99.25"},
                _vendor(grade["id"]): {"letterGrade": "F", "percent": "41.25"},
            }
        }
        events = await _feeds(
            live,
            "guardian",
            {"grades": _doc("courseGradeChanged", "id letterGrade percent student { id }")},
            folder,
            changes,
        )
        assert events == {
            "grades": [{"id": grade["id"], "letterGrade": "F", "percent": 41.25, "student": {"id": child}}]
        }
        guardian = _subject(live, "guardian")
        assert [(s, "percent" in f.get("CourseGrade", ())) for s, f in await audit.since(child)] == [
            (guardian, True)
        ]
        assert await audit.since(outsider) == []


async def test_student_and_section_ids_narrow_the_feeds_they_select_the_link_of_audited(
    folder: Path, tmp_path: Path
) -> None:
    """``studentId`` on each feed, ``sectionId`` on course grades (the row names its
    section), with the link selected: only the named student's or section's rows."""
    async with live_hub(folder, _store(tmp_path)) as live:
        book = await _gradebook(live, folder)
        mine = book.hub_id(Entity.STUDENT, book.mine["results.csv"]["studentSourcedId"])
        section = book.hub_id(Entity.SECTION, book.one)
        people = [book.student(book.mine), book.student(book.theirs), book.student(book.foreign)]
        audit = await Audit.start(live, people)
        events = await _feeds(
            live,
            "teacher",
            {
                "scores": _doc("scoreChanged", "id"),
                "scores-student": _doc("scoreChanged", "id student { id }", studentId=mine),
                "marks": _doc("attendanceChanged", "id"),
                "marks-student": _doc("attendanceChanged", "id student { id }", studentId=mine),
                "grades": _doc("courseGradeChanged", "id"),
                "grades-student": _doc("courseGradeChanged", "id student { id }", studentId=mine),
                "grades-section": _doc("courseGradeChanged", "id section { id }", sectionId=section),
            },
            folder,
            book.changes(book.foreign, book.theirs, book.mine),
        )
        score, mark, grade = (
            book.event_id(name, book.mine) for name in ("results.csv", "attendance.csv", "courseGrades.csv")
        )
        expected = {
            "scores": [{"id": score}, {"id": book.event_id("results.csv", book.theirs)}],
            "scores-student": [{"id": score, "student": {"id": mine}}],
            "marks": [{"id": mark}, {"id": book.event_id("attendance.csv", book.theirs)}],
            "marks-student": [{"id": mark, "student": {"id": mine}}],
            "grades": [{"id": grade}, {"id": book.event_id("courseGrades.csv", book.theirs)}],
            "grades-student": [{"id": grade, "student": {"id": mine}}],
            "grades-section": [{"id": grade, "section": {"id": section}}],
        }
        assert {op: _by_id(e) for op, e in events.items()} == {op: _by_id(e) for op, e in expected.items()}
        # One audit event per delivered event, each naming the teacher and the student.
        teacher = _subject(live, "teacher")
        # (``student { id }`` discloses the student's id too, in the three feeds narrowed to them.)
        assert await audit.deliveries(people[0]) == Counter(
            {
                (teacher, "Score"): 2,
                (teacher, "AttendanceEvent"): 2,
                (teacher, "CourseGrade"): 3,
                (teacher, "Student"): 3,
            }
        )
        assert await audit.deliveries(people[1]) == Counter(
            {(teacher, "Score"): 1, (teacher, "AttendanceEvent"): 1, (teacher, "CourseGrade"): 1}
        )
        assert await audit.since(people[2]) == []


async def test_section_id_narrows_score_changed_to_that_section_audited(folder: Path, tmp_path: Path) -> None:
    async with live_hub(folder, _store(tmp_path)) as live:
        book = await _gradebook(live, folder)
        section = book.hub_id(Entity.SECTION, book.one)
        people = [book.student(book.mine), book.student(book.theirs)]
        audit = await Audit.start(live, people)
        events = await _feeds(
            live,
            "teacher",
            {
                "scores": _doc("scoreChanged", "id"),
                "scores-section": _doc(
                    "scoreChanged", "id score assignment { id section { id } }", sectionId=section
                ),
            },
            folder,
            {"results.csv": book.changes(book.theirs, book.mine)["results.csv"]},
        )
        score = book.event_id("results.csv", book.mine)
        assert _by_id(events.get("scores", [])) == _by_id(
            [{"id": score}, {"id": book.event_id("results.csv", book.theirs)}]
        )
        (event,) = events.get("scores-section", [{}])
        assert (event.get("id"), event.get("score"), event.get("assignment", {}).get("section")) == (
            score,
            2.5,
            {"id": section},
        ), events
        teacher = _subject(live, "teacher")
        assert await audit.deliveries(people[0]) == Counter({(teacher, "Score"): 2})
        assert await audit.deliveries(people[1]) == Counter({(teacher, "Score"): 1})


async def test_narrowing_does_not_depend_on_selecting_the_link(folder: Path, tmp_path: Path) -> None:
    async with live_hub(folder, _store(tmp_path)) as live:
        book = await _gradebook(live, folder)
        mine = book.hub_id(Entity.STUDENT, book.mine["results.csv"]["studentSourcedId"])
        section = book.hub_id(Entity.SECTION, book.one)
        audit = await Audit.start(live, [mine])
        events = await _feeds(
            live,
            "teacher",
            {
                "scores": _doc("scoreChanged", "id"),
                "scores-student": _doc("scoreChanged", "id score", studentId=mine),
                "marks-student": _doc("attendanceChanged", "id status", studentId=mine),
                "grades-section": _doc("courseGradeChanged", "id percent", sectionId=section),
            },
            folder,
            book.changes(book.theirs, book.mine),
        )
        assert {op: [e["id"] for e in found] for op, found in events.items() if op != "scores"} == {
            "scores-student": [book.event_id("results.csv", book.mine)],
            "marks-student": [book.event_id("attendance.csv", book.mine)],
            "grades-section": [book.event_id("courseGrades.csv", book.mine)],
        }, events
        teacher = _subject(live, "teacher")
        assert await audit.deliveries(mine) == Counter(
            {(teacher, "Score"): 2, (teacher, "AttendanceEvent"): 1, (teacher, "CourseGrade"): 1}
        )


async def test_a_section_or_student_the_teacher_does_not_teach_delivers_nothing(
    folder: Path, tmp_path: Path
) -> None:
    """Narrowing never widens: naming a section or student she does not teach, whose
    rows change, delivers nothing (while her own rows reach her unnarrowed feeds)."""
    async with live_hub(folder, _store(tmp_path)) as live:
        book = await _gradebook(live, folder)
        student = book.hub_id(Entity.STUDENT, book.foreign["results.csv"]["studentSourcedId"])
        section = book.hub_id(Entity.SECTION, book.foreign["courseGrades.csv"]["classSourcedId"])
        scored_in = book.hub_id(Entity.SECTION, book.foreign["results.csv"]["classSourcedId"])
        audit = await Audit.start(live, [student, book.student(book.mine)])
        events = await _feeds(
            live,
            "teacher",
            {
                "scores": _doc("scoreChanged", "id"),
                "marks": _doc("attendanceChanged", "id"),
                "grades": _doc("courseGradeChanged", "id"),
                "scores-section": _doc("scoreChanged", "id assignment { id }", sectionId=scored_in),
                "scores-student": _doc("scoreChanged", "id student { id }", studentId=student),
                "marks-student": _doc("attendanceChanged", "id student { id }", studentId=student),
                "grades-student": _doc("courseGradeChanged", "id student { id }", studentId=student),
                "grades-section": _doc("courseGradeChanged", "id section { id }", sectionId=section),
            },
            folder,
            book.changes(book.foreign, book.mine),
        )
        assert events == {
            "scores": [{"id": book.event_id("results.csv", book.mine)}],
            "marks": [{"id": book.event_id("attendance.csv", book.mine)}],
            "grades": [{"id": book.event_id("courseGrades.csv", book.mine)}],
        }
        assert await audit.since(student) == []
        teacher = _subject(live, "teacher")
        assert await audit.deliveries(book.student(book.mine)) == Counter(
            {(teacher, "Score"): 1, (teacher, "AttendanceEvent"): 1, (teacher, "CourseGrade"): 1}
        )
