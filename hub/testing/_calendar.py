"""The school calendar of the synthetic district: one school year around ``today``.

Rule (chosen so that every ``today`` falls inside the year, a semester and a
grading period, which the "current" logic of the hub needs):

* The school year starts in the calendar year of ``today`` when ``today`` is in
  July or later, otherwise in the previous calendar year; its ``schoolYear``
  label is the ending calendar year (2026-08-15 .. 2027-06-15 is "2027").
* It normally runs from August 15 to June 15. When ``today`` falls in the
  summer gap the year is stretched to contain it: it starts on July 1 when
  ``today`` is July 1 .. August 14, and ends on June 30 when ``today`` is
  June 16 .. 30 (as if the district ran a summer session).
* The fall semester runs from the first day of the year to January 15, the
  spring semester from January 16 to the last day, so the two tile the year
  and winter break lies inside the fall semester.
* Each semester is split in two grading periods at its midpoint.

School days are weekdays (Monday to Friday) inside the school year; holidays
are not modelled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["AcademicTerm", "SchoolCalendar", "build_calendar"]

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AcademicTerm:
    """One OneRoster academicSession: a school year, semester or grading period."""

    sourced_id: str
    title: str
    type: str  # schoolYear | semester | gradingPeriod
    start: dt.date
    end: dt.date
    parent_id: str
    school_year: str

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` lies within the term, both ends included."""
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class SchoolCalendar:
    """The school year containing ``today``, its semesters and grading periods."""

    today: dt.date
    year: AcademicTerm
    semesters: tuple[AcademicTerm, AcademicTerm]
    grading_periods: tuple[AcademicTerm, AcademicTerm, AcademicTerm, AcademicTerm]

    @property
    def terms(self) -> tuple[AcademicTerm, ...]:
        """Every session, parents before children (the order of academicSessions.csv)."""
        return (self.year, *self.semesters, *self.grading_periods)

    @property
    def current_semester(self) -> AcademicTerm:
        """The semester containing ``today``."""
        return self.semester_on(self.today)

    @property
    def current_grading_period(self) -> AcademicTerm:
        """The grading period containing ``today``."""
        return self.grading_period_on(self.today)

    def semester_on(self, day: dt.date) -> AcademicTerm:
        """The semester containing ``day``; days outside the year map to the nearest."""
        return self.semesters[0] if day <= self.semesters[0].end else self.semesters[1]

    def grading_period_on(self, day: dt.date) -> AcademicTerm:
        """The grading period containing ``day``; days outside the year map to the nearest."""
        for period in self.grading_periods[:-1]:
            if day <= period.end:
                return period
        return self.grading_periods[-1]

    def recent_school_days(self, count: int) -> list[dt.date]:
        """The last ``count`` school days up to and including ``today``, oldest first.

        Fewer when the year started less than ``count`` school days ago.
        """
        days: list[dt.date] = []
        day = self.today
        while len(days) < count and day >= self.year.start:
            if day.weekday() < 5:
                days.append(day)
            day -= _ONE_DAY
        days.reverse()
        return days


def build_calendar(today: dt.date) -> SchoolCalendar:
    """The calendar of the school year containing ``today`` (see the module rule)."""
    start_year = today.year if today.month >= 7 else today.year - 1
    end_year = start_year + 1
    first_day = dt.date(start_year, 8, 15)
    if today < first_day:
        first_day = dt.date(start_year, 7, 1)
    last_day = dt.date(end_year, 6, 15)
    if today > last_day:
        last_day = dt.date(end_year, 6, 30)
    label = str(end_year)
    span = f"{start_year}-{end_year}"
    year_id = f"sy{label}"

    year = AcademicTerm(year_id, f"{span} School Year", "schoolYear", first_day, last_day, "", label)
    fall_end = dt.date(end_year, 1, 15)
    fall = AcademicTerm(
        f"{year_id}-fall", f"Fall Semester {span}", "semester", first_day, fall_end, year_id, label
    )
    spring = AcademicTerm(
        f"{year_id}-spring",
        f"Spring Semester {span}",
        "semester",
        fall_end + _ONE_DAY,
        last_day,
        year_id,
        label,
    )
    q1, q2 = _halves(fall, first_number=1)
    q3, q4 = _halves(spring, first_number=3)
    return SchoolCalendar(today=today, year=year, semesters=(fall, spring), grading_periods=(q1, q2, q3, q4))


def _halves(semester: AcademicTerm, first_number: int) -> tuple[AcademicTerm, AcademicTerm]:
    """Two grading periods splitting ``semester`` at its midpoint."""
    middle = semester.start + dt.timedelta(days=(semester.end - semester.start).days // 2)
    span = semester.title.rsplit(" ", 1)[-1]
    first, second = first_number, first_number + 1
    year_id = semester.parent_id
    return (
        AcademicTerm(
            f"{year_id}-q{first}",
            f"Quarter {first} {span}",
            "gradingPeriod",
            semester.start,
            middle,
            semester.sourced_id,
            semester.school_year,
        ),
        AcademicTerm(
            f"{year_id}-q{second}",
            f"Quarter {second} {span}",
            "gradingPeriod",
            middle + _ONE_DAY,
            semester.end,
            semester.sourced_id,
            semester.school_year,
        ),
    )
