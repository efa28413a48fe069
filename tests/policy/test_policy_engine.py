"""Loading and validating policy files, and deciding with Casbin."""

from __future__ import annotations

from pathlib import Path

import casbin
import pytest

from hub.policy import RELATIONS, Catalogue, PolicyEngine, PolicyError, default_policy_dir
from hub.policy.files import glob_match
from tests.policy.conftest import SHIPPED, MakePolicy


def _problems(folder: Path, catalogue: Catalogue) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        PolicyEngine.from_dir(folder, catalogue)
    return [
        f"{problem.where.path.name}:{problem.where.line}: {problem.message}"
        for problem in raised.value.problems
    ]


BROKEN = """\
# a comment, then a blank line

p, teacher, Studnt.givenName, read, teacher, allow
p, teacher, Student.birthdate, read, teacher, allow
p, teacher, Student.givenName, read, teachers, allow
p, teacher, Student.givenName, write, teacher, allow
p, teacher, Student.givenName, read, teacher, permit
p, teacher, Student.givenName, read, teacher
g, teacher
x, teacher, member
p, teacher, Viewer.roles, read, teacher, allow
p, teacher, Query.student, read, teacher, allow
p, teacher, Nothing*.id, read, teacher, allow
p, teacher, Student.*, read, teacher, allow
"""


def test_every_broken_line_is_reported_with_file_and_line(
    make_policy: MakePolicy, catalogue: Catalogue
) -> None:
    problems = _problems(make_policy(BROKEN), catalogue)
    assert problems == [
        "policy.csv:3: unknown type 'Studnt' (did you mean 'Student'?)",
        "policy.csv:4: unknown field 'birthdate' of Student (did you mean 'birthDate'?)",
        "policy.csv:5: unknown relation 'teachers' (did you mean 'teacher'?); "
        "known: self, guardian, teacher, school, district, directory, or * for any",
        "policy.csv:6: unknown action 'write'; known: read",
        "policy.csv:7: unknown effect 'permit'; use allow or deny",
        "policy.csv:8: a rule is p, role, Type.field, action, relation, effect; found 4 values",
        "policy.csv:9: a role link is g, member, role; found 1 values",
        "policy.csv:10: unknown line type 'x': a line starts with p (a rule) or g (a role link)",
        "policy.csv:11: type 'Viewer' is never policy-checked (it only shapes responses)",
        "policy.csv:12: Query.student is not policy-checked; "
        "of Query only Query.accessLog and Query.sources are",
        "policy.csv:13: pattern 'Nothing*.id' matches no policy-checked field",
    ]


def test_problems_in_several_files_are_all_reported(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    folder = make_policy({"a.csv": "p, , Student.id, read, self, allow\n", "b.csv": "g, a b, teacher\n"})
    assert _problems(folder, catalogue) == [
        "a.csv:1: the role is empty",
        "b.csv:1: member 'a b' may not contain spaces, quotes or pattern characters",
    ]


def test_problem_renders_as_path_colon_line(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    folder = make_policy("p, teacher, Student.nope, read, teacher, allow\n")
    with pytest.raises(PolicyError) as raised:
        PolicyEngine.from_dir(folder, catalogue)
    assert str(raised.value).endswith("policy.csv:1: unknown field 'nope' of Student")


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("r = sub, obj, act, rel", "r = sub, obj, act", "the model must define r = sub, obj, act, rel"),
        (
            "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
            "e = some(where (p.eft == allow))",
            "the effect must be",
        ),
        ("m = g(r.sub, p.sub) && globMatch", "m = g(r.sub, p.sub) || globMatch", "the matcher must"),
        ("globMatch(r.obj, p.obj)", "r.obj == p.obj", "the matcher must"),
    ],
)
def test_a_model_the_hub_cannot_ask_is_rejected(
    make_policy: MakePolicy, catalogue: Catalogue, replace: str, by: str, message: str
) -> None:
    model = (SHIPPED / "model.conf").read_text().replace(replace, by)
    line = next(number for number, text in enumerate(model.splitlines(), 1) if by in text)
    problems = _problems(
        make_policy("p, teacher, Student.id, read, teacher, allow\n", model=model), catalogue
    )
    assert len(problems) == 1
    assert problems[0].startswith(f"model.conf:{line}: {message}")


def test_key_match_models_are_accepted(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    model = (SHIPPED / "model.conf").read_text().replace("globMatch(r.obj", "keyMatch(r.obj")
    folder = make_policy("p, teacher, Student.*, read, teacher, allow\n", model=model)
    assert PolicyEngine.from_dir(folder, catalogue).decide("teacher", "Student.email", "teacher")
    # keyMatch reads everything after a * as "anything": *.id would grant every field
    (folder / "policy.csv").write_text("p, teacher, *.id, read, teacher, allow\n")
    message = "policy.csv:1: pattern '*.id': with keyMatch, a pattern may only end in *"
    assert _problems(folder, catalogue) == [message]


def test_a_folder_without_policy_files_is_rejected(tmp_path: Path, catalogue: Catalogue) -> None:
    assert _problems(tmp_path, catalogue) == [f"{tmp_path.name}:0: no *.csv policy files in this folder"]


def test_deny_wins_and_silence_denies(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(
        make_policy(
            "p, teacher, Student.*, read, teacher, allow\np, teacher, Student.birthDate, read, *, deny\n"
        ),
        catalogue,
    )
    assert engine.decide("teacher", "Student.givenName", "teacher")
    assert not engine.decide("teacher", "Student.birthDate", "teacher")
    assert not engine.decide("teacher", "Student.givenName", "school")
    assert not engine.decide("teacher", "Teacher.givenName", "teacher")


def test_patterns_match_by_glob(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(
        make_policy("p, clerk, *.id, read, school, allow\np, clerk, Student.*Name, read, school, allow\n"),
        catalogue,
    )
    assert engine.decide("clerk", "Section.id", "school")
    assert engine.decide("clerk", "Student.preferredName", "school")
    assert not engine.decide("clerk", "Student.email", "school")


def test_roles_inherit_grants_and_denies_through_g(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(
        make_policy(
            {
                "policy.csv": "p, member, Teacher.givenName, read, directory, allow\n"
                "p, teacher, Student.*, read, teacher, allow\n"
                "p, teacher, Student.sex, read, *, deny\n",
                "roles.csv": "g, teacher, member\ng, art_teachers, teacher\n",
            }
        ),
        catalogue,
    )
    assert engine.decide("art_teachers", "Teacher.givenName", "directory")
    assert engine.decide("art_teachers", "Student.email", "teacher")
    assert not engine.decide("art_teachers", "Student.sex", "teacher")
    assert engine.inherited_roles("art_teachers") == ("art_teachers", "teacher", "member")


def test_several_roles_get_the_union_each_decided_alone(shipped_engine: PolicyEngine) -> None:
    # The teacher role's deny binds the teacher role only; counselor still opens birthDate.
    assert shipped_engine.allowed_relations(["teacher"], "Student.birthDate") == frozenset()
    assert shipped_engine.allowed_relations(["teacher", "counselor"], "Student.birthDate") == {"school"}
    assert shipped_engine.allowed_relations(["teacher"], "Student.givenName") == {"teacher", "directory"}


def test_role_names_are_case_sensitive_and_unknown_roles_get_nothing(shipped_engine: PolicyEngine) -> None:
    assert shipped_engine.allowed_relations(["Teacher"], "Student.givenName") == frozenset()
    assert shipped_engine.allowed_relations(["nobody"], "Organization.name") == frozenset()
    assert shipped_engine.allowed_relations([], "Organization.name") == frozenset()


def test_decisions_are_cached_per_engine(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(
        make_policy("p, teacher, Student.*, read, *, allow\np, guardian, Student.email, read, *, deny\n"),
        catalogue,
    )
    assert engine.decide("teacher", "Student.email", "teacher")
    assert engine.enforce_calls == 1
    assert engine.decide("teacher", "Student.email", "teacher")
    assert engine.enforce_calls == 1
    assert engine.allowed_relations(["teacher", "guardian"], "Student.email") == set(RELATIONS)
    assert engine.enforce_calls == 12  # 2 roles x 6 relations, one of them already known
    engine.allowed_relations(["guardian", "teacher"], "Student.email")
    assert engine.enforce_calls == 12


def test_casbin_is_not_asked_when_no_line_can_match(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(make_policy("p, teacher, Student.*, read, teacher, allow\n"), catalogue)
    assert engine.allowed_relations(["teacher"], "Student.email") == {"teacher"}
    assert engine.enforce_calls == 1  # only "teacher" has a line for this role and field
    assert engine.allowed_relations(["guardian", "nobody"], "Student.email") == frozenset()
    assert not engine.decide("teacher", "Teacher.email", "teacher")
    assert engine.enforce_calls == 1


FAITHFUL_FIELDS = (
    "Student.birthDate",
    "Student.givenName",
    "Student.programs",
    "Student.directoryOptOut",
    "Guardian.phone",
    "Teacher.email",
    "Teacher.phone",
    "Section.students",
    "Score.score",
    "Organization.name",
    "Organization.sources",
    "Query.sources",
    "Query.accessLog",
)


def test_decisions_equal_casbin_asked_with_the_whole_policy(
    shipped_engine: PolicyEngine, tmp_path: Path
) -> None:
    # Casbin's own file adapter, every line in one enforcer, no pre-selection.
    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join(path.read_text() for path in shipped_engine.policy.policy_paths))
    plain = casbin.Enforcer(str(SHIPPED / "model.conf"), str(whole))
    plain.add_function("globMatch", glob_match)  # the same function, remembered, for speed
    roles = sorted(shipped_engine.role_names | {"nobody", "Teacher"})
    for role in roles:
        for obj in FAITHFUL_FIELDS:
            for rel in RELATIONS:
                expected = plain.enforce(role, obj, "read", rel)
                assert shipped_engine.decide(role, obj, rel) == expected, (role, obj, rel)


def test_version_hashes_the_files(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    folder = make_policy("p, teacher, Student.*, read, teacher, allow\n")
    first = PolicyEngine.from_dir(folder, catalogue).version
    assert PolicyEngine.from_dir(folder, catalogue).version == first
    (folder / "policy.csv").write_text("p, teacher, Student.*, read, school, allow\n")
    assert PolicyEngine.from_dir(folder, catalogue).version != first


def test_from_files_reads_the_given_files(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    folder = make_policy(
        {"a.csv": "p, teacher, Student.id, read, teacher, allow\n", "b.csv": "g, x, teacher\n"}
    )
    engine = PolicyEngine.from_files(folder / "model.conf", [folder / "a.csv"], catalogue)
    assert engine.decide("teacher", "Student.id", "teacher")
    assert not engine.decide("x", "Student.id", "teacher")
    assert engine.role_names == {"teacher"}


def test_explain_names_the_deciding_lines(shipped_engine: PolicyEngine) -> None:
    denied = shipped_engine.explain("teacher", "Student.birthDate", "teacher")
    assert not denied.allowed
    assert [rule.text for rule in denied.denying] == ["p, teacher, Student.birthDate, read, *, deny"]
    assert denied.reason.startswith("denied by ")
    line = denied.denying[0].where.line
    assert denied.reason.endswith(f"policy.csv:{line} (p, teacher, Student.birthDate, read, *, deny)")

    allowed = shipped_engine.explain("principal", "Student.birthDate", "school")
    assert allowed.allowed
    assert allowed.roles == ("principal", "school_admin", "member", "school_records")
    assert [rule.text for rule in allowed.allowing] == ["p, school_records, Student.*, read, school, allow"]
    assert str(allowed).startswith("ALLOW principal (inherits school_admin, member, school_records)")

    silent = shipped_engine.explain("guardian", "Student.email", "guardian")
    assert not silent.allowed and not silent.allowing and not silent.denying
    assert silent.reason == "no line allows it: denied by default"


def test_explain_does_not_count_as_request_decisions(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = PolicyEngine.from_dir(make_policy("p, teacher, Student.*, read, teacher, allow\n"), catalogue)
    engine.explain("teacher", "Student.id", "teacher")
    assert engine.enforce_calls == 1


def test_default_policy_dir_prefers_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOMEROOM_POLICY_DIR", raising=False)
    assert default_policy_dir() == SHIPPED
    monkeypatch.setenv("HOMEROOM_POLICY_DIR", str(tmp_path))
    assert default_policy_dir() == tmp_path
