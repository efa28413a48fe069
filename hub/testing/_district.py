"""Build the whole synthetic district in memory: orgs, people, timetable, staff.

Each concern draws from its own random stream derived from the seed, so a
change in, say, how teachers are grouped does not reshuffle every name.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from hub.testing._calendar import SchoolCalendar, build_calendar
from hub.testing._catalog import SchoolLevel
from hub.testing._names import AREA_CODES, DISTRICT_KINDS, DISTRICT_PLACES, SCHOOL_NAMESAKES
from hub.testing._people import (
    GuardianRecord,
    IdSequence,
    Mailboxes,
    School,
    StaffMember,
    StudentRecord,
    form_families,
    make_staff_member,
    make_students,
)
from hub.testing._schedule import Course, Section, group_for_teachers, schedule_school

__all__ = ["District", "build_district", "random_stream"]

_STUDENTS_PER_SCHOOL = 400
_MIN_SCHOOLS = 2
_MAX_SCHOOLS = 60
_STUDENTS_PER_EXTRA_COUNSELOR = 800
_DISTRICT_ADMINISTRATORS = 2
# Share of students who dropped one of their classes; with ~6.5 classes each
# this ends about 2% of student enrollments early.
_DROPPING_STUDENT_SHARE = 0.13
_LATEST_DROP_AFTER_TERM_START = 30  # days
_SUBJECT_ROOMS: dict[str, str] = {
    "Physical Education": "Gym",
    "Music": "Music Room",
    "Art": "Art Room",
    "Library Media": "Library",
}


@dataclass(slots=True)
class District:
    """Everything the CSV files are written from (except the gradebook)."""

    sourced_id: str
    name: str
    identifier: str
    calendar: SchoolCalendar
    schools: list[School]
    courses: list[Course]
    sections: list[Section]
    students: list[StudentRecord]
    guardians: list[GuardianRecord]
    # District administrators, principals, counselors, then teachers.
    staff: list[StaffMember]


@dataclass(frozen=True, slots=True)
class _Identity:
    name: str
    domain: str
    identifier: str
    area_code: str


def random_stream(seed: int, purpose: str) -> random.Random:
    """An independent, reproducible random stream for one concern of the generator.

    String seeds are hashed with SHA-512 by ``random``, not with the salted
    ``hash()``, so the stream is the same in every process.
    """
    return random.Random(f"homeroom-synthetic/{seed}/{purpose}")


def build_district(seed: int, student_count: int, today: dt.date) -> District:
    """The district for ``seed`` with ``student_count`` students on ``today``."""
    calendar = build_calendar(today)
    identity = _draw_identity(random_stream(seed, "identity"))
    district_id = "org-district"
    schools = _make_schools(random_stream(seed, "schools"), student_count, identity)
    sis_ids = IdSequence(random_stream(seed, "sis-ids"), 100_000, 3)
    mailboxes = Mailboxes()

    people_rng = random_stream(seed, "people")
    students = make_students(people_rng, schools, student_count, calendar, sis_ids)
    guardians = form_families(
        people_rng, students, f"students.{identity.domain}.k12.us", identity.area_code, mailboxes, sis_ids
    )

    courses, sections = _schedule(random_stream(seed, "schedule"), schools, students, calendar)
    staff_rng = random_stream(seed, "staff")
    staff_factory = _StaffFactory(
        staff_rng, f"{identity.domain}.k12.us", identity.area_code, mailboxes, sis_ids
    )
    teachers = _assign_teachers(staff_rng, schools, sections, staff_factory)
    leaders = _make_leaders(district_id, schools, students, staff_factory)

    _drop_some_enrollments(random_stream(seed, "drops"), students, sections, today)
    _ensure_personas(students)
    return District(
        sourced_id=district_id,
        name=identity.name,
        identifier=identity.identifier,
        calendar=calendar,
        schools=schools,
        courses=courses,
        sections=sections,
        students=students,
        guardians=guardians,
        staff=leaders + teachers,
    )


def _draw_identity(rng: random.Random) -> _Identity:
    place, domain = rng.choice(DISTRICT_PLACES)
    kind = rng.choice(DISTRICT_KINDS)
    return _Identity(
        name=f"{place} {kind}",
        domain=domain,
        identifier=str(rng.randrange(1_000_000, 10_000_000)),
        area_code=rng.choice(AREA_CODES),
    )


def _school_levels(count: int) -> list[SchoolLevel]:
    """Elementary, middle and high schools in a realistic ratio (about 3:1:1).

    Two schools cannot hold three levels, so a two-school district has an
    elementary and a junior/senior high school.
    """
    if count <= 2:
        return [SchoolLevel.ELEMENTARY, SchoolLevel.SECONDARY]
    high = max(1, round(count * 0.2))
    middle = max(1, round(count * 0.2))
    return (
        [SchoolLevel.ELEMENTARY] * (count - high - middle)
        + [SchoolLevel.MIDDLE] * middle
        + [SchoolLevel.HIGH] * high
    )


def _make_schools(rng: random.Random, student_count: int, identity: _Identity) -> list[School]:
    count = min(_MAX_SCHOOLS, max(_MIN_SCHOOLS, round(student_count / _STUDENTS_PER_SCHOOL)))
    levels = _school_levels(count)
    namesakes = rng.sample(SCHOOL_NAMESAKES, count)
    return [
        School(
            number=number,
            sourced_id=f"org-school-{number:02d}",
            name=f"{namesake} {level.name_suffix}",
            level=level,
            identifier=f"{identity.identifier}{number:05d}",
        )
        for number, (namesake, level) in enumerate(zip(namesakes, levels, strict=True), start=1)
    ]


def _schedule(
    rng: random.Random, schools: Sequence[School], students: Sequence[StudentRecord], calendar: SchoolCalendar
) -> tuple[list[Course], list[Section]]:
    cohorts: dict[str, dict[str, list[StudentRecord]]] = {school.sourced_id: {} for school in schools}
    for student in students:
        cohorts[student.school.sourced_id].setdefault(student.grade, []).append(student)
    courses: list[Course] = []
    sections: list[Section] = []
    for school in schools:
        school_courses, school_sections = schedule_school(rng, school, cohorts[school.sourced_id], calendar)
        courses.extend(school_courses)
        sections.extend(school_sections)
    return courses, sections


class _StaffFactory:
    """Creates staff members with numbered sourcedIds per kind (``tch-``, ``stf-``)."""

    def __init__(
        self, rng: random.Random, domain: str, area_code: str, mailboxes: Mailboxes, sis_ids: IdSequence
    ) -> None:
        self._rng = rng
        self._domain = domain
        self._area_code = area_code
        self._mailboxes = mailboxes
        self._sis_ids = sis_ids
        self._employee_ids = IdSequence(rng, 1_000_000, 5)
        self._made: dict[str, int] = {}

    def make(self, prefix: str, role: str, org_id: str) -> StaffMember:
        number = self._made.get(prefix, 0) + 1
        self._made[prefix] = number
        return make_staff_member(
            self._rng,
            f"{prefix}-{number:05d}",
            role,
            org_id,
            self._domain,
            self._area_code,
            self._mailboxes,
            self._sis_ids,
            self._employee_ids,
        )


def _assign_teachers(
    rng: random.Random, schools: Sequence[School], sections: Sequence[Section], factory: _StaffFactory
) -> list[StaffMember]:
    by_school: dict[str, list[Section]] = {school.sourced_id: [] for school in schools}
    for section in sections:
        by_school[section.course.school.sourced_id].append(section)
    teachers: list[StaffMember] = []
    for school in schools:
        for room_number, load in enumerate(group_for_teachers(rng, by_school[school.sourced_id])):
            teacher = factory.make("tch", "teacher", school.sourced_id)
            # Twenty rooms a floor: 101..120, 201..220, ...
            teacher.room = f"Room {(room_number // 20 + 1) * 100 + room_number % 20 + 1}"
            for section in load:
                section.teacher = teacher
                section.location = _SUBJECT_ROOMS.get(section.course.offering.subject, teacher.room)
            teachers.append(teacher)
    return teachers


def _make_leaders(
    district_id: str, schools: Sequence[School], students: Sequence[StudentRecord], factory: _StaffFactory
) -> list[StaffMember]:
    """District administrators, a principal per school, and counselors.

    Every school has a counselor; one more per 800 students goes to the
    largest schools first.
    """
    leaders = [
        factory.make("stf", "districtAdministrator", district_id) for _ in range(_DISTRICT_ADMINISTRATORS)
    ]
    leaders.extend(factory.make("stf", "principal", school.sourced_id) for school in schools)
    leaders.extend(factory.make("stf", "counselor", school.sourced_id) for school in schools)
    enrollment: dict[str, int] = {school.sourced_id: 0 for school in schools}
    for student in students:
        enrollment[student.school.sourced_id] += 1
    largest_first = sorted(schools, key=lambda school: (-enrollment[school.sourced_id], school.number))
    extra = len(students) // _STUDENTS_PER_EXTRA_COUNSELOR
    leaders.extend(
        factory.make("stf", "counselor", largest_first[i % len(largest_first)].sourced_id)
        for i in range(extra)
    )
    return leaders


def _drop_some_enrollments(
    rng: random.Random, students: Sequence[StudentRecord], sections: Sequence[Section], today: dt.date
) -> None:
    """End one class early for some students, as if they dropped it."""
    sections_of: list[list[Section]] = [[] for _ in students]
    for section in sections:
        for index in section.student_indexes:
            sections_of[index].append(section)
    for student in students:
        if rng.random() >= _DROPPING_STUDENT_SHARE or not sections_of[student.index]:
            continue
        section = rng.choice(sections_of[student.index])
        days_in_term = (today - section.term_start).days
        if days_in_term < 1:
            continue
        last_day = section.term_start + dt.timedelta(
            days=rng.randrange(min(days_in_term, _LATEST_DROP_AFTER_TERM_START))
        )
        section.drop_dates[student.index] = last_day


def _ensure_personas(students: Sequence[StudentRecord]) -> None:
    """Make sure small districts still hold a directory opt-out and a program student."""
    if not any(student.directory_opt_out for student in students):
        students[0].directory_opt_out = True
    if not any(set(student.programs) & {"IEP", "504", "ELL"} for student in students):
        students[-1].programs = ("IEP", *students[-1].programs)
