"""Lenient readers for the values OneRoster JSON carries.

Real providers differ: booleans come as the strings the spec asks for
(``"true"``) or as JSON booleans, references as GUIDRef objects or bare ids,
multi-valued fields as arrays or comma-separated strings, enums in any case
and spacing. Every reader returns ``None`` (or ``()``) for a missing or
unreadable value instead of failing the record; none of them ever puts the
value into a message.

Booleans, grade levels, enum folding and datetimes are read by the SDK's
shared parsers (``hub.sdk._values``), the ones the ``oneroster-csv`` adapter
uses, so both adapters give the same records for the same district. Two
date rules stay this adapter's own: only ISO 8601 is read
(``slash_dates=False``: OneRoster JSON carries nothing else, so a ``M/D/YYYY``
is a provider fault, left unread rather than guessed), and a datetime sent
for a date gives its UTC date (:func:`date`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from hub.sdk import BadValue, enum_key, parse_bool, parse_datetime, parse_grade

__all__ = [
    "ATTENDANCE_STATUSES",
    "CLASS_TYPES",
    "ENROLLMENT_ROLES",
    "ORG_TYPES",
    "ROLES",
    "SCORE_STATUSES",
    "SESSION_TYPES",
    "SEXES",
    "Enum",
    "boolean",
    "date",
    "datetime",
    "grade",
    "number",
    "ref",
    "refs",
    "strings",
    "text",
]


class Enum:
    """One OneRoster vocabulary read in any case and spacing (``Fully Graded`` == ``fullyGraded``)."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self._values = {enum_key(spelling): value for spelling, value in pairs}

    @classmethod
    def same(cls, *values: str) -> Enum:
        """A vocabulary whose canonical values are their own spellings."""
        return cls(*((value, value) for value in values))

    def __call__(self, value: Any) -> str | None:
        """The canonical value, or ``None`` when missing or unknown."""
        return self._values.get(enum_key(value)) if isinstance(value, str) else None


ORG_TYPES = Enum.same("district", "school", "department", "state", "local", "national")
SESSION_TYPES = Enum(
    *(("schoolYear", "schoolYear"), ("semester", "semester"), ("term", "term")),
    *(("gradingPeriod", "gradingPeriod"), ("year", "schoolYear"), ("markingPeriod", "gradingPeriod")),
)
CLASS_TYPES = Enum.same("homeroom", "scheduled")
ENROLLMENT_ROLES = Enum.same("student", "teacher", "aide", "administrator", "proctor")
ROLES = Enum.same(
    *("student", "teacher", "aide", "administrator", "principal", "counselor", "districtAdministrator"),
    *("siteAdministrator", "systemAdministrator", "proctor", "guardian", "parent", "relative"),
)
SEXES = Enum.same("male", "female", "unspecified", "other")
SCORE_STATUSES = Enum(
    ("notSubmitted", "NOT_SUBMITTED"),
    ("submitted", "SUBMITTED"),
    ("partiallyGraded", "PARTIALLY_GRADED"),
    ("fullyGraded", "FULLY_GRADED"),
    ("exempt", "EXEMPT"),
)
ATTENDANCE_STATUSES = Enum(
    ("present", "PRESENT"),
    ("absent", "ABSENT"),
    ("tardy", "TARDY"),
    ("excused", "EXCUSED"),
    ("earlyDeparture", "EARLY_DEPARTURE"),
)


def text(value: Any) -> str | None:
    """A non-empty string (numbers, which some providers send for ids, as text)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def boolean(value: Any) -> bool | None:
    """``"true"``/``"false"`` as the spec says, JSON booleans, or T/F, 1/0, yes/no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return parse_bool(value.strip())
        except BadValue:
            return None
    return None


def number(value: Any) -> float | None:
    """A finite number, from a JSON number or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if result == result and result not in (float("inf"), float("-inf")) else None


@lru_cache(maxsize=4096)
def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    # A datetime sent for a date gives its UTC date (the shared parse_date keeps
    # the date as written): this adapter's rule from the start, kept so that
    # the records it gives do not change.
    found = _datetime(value)
    return found.date() if found is not None else None


def _datetime(value: str) -> dt.datetime | None:
    try:
        return parse_datetime(value, slash_dates=False)
    except BadValue:
        return None


def date(value: Any) -> dt.date | None:
    """An ISO date (a datetime gives its UTC date)."""
    return _date(value.strip()) if isinstance(value, str) and value.strip() else None


def datetime(value: Any) -> dt.datetime | None:
    """A UTC datetime; a date alone is midnight UTC, a naive time is taken as UTC."""
    return _datetime(value.strip()) if isinstance(value, str) and value.strip() else None


def strings(value: Any) -> tuple[str, ...]:
    """An array of strings, or one comma-separated string, as a tuple without blanks."""
    if isinstance(value, list):
        items = [text(item) for item in value]
        return tuple(item for item in items if item)
    single = text(value)
    if single is None:
        return ()
    return tuple(part.strip() for part in single.split(",") if part.strip())


def ref(value: Any) -> str | None:
    """The ``sourcedId`` of a GUIDRef, or a bare id some providers send instead."""
    if isinstance(value, Mapping):
        return text(value.get("sourcedId"))
    return text(value)


def refs(value: Any) -> tuple[str, ...]:
    """The ``sourcedId`` of each GUIDRef of a list (one reference counts as a list)."""
    items = value if isinstance(value, list) else [value]
    found = (ref(item) for item in items)
    return tuple(dict.fromkeys(item for item in found if item))


def grade(value: Any) -> str | None:
    """A CEDS grade level: ``"9"`` -> ``"09"``, ``"K"`` -> ``"KG"``, ``"PreK"`` -> ``"PK"``."""
    found = text(value)
    return parse_grade(found) if found else None
