"""Matrix and diff: what a policy grants, as role x field x relation."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hub.policy import (
    Catalogue,
    Grant,
    PolicyEngine,
    diff_grants,
    grant_table,
    grants,
    render_diff,
    render_matrix,
)
from tests.policy.conftest import MakePolicy

OLD = """\
p, teacher, Student.givenName, read, teacher, allow
p, teacher, Student.email, read, teacher, allow
p, guardian, Student.givenName, read, guardian, allow
g, art, teacher
"""


def _engine(make_policy: MakePolicy, catalogue: Catalogue, text: str) -> PolicyEngine:
    return PolicyEngine.from_dir(make_policy(text), catalogue)


def test_grants_include_inheritance(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    found = grants(_engine(make_policy, catalogue, OLD))
    assert Grant("art", "Student.email", "teacher") in found
    assert Grant("guardian", "Student.givenName", "guardian") in found
    assert len(found) == 5


def test_diff_shows_what_a_change_grants_and_withdraws(
    make_policy: MakePolicy, catalogue: Catalogue, tmp_path: Path
) -> None:
    old = _engine(make_policy, catalogue, OLD)
    new_text = OLD.replace("p, teacher, Student.email, read, teacher, allow\n", "") + (
        "p, guardian, Student.birthDate, read, guardian, allow\n"
        "p, teacher, Student.gradeLevel, read, directory, allow\n"
    )
    new = _engine(make_policy, catalogue, new_text)
    change = diff_grants(old, new)
    assert change.granted == (
        Grant("art", "Student.gradeLevel", "directory"),
        Grant("guardian", "Student.birthDate", "guardian"),
        Grant("teacher", "Student.gradeLevel", "directory"),
    )
    assert change.withdrawn == (
        Grant("art", "Student.email", "teacher"),
        Grant("teacher", "Student.email", "teacher"),
    )
    text = render_diff(change)
    assert text.splitlines()[0].split() == ["+", "art", "Student.gradeLevel", "directory"]
    assert "- teacher   Student.email       teacher" in text
    assert text.endswith("3 granted, 2 withdrawn\n")


def test_an_equivalent_rewrite_diffs_empty(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    old = _engine(make_policy, catalogue, OLD)
    rewritten = _engine(
        make_policy, catalogue, "# reordered\n" + "\n".join(reversed(OLD.splitlines())) + "\n"
    )
    assert rewritten.version != old.version
    change = diff_grants(old, rewritten)
    assert change.empty
    assert render_diff(change).startswith("no change")


def test_matrix_markdown_and_csv(make_policy: MakePolicy, catalogue: Catalogue) -> None:
    engine = _engine(make_policy, catalogue, OLD + "p, teacher, Student.givenName, read, directory, allow\n")
    table = grant_table(engine, ["teacher", "guardian"])
    assert table["Student.givenName"] == {"teacher": {"teacher", "directory"}, "guardian": {"guardian"}}
    markdown = render_matrix(table).splitlines()
    assert markdown[0] == "| field | guardian | teacher |"
    assert markdown[1] == "|---|---|---|"
    assert "| Student.givenName | guardian | teacher directory |" in markdown
    assert "| Student.birthDate | - | - |" in markdown
    rows = list(csv.reader(io.StringIO(render_matrix(table, "csv"))))
    assert rows[0] == ["field", "guardian", "teacher"]
    assert ["Student.email", "-", "teacher"] in rows
    assert len(rows) == 1 + sum(len(fields) for fields in catalogue.values())
