"""``homeroom policy ...`` through typer's test runner: output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.policy import Catalogue, cli
from hub.policy.cli import policy_app
from tests.policy.conftest import MakePolicy

runner = CliRunner()


@pytest.fixture(autouse=True)
def contract_catalogue(monkeypatch: pytest.MonkeyPatch, catalogue: Catalogue) -> None:
    # The live schema is someone else's work in progress; the contract is stable.
    monkeypatch.setattr(cli, "load_catalogue", lambda: catalogue)


def test_check_accepts_the_shipped_policy(shipped_copy: Path) -> None:
    result = runner.invoke(policy_app, ["check", "--dir", str(shipped_copy)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")
    assert "warning" not in result.output


def test_check_reports_file_and_line_and_exits_1(shipped_copy: Path) -> None:
    with (shipped_copy / "policy.csv").open("a") as policy:
        policy.write("p, teacher, Student.dob, read, teacher, allow\n")
    result = runner.invoke(policy_app, ["check", "--dir", str(shipped_copy)])
    assert result.exit_code == 1
    lines = (shipped_copy / "policy.csv").read_text().splitlines()
    assert f"policy.csv:{len(lines)}: unknown field 'dob' of Student" in result.output


def test_check_warns_about_roles_granted_nothing(make_policy: MakePolicy) -> None:
    folder = make_policy(
        "p, teacher, Student.id, read, teacher, allow\n"
        "p, ghost, Student.id, read, *, deny\n"
        "g, principal, teachr\n",
        tests={"t.yaml": "- {name: t, as: tutor, rel: teacher, readable: [Student.id]}\n"},
    )
    result = runner.invoke(policy_app, ["check", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "policy.csv:3: warning: role 'principal' is granted nothing" in result.output
    assert "policy.csv:3: warning: role 'teachr' is granted nothing" in result.output
    assert "policy.csv:2: warning: role 'ghost' is granted nothing" in result.output
    assert "t.yaml:1: warning: role 'tutor' is granted nothing" in result.output


def test_check_takes_explicit_model_and_policy_files(make_policy: MakePolicy, tmp_path: Path) -> None:
    folder = make_policy("p, teacher, Student.id, read, teacher, allow\n")
    extra = tmp_path / "extra.csv"
    extra.write_text("p, teacher, Student.id, read, teacher, maybe\n")
    args = ["check", "--dir", str(folder), "--model", str(folder / "model.conf"), "--policy", str(extra)]
    result = runner.invoke(policy_app, args)
    assert result.exit_code == 1
    assert "extra.csv:1: unknown effect 'maybe'" in result.output


def test_test_prints_a_table_and_exits_0_when_all_pass(shipped_copy: Path) -> None:
    result = runner.invoke(policy_app, ["test", "--dir", str(shipped_copy)])
    assert result.exit_code == 0, result.output
    assert "PASS  teacher never reads birth date or demographics" in result.output
    assert " 0 failed" in result.output


def test_test_exits_1_on_a_failing_case(shipped_copy: Path) -> None:
    (shipped_copy / "tests" / "wrong.yaml").write_text(
        "- {name: teachers read birth dates, as: teacher, rel: teacher, readable: [Student.birthDate]}\n"
    )
    result = runner.invoke(policy_app, ["test", "--dir", str(shipped_copy)])
    assert result.exit_code == 1
    assert "FAIL  teachers read birth dates" in result.output
    assert "Student.birthDate should be readable as teacher, but teacher: denied by" in result.output
    assert "1 failed" in result.output


def test_test_exits_1_on_a_malformed_case(shipped_copy: Path) -> None:
    (shipped_copy / "tests" / "bad.yaml").write_text(
        "- {name: x, as: teacher, rel: nowhere, denied: [Student.id]}\n"
    )
    result = runner.invoke(policy_app, ["test", "--dir", str(shipped_copy)])
    assert result.exit_code == 1
    assert "bad.yaml:1: unknown relation 'nowhere'" in result.output


def test_explain_shows_the_deciding_lines(shipped_copy: Path) -> None:
    args = ["explain", "--role", "teacher", "--field", "Student.birthDate", "--rel", "teacher"]
    result = runner.invoke(policy_app, [*args, "--dir", str(shipped_copy)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "DENY teacher (inherits member) read Student.birthDate as teacher: denied by "
    )
    assert "(p, teacher, Student.birthDate, read, *, deny)" in result.output


def test_explain_without_rel_covers_every_relation(shipped_copy: Path) -> None:
    args = ["explain", "--role", "guardian", "--field", "Student.birthDate", "--dir", str(shipped_copy)]
    result = runner.invoke(policy_app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 6
    assert lines[1].startswith(
        "ALLOW guardian (inherits member) read Student.birthDate as guardian: allowed by"
    )
    assert lines[0].endswith("no line allows it: denied by default")


def test_explain_rejects_unknown_fields_and_relations(shipped_copy: Path) -> None:
    args = ["explain", "--role", "teacher", "--dir", str(shipped_copy)]
    assert runner.invoke(policy_app, [*args, "--field", "Student.dob"]).exit_code == 2
    assert runner.invoke(policy_app, [*args, "--field", "Student.id", "--rel", "nowhere"]).exit_code == 2


def test_matrix_in_both_formats(shipped_copy: Path) -> None:
    result = runner.invoke(policy_app, ["matrix", "--dir", str(shipped_copy), "--role", "teacher"])
    assert result.exit_code == 0, result.output
    assert "| Student.birthDate | - |" in result.output
    assert "| Student.givenName | teacher directory |" in result.output
    result = runner.invoke(
        policy_app, ["matrix", "--dir", str(shipped_copy), "--format", "csv", "--role", "guardian"]
    )
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "field,guardian"
    assert "Student.birthDate,guardian" in result.output.splitlines()


def test_diff_of_folders(shipped_copy: Path, make_policy: MakePolicy) -> None:
    changed = make_policy(
        {
            "policy.csv": (shipped_copy / "policy.csv").read_text()
            + "p, guardian, Student.email, read, guardian, allow\n",
            "roles.csv": (shipped_copy / "roles.csv").read_text(),
        }
    )
    result = runner.invoke(policy_app, ["diff", str(shipped_copy), str(changed)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["+", "guardian", "Student.email", "guardian"]
    assert result.output.endswith("1 granted, 0 withdrawn\n")


def test_diff_of_files_uses_the_model_beside_them(make_policy: MakePolicy) -> None:
    folder = make_policy(
        {
            "old.csv": "p, guardian, Student.email, read, guardian, allow\n",
            "new.csv": "p, guardian, Student.email, read, self, allow\n",
        }
    )
    result = runner.invoke(policy_app, ["diff", str(folder / "old.csv"), str(folder / "new.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "+ guardian  Student.email  self",
        "- guardian  Student.email  guardian",
        "1 granted, 1 withdrawn",
    ]


def test_diff_exits_1_when_a_side_does_not_load(shipped_copy: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("p, teacher\n")
    result = runner.invoke(
        policy_app, ["diff", str(shipped_copy), str(broken), "--model", str(shipped_copy / "model.conf")]
    )
    assert result.exit_code == 1
    assert "broken.csv:1: a rule is p, role, Type.field" in result.output
