"""Events to record and ways to tamper with the stored log, as an intruder with
database access would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditEvent, AuditLog, EventKind
from hub.audit.log import CHAIN, EVENTS, STUDENTS

T0 = dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC)


def student(n: int) -> str:
    return f"U3R1ZGVudDpzaXM6{n:04d}"  # looks like a hub id; the log does not care


def event(
    n: int,
    *,
    students: tuple[int, ...] | None = None,
    kind: EventKind = EventKind.DISCLOSURE,
    at: dt.datetime | None = None,
    outcome: str = "ok",
    subject: str | None = None,
    purpose: str | None = None,
) -> AuditEvent:
    """The ``n``-th event of a teacher's day: a roster plus some grades."""
    ids = students if students is not None else (n % 5, (n + 1) % 5)
    return AuditEvent.create(
        kind,
        subject=subject or f"teacher-{n % 3}",
        roles=["teacher"],
        client="dashboard",
        operation="TeacherDashboard",
        query="query TeacherDashboard { viewer { students { edges { node { id givenName } } } } }",
        purpose=purpose,
        fields={"Student": ["id", "givenName", "familyName"], "Score": ["scoreStatus", "score"]},
        student_ids=[student(i) for i in ids],
        outcome=outcome,
        at=at or T0 + dt.timedelta(minutes=n),
    )


async def record_many(audit: AuditLog, count: int, **kwargs: Any) -> list[int]:
    return [await audit.record(event(n, **kwargs)) for n in range(1, count + 1)]


async def row(engine: AsyncEngine, seq: int) -> dict[str, Any]:
    async with engine.connect() as conn:
        found = (await conn.execute(select(EVENTS).where(EVENTS.c.seq == seq))).one()
    return dict(found._mapping)


async def set_columns(engine: AsyncEngine, seq: int, **values: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(**values))


async def delete_event(engine: AsyncEngine, seq: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(EVENTS).where(EVENTS.c.seq == seq))


async def swap_events(engine: AsyncEngine, a: int, b: int) -> None:
    """Exchange two events' contents (and their student index rows): a re-ordering."""
    first, second = await row(engine, a), await row(engine, b)
    async with engine.begin() as conn:
        await conn.execute(delete(STUDENTS).where(STUDENTS.c.event_seq.in_([a, b])))
        for seq, source in ((a, second), (b, first)):
            values = {k: v for k, v in source.items() if k != "seq"}
            await conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(**values))
            rows = [{"event_seq": seq, "student_id": s} for s in source["student_ids"]]
            if rows:
                await conn.execute(STUDENTS.insert(), rows)


async def delete_head(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(CHAIN))
