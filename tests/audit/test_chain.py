"""The hash chain: appends verify; edits, deletions and re-orderings are named by seq."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditLog, AuditUnavailable, ProblemKind
from hub.audit.events import canonical_content, chain_hash
from hub.audit.log import CHAIN, EVENTS, STUDENTS
from hub.store import create_engine
from tests.audit.helpers import (
    delete_event,
    delete_head,
    event,
    record_many,
    row,
    set_columns,
    student,
    swap_events,
)


def kinds(report: object) -> list[tuple[int, ProblemKind]]:
    return [(p.seq, p.kind) for p in report.problems]  # type: ignore[attr-defined]


async def test_appends_form_an_intact_chain(audit: AuditLog, engine: AsyncEngine) -> None:
    assert await record_many(audit, 12) == list(range(1, 13))
    report = await audit.verify()
    assert report.ok, report.describe()
    assert (report.checked, report.first_seq, report.last_seq) == (12, 1, 12)
    head = await audit.head()
    assert head.seq == 12 and report.head == head
    assert "audit chain intact: 12 events, seq 1..12" in report.describe()
    # Links: each event names its predecessor's hash.
    assert (await row(engine, 2))["prev_hash"] == (await row(engine, 1))["hash"]


async def test_an_empty_log_verifies(audit: AuditLog) -> None:
    report = await audit.verify()
    assert report.ok and report.checked == 0
    assert "no events" in report.describe()


async def test_stored_rows_hold_names_and_ids_only(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 1)
    stored = await row(engine, 1)
    assert stored["fields"] == {
        "Score": ["score", "scoreStatus"],
        "Student": ["familyName", "givenName", "id"],
    }
    assert stored["student_ids"] == [student(1), student(2)]
    assert stored["query_hash"] is not None and len(stored["query_hash"]) == 64
    assert "TeacherDashboard {" not in json.dumps(stored, default=str)  # the query text is not kept


async def test_edited_event_is_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 8)
    await set_columns(engine, 5, fields={"Student": ["id"]})  # hide that names were shown
    report = await audit.verify()
    assert kinds(report) == [(5, ProblemKind.EDITED)]
    assert "seq 5: edited" in report.describe()


@pytest.mark.parametrize(
    "column,value",
    [("subject", "someone-else"), ("at", None), ("roles", ["teacher", "admin"]), ("purpose", "x" * 300)],
)
async def test_any_column_edit_is_detected(
    audit: AuditLog, engine: AsyncEngine, column: str, value: object
) -> None:
    await record_many(audit, 4)
    if column == "at":
        value = (await row(engine, 3))["at"].replace(year=2020)
    await set_columns(engine, 3, **{column: value})
    assert kinds(await audit.verify()) == [(3, ProblemKind.EDITED)]


async def test_edited_and_rehashed_event_breaks_the_next_link(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 6)
    original = await row(engine, 3)
    forged = {**original, "subject": "nobody"}
    forged_hash = chain_hash(3, original["prev_hash"], canonical_content(forged))
    await set_columns(engine, 3, subject="nobody", hash=forged_hash)
    report = await audit.verify()
    assert kinds(report) == [(4, ProblemKind.BROKEN_LINK)]
    assert "event 3" in str(report.problems[0])


async def test_deleted_event_is_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 8)
    await delete_event(engine, 4)
    report = await audit.verify()
    assert kinds(report) == [(4, ProblemKind.DELETED)]
    assert "event 4 is missing" in report.describe()


async def test_deleted_run_and_newest_events_are_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 10)
    for seq in (3, 4, 9, 10):
        await delete_event(engine, seq)
    report = await audit.verify()
    assert kinds(report) == [(3, ProblemKind.DELETED), (9, ProblemKind.DELETED)]
    assert "events 3..4 are missing" in report.describe()
    assert "events 9..10 are missing (newest events)" in report.describe()


async def test_reordered_events_are_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 9)
    await swap_events(engine, 3, 7)
    report = await audit.verify()
    assert kinds(report) == [(3, ProblemKind.REORDERED), (7, ProblemKind.REORDERED)]
    assert "seq 3: reordered: it holds the event written as seq 7" in report.describe()


async def test_student_index_tampering_is_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 5)
    async with engine.begin() as conn:  # hide event 2 from student 2's access log
        await conn.execute(
            delete(STUDENTS).where(STUDENTS.c.event_seq == 2, STUDENTS.c.student_id == student(2))
        )
    report = await audit.verify()
    assert kinds(report) == [(2, ProblemKind.INDEX)]
    assert student(2) not in report.describe()  # counts, never ids


async def test_missing_head_fails_closed_and_is_reported(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 3)
    await delete_head(engine)
    with pytest.raises(AuditUnavailable, match="head is missing"):
        await audit.record(event(99))
    report = await audit.verify()
    assert [k for _, k in kinds(report)] == [ProblemKind.HEAD]


async def test_the_database_refuses_an_event_that_does_not_extend_the_head(
    audit: AuditLog, engine: AsyncEngine
) -> None:
    await record_many(audit, 3)
    for seq, prev in ((4, (await row(engine, 2))["hash"]), (3, (await row(engine, 2))["hash"])):
        forged = {**(await row(engine, 3)), "seq": seq, "prev_hash": prev}
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(EVENTS.insert(), forged)
    assert (await audit.verify()).ok


async def test_event_written_around_the_log_is_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 3)
    forged = {**(await row(engine, 3)), "seq": 4}
    async with engine.begin() as conn:  # an intruder first removes the append trigger
        on_table = " ON audit_events" if engine.dialect.name == "postgresql" else ""
        await conn.execute(text(f"DROP TRIGGER audit_events_extend_head{on_table}"))
        await conn.execute(EVENTS.insert(), forged)
    assert kinds(await audit.verify()) == [(4, ProblemKind.INSERTED)]


async def test_anchors_catch_a_rewritten_chain(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 5)
    anchor = await audit.head()
    assert (await audit.verify({anchor.seq: anchor.hash})).ok
    assert kinds(await audit.verify({anchor.seq: "0" * 64})) == [(5, ProblemKind.EDITED)]


async def test_unreadable_row_is_named(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 4)
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json type refuses invalid JSON")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE audit_events SET fields = 'not json' WHERE seq = 2"))
    assert kinds(await audit.verify()) == [(2, ProblemKind.EDITED)]


async def test_head_is_checked_against_the_last_event(audit: AuditLog, engine: AsyncEngine) -> None:
    await record_many(audit, 3)
    async with engine.begin() as conn:
        await conn.execute(CHAIN.update().values(head_hash="f" * 64))
    assert kinds(await audit.verify()) == [(3, ProblemKind.HEAD)]
    async with engine.connect() as conn:
        assert (await conn.execute(select(CHAIN.c.head_seq))).scalar() == 3


async def test_a_second_log_on_the_same_store_continues_the_chain(migrated_url: str, audit: AuditLog) -> None:
    await record_many(audit, 3)
    other_engine = create_engine(migrated_url)
    try:
        async with AuditLog(other_engine) as other:
            assert await other.record(event(99)) == 4
        # The first log's cached head is stale now; it must notice, not fork.
        assert await audit.record(event(100)) == 5
        assert (await audit.verify()).ok
    finally:
        await other_engine.dispose()
