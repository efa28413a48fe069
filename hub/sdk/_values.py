"""Lenient parsers for the dates, booleans and grade levels vendors send.

Shared by every adapter that reads cells or JSON strings written by SIS and
LMS exports. Every parser takes a stripped, non-empty text and returns the
value or raises :class:`BadValue`, whose message says what was expected and
how to fix it, never the text itself (it may be personal data). Blank values
are the caller's business: they mean "no value".

Dates with the year last (``8/17/2020``) are read month first, the US
convention of the SIS vendors that export OneRoster. A first part above 12 is
refused rather than read day first: it shows the file is written day first,
where ``1/05/2023`` is just as likely the 1st of May, so such a file must not
pass quietly. Slash dates are a habit of spreadsheet-edited CSV exports: an
adapter reading a JSON API that writes ISO 8601 only passes
``slash_dates=False`` so that one is refused, not guessed.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

__all__ = [
    "BadValue",
    "enum_key",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_grade",
]


class BadValue(ValueError):
    """A value that cannot be read; the message says what was expected, never the value."""


_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


def enum_key(text: str) -> str:
    """Fold case, spaces, underscores and hyphens so ``Fully Graded`` == ``fullyGraded``."""
    return text.lower().replace(" ", "").replace("_", "").replace("-", "")


def parse_bool(text: str) -> bool:
    """``true``/``false`` in the spellings feeds use: T/F, 1/0, yes/no, Y/N, any case."""
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise BadValue("not a boolean (write true or false)")


# Feeds repeat the same few hundred dates thousands of times (results, attendance).
@lru_cache(maxsize=4096)
def parse_date(text: str, *, slash_dates: bool = True) -> dt.date:
    """``YYYY-MM-DD``, an ISO datetime or ``YYYY-MM-DD HH:MM:SS`` (the date as
    written, in its own offset), ``YYYY/MM/DD`` or US ``M/D/YYYY``.

    With ``slash_dates=False`` only the ISO 8601 forms are read.
    """
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if "T" in text or " " in text:
        return _parse_iso_datetime(text).date()
    if not slash_dates:
        raise BadValue("not an ISO 8601 date (write YYYY-MM-DD)")
    parts = text.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise BadValue("not a date (write YYYY-MM-DD)")
    first, second, third = (int(part) for part in parts)
    if len(parts[0]) != 4 and len(parts[2]) != 4:
        raise BadValue("not a date (two-digit years are ambiguous; write YYYY-MM-DD)")
    if len(parts[0]) != 4 and first > 12:
        raise BadValue(
            "not a date (written day first, D/M/YYYY: ambiguous with the M/D/YYYY Homeroom reads;"
            " write YYYY-MM-DD)"
        )
    try:
        return dt.date(first, second, third) if len(parts[0]) == 4 else dt.date(third, first, second)
    except ValueError:
        raise BadValue("not a date (no such day)") from None


def _parse_iso_datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadValue("not a date or datetime (write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)") from None


@lru_cache(maxsize=4096)
def parse_datetime(text: str, *, slash_dates: bool = True) -> dt.datetime:
    """A timezone-aware UTC datetime.

    Values with ``Z`` or an offset are converted to UTC; values without one
    (including date-only values, which become midnight) are taken as UTC, so
    every datetime an adapter returns can be compared with every other.
    ``slash_dates`` is :func:`parse_date`'s.
    """
    if len(text) <= 10:
        day = parse_date(text, slash_dates=slash_dates)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    value = _parse_iso_datetime(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


_GRADE_ALIASES = {
    enum_key(spelling): grade
    for spelling, grade in (
        ("K", "KG"),
        ("KG", "KG"),
        ("0", "KG"),
        ("00", "KG"),
        ("kindergarten", "KG"),
        ("PK", "PK"),
        ("PreK", "PK"),
        ("preKindergarten", "PK"),
    )
}


@lru_cache(maxsize=256)
def parse_grade(text: str) -> str:
    """A CEDS grade level: ``"9"`` -> ``"09"``, ``"K"``/``"0"`` -> ``"KG"``, ``"PreK"`` -> ``"PK"``.

    Other codes (``TK``, ``UG``, ``13``, ...) are kept, upper-cased.
    """
    alias = _GRADE_ALIASES.get(enum_key(text))
    if alias is not None:
        return alias
    if text.isdigit():
        return f"{int(text):02d}"
    return text.upper()
