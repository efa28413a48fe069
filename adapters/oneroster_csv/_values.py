"""Lenient parsers for the OneRoster enums, numbers and multi-valued cells.

Every parser takes a stripped, non-empty cell and returns the value or raises
:class:`BadValue`, whose message never repeats the cell (it may be personal
data). Blank cells are the caller's business: they mean "no value". Dates,
booleans and grade levels are the SDK's (``hub.sdk._values``), shared with the
other adapters, and re-exported here for this adapter's modules.
"""

from __future__ import annotations

from hub.sdk import BadValue, enum_key, parse_bool, parse_date, parse_datetime, parse_grade

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


def parse_float(text: str) -> float:
    """A number; :class:`BadValue` for anything else, including nan and infinity."""
    try:
        value = float(text)
    except ValueError:
        raise BadValue("not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadValue("not a finite number")
    return value


def split_multi(text: str) -> tuple[str, ...]:
    """Items of a multi-valued cell (``"a,b"``), stripped, blanks dropped."""
    if "," not in text:
        return (text,) if text else ()
    return tuple(item for item in (part.strip() for part in text.split(",")) if item)
