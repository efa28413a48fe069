"""Lenient readers for the values Clever's JSON carries, and its vocabularies
folded onto the unified model's.

Clever sends flags as ``"Y"``/``"N"``, a student's birth date as ``M/D/YYYY``
(other dates ISO), grades and races from fixed English lists, and ``""`` for
"not known". Every reader returns ``None`` (or ``()``) for a missing, empty
or unreadable value instead of failing the record, and never puts a value
into a message.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from hub.sdk import BadValue, parse_date

__all__ = [
    "GENDERS",
    "RACES",
    "date",
    "grade",
    "race",
    "sex",
    "strings",
    "text",
    "yes_no",
]

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

# Clever's grade list -> CEDS entry grade levels (what OneRoster and the schema use).
# Not the shared parse_grade: Clever's values are a closed English list (and
# "1".."13"), so anything else is a value Clever does not send and is unknown
# (None) rather than kept upper-cased; "0" is not a Clever grade at all.
_GRADES = {
    "infanttoddler": "IT",
    "preschool": "PR",
    "prekindergarten": "PK",
    "transitionalkindergarten": "TK",
    "kindergarten": "KG",
    "postgraduate": "PS",
    "ungraded": "UG",
    "other": "Other",
}

RACES = {
    "caucasian": "white",
    "asian": "asian",
    "blackorafricanamerican": "blackOrAfricanAmerican",
    "americanindian": "americanIndianOrAlaskaNative",
    "hawaiianorotherpacificislander": "nativeHawaiianOrOtherPacificIslander",
    "twoormoreraces": "demographicRaceTwoOrMoreRaces",
}
"""Clever's one ``race`` value (folded) -> the OneRoster demographics flag it sets."""

GENDERS = {"M": "male", "F": "female", "X": "other"}
"""Clever ``gender`` -> OneRoster 1.2 ``sex`` (X, non-binary, is OneRoster's ``other``)."""


def _fold(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def text(value: Any) -> str | None:
    """A non-empty string (a number, which some fields carry, as text)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def strings(value: Any) -> tuple[str, ...]:
    """An array of strings as a tuple without blanks or repeats (one string counts as a list)."""
    items = value if isinstance(value, list) else [value]
    return tuple(dict.fromkeys(found for item in items if (found := text(item))))


def yes_no(value: Any) -> bool | None:
    """Clever's ``"Y"``/``"N"`` (also yes/no, true/false, JSON booleans); ``""`` is unknown."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    folded = value.strip().lower()
    if folded in ("y", "yes", "true"):
        return True
    if folded in ("n", "no", "false"):
        return False
    return None


@lru_cache(maxsize=4096)
def _date(value: str) -> dt.date | None:
    if "/" in value:
        # Clever's one slash form is the month-first ``M/D/YYYY`` of ``dob``,
        # which the shared parser reads; ``YYYY/MM/DD`` is not Clever's.
        if _US_DATE.match(value) is None:
            return None
        text = value
    else:
        # ISO dates and timestamps (``2019-07-24T19:05:13.487Z``): the date
        # they are written with, from the first ten characters as always.
        text = value[:10]
    try:
        return parse_date(text)
    except BadValue:
        return None


def date(value: Any) -> dt.date | None:
    """``M/D/YYYY`` (a student's ``dob``), ``YYYY-MM-DD``, or the date of an ISO timestamp."""
    return _date(value.strip()) if isinstance(value, str) and value.strip() else None


@lru_cache(maxsize=64)
def _grade(value: str) -> str | None:
    named = _GRADES.get(_fold(value))
    if named is not None:
        return named
    if value.isdigit() and 1 <= int(value) <= 13:
        return f"{int(value):02d}"
    return None


def grade(value: Any) -> str | None:
    """A CEDS grade level: ``"Kindergarten"`` -> ``"KG"``, ``"1"`` -> ``"01"``; unknown -> ``None``."""
    found = text(value)
    return _grade(found) if found else None


def race(value: Any) -> tuple[str, ...] | None:
    """The OneRoster race flags Clever's one ``race`` value sets; ``Unknown``/``""`` -> ``None``."""
    found = text(value)
    flag = RACES.get(_fold(found)) if found else None
    return (flag,) if flag else None


def sex(value: Any) -> str | None:
    """``M``/``F``/``X`` -> ``male``/``female``/``other``; ``""`` -> ``None``."""
    found = text(value)
    return GENDERS.get(found.upper()) if found else None
