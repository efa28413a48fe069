"""Google's JSON values: due dates split in two, RFC 3339 timestamps, numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.google_classroom._values import END_OF_DAY, due_datetime, flag, number, text, timestamp

UTC = dt.UTC
DAY = {"year": 2026, "month": 11, "day": 18}


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due_time", "expected"),
    [
        ({"hours": 23, "minutes": 59}, at(2026, 11, 18, 23, 59)),
        (
            {"hours": 14, "minutes": 30, "seconds": 15, "nanos": 250_000_999},
            at(2026, 11, 18, 14, 30, 15, 250_000),
        ),
        ({}, at(2026, 11, 18)),  # proto3 JSON leaves zeros out: {} is midnight
        ({"minutes": 5}, at(2026, 11, 18, 0, 5)),
        ({"hours": 24}, at(2026, 11, 19)),  # 24:00:00 is the end of the day
        ({"hours": 23, "minutes": 59, "seconds": 60}, at(2026, 11, 18, 23, 59, 59, 999_999)),  # leap second
        (None, at(2026, 11, 18, 23, 59, 59)),  # no time: the last second of the day
    ],
)
def test_a_due_date_and_time_make_one_utc_datetime(due_time: Any, expected: dt.datetime) -> None:
    got = due_datetime(DAY, due_time)
    assert got == expected
    assert got is not None and got.utcoffset() == dt.timedelta(0)


def test_a_date_without_time_is_due_at_the_end_of_that_utc_day() -> None:
    got = due_datetime({"year": 2027, "month": 2, "day": 28}, None)
    assert got == dt.datetime.combine(dt.date(2027, 2, 28), END_OF_DAY)
    assert got is not None and got.date() == dt.date(2027, 2, 28)


@pytest.mark.parametrize(
    ("due_date", "due_time"),
    [
        (None, {"hours": 9}),  # a time alone is no deadline
        ({"year": 2026, "month": 11}, None),  # a partial date (day 0)
        ({"month": 11, "day": 18}, None),  # no year (an anniversary)
        ({"year": 2026, "month": 2, "day": 30}, None),  # no such day
        ({"year": "2026", "month": 11, "day": 18}, None),  # not numbers
        (DAY, {"hours": 25}),
        (DAY, {"hours": 24, "minutes": 1}),
        (DAY, {"minutes": -1}),
        (DAY, {"hours": True}),
        (DAY, "23:59"),
        ("2026-11-18", None),
    ],
)
def test_unreadable_due_dates_are_none(due_date: Any, due_time: Any) -> None:
    assert due_datetime(due_date, due_time) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-04-05T19:41:15.292Z", at(2020, 4, 5, 19, 41, 15, 292_000)),
        ("2020-04-05T19:41:15.292123456Z", at(2020, 4, 5, 19, 41, 15, 292_123)),
        ("2020-04-05T19:41:15Z", at(2020, 4, 5, 19, 41, 15)),
        ("2020-04-05T21:41:15+02:00", at(2020, 4, 5, 19, 41, 15)),
        ("2020-04-05T19:41:15", at(2020, 4, 5, 19, 41, 15)),
        ("2020-04-05t19:41:15.292z", at(2020, 4, 5, 19, 41, 15, 292_000)),
        ("2020-04-05", None),
        ("4/5/2020", None),
        ("4/5/2020T19:41:15Z", None),
        ("yesterday", None),
        (1586115675, None),
        (None, None),
    ],
)
def test_timestamps_are_aware_utc(raw: Any, expected: dt.datetime | None) -> None:
    assert timestamp(raw) == expected


def test_numbers_flags_and_text() -> None:
    assert number(12) == 12.0 and number(12.5) == 12.5 and number("7") == 7.0
    assert number(True) is None and number("x") is None and number(float("nan")) is None
    assert flag(True) is True and flag(None) is False and flag("true") is False
    assert text("  a ") == "a" and text("  ") is None and text(3) is None
