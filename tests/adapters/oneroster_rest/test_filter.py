"""filter= expressions: built so that no value can change their meaning, and parsed back."""

from __future__ import annotations

import httpx
import pytest

from adapters.oneroster_rest._filter import (
    Filter,
    FilterSyntaxError,
    Predicate,
    all_of,
    any_of,
    encoded_length,
    or_chunks,
    parse_filter,
    predicate,
    quote,
)

HOSTILE = [
    "'",
    "''",
    "x' OR sourcedId!='",
    "') OR ('1'='1",
    "a' AND role='teacher",
    "stu-1' OR givenName~'",
    " OR ",
    "\\' OR 1=1 --",
    "%27 OR %27%27=%27",
    "line\nbreak",
    "tab\there",
    "\u00fcn\u00efc\u00f6d\u00e9 \u2018quotes\u2019",
    "",
    "'" * 7,
]


def test_quotes_are_doubled_inside_single_quotes() -> None:
    assert quote("O'Brien") == "'O''Brien'"
    assert predicate("familyName", "=", "O'Brien") == "familyName='O''Brien'"
    assert any_of("sourcedId", ["a", "b"]) == "sourcedId='a' OR sourcedId='b'"
    assert all_of(["date>='2026-01-01'", "date<='2026-01-31'"]) == "date>='2026-01-01' AND date<='2026-01-31'"


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_stays_one_value(value: str) -> None:
    expression = any_of("sourcedId", [value, "safe"])
    assert parse_filter(expression) == Filter(
        (Predicate("sourcedId", "=", value), Predicate("sourcedId", "=", "safe")), "OR"
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_matches_only_itself(value: str) -> None:
    parsed = parse_filter(predicate("sourcedId", "=", value))
    assert parsed.matches({"sourcedId": value})
    for other in ("safe", "", "x", "stu-1", "1"):
        if other != value:
            assert not parsed.matches({"sourcedId": other})


def test_field_names_and_operators_are_checked() -> None:
    for bad in ("role' OR 'a", "a b", "", "1abc", "class.", ".x"):
        with pytest.raises(ValueError):
            predicate(bad, "=", "x")
    with pytest.raises(ValueError):
        predicate("role", "==", "x")
    with pytest.raises(ValueError):
        any_of("role", [])


@pytest.mark.parametrize(
    "text",
    [
        "role='a' AND role='b' OR role='c'",
        "role='unterminated",
        "role=unquoted",
        "='x'",
        "role='a' role='b'",
        "role='a' XOR role='b'",
        "role='a''",
    ],
)
def test_malformed_filters_are_refused(text: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse_filter(text)


def test_predicates_follow_the_spec() -> None:
    user = {
        "sourcedId": "007",
        "familyName": "Smith",
        "grades": ["09", "10"],
        "class": {"sourcedId": "c1"},
        "terms": [{"sourcedId": "t1"}, {"sourcedId": "t2"}],
        "score": 87.5,
        "enabledUser": True,
        "dateLastModified": "2026-04-26T12:00:00Z",
    }
    assert parse_filter("sourcedId='007'").matches(user)
    assert not parse_filter("sourcedId='7'").matches(user)  # ids compare as text
    assert parse_filter("familyName~'mit'").matches(user)
    assert parse_filter("grades='10'").matches(user)
    assert parse_filter("class.sourcedId='c1'").matches(user)
    assert parse_filter("terms.sourcedId='t2'").matches(user)
    assert parse_filter("score>'80' AND score<='87.5'").matches(user)
    assert parse_filter("score='87.5'").matches(user)
    assert parse_filter("enabledUser='true'").matches(user)
    assert parse_filter("dateLastModified>'2026-04-01'").matches(user)
    assert parse_filter("familyName!='Jones' AND familyName!='Brown'").matches(user)
    assert not parse_filter("familyName='Jones' OR familyName='Brown'").matches(user)
    assert not parse_filter("middleName='x'").matches(user)


def test_encoded_length_is_what_httpx_sends() -> None:
    for value in (*HOSTILE, "stu-000183"):
        expression = any_of("user.sourcedId", [value, "safe"])
        sent = httpx.URL("http://sim.test/x", params={"filter": expression}).query
        assert encoded_length(expression) == len(sent) - len(b"filter=")


def test_or_chunks_keep_order_drop_repeats_and_are_even() -> None:
    values = [f"stu-{i:06}" for i in range(115)]
    chunks = or_chunks("user.sourcedId", [*values, values[0]], max_predicates=100, max_length=60_000)
    parsed = [parse_filter(chunk) for chunk in chunks]
    assert [len(p.predicates) for p in parsed] == [58, 57]  # not 100 and 15
    assert [p.value for chunk in parsed for p in chunk.predicates] == values
    assert all(p.joiner == "OR" and {q.field for q in p.predicates} == {"user.sourcedId"} for p in parsed)
    # The portable limit: two per filter, in order.
    assert or_chunks("sourcedId", ["c", "a", "b"], max_predicates=2, max_length=4000) == [
        "sourcedId='c' OR sourcedId='a'",
        "sourcedId='b'",
    ]
    assert or_chunks("sourcedId", [], max_predicates=2, max_length=4000) == []


@pytest.mark.parametrize("limit", [100, 480, 1000, 4000])
def test_or_chunks_stay_within_the_length(limit: int) -> None:
    values = [f"{i:08}-{'x' * (i % 13)}-o'hara" for i in range(200)]
    chunks = or_chunks("student.sourcedId", values, max_predicates=100, max_length=limit)
    assert all(encoded_length(chunk) <= limit for chunk in chunks)
    assert [p.value for chunk in chunks for p in parse_filter(chunk).predicates] == values
    # Hardly more than filling each chunk to the brim, in order, would make.
    brim: list[list[str]] = [[]]
    for value in values:
        if brim[-1] and (
            len(brim[-1]) == 100 or encoded_length(any_of("student.sourcedId", [*brim[-1], value])) > limit
        ):
            brim.append([])
        brim[-1].append(value)
    assert len(brim) <= len(chunks) <= len(brim) + 1


def test_a_predicate_longer_than_the_limit_is_sent_alone() -> None:
    long = "x" * 300
    assert or_chunks("sourcedId", ["a", long, "b"], max_predicates=10, max_length=100) == [
        "sourcedId='a'",
        f"sourcedId='{long}'",
        "sourcedId='b'",
    ]
