"""YAML policy tests: the shipped cases pass; wrong expectations fail with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.policy import Catalogue, PolicyEngine, PolicyError, case_files_in, load_cases, run_cases, run_suite
from tests.policy.conftest import SHIPPED, MakePolicy

SIMPLE_POLICY = "p, teacher, Student.*, read, teacher, allow\np, teacher, Student.birthDate, read, *, deny\n"


def test_the_shipped_policy_passes_its_cases(shipped_engine: PolicyEngine) -> None:
    report = run_suite(shipped_engine, SHIPPED)
    assert report.passed, report.table()
    assert len(report.results) >= 30


def test_the_shipped_cases_cover_every_role(shipped_engine: PolicyEngine) -> None:
    cases = load_cases(case_files_in(SHIPPED), shipped_engine.catalogue)
    tested = {role for case in cases for role in case.roles}
    assert {"district_admin", "school_admin", "counselor", "teacher", "guardian", "student"} <= tested
    relations = {rel for case in cases for rel in case.relations}
    assert relations == {"self", "guardian", "teacher", "school", "district", "directory"}


def test_a_wrong_case_fails_and_says_which_line_decided(
    make_policy: MakePolicy, catalogue: Catalogue
) -> None:
    folder = make_policy(
        SIMPLE_POLICY,
        tests={
            "t.yaml": """
- name: right
  as: teacher
  rel: teacher
  readable: [Student.givenName]
  denied: [Student.birthDate]
- name: wrong
  as: teacher
  rel: [teacher, school]
  readable: [Student.birthDate]
  denied: [Student.email]
"""
        },
    )
    report = run_suite(PolicyEngine.from_dir(folder, catalogue), folder)
    assert not report.passed
    assert [result.passed for result in report.results] == [True, False]
    failures = report.results[1].failures
    assert failures[0].startswith("Student.birthDate should be readable as teacher, but teacher: denied by ")
    assert failures[0].endswith("policy.csv:2 (p, teacher, Student.birthDate, read, *, deny)")
    assert "Student.email should be denied as teacher, but teacher: allowed by" in failures[1]
    assert "Student.birthDate should be readable as school" in failures[2]
    assert len(failures) == 3
    table = report.table()
    assert "PASS  right" in table and "FAIL  wrong" in table
    assert "t.yaml:7" in table
    assert table.endswith("1 passed, 1 failed")


def test_patterns_in_cases_expand_to_every_field(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    folder = make_policy(
        SIMPLE_POLICY, tests={"t.yaml": "- {name: all, as: teacher, rel: teacher, readable: [Student.*]}\n"}
    )
    report = run_suite(PolicyEngine.from_dir(folder, catalogue), folder)
    (only_failure,) = report.results[0].failures
    assert only_failure.startswith("Student.birthDate should be readable")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "- {name: x, as: teacher, rel: teachers, readable: [Student.id]}",
            "t.yaml:1: unknown relation 'teachers'",
        ),
        (
            "- {name: x, as: teacher, rel: teacher, readable: [Student.dob]}",
            "t.yaml:1: readable: 'Student.dob' is no",
        ),
        (
            "- {name: x, rel: teacher, denied: [Student.id]}",
            "t.yaml:1: 'as' must be a name or a list of names",
        ),
        ("- {name: x, as: teacher, rel: teacher}", "t.yaml:1: the case expects nothing"),
        ("- {name: x, as: t, rel: self, denied: [Student.id], extra: 1}", "t.yaml:1: unknown keys extra"),
        ("\n\n- name: x\n  as: [teacher\n", "t.yaml:5: not valid YAML"),
        ("name: x", "t.yaml:1: a case file is a list of cases"),
        ("- just text", "t.yaml:1: a case is a mapping"),
    ],
)
def test_malformed_cases_are_reported_with_file_and_line(
    tmp_path: Path, catalogue: Catalogue, text: str, problem: str
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_cases([path], catalogue)
    assert problem in str(raised.value)


def test_cases_are_located_by_their_first_line(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "# comment\n"
        "- name: a\n  as: x\n  rel: self\n  denied: [Student.id]\n\n"
        "- name: b\n  as: x\n  rel: self\n  denied: [Student.id]\n"
    )
    cases = load_cases([path], catalogue)
    assert [case.where.line for case in cases] == [2, 7]
    assert run_cases(PolicyEngine.from_dir(SHIPPED, catalogue), cases).passed


def test_an_empty_case_file_has_no_cases(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("# nothing yet\n")
    assert load_cases([path], catalogue) == ()
