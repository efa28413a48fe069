"""collect_fields: every Type.field an operation may read, found before execution."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, parse

from hub.policy import collect_fields
from hub.policy.walker import OperationNotFound


def _collect(
    schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None, name: str | None = None
) -> dict[str, frozenset[str]]:
    return collect_fields(schema, parse(query), name, variables)


def test_fields_are_collected_per_type_through_connections(contract_schema: GraphQLSchema) -> None:
    selected = _collect(
        contract_schema,
        "{ student(id: 1) { givenName scores { edges { node { score assignment { title } } } } } }",
    )
    assert selected["Query"] == {"student"}
    assert selected["Student"] == {"givenName", "scores"}
    assert selected["ScoreConnection"] == {"edges"}
    assert selected["ScoreEdge"] == {"node"}
    assert selected["Score"] == {"score", "assignment"}
    assert selected["Assignment"] == {"title"}


def test_aliases_count_by_field_name(contract_schema: GraphQLSchema) -> None:
    selected = _collect(contract_schema, "{ a: student(id: 1) { first: givenName, dob: birthDate } }")
    assert selected["Student"] == {"givenName", "birthDate"}


def test_named_and_inline_fragments_are_followed(contract_schema: GraphQLSchema) -> None:
    query = """
    query Q { student(id: 1) { ...Names ... { birthDate } ... on Student { programs } } }
    fragment Names on Student { givenName ...More }
    fragment More on Person { familyName }
    """
    assert _collect(contract_schema, query)["Student"] == {"givenName", "familyName", "birthDate", "programs"}


def test_interfaces_expand_to_every_concrete_type_with_the_field(contract_schema: GraphQLSchema) -> None:
    selected = _collect(contract_schema, "{ viewer { person { givenName ... on Teacher { phone } } } }")
    assert selected["Student"] == {"givenName"}
    assert selected["Guardian"] == {"givenName"}
    assert selected["Teacher"] == {"givenName", "phone"}
    assert "Person" not in selected


def test_node_expands_to_all_implementations(contract_schema: GraphQLSchema) -> None:
    selected = _collect(
        contract_schema, "{ node(id: 1) { id ... on Score { score } ... on Person { email } } }"
    )
    assert {"Student", "Teacher", "Guardian", "Section", "Score", "Organization"} <= set(selected)
    assert all(fields >= {"id"} for name, fields in selected.items() if name != "Query")
    assert selected["Score"] == {"id", "score"}
    assert selected["Guardian"] == {"id", "email"}
    assert selected["Section"] == {"id"}


def test_literal_skip_and_include(contract_schema: GraphQLSchema) -> None:
    query = """{ student(id: 1) {
        givenName
        birthDate @skip(if: true)
        sex @include(if: false)
        races @include(if: true)
        ... @skip(if: true) { programs }
        ...Hidden @include(if: false)
    } }
    fragment Hidden on Student { email }"""
    assert _collect(contract_schema, query)["Student"] == {"givenName", "races"}


def test_variable_conditions(contract_schema: GraphQLSchema) -> None:
    query = """query Q($show: Boolean!, $hide: Boolean!, $maybe: Boolean = false, $unknown: Boolean!) {
      student(id: 1) {
        birthDate @include(if: $show)
        sex @skip(if: $hide)
        races @include(if: $maybe)
        programs @include(if: $unknown)
      }
    }"""
    selected = _collect(contract_schema, query, {"show": False, "hide": True, "unknown": "yes"})
    # programs: the variable is not a boolean, so nobody can tell; it counts as selected.
    assert selected["Student"] == {"programs"}
    selected = _collect(contract_schema, query, {"show": True, "hide": False, "maybe": True})
    assert selected["Student"] == {"birthDate", "sex", "races", "programs"}


def test_missing_variables_count_as_selected(contract_schema: GraphQLSchema) -> None:
    query = (
        "query Q($show: Boolean!) { student(id: 1) { birthDate @include(if: $show) sex @skip(if: $show) } }"
    )
    assert _collect(contract_schema, query)["Student"] == {"birthDate", "sex"}


def test_introspection_is_ignored(contract_schema: GraphQLSchema) -> None:
    selected = _collect(
        contract_schema, "{ __typename __schema { types { name } } student(id: 1) { __typename } }"
    )
    assert selected == {"Query": frozenset({"student"})}


def test_the_named_operation_is_walked(contract_schema: GraphQLSchema) -> None:
    query = "query A { sources { name } } query B { schools { name } }"
    assert "SourceStatus" in _collect(contract_schema, query, name="A")
    assert "SourceStatus" not in _collect(contract_schema, query, name="B")
    with pytest.raises(OperationNotFound):
        _collect(contract_schema, query)
    with pytest.raises(OperationNotFound):
        _collect(contract_schema, query, name="C")


def test_fragment_cycles_do_not_loop(contract_schema: GraphQLSchema) -> None:
    query = """{ student(id: 1) { ...A } }
    fragment A on Student { givenName ...B }
    fragment B on Student { familyName ...A }"""
    assert _collect(contract_schema, query)["Student"] == {"givenName", "familyName"}
