"""Every person's record is audited, through HTTP: a guardian's contact details, a
teacher's record, classmates' enrollments, each under the person's own id with the
fields that left about them; with the audit store locked or broken, none of it is
answered (fail closed). On SQLite always, on PostgreSQL when a server is named."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from hub.audit import (
    GENESIS_HASH,
    AuditLog,
    ChainHead,
    EventKind,
    ProblemKind,
    RejectedTokenCounter,
    StoredEvent,
)
from hub.audit.log import ADVISORY_LOCK_KEY, EVENTS, STUDENTS
from hub.federation.ids import encode_id
from hub.store import create_engine
from hub.store.engine import sqlite_path
from tests.support import RunningHub, make_district, running_hub

CONTACT = "query Contact($id: ID!) { node(id: $id) { ... on Guardian { email phone } } }"
TEACHER = "query MyTeacher($id: ID!) { node(id: $id) { ... on Teacher { givenName email } } }"
ROSTER = "query Roster { viewer { students(first: 5) { edges { node { id guardians { id } } } } } }"
MY_TEACHERS = "query Teachers { viewer { sections(first: 1) { edges { node { teachers { id } } } } } }"
MINUTE = dt.datetime(2026, 11, 18, 9, 41, 7, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 120)


def _csv(district: Path, name: str) -> list[dict[str, str]]:
    with (district / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _classmates_query(district: Path, student: str, count: int = 3) -> tuple[str, list[str]]:
    """An operation reading ``count`` classmates' enrollments (in sections shared
    with ``student``) by id, and the classmates' hub ids."""
    enrollments = _csv(district, "enrollments.csv")
    mine = {e["classSourcedId"] for e in enrollments if e["userSourcedId"] == student}
    theirs: dict[str, str] = {}
    for e in enrollments:
        if e["classSourcedId"] in mine and e["role"] == "student" and e["userSourcedId"] != student:
            theirs.setdefault(e["userSourcedId"], e["sourcedId"])
    picked = sorted(theirs.items())[:count]
    assert len(picked) == count, "the student persona needs classmates"
    fields = "{ ... on Enrollment { role beginDate } }"
    aliases = " ".join(
        f'e{n}: node(id: "{encode_id("Enrollment", "sis", enrollment)}") {fields}'
        for n, (_, enrollment) in enumerate(picked)
    )
    return "query Classmates { " + aliases + " }", [encode_id("Student", "sis", s) for s, _ in picked]


def _audit(running: RunningHub) -> AuditLog:
    assert running.hub.audit is not None
    return running.hub.audit


def _of(events: list[StoredEvent], operation: str) -> StoredEvent:
    (found,) = [e for e in events if e.operation == operation and e.kind is EventKind.DISCLOSURE]
    return found


async def _a_guardian_of_a_taught_student(running: RunningHub) -> str:
    roster = await running.query(ROSTER, persona="teacher")
    assert "errors" not in roster, roster.get("errors")
    return next(
        str(guardian["id"])
        for edge in roster["data"]["viewer"]["students"]["edges"]
        for guardian in edge["node"]["guardians"]
    )


async def _the_students_teacher(running: RunningHub) -> str:
    sections = await running.query(MY_TEACHERS, persona="student")
    assert "errors" not in sections, sections.get("errors")
    teacher: str = sections["data"]["viewer"]["sections"]["edges"][0]["node"]["teachers"][0]["id"]
    return teacher


async def test_a_guardians_contact_details_are_audited_under_the_guardian(
    district: Path, migrated_url: str
) -> None:
    async with running_hub(district, store_url=migrated_url) as running:
        guardian = await _a_guardian_of_a_taught_student(running)
        body = await running.query(CONTACT, persona="teacher", variables={"id": guardian})
        assert "errors" not in body, body.get("errors")
        assert body["data"]["node"]["email"] and body["data"]["node"]["phone"]
        event = _of(await _audit(running).events_for(guardian), "Contact")
        assert event.field_names == ("Guardian.email", "Guardian.phone")
        assert event.subject == f"demo:teacher:{running.personas['teacher'].sourced_id}"
        assert event.roles == ("teacher",)
        assert event.student_ids == (guardian,)
        # Names and ids only: the values that left are nowhere in the log.
        stored = await _audit(running).export(guardian)
        assert body["data"]["node"]["email"] not in stored and body["data"]["node"]["phone"] not in stored
        # The person index behind it is checked like a student's: hiding the event from
        # the guardian's record is named.
        assert (await _audit(running).verify()).ok
        engine = _audit(running).engine
        async with engine.begin() as conn:
            await conn.execute(
                delete(STUDENTS).where(STUDENTS.c.event_seq == event.seq, STUDENTS.c.student_id == guardian)
            )
        problems = (await _audit(running).verify()).problems
        assert [(p.seq, p.kind) for p in problems] == [(event.seq, ProblemKind.INDEX)]


async def test_a_teachers_record_read_by_id_is_audited(district: Path, migrated_url: str) -> None:
    async with running_hub(district, store_url=migrated_url) as running:
        teacher = await _the_students_teacher(running)
        body = await running.query(TEACHER, persona="student", variables={"id": teacher})
        assert "errors" not in body, body.get("errors")
        assert body["data"]["node"]["email"]
        event = _of(await _audit(running).events_for(teacher), "MyTeacher")
        assert event.field_names == ("Teacher.email", "Teacher.givenName")
        assert event.roles == ("student",)


async def test_classmates_enrollments_are_audited_under_each_classmate(
    district: Path, migrated_url: str
) -> None:
    async with running_hub(district, store_url=migrated_url) as running:
        me = running.personas["student"].sourced_id
        assert me is not None
        query, classmates = _classmates_query(district, me)
        body = await running.query(query, persona="student")
        assert "errors" not in body, body.get("errors")
        assert [body["data"][f"e{n}"]["role"] for n in range(3)] == ["STUDENT"] * 3
        for classmate in classmates:
            event = _of(await _audit(running).events_for(classmate), "Classmates")
            # Their enrollment, and nothing of their own record.
            assert {name.partition(".")[0] for name in event.field_names} == {"Enrollment"}
            assert {"Enrollment.beginDate", "Enrollment.role"} <= set(event.field_names)


@asynccontextmanager
async def _audit_store_refusing(running: RunningHub, url: str) -> AsyncIterator[None]:
    """The running hub's audit store stops taking events. PostgreSQL: another
    session holds the append lock (a locked store; the hub gives up after its
    timeout). SQLite: the person index is gone, so the append trigger fails (a
    held SQLite lock is only noticed after the 10 s busy timeout)."""
    if make_url(url).get_backend_name() == "postgresql":
        _audit(running).timeout = 0.5
        blocker = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        try:
            async with blocker.transaction():
                await blocker.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY)
                yield
        finally:
            await blocker.close()
        return
    path = sqlite_path(url)
    assert path is not None
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE audit_event_students")
    yield


async def test_no_audit_no_data_for_guardians_teachers_and_classmates(
    district: Path, migrated_url: str
) -> None:
    async with running_hub(district, store_url=migrated_url) as running:
        guardian = await _a_guardian_of_a_taught_student(running)
        teacher = await _the_students_teacher(running)
        me = running.personas["student"].sourced_id
        assert me is not None
        classmates, _ = _classmates_query(district, me)
        asked: list[tuple[str, str, dict[str, Any] | None]] = [
            (CONTACT, "teacher", {"id": guardian}),
            (TEACHER, "student", {"id": teacher}),
            (classmates, "student", None),
        ]
        answered = [await running.query(q, persona=p, variables=v) for q, p, v in asked]
        assert [a["_status"] for a in answered] == [200, 200, 200]
        async with _audit_store_refusing(running, migrated_url):
            for (query, persona, variables), before in zip(asked, answered, strict=True):
                failed = await running.query(query, persona=persona, variables=variables)
                assert failed["_status"] == 503, (persona, failed)
                assert failed["data"] is None
                assert failed["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
                for value in before["data"].values():
                    for text in (value or {}).values():
                        assert str(text) not in str(failed)
            # Fail closed is about disclosures: an answer about no one is still given.
            plain = await running.query("{ viewer { subject roles } }", persona="teacher")
            assert plain["_status"] == 200 and plain["data"]["viewer"]["roles"] == ["teacher"]


async def test_twenty_bad_tokens_in_a_minute_are_one_event(district: Path, migrated_url: str) -> None:
    async with running_hub(district, store_url=migrated_url) as running:
        audit = _audit(running)
        # Every rejection in the same minute, wherever the wall clock is.
        audit.rejected_tokens = RejectedTokenCounter(audit.record, clock=lambda: MINUTE)
        for n in range(20):
            refused = await running.client.post(
                "/graphql",
                json={"query": "{ viewer { subject } }"},
                headers={"Authorization": f"Bearer forged-{n}", "Homeroom-Purpose": f"=cmd|' /C calc'!A{n}"},
            )
            assert refused.status_code == 401
        assert audit.rejected_tokens.pending == 20
        assert await audit.head() == ChainHead(0, GENESIS_HASH)  # nothing written per request
    # The hub stopped cleanly: the minute's count was written on the way out.
    engine = create_engine(migrated_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(EVENTS).order_by(EVENTS.c.seq))).all()
        async with AuditLog(engine) as log:
            assert (await log.verify()).ok
    finally:
        await engine.dispose()
    assert [(r.kind, r.occurrences, r.client, r.purpose) for r in rows] == [
        (EventKind.REJECTED_TOKEN.value, 20, "ip:127.0.0.1", None)
    ]
    assert rows[0].outcome == "UNAUTHENTICATED" and rows[0].student_ids == []
    assert "calc" not in str(tuple(rows[0]))  # the caller's text is not kept anywhere
