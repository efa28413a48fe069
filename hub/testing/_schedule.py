"""Timetable of the synthetic district: courses, sections, and who teaches them.

A school splits each grade into *teams* of at most 30 students. A team takes
its six core courses together; team number ``t`` (counted across the school)
meets core slot ``k`` in period ``(k + t) % 7 + 1``, so a student's periods
never collide and consecutive teams of one course meet in consecutive periods.
The seventh period left free is where about half the team takes an elective,
pooled with other grades free in the same period. Teachers then take runs of
four to six sections whose periods differ.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hub.testing._calendar import SchoolCalendar
from hub.testing._catalog import ALL_GRADES, CORE_SLOTS, CourseOffering, core_courses, elective_courses
from hub.testing._people import School, StaffMember, StudentRecord

__all__ = ["PERIODS", "Course", "Section", "group_for_teachers", "schedule_school"]

PERIODS = 7
_MAX_SECTION_SIZE = 30
_ELECTIVE_SHARE = 0.5
_TEACHER_LOADS: tuple[int, ...] = (4, 5, 5, 5, 6)
_MIN_LOAD = 4
_MAX_LOAD = 6
# How many of the most recently opened, not yet full teachers a section may
# join; small, so a teacher's sections stay within one subject.
_OPEN_TEACHER_WINDOW = 3

_T = TypeVar("_T")


@dataclass(slots=True)
class Course:
    """A course placed in one school."""

    sourced_id: str
    school: School
    offering: CourseOffering


@dataclass(slots=True, kw_only=True)
class Section:
    """A scheduled class: one course, one period, one term, its roster and teacher."""

    sourced_id: str
    course: Course
    number: int
    period: int
    term_start: dt.date
    term_end: dt.date
    term_id: str
    grades: tuple[str, ...]
    student_indexes: list[int]
    # Students who dropped the class, and the last day they were enrolled.
    drop_dates: dict[int, dt.date] = field(default_factory=dict)
    teacher: StaffMember | None = None
    location: str = ""

    def last_day_of(self, student_index: int) -> dt.date:
        """The end date of the student's enrollment."""
        return self.drop_dates.get(student_index, self.term_end)


class _CourseBook:
    """The courses of one school, created on first use, with section numbering."""

    def __init__(self, school: School) -> None:
        self._school = school
        self._courses: dict[str, Course] = {}
        self._sections_made: dict[str, int] = {}

    @property
    def courses(self) -> list[Course]:
        return list(self._courses.values())

    def course(self, offering: CourseOffering) -> Course:
        course = self._courses.get(offering.code)
        if course is None:
            course = Course(f"crs-{self._school.number:02d}-{offering.code.lower()}", self._school, offering)
            self._courses[offering.code] = course
        return course

    def new_section(
        self,
        offering: CourseOffering,
        period: int,
        calendar: SchoolCalendar,
        grades: tuple[str, ...],
        students: list[int],
    ) -> Section:
        course = self.course(offering)
        number = self._sections_made.get(offering.code, 0) + 1
        self._sections_made[offering.code] = number
        term = calendar.current_semester if offering.semester_long else calendar.year
        return Section(
            sourced_id=f"{course.sourced_id.replace('crs-', 'cls-', 1)}-{number:02d}",
            course=course,
            number=number,
            period=period,
            term_start=term.start,
            term_end=term.end,
            term_id=term.sourced_id,
            grades=grades,
            student_indexes=students,
        )


def schedule_school(
    rng: random.Random,
    school: School,
    students_by_grade: dict[str, list[StudentRecord]],
    calendar: SchoolCalendar,
) -> tuple[list[Course], list[Section]]:
    """Courses and sections of ``school``; sections come ordered for teacher assignment.

    Every section of the current year is current on ``calendar.today``:
    year-long ones, and the semester-long electives of the current semester.
    """
    book = _CourseBook(school)
    core: list[tuple[int, int, Section]] = []  # (slot, team, section)
    elective_takers: dict[int, list[StudentRecord]] = {period: [] for period in range(1, PERIODS + 1)}
    team_number = 0
    for grade in school.level.grades:
        cohort = list(students_by_grade.get(grade, ()))
        rng.shuffle(cohort)
        offerings = core_courses(school.level, grade)
        for team in _split(cohort, math.ceil(len(cohort) / _MAX_SECTION_SIZE)):
            roster = [student.index for student in team]
            for slot, offering in enumerate(offerings):
                period = _period_of(slot, team_number)
                section = book.new_section(offering, period, calendar, (grade,), list(roster))
                core.append((slot, team_number, section))
            free_period = _period_of(CORE_SLOTS, team_number)
            elective_takers[free_period].extend(s for s in team if rng.random() < _ELECTIVE_SHARE)
            team_number += 1
    electives = _schedule_electives(school, elective_takers, book, calendar)
    core.sort(key=lambda entry: (entry[0], entry[1]))
    return book.courses, [section for _, _, section in core] + electives


def _period_of(slot: int, team_number: int) -> int:
    return (slot + team_number) % PERIODS + 1


def _schedule_electives(
    school: School,
    takers_by_period: dict[int, list[StudentRecord]],
    book: _CourseBook,
    calendar: SchoolCalendar,
) -> list[Section]:
    """One elective per period, split into sections of at most 30 of its takers.

    Ordered first sections of every period, then second sections, ..., so that a
    run of up to seven consecutive sections never repeats a period.
    """
    offerings = elective_courses(school.level)
    rounds: list[tuple[int, int, Section]] = []
    for period, takers in takers_by_period.items():
        if not takers:
            continue
        # Rotating by school number varies which elective meets when across schools.
        offering = offerings[(period + school.number) % len(offerings)]
        chunks = _split(takers, math.ceil(len(takers) / _MAX_SECTION_SIZE))
        for round_number, chunk in enumerate(chunks):
            grades = tuple(g for g in ALL_GRADES if any(s.grade == g for s in chunk))
            section = book.new_section(offering, period, calendar, grades, [s.index for s in chunk])
            rounds.append((round_number, period, section))
    rounds.sort(key=lambda entry: (entry[0], entry[1]))
    return [section for _, _, section in rounds]


def _split(items: Sequence[_T], parts: int) -> list[list[_T]]:
    """``items`` cut into ``parts`` contiguous pieces whose sizes differ by at most one."""
    if parts <= 0:
        return []
    size, extra = divmod(len(items), parts)
    pieces: list[list[_T]] = []
    start = 0
    for part in range(parts):
        end = start + size + (1 if part < extra else 0)
        pieces.append(list(items[start:end]))
        start = end
    return pieces


def group_for_teachers(rng: random.Random, sections: Sequence[Section]) -> list[list[Section]]:
    """Sections of one school grouped into teaching loads of four to six, periods distinct.

    ``sections`` should come grouped by subject with periods rotating (as
    :func:`schedule_school` returns them); loads are then mostly one subject.
    Tiny schools may leave a load outside 4..6 when no valid regrouping exists.
    """
    loads: list[list[Section]] = []
    busy_periods: list[set[int]] = []
    targets: list[int] = []
    open_loads: list[int] = []
    for section in sections:
        home = next(
            (i for i in open_loads[-_OPEN_TEACHER_WINDOW:] if section.period not in busy_periods[i]), None
        )
        if home is None:
            home = len(loads)
            loads.append([])
            busy_periods.append(set())
            targets.append(rng.choice(_TEACHER_LOADS))
            open_loads.append(home)
        loads[home].append(section)
        busy_periods[home].add(section.period)
        if len(loads[home]) >= targets[home]:
            open_loads.remove(home)
    _rebalance(loads, busy_periods)
    return [load for load in loads if load]


def _rebalance(loads: list[list[Section]], busy_periods: list[set[int]]) -> None:
    """Bring loads under four up to four, or hand their sections to others."""
    for index, load in enumerate(loads):
        if 0 < len(load) < _MIN_LOAD:
            _top_up(index, loads, busy_periods)
        if 0 < len(load) < _MIN_LOAD:
            _dissolve(index, loads, busy_periods)


def _by_distance(index: int, count: int) -> list[int]:
    """Other load indexes, nearest first: near loads share the subject."""
    return sorted((i for i in range(count) if i != index), key=lambda i: abs(i - index))


def _move(
    section: Section, source: int, target: int, loads: list[list[Section]], busy: list[set[int]]
) -> None:
    loads[source].remove(section)
    busy[source].discard(section.period)
    loads[target].append(section)
    busy[target].add(section.period)


def _top_up(index: int, loads: list[list[Section]], busy: list[set[int]]) -> None:
    for donor in _by_distance(index, len(loads)):
        for section in list(loads[donor]):
            if len(loads[index]) >= _MIN_LOAD:
                return
            if len(loads[donor]) > _MIN_LOAD and section.period not in busy[index]:
                _move(section, donor, index, loads, busy)


def _dissolve(index: int, loads: list[list[Section]], busy: list[set[int]]) -> None:
    """Move every section of the load to others with room, or none of them."""
    planned: list[tuple[Section, int]] = []
    extra: dict[int, set[int]] = {}
    for section in loads[index]:
        receiver = next(
            (
                i
                for i in _by_distance(index, len(loads))
                if len(loads[i]) >= _MIN_LOAD
                and len(loads[i]) + len(extra.get(i, ())) < _MAX_LOAD
                and section.period not in busy[i]
                and section.period not in extra.get(i, set())
            ),
            None,
        )
        if receiver is None:
            return
        planned.append((section, receiver))
        extra.setdefault(receiver, set()).add(section.period)
    for section, receiver in planned:
        _move(section, index, receiver, loads, busy)
