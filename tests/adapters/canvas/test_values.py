"""Canvas's JSON value readers, over the SDK's shared parsers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.canvas import _values as v

UTC = dt.UTC


def test_times_are_utc_and_dates_are_as_written() -> None:
    end = "2012-09-01T23:59:59-06:00"
    assert v.datetime(end) == dt.datetime(2012, 9, 2, 5, 59, 59, tzinfo=UTC)
    assert v.date(end) == dt.date(2012, 9, 1)
    assert v.datetime("2012-07-01T23:59:00Z") == dt.datetime(2012, 7, 1, 23, 59, tzinfo=UTC)
    assert v.datetime(" 2012-07-01 ") == dt.datetime(2012, 7, 1, tzinfo=UTC)
    assert v.date("2012-07-01") == dt.date(2012, 7, 1)


@pytest.mark.parametrize("value", ["7/1/2012", "2012/07/01", "2012-02-30", "", None, 20120701])
def test_slash_and_broken_times_are_none(value: Any) -> None:
    assert v.datetime(value) is None
    assert v.date(value) is None


@pytest.mark.parametrize("value", ["true", "yes", 1, None])
def test_only_json_booleans_are_booleans(value: Any) -> None:
    assert v.boolean(value) is None
    assert v.boolean(True) is True
