"""Events written before per-person field sets (hash v1, store revision 0001) keep
verifying after the 0002 migration, and new (v2) events chain onto them; what a v1
hash does not cover cannot be slipped into a v1 row unnoticed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditEvent, AuditLog, ProblemKind
from hub.audit.events import CONTENT_COLUMNS, canonical_content, chain_hash
from hub.audit.log import CHAIN, EVENTS
from hub.store import create_engine, upgrade
from tests.audit.helpers import event, row, set_columns, student


async def _write_as_v1(engine: AsyncEngine, events: list[AuditEvent]) -> None:
    """Append ``events`` the way the log did at revision 0001: the v1 columns,
    hashed under the v1 domain, through the append trigger."""
    async with engine.begin() as conn:
        head = (await conn.execute(select(CHAIN.c.head_seq, CHAIN.c.head_hash))).one()
        seq, prev = int(head.head_seq), str(head.head_hash)
        for e in events:
            seq += 1
            v1: dict[str, Any] = {name: e.content()[name] for name in CONTENT_COLUMNS[1]}
            digest = chain_hash(seq, prev, canonical_content(v1, version=1), version=1)
            await conn.execute(insert(EVENTS), {"seq": seq, **v1, "prev_hash": prev, "hash": digest})
            prev = digest


async def test_a_v1_chain_verifies_after_the_migration(store_url: str) -> None:
    await upgrade(store_url, "0001")
    engine = create_engine(store_url)
    try:
        await _write_as_v1(engine, [event(n, students=(1, n + 1)) for n in range(1, 5)])
        await upgrade(engine)
        async with AuditLog(engine) as audit:
            report = await audit.verify()
            assert report.ok, report.describe()
            assert report.checked == 4
            v2 = AuditEvent.create(
                "disclosure",
                subject="teacher-9",
                people={student(1): {"Student": ["givenName"]}, student(7): {"Student": ["birthDate"]}},
            )
            assert await audit.record(v2) == 5
            assert (await audit.verify()).ok
            assert [(await row(engine, seq))["hash_version"] for seq in range(1, 6)] == [1, 1, 1, 1, 2]
            old = await row(engine, 1)
            assert (old["field_sets"], old["occurrences"]) == (None, 1)

            # Student 1's log: the v2 event shows only what was shown of them; a
            # v1 event, which named one set for everyone, shows that set.
            items = (await audit.disclosures_for(student(1))).items
            assert [(e.seq, e.field_names) for e in items[:2]] == [
                (5, ("Student.givenName",)),
                (4, event(4).field_names()),
            ]

            # v1 hashes do not cover the new columns: filling them in is an edit.
            forged = [{"fields": {"Student": ["id"]}, "people": [student(1)]}]
            await set_columns(engine, 2, field_sets=forged)
            await set_columns(engine, 3, occurrences=40)
            report = await audit.verify()
            assert [(p.seq, p.kind) for p in report.problems] == [
                (2, ProblemKind.EDITED),
                (3, ProblemKind.EDITED),
            ]
            # ...and never read: student 1's log still shows event 2 as written.
            shown = {e.seq: e.field_names for e in (await audit.disclosures_for(student(1))).items}
            assert shown[2] == event(2).field_names()

            # A v2 event relabelled v1 does not verify either.
            await set_columns(engine, 5, hash_version=1, field_sets=None)
            assert (5, ProblemKind.EDITED) in [(p.seq, p.kind) for p in (await audit.verify()).problems]
    finally:
        await engine.dispose()
