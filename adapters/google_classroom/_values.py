"""Google's JSON values read defensively: RFC 3339 timestamps, split due
dates, doubles and strings. Unreadable values become ``None``, never an error.

Google serialises protocol buffers as proto3 JSON: a field holding its
default (``0``, ``false``, ``""``, an empty list) is usually left out, so an
absent number inside a present object means zero and an absent boolean
means ``false``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hub.sdk import BadValue, parse_datetime

__all__ = ["END_OF_DAY", "due_datetime", "flag", "number", "text", "timestamp"]

END_OF_DAY = dt.time(23, 59, 59, tzinfo=dt.UTC)
"""The due time given to a ``dueDate`` without ``dueTime``.

Classroom's reference says the two come together, but items written by
other tools sometimes carry only the date, and the API documents no default.
The last second of that day (UTC, as ``dueDate`` itself is UTC) keeps the
due date on the calendar day the teacher chose; midnight of the next day
would show, and filter, as the following date.
"""


def text(value: Any) -> str | None:
    """A non-empty string with surrounding white space removed, else ``None``."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def number(value: Any) -> float | None:
    """A finite JSON number (or a numeric string: int64 values travel as strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float):
        result = float(value)
        return result if result == result and result not in (float("inf"), float("-inf")) else None
    return None


def flag(value: Any) -> bool:
    """A proto3 boolean: ``True`` only for JSON ``true`` (absent means ``false``)."""
    return value is True


def timestamp(value: Any) -> dt.datetime | None:
    """An RFC 3339 ``google-datetime`` (``2020-04-05T19:41:15.292Z``) as an aware UTC datetime.

    Google writes up to nine fractional digits; Python keeps six. A value
    without an offset is taken as UTC, which is what Google means by it.
    The shared ``parse_datetime`` reads it; two rules are Google's: a
    timestamp must carry a time (a bare date or a US ``M/D/YYYY``, which
    that parser would read as midnight, is not a timestamp), and RFC 3339
    allows a lower-case ``z``, which Python does not read.
    """
    raw = text(value)
    if raw is None or "T" not in raw.upper():
        return None
    try:
        return parse_datetime(raw.replace("z", "Z"))
    except BadValue:
        return None


def _int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, Mapping):
        return None
    year, month, day = _int(value, "year"), _int(value, "month"), _int(value, "day")
    # A zero part is a partial date (a year alone, a month and day...): no deadline.
    if not year or not month or not day:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _time(value: Any) -> tuple[dt.time, bool] | None:
    """(time of day, whether it is 24:00:00, i.e. the end of the day)."""
    if not isinstance(value, Mapping):
        return None
    hours, minutes = _int(value, "hours"), _int(value, "minutes")
    seconds, nanos = _int(value, "seconds"), _int(value, "nanos")
    if hours is None or minutes is None or seconds is None or nanos is None:
        return None
    if hours == 24 and minutes == seconds == nanos == 0:
        return dt.time(0, tzinfo=dt.UTC), True  # google.type.TimeOfDay allows 24:00:00
    if seconds == 60:
        seconds, nanos = 59, 999_999_999  # a leap second: the last instant Python can hold
    if not (0 <= hours <= 23 and 0 <= minutes <= 59 and 0 <= seconds <= 59 and 0 <= nanos <= 999_999_999):
        return None
    return dt.time(hours, minutes, seconds, nanos // 1000, tzinfo=dt.UTC), False


def due_datetime(due_date: Any, due_time: Any) -> dt.datetime | None:
    """``dueDate {year, month, day}`` + ``dueTime {hours, minutes, seconds, nanos}``
    (both UTC) as one aware UTC datetime.

    - No (or a partial or impossible) date: ``None``, whatever the time says.
    - A date without a time: :data:`END_OF_DAY` of that date.
    - A time present but empty (``{}``): midnight, as proto3 JSON omits zeros.
    - ``24:00:00``: midnight at the start of the next day.
    - A malformed time (``hours: 25``): ``None``; the deadline is not guessed.
    """
    day = _date(due_date)
    if day is None:
        return None
    if due_time is None:
        return dt.datetime.combine(day, END_OF_DAY)
    read = _time(due_time)
    if read is None:
        return None
    clock, next_day = read
    when = dt.datetime.combine(day, clock)
    return when + dt.timedelta(days=1) if next_day else when
