"""Gradebook and attendance of the synthetic district, produced as CSV rows.

Rows are yielded, never collected: a 50,000-student district has about two
million results. A student's scores follow a hidden ``ability``, so course
grades, assignment scores and missing work tell a consistent story.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hub.testing._calendar import SchoolCalendar
from hub.testing._catalog import topics_for
from hub.testing._district import District
from hub.testing._schedule import Section

__all__ = [
    "CATEGORIES",
    "Category",
    "Gradebook",
    "LineItem",
    "attendance_rows",
    "category_rows",
    "letter_grade",
    "plan_line_items",
]

Row = list[str]

_DUE_HORIZON = dt.timedelta(days=14)  # assignments are planned up to two weeks ahead


@dataclass(frozen=True, slots=True)
class Category:
    """A gradebook category and the point values its assignments use."""

    sourced_id: str
    title: str
    weight: str
    points: tuple[int, ...]
    share: float  # how often an assignment falls in this category


CATEGORIES: tuple[Category, ...] = (
    Category("cat-homework", "Homework", "0.2", (10, 20), 0.45),
    Category("cat-quiz", "Quiz", "0.2", (20, 50), 0.25),
    Category("cat-test", "Test", "0.4", (100,), 0.15),
    Category("cat-project", "Project", "0.2", (50, 100), 0.15),
)
_CATEGORY_SHARES = tuple(category.share for category in CATEGORIES)


@dataclass(frozen=True, slots=True)
class LineItem:
    """One assignment of one section."""

    sourced_id: str
    section: Section
    title: str
    description: str
    category: Category
    assign_date: dt.date
    due_date: dt.date
    grading_period_id: str
    points: int


def category_rows(stamp: str) -> Iterator[Row]:
    """categories.csv rows."""
    for category in CATEGORIES:
        yield [category.sourced_id, "active", stamp, category.title, category.weight]


def plan_line_items(
    rng: random.Random, sections: Sequence[Section], calendar: SchoolCalendar, per_section: int
) -> dict[str, list[LineItem]]:
    """``per_section`` assignments per section, due dates spread from the start of
    its term to two weeks after today (or the term's end), keyed by section id."""
    horizon = calendar.today + _DUE_HORIZON
    planned: dict[str, list[LineItem]] = {}
    for section in sections:
        window_end = min(section.term_end, horizon)
        span_days = (window_end - section.term_start).days
        per_category: dict[str, int] = {}
        items: list[LineItem] = []
        for position in range(per_section):
            # Evenly spaced with jitter, so dates stay in order but look hand-picked.
            fraction = (position + 0.5 + rng.uniform(-0.4, 0.4)) / per_section
            due = _on_a_weekday(
                section.term_start + dt.timedelta(days=round(fraction * span_days)), section.term_start
            )
            assigned = max(section.term_start, due - dt.timedelta(days=rng.randint(1, 7)))
            (category,) = rng.choices(CATEGORIES, weights=_CATEGORY_SHARES)
            per_category[category.title] = per_category.get(category.title, 0) + 1
            topic = rng.choice(topics_for(section.course.offering.subject))
            items.append(
                LineItem(
                    sourced_id=f"li-{section.sourced_id.removeprefix('cls-')}-{position + 1:02d}",
                    section=section,
                    title=f"{category.title} {per_category[category.title]}: {topic}",
                    description=f"{topic} {category.title.lower()} for {section.course.offering.title}.",
                    category=category,
                    assign_date=assigned,
                    due_date=due,
                    grading_period_id=calendar.grading_period_on(due).sourced_id,
                    points=rng.choice(category.points),
                )
            )
        planned[section.sourced_id] = items
    return planned


def _on_a_weekday(day: dt.date, earliest: dt.date) -> dt.date:
    """``day`` moved off a weekend: back to Friday, or forward to Monday near ``earliest``."""
    weekday = day.weekday()
    if weekday < 5:
        return day
    friday = day - dt.timedelta(days=weekday - 4)
    return friday if friday >= earliest else day + dt.timedelta(days=7 - weekday)


_COMMENTS_BY_BAND: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.9, ("Excellent work!", "Great job.", "Very thorough.", "Outstanding effort.")),
    (0.75, ("Good work.", "Nice improvement.", "Check your units.", "Solid understanding.")),
    (
        0.0,
        (
            "See me about corrections.",
            "Please review the feedback.",
            "Let's talk after class.",
            "Redo allowed.",
        ),
    ),
)


# What one student did with one assignment:
# (scoreStatus, points earned or None, late, missing, comment, days from due date to scoreDate)
_Outcome = tuple[str, int | None, bool, bool, str, int]
_EXEMPT: _Outcome = ("exempt", None, False, False, "", 0)
_NOT_SUBMITTED: _Outcome = ("not submitted", None, False, True, "", 0)
_UNGRADED: _Outcome = ("submitted", None, False, False, "", 0)
_GRADING_DELAYS = 5  # days a teacher may take to grade
_COMMENT_SHARE = 0.08  # of graded results


def _draw_outcome(rng: random.Random, ability: float, points: int, recently_due: bool) -> _Outcome:
    # Only rng.random() here: randrange, choice and gauss are Python-level and
    # this runs once per result row.
    random_fraction = rng.random
    draw = random_fraction()
    if draw < 0.015:
        return _EXEMPT
    # Weaker students miss more work.
    if draw < 0.045 or (ability < 0.75 and draw < 0.045 + (0.75 - ability) * 0.3):
        return _NOT_SUBMITTED
    if recently_due and draw < 0.45:
        return _UNGRADED
    detail = random_fraction()
    late = detail < 0.06
    status = "partially graded" if detail > 0.98 else "fully graded"
    # The difference of two uniforms: a cheap bell-shaped spread (sd ~0.065).
    noise = (random_fraction() - random_fraction()) * 0.16
    fraction = ability + noise - (0.05 if late else 0.0)
    fraction = 1.0 if fraction > 1.0 else 0.0 if fraction < 0.0 else fraction
    remark = random_fraction()
    comment = _comment_for(fraction, remark / _COMMENT_SHARE) if remark < _COMMENT_SHARE else ""
    delay = int(random_fraction() * _GRADING_DELAYS)
    return status, round(fraction * points), late, False, comment, delay


class Gradebook:
    """Line items, results and course grades of one district.

    :meth:`result_rows` must be consumed before :meth:`course_grade_rows`: course
    grades are the points students earned in the current grading period.
    """

    def __init__(self, district: District, rng: random.Random, per_section: int, stamp: str) -> None:
        self._district = district
        self._rng = rng
        self._stamp = stamp
        self._line_items = plan_line_items(rng, district.sections, district.calendar, per_section)
        # section id -> student index -> [points earned, points possible] this grading period
        self._tallies: dict[str, dict[int, list[float]]] = {}
        self._results_done = False

    def line_item_rows(self) -> Iterator[Row]:
        """lineItems.csv rows."""
        stamp = self._stamp
        for section in self._district.sections:
            school_id = section.course.school.sourced_id
            for item in self._line_items[section.sourced_id]:
                yield [
                    item.sourced_id,
                    "active",
                    stamp,
                    item.title,
                    item.description,
                    f"{item.assign_date.isoformat()}T12:00:00Z",
                    f"{item.due_date.isoformat()}T23:59:00Z",
                    section.sourced_id,
                    item.category.sourced_id,
                    item.grading_period_id,
                    "0",
                    str(item.points),
                    school_id,
                ]

    def result_rows(self) -> Iterator[Row]:
        """results.csv rows: one per enrolled student and assignment due by today.

        The hottest loop of the generator (millions of rows at 50,000 students),
        hence the per-section roster and per-assignment constants.
        """
        today = self._district.calendar.today
        current_period = self._district.calendar.current_grading_period.sourced_id
        rng = self._rng
        stamp = self._stamp
        counter = 0
        for section in self._district.sections:
            tally = self._tallies.setdefault(section.sourced_id, {})
            roster = self._roster(section)
            for item in self._line_items[section.sourced_id]:
                if item.due_date > today:
                    continue
                recently_due = (today - item.due_date).days < 3
                counts_toward_grade = item.grading_period_id == current_period
                score_dates = [
                    min(today, item.due_date + dt.timedelta(days=delay)).isoformat()
                    for delay in range(_GRADING_DELAYS)
                ]
                for index, student_id, ability, last_day in roster:
                    if item.due_date > last_day:
                        continue
                    status, score, late, missing, comment, delay = _draw_outcome(
                        rng, ability, item.points, recently_due
                    )
                    # Missing work counts as zero; exempt and not-yet-graded work not at all.
                    if counts_toward_grade and (missing or score is not None):
                        entry = tally.setdefault(index, [0.0, 0.0])
                        entry[0] += score or 0
                        entry[1] += item.points
                    counter += 1
                    yield [
                        "res-" + str(counter).zfill(8),
                        "active",
                        stamp,
                        item.sourced_id,
                        student_id,
                        status,
                        "" if score is None else str(score),
                        score_dates[delay],
                        comment,
                        "",
                        section.sourced_id,
                        "false",
                        "false",
                        "true" if late else "false",
                        "true" if missing else "false",
                    ]
        self._results_done = True

    def _roster(self, section: Section) -> list[tuple[int, str, float, dt.date]]:
        """(index, sourcedId, ability, last enrolled day) of each student of ``section``."""
        students = self._district.students
        return [
            (index, students[index].sourced_id, students[index].ability, section.last_day_of(index))
            for index in section.student_indexes
        ]

    def course_grade_rows(self) -> Iterator[Row]:
        """courseGrades.csv rows: the current grading period's mark of every current enrollment."""
        if not self._results_done:
            raise RuntimeError("course grades come from results: consume result_rows() first")
        today = self._district.calendar.today
        period_id = self._district.calendar.current_grading_period.sourced_id
        students = self._district.students
        counter = 0
        for section in self._district.sections:
            tally = self._tallies.get(section.sourced_id, {})
            for index in section.student_indexes:
                if section.last_day_of(index) < today:
                    continue
                percent = self._percent(tally.get(index), students[index].ability)
                counter += 1
                yield [
                    "cg-" + str(counter).zfill(7),
                    "active",
                    self._stamp,
                    section.sourced_id,
                    students[index].sourced_id,
                    period_id,
                    letter_grade(percent),
                    f"{percent:.1f}",
                ]

    def _percent(self, earned_and_possible: list[float] | None, ability: float) -> float:
        if earned_and_possible and earned_and_possible[1] > 0:
            earned, possible = earned_and_possible
            return round(100.0 * earned / possible, 1)
        # Nothing graded yet this period: the teacher's running estimate.
        return round(min(100.0, max(30.0, 100.0 * (ability + self._rng.gauss(0.0, 0.05)))), 1)


def _comment_for(fraction: float, pick: float) -> str:
    """A teacher's remark fitting the score; ``pick`` in [0, 1) chooses among the fitting ones."""
    for floor, comments in _COMMENTS_BY_BAND:
        if fraction >= floor:
            return comments[int(pick * len(comments))]
    return ""


def letter_grade(percent: float) -> str:
    """A/B/C/D/F on the usual 90/80/70/60 cut-offs."""
    for floor, letter in ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D")):
        if percent >= floor:
            return letter
    return "F"


_ABSENCE_KINDS: tuple[tuple[float, str], ...] = (
    (0.020, "excused"),
    (0.030, "tardy"),
    (0.005, "earlyDeparture"),
)


def attendance_rows(district: District, rng: random.Random, days: int, stamp: str) -> Iterator[Row]:
    """attendance.csv rows: one daily mark per student for the recent school days."""
    counter = 0
    for day in district.calendar.recent_school_days(days):
        date_text = day.isoformat()
        for student in district.students:
            counter += 1
            yield [
                "att-" + str(counter).zfill(8),
                "active",
                stamp,
                student.sourced_id,
                "",
                student.school.sourced_id,
                date_text,
                _attendance_status(rng.random(), student.absence_rate),
            ]


def _attendance_status(draw: float, absence_rate: float) -> str:
    if draw < absence_rate:
        return "absent"
    threshold = absence_rate
    for share, status in _ABSENCE_KINDS:
        threshold += share
        if draw < threshold:
            return status
    return "present"
