"""Lenient readers for the values Canvas JSON carries.

Canvas sends ids as JSON numbers (as strings when a client asks for
``application/json+canvas-string-ids``), times as ISO 8601 with an offset,
and leaves out what the token may not see. Every reader returns ``None``
for a missing or unreadable value instead of failing the record, and none
ever puts a value into a message.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

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
    """A JSON boolean (Canvas sends real booleans; anything else is unknown)."""
    return value if isinstance(value, bool) else None


@lru_cache(maxsize=4096)
def _parse(value: str) -> dt.datetime | None:
    try:
        found = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return found.replace(tzinfo=dt.UTC) if found.tzinfo is None else found


def datetime(value: Any) -> dt.datetime | None:
    """A UTC datetime from ISO 8601 (``2012-07-01T23:59:00-06:00``); a naive time is UTC."""
    found = _parse(value.strip()) if isinstance(value, str) and value.strip() else None
    return found.astimezone(dt.UTC) if found is not None else None


def date(value: Any) -> dt.date | None:
    """The calendar date a Canvas time names, in the offset it was written with.

    ``2012-09-01T23:59:59-06:00`` is 1 September: converting to UTC first
    would move the end of a term to the next day.
    """
    found = _parse(value.strip()) if isinstance(value, str) and value.strip() else None
    return found.date() if found is not None else None
