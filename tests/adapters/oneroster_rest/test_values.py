"""The JSON value readers, over the SDK's shared parsers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.oneroster_rest import _values as v

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), (" FALSE ", False), ("Y", True), ("0", False)],
)
def test_booleans_as_json_or_text(value: Any, expected: bool) -> None:
    assert v.boolean(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "  ", 1, None, []])
def test_unreadable_booleans_are_none(value: Any) -> None:
    assert v.boolean(value) is None


@pytest.mark.parametrize(
    ("value", "expected"), [("9", "09"), (9, "09"), ("K", "KG"), ("PreK", "PK"), ("tk", "TK"), ("", None)]
)
def test_grades_are_ceds(value: Any, expected: str | None) -> None:
    assert v.grade(value) == expected


def test_dates_and_times_are_iso() -> None:
    assert v.date(" 2023-09-01 ") == dt.date(2023, 9, 1)
    assert v.datetime("2023-09-01") == dt.datetime(2023, 9, 1, tzinfo=UTC)
    assert v.datetime("2023-09-01T10:00:00") == dt.datetime(2023, 9, 1, 10, tzinfo=UTC)
    assert v.datetime("2023-09-01T10:00:00+02:00") == dt.datetime(2023, 9, 1, 8, tzinfo=UTC)


def test_a_datetime_sent_for_a_date_gives_its_utc_date() -> None:
    assert v.date("2023-09-01T23:30:00-06:00") == dt.date(2023, 9, 2)


@pytest.mark.parametrize("value", ["9/1/2023", "2023/09/01", "2023-02-30", "soon", 20230901, None])
def test_slash_and_broken_dates_are_none(value: Any) -> None:
    assert v.date(value) is None
    assert v.datetime(value) is None
