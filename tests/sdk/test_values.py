"""The SDK's shared value parsers: the ISO-only mode JSON adapters use.

The parsers' CSV readings (every spelling, the day-first refusal, ...) are
proved by the ``oneroster-csv`` tests that use them; these prove what the
``slash_dates`` switch adds and what it leaves alone.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hub.sdk import BadValue, parse_date, parse_datetime

UTC = dt.UTC


@pytest.mark.parametrize("text", ["9/1/2023", "09/01/2023", "2023/09/01"])
def test_slash_dates_are_read_by_default(text: str) -> None:
    assert parse_date(text) == dt.date(2023, 9, 1)
    assert parse_datetime(text) == dt.datetime(2023, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["9/1/2023", "09/01/2023", "2023/09/01", "9/1/2023 10:00"])
def test_slash_dates_are_refused_when_iso_only(text: str) -> None:
    with pytest.raises(BadValue) as raised:
        parse_date(text, slash_dates=False)
    assert text not in str(raised.value)
    with pytest.raises(BadValue):
        parse_datetime(text, slash_dates=False)


@pytest.mark.parametrize(
    ("text", "day", "moment"),
    [
        ("2023-09-01", dt.date(2023, 9, 1), dt.datetime(2023, 9, 1, tzinfo=UTC)),
        ("20230901", dt.date(2023, 9, 1), dt.datetime(2023, 9, 1, tzinfo=UTC)),
        # The date as written; the datetime converted to UTC.
        (
            "2023-09-01T23:30:00-06:00",
            dt.date(2023, 9, 1),
            dt.datetime(2023, 9, 2, 5, 30, tzinfo=UTC),
        ),
        ("2023-09-01T10:00:00", dt.date(2023, 9, 1), dt.datetime(2023, 9, 1, 10, tzinfo=UTC)),
        (
            "2020-04-05T19:41:15.292123456Z",
            dt.date(2020, 4, 5),
            dt.datetime(2020, 4, 5, 19, 41, 15, 292123, tzinfo=UTC),
        ),
    ],
)
def test_iso_values_read_the_same_either_way(text: str, day: dt.date, moment: dt.datetime) -> None:
    assert parse_date(text) == parse_date(text, slash_dates=False) == day
    assert parse_datetime(text) == parse_datetime(text, slash_dates=False) == moment


def test_iso_only_still_refuses_what_is_not_a_date() -> None:
    for text in ("2023-02-30", "soon", "2023-09-01T25:00"):
        with pytest.raises(BadValue):
            parse_date(text, slash_dates=False)
