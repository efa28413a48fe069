"""Filter arguments read the fields they compare: the walk finds them, by
literal or by variable, so the policy decides them before anything runs."""

from __future__ import annotations

from typing import Any

from graphql import parse

from hub.policy import collect_argument_reads
from hub.schema import build_schema
from hub.schema.filters import FILTER_READS

SCHEMA = build_schema(gate=False)._schema


def _reads(query: str, variables: dict[str, Any] | None = None) -> dict[str, frozenset[str]]:
    return collect_argument_reads(SCHEMA, parse(query), FILTER_READS, None, variables)


def test_literal_filter_keys_read_their_fields() -> None:
    reads = _reads('{ students(filter: {gradeLevel: "07", search: "an"}) { edges { node { id } } } }')
    assert reads == {
        "Student": frozenset({"gradeLevel", "givenName", "familyName", "middleName", "preferredName"})
    }


def test_null_and_absent_filters_read_nothing() -> None:
    assert _reads("{ students(filter: {gradeLevel: null}) { totalCount } }") == {}
    assert _reads("{ students { totalCount } }") == {}
    assert _reads("query($f: StudentFilter) { students(filter: $f) { totalCount } }") == {}


def test_variables_are_read_by_their_keys() -> None:
    query = "query($f: StudentFilter) { students(filter: $f) { totalCount } }"
    assert _reads(query, {"f": {"sectionId": "x", "schoolId": None}}) == {"Section": frozenset({"students"})}


def test_nested_scalar_filters_and_fragments() -> None:
    query = """
      { viewer { students { edges { node { ...S } } } } }
      fragment S on Student { attendance(from: "2026-01-01") { status } courseGrades(termId: "t") { id } }
    """
    assert _reads(query) == {"AttendanceEvent": frozenset({"date"}), "CourseGrade": frozenset({"term"})}


def test_a_defaulted_variable_counts_as_given() -> None:
    query = 'query($t: ID = "t1") { sections(filter: {termId: $t}) { totalCount } }'
    assert _reads(query) == {"Section": frozenset({"terms"})}
