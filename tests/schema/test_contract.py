"""The live schema must carry every type, field and argument of the contract
(``../shared/design/schema.graphql``) with the same names and nullability."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from hub.schema import build_schema as build_hub_schema
from tests.conftest import shared_path


def _contract() -> GraphQLSchema:
    return build_schema(shared_path("design", "schema.graphql").read_text(encoding="utf-8"))


def _differences(contract: GraphQLSchema, live: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    for name, expected in contract.type_map.items():
        if name.startswith("__"):
            continue
        actual: GraphQLNamedType | None = live.type_map.get(name)
        if actual is None:
            problems.append(f"type {name} is missing")
            continue
        if not isinstance(actual, type(expected)):
            problems.append(f"type {name} is a {type(actual).__name__}, expected {type(expected).__name__}")
            continue
        if isinstance(expected, GraphQLEnumType):
            assert isinstance(actual, GraphQLEnumType)
            missing = set(expected.values) - set(actual.values)
            problems += [f"enum {name}: value {v} is missing" for v in sorted(missing)]
        if isinstance(expected, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(actual, GraphQLObjectType | GraphQLInterfaceType)
            want = {i.name for i in expected.interfaces}
            have = {i.name for i in actual.interfaces}
            if want - have:
                problems.append(f"type {name} does not implement {sorted(want - have)}")
            for field_name, field in expected.fields.items():
                live_field = actual.fields.get(field_name)
                if live_field is None:
                    problems.append(f"field {name}.{field_name} is missing")
                    continue
                if str(live_field.type) != str(field.type):
                    problems.append(f"field {name}.{field_name}: {live_field.type}, expected {field.type}")
                for arg_name, arg in field.args.items():
                    live_arg = live_field.args.get(arg_name)
                    if live_arg is None:
                        problems.append(f"argument {name}.{field_name}({arg_name}) is missing")
                    elif str(live_arg.type) != str(arg.type):
                        problems.append(
                            f"argument {name}.{field_name}({arg_name}): {live_arg.type}, expected {arg.type}"
                        )
                for arg_name, live_arg in live_field.args.items():
                    if (
                        arg_name not in field.args
                        and str(live_arg.type).endswith("!")
                        and live_arg.default_value is None
                    ):
                        problems.append(f"argument {name}.{field_name}({arg_name}) is new and required")
        if isinstance(expected, GraphQLInputObjectType):
            assert isinstance(actual, GraphQLInputObjectType)
            for field_name, field in expected.fields.items():
                live_input = actual.fields.get(field_name)
                if live_input is None:
                    problems.append(f"input field {name}.{field_name} is missing")
                elif str(live_input.type) != str(field.type):
                    problems.append(
                        f"input field {name}.{field_name}: {live_input.type}, expected {field.type}"
                    )
    return problems


def test_live_schema_matches_the_contract() -> None:
    live = build_hub_schema()._schema
    assert _differences(_contract(), live) == []


def test_the_comparison_catches_a_renamed_field() -> None:
    contract = _contract()
    altered = build_schema(
        shared_path("design", "schema.graphql")
        .read_text(encoding="utf-8")
        .replace("givenName: String  familyName", "firstName: String  familyName", 1)
    )
    problems = _differences(contract, altered)
    assert any("givenName" in p for p in problems)


def test_the_comparison_catches_changed_nullability_and_arguments() -> None:
    text = shared_path("design", "schema.graphql").read_text(encoding="utf-8")
    altered = build_schema(text.replace("student(id: ID!): Student", "student(key: ID!): Student!"))
    problems = _differences(_contract(), altered)
    assert "field Query.student: Student!, expected Student" in problems
    assert "argument Query.student(id) is missing" in problems
