"""Lenient readers for the values Canvas JSON carries.

Canvas sends ids as JSON numbers (as strings when a client asks for
``application/json+canvas-string-ids``), times as ISO 8601 with an offset,
and leaves out what the token may not see. Every reader returns ``None``
for a missing or unreadable value instead of failing the record, and none
ever puts a value into a message. Dates and times are read by the SDK's
shared parsers (``hub.sdk._values``), limited to ISO 8601 (``slash_dates=False``):
Canvas writes nothing else, so a ``M/D/YYYY`` is not a Canvas value and is
left unread rather than guessed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.sdk import BadValue, parse_date, parse_datetime

__all__ = ["boolean", "date", "datetime", "ident", "number", "text"]


def text(value: Any) -> str | None:
    """A non-empty, stripped string."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def ident(value: Any) -> str | None:
    """A Canvas id as text: ``123`` and ``"123"`` alike (also sharded ``"1~23"``).

    Ids become parts of composite vendor ids joined by ``.``, so an id holding
    a dot (or a slash, which would change a request path) is not accepted.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    found = text(value)
    if found is None or "." in found or "/" in found:
        return None
    return found


def number(value: Any) -> float | None:
    """A finite number (Canvas sends scores as numbers, sometimes as numeric strings)."""
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


def boolean(value: Any) -> bool | None:
    """A JSON boolean (Canvas sends real booleans; anything else is unknown).

    Not the shared ``parse_bool``: Canvas never writes a flag as text, so a
    string here (``"yes"``) is not a Canvas value and is not guessed.
    """
    return value if isinstance(value, bool) else None


def _stripped(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def datetime(value: Any) -> dt.datetime | None:
    """A UTC datetime from ISO 8601 (``2012-07-01T23:59:00-06:00``); a naive time is UTC."""
    found = _stripped(value)
    if found is None:
        return None
    try:
        return parse_datetime(found, slash_dates=False)
    except BadValue:
        return None


def date(value: Any) -> dt.date | None:
    """The calendar date a Canvas time names, in the offset it was written with.

    ``2012-09-01T23:59:59-06:00`` is 1 September: converting to UTC first
    would move the end of a term to the next day (``parse_date`` keeps the
    written date).
    """
    found = _stripped(value)
    if found is None:
        return None
    try:
        return parse_date(found, slash_dates=False)
    except BadValue:
        return None
