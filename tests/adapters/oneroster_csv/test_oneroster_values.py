"""The lenient cell parsers."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.oneroster_csv._values import (
    ATTENDANCE_STATUSES,
    ROLES,
    SCORE_STATUSES,
    SESSION_TYPES,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_float,
    parse_grade,
    split_multi,
)

UTC = dt.UTC


@pytest.mark.parametrize("text", ["true", "TRUE", "True", "T", "t", "1", "yes", "YES", "y", "Y"])
def test_true_spellings(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["false", "FALSE", "F", "0", "no", "No", "n", "N"])
def test_false_spellings(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["maybe", "2", "ja", "tru"])
def test_not_booleans(text: str) -> None:
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-08-17", dt.date(2020, 8, 17)),
        ("2020-08-17T00:00:00Z", dt.date(2020, 8, 17)),
        ("2020-08-17 13:45:00", dt.date(2020, 8, 17)),
        ("2020/08/17", dt.date(2020, 8, 17)),
        ("8/17/2020", dt.date(2020, 8, 17)),
        ("08/07/2020", dt.date(2020, 8, 7)),  # year last: month first (US)
        ("1/4/2021", dt.date(2021, 1, 4)),
    ],
)
def test_dates(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["31/07/1997", "2020-13-45", "17.08.2020", "8/17/20", "yesterday", "2/30/2020"]
)
def test_not_dates(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(text)


def test_not_a_date_message_holds_no_value() -> None:
    with pytest.raises(ValueError) as caught:
        parse_date("31/07/1997")
    assert "1997" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-09-08T23:59:00Z", dt.datetime(2024, 9, 8, 23, 59, tzinfo=UTC)),
        ("2024-09-08T23:59:00-05:00", dt.datetime(2024, 9, 9, 4, 59, tzinfo=UTC)),
        ("2024-09-08T23:59:00.250+02:00", dt.datetime(2024, 9, 8, 21, 59, 0, 250000, tzinfo=UTC)),
        ("2024-09-08T23:59:00", dt.datetime(2024, 9, 8, 23, 59, tzinfo=UTC)),
        ("2024-09-08", dt.datetime(2024, 9, 8, tzinfo=UTC)),
        ("9/8/2024", dt.datetime(2024, 9, 8, tzinfo=UTC)),
    ],
)
def test_datetimes_are_utc(text: str, expected: dt.datetime) -> None:
    value = parse_datetime(text)
    assert value == expected
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (SCORE_STATUSES, "fully graded", "FULLY_GRADED"),
        (SCORE_STATUSES, "fullyGraded", "FULLY_GRADED"),
        (SCORE_STATUSES, "FULLY_GRADED", "FULLY_GRADED"),
        (SCORE_STATUSES, "Not Submitted", "NOT_SUBMITTED"),
        (ATTENDANCE_STATUSES, "earlyDeparture", "EARLY_DEPARTURE"),
        (ATTENDANCE_STATUSES, "early-departure", "EARLY_DEPARTURE"),
        (ROLES, "STUDENT", "student"),
        (ROLES, "districtadministrator", "districtAdministrator"),
        (SESSION_TYPES, "Grading Period", "gradingPeriod"),
        (SESSION_TYPES, "SCHOOLYEAR", "schoolYear"),
    ],
)
def test_enums_ignore_case_and_spacing(parser: object, text: str, expected: str) -> None:
    assert callable(parser)
    assert parser(text) == expected
    assert parser(text) == expected  # remembered spelling


def test_unknown_enum_value() -> None:
    with pytest.raises(ValueError, match="not one of the known values"):
        ROLES("janitor")


GRADES = {"9": "09", "09": "09", "12": "12", "K": "KG", "kg": "KG", "0": "KG", "00": "KG"}
GRADES |= {"PK": "PK", "PreK": "PK", "pre-k": "PK", "TK": "TK", "ug": "UG"}


@pytest.mark.parametrize(("text", "expected"), GRADES.items())
def test_grades(text: str, expected: str) -> None:
    assert parse_grade(text) == expected


def test_multi_value_cells() -> None:
    assert split_multi("a,b") == ("a", "b")
    assert split_multi(" a , ,b ") == ("a", "b")
    assert split_multi("a") == ("a",)
    assert split_multi("") == ()


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "ten"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_float(text)


def test_float_message_holds_no_value() -> None:
    with pytest.raises(ValueError) as caught:
        parse_float("91,5%")
    assert "91" not in str(caught.value)
