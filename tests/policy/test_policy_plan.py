"""The access plan: decided per query, applied per row without Casbin."""

from __future__ import annotations

from graphql import GraphQLSchema, parse

from hub.policy import RELATIONS, AccessPlan, Catalogue, PolicyEngine, build_plan, collect_fields
from tests.policy.conftest import SHIPPED

TEACHER_QUERY = """{
  viewer { students { edges { node {
    givenName familyName gradeLevel
    scores { edges { node { score late } } }
  } } } }
}"""


def _plan(schema: GraphQLSchema, engine: PolicyEngine, roles: list[str], query: str) -> AccessPlan:
    return build_plan(engine, roles, collect_fields(schema, parse(query)), engine.catalogue)


def test_plan_holds_the_relations_of_each_selected_field(
    contract_schema: GraphQLSchema, shipped_engine: PolicyEngine
) -> None:
    plan = _plan(contract_schema, shipped_engine, ["teacher"], TEACHER_QUERY)
    assert plan.allowed and plan.forbidden == ()
    assert plan.relations_by_type["Student"] == {
        "givenName": {"teacher", "directory"},
        "familyName": {"teacher", "directory"},
        "gradeLevel": {"teacher", "directory"},
        "scores": {"teacher"},
    }
    assert plan.relations_by_type["Score"] == {"score": {"teacher"}, "late": {"teacher"}}
    # structural types are never in the plan
    assert set(plan.relations_by_type) == {"Student", "Score"}
    assert plan.version == shipped_engine.version
    assert plan.roles == {"teacher"}


def test_fields_readable_under_no_relation_are_forbidden(
    contract_schema: GraphQLSchema, shipped_engine: PolicyEngine
) -> None:
    query = "{ student(id: 1) { givenName birthDate sex } sources { name } }"
    plan = _plan(contract_schema, shipped_engine, ["teacher"], query)
    assert not plan.allowed
    assert plan.forbidden == (
        "Query.sources",
        "SourceStatus.name",
        "Student.birthDate",
        "Student.sex",
    )


def test_allowed_fields_per_row_relation_set(
    contract_schema: GraphQLSchema, shipped_engine: PolicyEngine
) -> None:
    plan = _plan(contract_schema, shipped_engine, ["teacher"], TEACHER_QUERY)
    assert plan.allowed_fields("Student", frozenset({"teacher", "school"})) == {
        "givenName",
        "familyName",
        "gradeLevel",
        "scores",
    }
    assert plan.allowed_fields("Student", frozenset({"directory"})) == {
        "givenName",
        "familyName",
        "gradeLevel",
    }
    assert plan.allowed_fields("Student", frozenset()) == frozenset()
    assert plan.allowed_fields("Section", frozenset({"teacher"})) == frozenset()
    first = plan.allowed_fields("Student", frozenset({"directory"}))
    assert plan.allowed_fields("Student", frozenset({"directory"})) is first  # memoised


def test_relations_for_is_the_union_over_selected_fields(
    contract_schema: GraphQLSchema, shipped_engine: PolicyEngine
) -> None:
    plan = _plan(contract_schema, shipped_engine, ["teacher"], TEACHER_QUERY)
    assert plan.relations_for("Student") == {"teacher", "directory"}
    assert plan.relations_for("Score") == {"teacher"}
    assert plan.relations_for("Guardian") == frozenset()


def test_roles_are_combined(contract_schema: GraphQLSchema, shipped_engine: PolicyEngine) -> None:
    query = "{ student(id: 1) { birthDate programs } }"
    assert not _plan(contract_schema, shipped_engine, ["teacher"], query).allowed
    plan = _plan(contract_schema, shipped_engine, ["teacher", "counselor"], query)
    assert plan.relations_by_type["Student"] == {"birthDate": {"school"}, "programs": {"teacher", "school"}}


def test_casbin_is_asked_once_per_role_field_relation(
    contract_schema: GraphQLSchema, catalogue: Catalogue
) -> None:
    engine = PolicyEngine.from_dir(SHIPPED, catalogue)
    selected = collect_fields(contract_schema, parse(TEACHER_QUERY))
    build_plan(engine, ["teacher", "guardian"], selected, catalogue)
    checked_fields = 6  # Student: givenName familyName gradeLevel scores; Score: score late
    distinct_questions = 2 * checked_fields * len(RELATIONS)
    # at most once each; questions no line can answer are not asked at all
    assert 0 < engine.enforce_calls < distinct_questions
    calls = engine.enforce_calls
    again = build_plan(engine, ["teacher", "guardian"], selected, catalogue)
    assert engine.enforce_calls == calls  # the second identical plan asks Casbin nothing
    assert again.relations_by_type == build_plan(engine, ["guardian", "teacher"], selected).relations_by_type


def test_the_per_row_path_never_reaches_casbin(contract_schema: GraphQLSchema, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(SHIPPED, catalogue)
    plan = build_plan(engine, ["teacher"], collect_fields(contract_schema, parse(TEACHER_QUERY)))
    calls = engine.enforce_calls
    row_relations = [frozenset({"teacher"}), frozenset({"directory"}), frozenset()]
    for row in range(10_000):
        plan.allowed_fields("Student", row_relations[row % 3])
        plan.relations_for("Student")
    assert engine.enforce_calls == calls


def test_unchecked_selections_are_skipped(shipped_engine: PolicyEngine) -> None:
    plan = build_plan(
        shipped_engine, ["student"], {"Viewer": frozenset({"roles"}), "Query": frozenset({"viewer"})}
    )
    assert plan.allowed and plan.relations_by_type == {}
