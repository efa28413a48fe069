"""Lenient parsers for the cell values real OneRoster feeds send.

Every parser takes a stripped, non-empty cell and returns the value or raises
:class:`BadValue`, whose message never repeats the cell (it may be personal
data). Blank cells are the caller's business: they mean "no value".

Dates with the year last (``8/17/2020``) are read month first, the US
convention of the SIS vendors that export OneRoster. A first part above 12 is
refused rather than read day first, so a day-first file does not pass quietly:
its dates after the 12th of a month are reported.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

__all__ = [
    "ATTENDANCE_STATUSES",
    "CLASS_TYPES",
    "ENROLLMENT_ROLES",
    "ORG_TYPES",
    "ROLES",
    "ROLE_TYPES",
    "SCORE_STATUSES",
    "SESSION_TYPES",
    "SEXES",
    "BadValue",
    "EnumParser",
    "enum_key",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_float",
    "parse_grade",
    "split_multi",
]


class BadValue(ValueError):
    """A cell that cannot be read; the message says what was expected, never the cell."""


_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


def enum_key(text: str) -> str:
    """Fold case, spaces, underscores and hyphens so ``Fully Graded`` == ``fullyGraded``."""
    return text.lower().replace(" ", "").replace("_", "").replace("-", "")


class EnumParser:
    """Reads one OneRoster enum in any case and spacing: ``Fully Graded`` == ``fullyGraded``.

    :meth:`parse` returns the canonical value or raises :class:`BadValue`.
    Spellings already seen are remembered, since a file repeats the same few
    thousands of times. The module's enums are these bound ``parse`` methods:
    a bound method is cheaper to call per cell than an instance's ``__call__``.
    """

    _MEMORY = 256

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.values = {enum_key(spelling): value for spelling, value in pairs}
        self._seen: dict[str, str] = {}

    @classmethod
    def same(cls, *values: str) -> EnumParser:
        """An enum whose canonical values are their own spellings."""
        return cls(*((value, value) for value in values))

    def parse(self, text: str) -> str:
        """The canonical value of ``text``."""
        value = self._seen.get(text)
        if value is not None:
            return value
        value = self.values.get(enum_key(text))
        if value is None:
            raise BadValue("not one of the known values")
        if len(self._seen) < self._MEMORY:
            self._seen[text] = value
        return value


ORG_TYPES = EnumParser.same("district", "school", "department", "state", "local", "national").parse

SESSION_TYPES = EnumParser(
    *(("schoolYear", "schoolYear"), ("semester", "semester"), ("term", "term")),
    *(("gradingPeriod", "gradingPeriod"), ("year", "schoolYear"), ("markingPeriod", "gradingPeriod")),
).parse

CLASS_TYPES = EnumParser.same("homeroom", "scheduled").parse

ENROLLMENT_ROLES = EnumParser.same("student", "teacher", "aide", "administrator", "proctor").parse

# Spelled as in the OneRoster spec; 1.1's ``administrator`` is kept as is.
ROLES = EnumParser.same(
    "student",
    "teacher",
    "aide",
    "administrator",
    "principal",
    "counselor",
    "districtAdministrator",
    "siteAdministrator",
    "systemAdministrator",
    "proctor",
    "guardian",
    "parent",
    "relative",
).parse

ROLE_TYPES = EnumParser.same("primary", "secondary").parse

SEXES = EnumParser.same("male", "female", "unspecified", "other").parse

SCORE_STATUSES = EnumParser(
    ("notSubmitted", "NOT_SUBMITTED"),
    ("submitted", "SUBMITTED"),
    ("partiallyGraded", "PARTIALLY_GRADED"),
    ("fullyGraded", "FULLY_GRADED"),
    ("exempt", "EXEMPT"),
).parse

ATTENDANCE_STATUSES = EnumParser(
    ("present", "PRESENT"),
    ("absent", "ABSENT"),
    ("tardy", "TARDY"),
    ("excused", "EXCUSED"),
    ("earlyDeparture", "EARLY_DEPARTURE"),
).parse

_GRADE_ALIASES = EnumParser(
    ("K", "KG"),
    ("KG", "KG"),
    ("0", "KG"),
    ("00", "KG"),
    ("kindergarten", "KG"),
    ("PK", "PK"),
    ("PreK", "PK"),
    ("preKindergarten", "PK"),
)


def parse_bool(text: str) -> bool:
    """``true``/``false`` in the spellings feeds use: T/F, 1/0, yes/no, Y/N, any case."""
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise BadValue("not a boolean")


def parse_float(text: str) -> float:
    """A number; :class:`BadValue` for anything else, including nan and infinity."""
    try:
        value = float(text)
    except ValueError:
        raise BadValue("not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadValue("not a finite number")
    return value


# Feeds repeat the same few hundred dates thousands of times (results, attendance).
@lru_cache(maxsize=4096)
def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD``, an ISO datetime (its date), ``YYYY/MM/DD`` or US ``M/D/YYYY``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if "T" in text or " " in text:
        return _parse_iso_datetime(text).date()
    parts = text.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise BadValue("not a date")
    first, second, third = (int(part) for part in parts)
    if len(parts[0]) != 4 and len(parts[2]) != 4:
        raise BadValue("not a date (two-digit years are ambiguous)")
    if len(parts[0]) != 4 and first > 12:
        raise BadValue("not a date (year-last dates are read month/day/year)")
    try:
        return dt.date(first, second, third) if len(parts[0]) == 4 else dt.date(third, first, second)
    except ValueError:
        raise BadValue("not a date (no such day)") from None


def _parse_iso_datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadValue("not a date or datetime") from None


@lru_cache(maxsize=4096)
def parse_datetime(text: str) -> dt.datetime:
    """A timezone-aware UTC datetime.

    Values with ``Z`` or an offset are converted to UTC; values without one
    (including date-only values, which become midnight) are taken as UTC, so
    every datetime the adapter returns can be compared with every other.
    """
    if len(text) <= 10:
        day = parse_date(text)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    value = _parse_iso_datetime(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def split_multi(text: str) -> tuple[str, ...]:
    """Items of a multi-valued cell (``"a,b"``), stripped, blanks dropped."""
    if "," not in text:
        return (text,) if text else ()
    return tuple(item for item in (part.strip() for part in text.split(",")) if item)


@lru_cache(maxsize=256)
def parse_grade(text: str) -> str:
    """A CEDS grade level: ``"9"`` -> ``"09"``, ``"K"``/``"0"`` -> ``"KG"``, ``"PreK"`` -> ``"PK"``.

    Other codes (``TK``, ``UG``, ``13``, ...) are kept, upper-cased.
    """
    alias = _GRADE_ALIASES.values.get(enum_key(text))
    if alias is not None:
        return alias
    if text.isdigit():
        return f"{int(text):02d}"
    return text.upper()
