"""Every disclosure is audited before the response leaves; refusals and bad
tokens are security events; a guardian can ask who looked at their child."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.audit import AuditLog, EventKind
from hub.federation.ids import encode_id
from hub.store import create_engine
from tests.support import RunningHub, make_district, running_hub

ACCESS_LOG = """query Log($id: ID!) { accessLog(studentId: $id) {
  edges { node { at subject roles operation fields purpose } } } }"""


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 150)


def _child_id(running: RunningHub) -> str:
    guardian = running.personas["guardian"]
    assert guardian.source is not None
    child = running.personas["student"].sourced_id
    assert child is not None
    return encode_id("Student", guardian.source, child)


async def test_a_guardian_sees_who_looked_at_their_child(district: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    async with running_hub(district, store_url=url) as running:
        child = _child_id(running)
        # The child's teacher reads the class roster, then the guardian asks who looked.
        teacher_view = await running.query(
            "query Roster { viewer { students { edges { node { id givenName } } } } }", persona="teacher"
        )
        assert "errors" not in teacher_view
        guardian_view = await running.query(
            "query Child($id: ID!) { student(id: $id) { givenName birthDate } }",
            persona="guardian",
            variables={"id": child},
        )
        assert guardian_view["data"]["student"]["birthDate"]
        log = await running.query(ACCESS_LOG, persona="guardian", variables={"id": child})
        assert "errors" not in log, log.get("errors")
        entries = [edge["node"] for edge in log["data"]["accessLog"]["edges"]]
        assert entries[0]["operation"] == "Child"
        assert "Student.birthDate" in entries[0]["fields"] or "birthDate" in str(entries[0]["fields"])
        assert all("Mia" not in str(entry) for entry in entries)  # names and values never stored
        taught = {edge["node"]["id"] for edge in teacher_view["data"]["viewer"]["students"]["edges"]}
        if child in taught:
            assert any(entry["operation"] == "Roster" for entry in entries)


async def test_another_students_log_is_not_found(district: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    async with running_hub(district, store_url=url) as running:
        stranger = encode_id("Student", "sis", "stu-000150")
        if stranger == _child_id(running):
            stranger = encode_id("Student", "sis", "stu-000149")
        log = await running.query(ACCESS_LOG, persona="guardian", variables={"id": stranger})
        assert log["data"] is None or log["data"].get("accessLog") is None
        assert log["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        admin = await running.query(ACCESS_LOG, persona="district_admin", variables={"id": stranger})
        assert "errors" not in admin, admin.get("errors")


async def test_refusals_and_bad_tokens_are_recorded(district: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    url = f"sqlite+aiosqlite:///{db}"
    async with running_hub(district, store_url=url) as running:
        refused = await running.query("{ students { edges { node { birthDate } } } }", persona="teacher")
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        bad = await running.client.post(
            "/graphql", json={"query": "{ viewer { subject } }"}, headers={"Authorization": "Bearer nope"}
        )
        assert bad.status_code == 401
    with sqlite3.connect(db) as connection:
        kinds = [row[0] for row in connection.execute("SELECT kind FROM audit_events ORDER BY seq")]
        text = " ".join(str(row) for row in connection.execute("SELECT * FROM audit_events"))
    assert EventKind.REFUSAL.value in kinds
    assert EventKind.REJECTED_TOKEN.value in kinds
    assert "birthDate" in text  # the refused field's name, not a value


async def test_no_audit_no_data(district: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    url = f"sqlite+aiosqlite:///{db}"
    async with running_hub(district, store_url=url) as running:
        ok = await running.query("{ students(first: 2) { edges { node { givenName } } } }")
        assert ok["_status"] == 200 and ok["data"]["students"]["edges"]
        # Break the log underneath the running hub: the next disclosure must fail closed.
        with sqlite3.connect(db) as connection:
            connection.execute("DROP TABLE audit_event_students")
        failed = await running.query("{ students(first: 2) { edges { node { givenName } } } }")
        assert failed["_status"] == 503
        assert failed["data"] is None
        assert failed["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"


async def test_audit_verify_after_traffic_and_catches_an_edit(district: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    url = f"sqlite+aiosqlite:///{db}"
    async with running_hub(district, store_url=url) as running:
        for persona in ("district_admin", "teacher", "guardian"):
            await running.query(
                "{ viewer { students(first: 3) { edges { node { givenName } } } } }", persona=persona
            )
    engine = create_engine(url)
    try:
        async with AuditLog(engine) as audit:
            assert (await audit.verify()).ok
    finally:
        await engine.dispose()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE audit_events SET subject = 'someone-else' WHERE seq = 2")
    engine = create_engine(url)
    try:
        async with AuditLog(engine) as audit:
            report = await audit.verify()
            assert not report.ok
            assert any(problem.seq == 2 for problem in report.problems)
    finally:
        await engine.dispose()
