"""The catalogue: which types and fields policy lines are written about."""

from __future__ import annotations

from hub.policy import ACTIONS, RELATIONS, Catalogue, catalogue_entries, is_structural


def test_relations_and_actions_are_the_documented_vocabulary() -> None:
    assert RELATIONS == ("self", "guardian", "teacher", "school", "district", "directory")
    assert ACTIONS == ("read",)


def test_data_types_are_checked_with_all_their_fields(catalogue: Catalogue) -> None:
    assert {"Student", "Teacher", "Guardian", "Section", "Score", "CourseGrade", "AttendanceEvent"} <= set(
        catalogue
    )
    assert {"birthDate", "programs", "guardians", "scores", "id"} <= catalogue["Student"]
    assert catalogue["SourceStatus"] == {"name", "kind", "state", "lastError", "latencyMs"}
    assert "Disclosure" in catalogue


def test_structural_types_and_interfaces_are_not_checked(catalogue: Catalogue) -> None:
    for name in ("Viewer", "PageInfo", "SourceRef", "StudentConnection", "StudentEdge", "Node", "Person"):
        assert name not in catalogue
    assert not any(name.startswith("__") for name in catalogue)
    assert all(not is_structural(name) for name in catalogue)


def test_only_data_root_fields_of_query_are_checked(catalogue: Catalogue) -> None:
    assert catalogue["Query"] == {"sources", "accessLog"}


def test_entries_are_sorted_type_dot_field(catalogue: Catalogue) -> None:
    entries = catalogue_entries(catalogue)
    assert list(entries) == sorted(entries)
    assert "Student.birthDate" in entries
    assert "Query.student" not in entries
