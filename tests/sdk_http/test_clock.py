"""``provider_time``: the vendor's clock from an answer's ``Date`` header."""

from __future__ import annotations

import datetime as dt

import httpx

from hub.sdk.http import provider_time


def test_the_date_header_is_the_vendors_clock() -> None:
    headers = httpx.Headers({"Date": "Fri, 04 Dec 2026 08:01:10 GMT"})
    assert provider_time(headers) == dt.datetime(2026, 12, 4, 8, 1, 10, tzinfo=dt.UTC)


def test_of_several_dates_the_earliest_is_taken() -> None:
    # A proxy (or uvicorn over loopback) adds its own: too early repeats a change, too late loses one.
    headers = httpx.Headers(
        [("date", "Fri, 04 Dec 2026 08:01:12 GMT"), ("date", "Fri, 04 Dec 2026 08:01:10 GMT")]
    )
    assert provider_time(headers) == dt.datetime(2026, 12, 4, 8, 1, 10, tzinfo=dt.UTC)


def test_no_readable_date_is_none() -> None:
    assert provider_time(httpx.Headers()) is None
    assert provider_time(httpx.Headers({"Date": "yesterday"})) is None
    assert provider_time(httpx.Headers({"Date": "Fri, 04 Dec 2026 08:01:10"})) is None  # no zone
