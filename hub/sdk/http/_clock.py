"""The vendor's clock, as its answers tell it: what change feeds take a watermark from."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx

__all__ = ["provider_time"]


def provider_time(headers: httpx.Headers) -> dt.datetime | None:
    """The vendor's clock from an answer's ``Date`` header (``None`` without a
    readable one). With several (a proxy, or uvicorn over loopback, adding its
    own) the earliest: a watermark taken too early costs a change sent twice,
    one taken too late a change lost."""
    found: list[dt.datetime] = []
    for value in headers.get_list("date"):
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None:
            found.append(moment)
    return min(found, default=None)
