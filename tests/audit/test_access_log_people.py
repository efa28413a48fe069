"""``accessLog`` and ``homeroom audit export --student`` show, per event, only what
was disclosed about that student, and a merged student's alias id reads (and is
recorded under) the canonical id. Through HTTP, on each store engine."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.audit import EventKind
from hub.audit.cli import audit_app
from hub.federation.ids import encode_id
from hub.model import Entity
from hub.policy import default_policy_dir
from tests.federation.test_identity import _lms_copy, _lms_id, _records, two_source_hub
from tests.store.fixtures import run_in_thread
from tests.support import make_district, running_hub

ACCESS_LOG = """query Log($id: ID!) { accessLog(studentId: $id) { edges { node { operation fields } } } }"""
PAIR = """query Pair($a: ID!, $b: ID!) {
  a: node(id: $a) { ... on Student { id email gradeLevel } }
  b: node(id: $b) { ... on Student { id email gradeLevel } } }"""
ROSTER = "{ viewer { students(first: 500) { edges { node { id } } } } }"
# Without it a teacher reads a grade level only under "directory", which a
# student who opted out of the directory does not give: so one student shows
# the teacher an e-mail only, another a grade level only.
TEACHER_GRADE_LEVEL = "p, teacher, Student.gradeLevel, read, teacher, allow"

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMEROOM_STORE_URL", raising=False)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 120)


def _rewrite_csv(path: Path, change: Any) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or ())
        rows = [change(row) for row in reader]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _opted_out(district: Path) -> set[str]:
    with (district / "demographics.csv").open(encoding="utf-8", newline="") as handle:
        return {r["sourcedId"] for r in csv.DictReader(handle) if r["metadata.directoryOptOut"] == "true"}


async def _taught_and_not(district: Path) -> tuple[str, str, str]:
    """(the teacher persona, a student they teach, a student they do not), both in the directory."""
    async with running_hub(district) as running:
        teacher = running.personas["teacher"].sourced_id
        roster = await running.query(ROSTER, persona="teacher")
    taught = {edge["node"]["id"] for edge in roster["data"]["viewer"]["students"]["edges"]}
    with (district / "users.csv").open(encoding="utf-8", newline="") as handle:
        students = [r["sourcedId"] for r in csv.DictReader(handle) if r["sourcedId"].startswith("stu-")]
    listed = [s for s in students if s not in _opted_out(district)]
    mine = next(s for s in listed if encode_id("Student", "sis", s) in taught)
    other = next(s for s in listed if encode_id("Student", "sis", s) not in taught)
    assert teacher is not None
    return teacher, mine, other


async def _pair_then_logs(
    district: Path, policy: Path, url: str, teacher: str, a: str, b: str
) -> tuple[dict[str, Any], dict[str, list[list[str]]]]:
    async with running_hub(district, policy_dir=policy, store_url=url) as running:
        assert running.personas["teacher"].sourced_id == teacher
        pair = await running.query(PAIR, persona="teacher", variables={"a": a, "b": b})
        logs = {}
        for student in (a, b):
            log = await running.query(ACCESS_LOG, persona="district_admin", variables={"id": student})
            assert "errors" not in log, log.get("errors")
            edges = log["data"]["accessLog"]["edges"]
            logs[student] = [e["node"]["fields"] for e in edges if e["node"]["operation"] == "Pair"]
    return pair, logs


def test_each_students_log_shows_only_what_was_shown_of_them(
    district: Path, migrated_url: str, tmp_path: Path
) -> None:
    teacher, mine, other = run_in_thread(_taught_and_not(district))
    # The taught student opts out of the directory; the policy loses one line.
    copy = Path(shutil.copytree(district, tmp_path / "district"))
    _rewrite_csv(
        copy / "demographics.csv",
        lambda row: {**row, "metadata.directoryOptOut": "true"} if row["sourcedId"] == mine else row,
    )
    policy = Path(shutil.copytree(default_policy_dir(), tmp_path / "policies"))
    _edit(policy / "policy.csv", TEACHER_GRADE_LEVEL, "")
    _edit(policy / "tests" / "teacher.yaml", "Student.identifier, Student.gradeLevel,", "Student.identifier,")
    a, b = encode_id("Student", "sis", mine), encode_id("Student", "sis", other)

    pair, logs = run_in_thread(_pair_then_logs(copy, policy, migrated_url, teacher, a, b))

    # One query: student A's e-mail left (not the grade level), student B's grade level (not the e-mail).
    assert pair["data"]["a"]["email"] and pair["data"]["a"]["gradeLevel"] is None
    assert pair["data"]["b"]["gradeLevel"] and pair["data"]["b"]["email"] is None
    assert {tuple(e["path"]) for e in pair["errors"]} == {("a", "gradeLevel"), ("b", "email")}
    assert logs == {a: [["Student.email", "Student.id"]], b: [["Student.gradeLevel", "Student.id"]]}

    exported = runner.invoke(audit_app, ["export", "--student", a, "--url", migrated_url])
    assert exported.exit_code == 0, exported.output
    events = [e for e in json.loads(exported.output)["events"] if e["operation"] == "Pair"]
    assert [e["fields"] for e in events] == [{"Student": ["email", "id"]}]
    as_csv = runner.invoke(audit_app, ["export", "--student", b, "--format", "csv", "--url", migrated_url])
    assert as_csv.exit_code == 0, as_csv.output
    pair_rows = [r for r in csv.DictReader(as_csv.output.splitlines()) if r["operation"] == "Pair"]
    assert [r["fields"] for r in pair_rows] == ["Student.gradeLevel;Student.id"]


async def test_an_alias_id_reads_and_is_recorded_under_the_canonical_id(
    district: Path, migrated_url: str
) -> None:
    records = await _records(district)
    async with two_source_hub(district, _lms_copy(records), store_url=migrated_url) as running:
        guardian = running.personas["guardian"]
        with (district / "users.csv").open(encoding="utf-8", newline="") as handle:
            users = {r["sourcedId"]: r for r in csv.DictReader(handle)}
        child = users[str(guardian.sourced_id)]["agentSourcedIds"].split(",")[0]
        canonical, alias = encode_id("Student", "sis", child), encode_id("Student", "lms", _lms_id(child))
        assert running.hub.identity.hub_id(Entity.STUDENT, "lms", _lms_id(child)) == canonical  # merged

        read = await running.query(
            "query ByAlias($id: ID!) { student(id: $id) { givenName } }",
            persona="guardian",
            variables={"id": alias},
        )
        assert read["data"]["student"]["givenName"], read.get("errors")
        by_alias = await running.query(ACCESS_LOG, persona="guardian", variables={"id": alias})
        assert "errors" not in by_alias, by_alias.get("errors")
        assert [e["node"] for e in by_alias["data"]["accessLog"]["edges"]] == [
            {"operation": "ByAlias", "fields": ["Student.givenName"]}
        ]
        # Reading the log is a disclosure too: kept under the canonical id, not the alias.
        by_canonical = await running.query(ACCESS_LOG, persona="guardian", variables={"id": canonical})
        assert [e["node"] for e in by_canonical["data"]["accessLog"]["edges"]] == [
            {"operation": "Log", "fields": ["Query.accessLog"]},
            {"operation": "ByAlias", "fields": ["Student.givenName"]},
        ]

        # A refusal about someone else's child, asked by alias, is kept under the canonical id.
        children = users[str(guardian.sourced_id)]["agentSourcedIds"].split(",")
        stranger = next(s for s in sorted(users) if s.startswith("stu-") and s not in children)
        stranger_alias = encode_id("Student", "lms", _lms_id(stranger))
        refused = await running.query(
            "query Other($id: ID!) { student(id: $id) { givenName } }",
            persona="guardian",
            variables={"id": stranger_alias},
        )
        assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        their_log = await running.query(ACCESS_LOG, persona="guardian", variables={"id": stranger_alias})
        assert their_log["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        audit = running.hub.audit
        assert audit is not None
        kept = await audit.events_for(encode_id("Student", "sis", stranger), kinds=(EventKind.REFUSAL,))
        assert [(e.operation, e.outcome) for e in kept] == [("Other", "NOT_FOUND"), ("Log", "NOT_FOUND")]
        assert await audit.events_for(encode_id("Student", "lms", _lms_id(stranger))) == []
        assert await audit.events_for(alias) == []
