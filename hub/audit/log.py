"""The audit log: an append-only, hash-chained table of disclosures and refusals.

Appends are serialised so that every event links to the one before it, whatever
the number of hub processes: within a process by an asyncio lock, across
processes by the database (``pg_advisory_xact_lock`` on PostgreSQL, the write
lock taken by ``BEGIN IMMEDIATE`` on SQLite). The position (``seq``) is the
chain head + 1, assigned under that lock, so positions have no gaps. The
database checks it too: a trigger (initial migration) accepts an event only
where it extends the head, then moves the head and indexes the people named.

:meth:`AuditLog.record` returns only once the event is committed; any failure
becomes :class:`AuditUnavailable`, on which the caller must answer with an
error and no data (fail closed). Messages and logs here carry event numbers
and counts, never subjects, ids or field names.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import contextvars
import csv
import datetime as dt
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Row, Table, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.audit.events import (
    GENESIS_HASH,
    AuditEvent,
    EventKind,
    canonical_content,
    chain_hash,
    fields_of_person,
    format_at,
)
from hub.audit.rejections import RejectedTokenCounter
from hub.metrics import AUDIT_WRITE_FAILURES, AUDIT_WRITE_SECONDS
from hub.store.engine import is_postgres, write_transaction, writer_connection
from hub.store.tables import AuditChain, AuditCheckpoint, AuditEventRow, AuditEventStudent

__all__ = [
    "ADVISORY_LOCK_KEY",
    "AuditIntegrityError",
    "AuditLog",
    "AuditUnavailable",
    "ChainHead",
    "DisclosurePage",
    "ExportFormat",
    "Problem",
    "ProblemKind",
    "PurgeResult",
    "StoredEvent",
    "VerifyReport",
]

log = logging.getLogger("homeroom.audit")

EVENTS = cast(Table, AuditEventRow.__table__)
STUDENTS = cast(Table, AuditEventStudent.__table__)
CHAIN = cast(Table, AuditChain.__table__)
CHECKPOINTS = cast(Table, AuditCheckpoint.__table__)

# The PostgreSQL advisory lock every appender takes: "homeroom" in ASCII.
ADVISORY_LOCK_KEY = 0x686F6D65726F6F6D
_VERIFY_BATCH = 1000
# Mismatched rows compared pairwise to recognise a re-ordering; past this many
# the report just says "edited" (the chain is badly damaged anyway).
_MAX_REORDER_DIAGNOSIS = 256
MAX_PAGE = 500


class AuditUnavailable(Exception):
    """The audit event could not be committed. Answer with an error and no data."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"audit log unavailable: {reason}")


class _HeadMoved(Exception):
    """The append trigger refused an event: the head is not where we thought."""


# The message of the append trigger's refusal (SQLite RAISE / PostgreSQL HR001).
_HEAD_MOVED = "audit chain head moved"


class AuditIntegrityError(Exception):
    """The chain is damaged in a way that stops the operation (e.g. a purge)."""


class ExportFormat(StrEnum):
    """Formats of a parent's inspection export."""

    CSV = "csv"
    JSON = "json"


class ProblemKind(StrEnum):
    """How ``verify`` found the chain damaged."""

    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    INSERTED = "inserted"
    BROKEN_LINK = "broken-link"
    INDEX = "index"
    HEAD = "head"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of ``verify``, at event ``seq``."""

    seq: int
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest event's position and hash (0 and the genesis hash when empty)."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :meth:`AuditLog.verify`."""

    checked: int
    first_seq: int | None
    last_seq: int | None
    head: ChainHead | None
    checkpoint_seq: int | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Whether the chain is intact."""
        return not self.problems

    def describe(self) -> str:
        """A few lines for an administrator."""
        lines = []
        start = f" (after retention checkpoint at seq {self.checkpoint_seq})" if self.checkpoint_seq else ""
        if self.ok:
            span = f"seq {self.first_seq}..{self.last_seq}" if self.checked else "no events"
            lines.append(f"audit chain intact: {self.checked} events, {span}{start}")
        else:
            count = len(self.problems)
            lines.append(f"audit chain DAMAGED: {count} problem(s) in {self.checked} events{start}")
            lines.extend(f"  {problem}" for problem in self.problems)
        if self.head is not None:
            lines.append(f"head: seq {self.head.seq} hash {self.head.hash}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored, for the access log and exports. Read for one person,
    ``student_ids`` holds only that person and ``fields`` only the fields
    disclosed (or asked) about them: other people named by the same event, and
    what was shown of them, are not shown to this student's parents (34 CFR 99.12)."""

    seq: int
    at: dt.datetime
    kind: EventKind
    subject: str | None
    roles: tuple[str, ...]
    client: str | None
    operation: str | None
    query_hash: str | None
    purpose: str | None
    fields: Mapping[str, tuple[str, ...]]
    student_ids: tuple[str, ...]
    outcome: str
    hash: str

    @property
    def field_names(self) -> tuple[str, ...]:
        """``Type.field`` for every field named by the event."""
        return tuple(f"{t}.{name}" for t, names in self.fields.items() for name in names)

    @property
    def cursor(self) -> str:
        """An opaque paging cursor pointing at this event."""
        return encode_cursor(self.seq)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (export)."""
        return {
            "seq": self.seq,
            "at": format_at(self.at),
            "kind": self.kind.value,
            "subject": self.subject,
            "roles": list(self.roles),
            "client": self.client,
            "operation": self.operation,
            "purpose": self.purpose,
            "fields": {t: list(names) for t, names in self.fields.items()},
            "outcome": self.outcome,
            "queryHash": self.query_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class DisclosurePage:
    """One page of a student's access log, newest first."""

    items: tuple[StoredEvent, ...]
    has_next: bool
    end_cursor: str | None


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What a retention purge removed."""

    removed: int
    through_seq: int
    through_hash: str | None
    cutoff: dt.datetime


def encode_cursor(seq: int) -> str:
    """The opaque cursor of event ``seq``."""
    return base64.urlsafe_b64encode(f"audit:{seq}".encode()).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The event position in ``cursor``; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("'after' is not a cursor of this access log") from None
    prefix, _, number = raw.partition(":")
    if prefix != "audit" or not number.isdigit():
        raise ValueError("'after' is not a cursor of this access log")
    return int(number)


def _reason(exc: BaseException) -> str:
    """What went wrong, without the exception's text: a driver message may quote
    a bound value (a subject or a student id)."""
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(exc, "code", None)
    name = type(original).__name__ if original is not None else type(exc).__name__
    return f"{name} ({code})" if code else name


def _as_utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _stored(row: Row[Any], person_id: str | None) -> StoredEvent:
    m = row._mapping
    if person_id is not None:
        fields = dict(fields_of_person(m, person_id))
    else:
        fields = m["fields"] if isinstance(m["fields"], dict) else {}
    return StoredEvent(
        seq=m["seq"],
        at=_as_utc(m["at"]),
        kind=EventKind(m["kind"]),
        subject=m["subject"],
        roles=tuple(m["roles"] or ()),
        client=m["client"],
        operation=m["operation"],
        query_hash=m["query_hash"],
        purpose=m["purpose"],
        fields={t: tuple(names) for t, names in sorted(fields.items())},
        student_ids=(person_id,) if person_id is not None else tuple(m["student_ids"] or ()),
        outcome=m["outcome"],
        hash=m["hash"],
    )


# --- verification --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Mismatch:
    seq: int
    prev_hash: str
    content: bytes
    stored_hash: str
    version: int


def _content_and_version(row: Mapping[Any, Any]) -> tuple[bytes, int]:
    """The canonical bytes of a stored row under its own hash version (empty
    when they cannot be formed: an unknown version, a column of the wrong type).

    A v1 row must hold what the migration gave it (no field sets, one
    occurrence): v1 hashes do not cover those columns, so anything else there
    was written around the log.
    """
    try:
        version = int(row["hash_version"]) if "hash_version" in row else 1
        if version == 1 and (row.get("field_sets") is not None or row.get("occurrences", 1) != 1):
            return b"", version
        return canonical_content(row, version), version
    except (TypeError, ValueError, KeyError):
        return b"", 0


@dataclass(slots=True)
class _Scan:
    """Walks events in ``seq`` order and collects what is wrong with the chain."""

    start_seq: int
    start_hash: str
    head: ChainHead | None
    anchors: Mapping[int, str]
    expected: int = 0
    last_hash: str = ""
    last_flagged: bool = False
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)
    mismatched: list[_Mismatch] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.expected = self.start_seq + 1
        self.last_hash = self.start_hash

    def feed(self, row: Mapping[Any, Any] | None, seq: int, index: Collection[str] | None) -> None:
        """Check event ``seq`` (``row`` is ``None`` when it could not be read)."""
        self.checked += 1
        if self.head is not None and seq > self.head.seq:
            # Not part of the chain at all: say so, and check nothing else about it.
            self.problems.append(
                Problem(
                    seq,
                    ProblemKind.INSERTED,
                    f"past the chain head (seq {self.head.seq}): not written through the log",
                )
            )
            return
        gap = seq > self.expected
        if gap:
            missing = (
                f"event {self.expected} is"
                if seq == self.expected + 1
                else (f"events {self.expected}..{seq - 1} are")
            )
            self.problems.append(Problem(self.expected, ProblemKind.DELETED, f"{missing} missing"))
        flagged = False
        if row is None:
            self.problems.append(Problem(seq, ProblemKind.EDITED, "the row cannot be read (hand-edited?)"))
            flagged = True
            stored_hash = ""
        else:
            stored_hash = str(row["hash"])
            content, version = _content_and_version(row)
            if not content or chain_hash(seq, str(row["prev_hash"]), content, version) != stored_hash:
                flagged = True
                self.mismatched.append(_Mismatch(seq, str(row["prev_hash"]), content, stored_hash, version))
                self.problems.append(Problem(seq, ProblemKind.EDITED, "its content does not match its hash"))
            elif not gap and not self.last_flagged and row["prev_hash"] != self.last_hash:
                before = "the retention checkpoint" if seq == self.start_seq + 1 else f"event {seq - 1}"
                self.problems.append(
                    Problem(
                        seq,
                        ProblemKind.BROKEN_LINK,
                        f"chained to a hash {before} does not have: {before} or this event was rewritten",
                    )
                )
            expected_anchor = self.anchors.get(seq)
            if expected_anchor is not None and expected_anchor != stored_hash:
                self.problems.append(Problem(seq, ProblemKind.EDITED, "hash differs from the anchor"))
            if index is not None:
                listed = row["student_ids"]
                named = set(listed) if isinstance(listed, list) else set()
                if named != set(index):
                    extra, absent = len(set(index) - named), len(named - set(index))
                    self.problems.append(
                        Problem(
                            seq,
                            ProblemKind.INDEX,
                            f"the person index disagrees with the event ({absent} missing, {extra} extra)",
                        )
                    )
        self.last_hash = stored_hash
        self.last_flagged = flagged
        self.expected = seq + 1
        self.first_seq = seq if self.first_seq is None else self.first_seq
        self.last_seq = seq

    def finish(self) -> list[Problem]:
        """Close the scan against the chain head; diagnose re-orderings."""
        head = self.head
        if head is None:
            self.problems.append(
                Problem(self.last_seq or 0, ProblemKind.HEAD, "the chain head row is missing")
            )
        elif head.seq >= self.expected:
            what = (
                f"event {head.seq} is"
                if head.seq == self.expected
                else f"events {self.expected}..{head.seq} are"
            )
            self.problems.append(
                Problem(self.expected, ProblemKind.DELETED, f"{what} missing (newest events)")
            )
        elif head.seq == self.expected - 1 and head.hash != self.last_hash and not self.last_flagged:
            self.problems.append(
                Problem(head.seq, ProblemKind.HEAD, "the chain head's hash differs from this event's")
            )
        self._diagnose_reorders()
        return sorted(self.problems, key=lambda p: (p.seq, p.kind.value))

    def _diagnose_reorders(self) -> None:
        # A moved event verifies at the position it was written at: try the
        # other damaged positions (a swap damages both).
        candidates = self.mismatched[:_MAX_REORDER_DIAGNOSIS]
        moved: dict[int, int] = {}
        for m in candidates:
            if not m.content:
                continue
            for other in candidates:
                if (
                    other.seq != m.seq
                    and chain_hash(other.seq, m.prev_hash, m.content, m.version) == m.stored_hash
                ):
                    moved[m.seq] = other.seq
                    break
        if not moved:
            return
        self.problems = [
            Problem(p.seq, ProblemKind.REORDERED, f"it holds the event written as seq {moved[p.seq]}")
            if p.kind is ProblemKind.EDITED and p.seq in moved
            else p
            for p in self.problems
        ]


# --- the log -------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Pending:
    """One event waiting for its group's commit; ``written`` gets its ``seq``."""

    content: dict[str, Any]
    canonical: bytes
    written: asyncio.Future[int]


def _fail(group: list[_Pending], exc: BaseException) -> None:
    """Each waiting event of ``group`` raises ``exc`` from its ``written``."""
    for pending in group:
        if not pending.written.done():
            pending.written.set_exception(exc)
            pending.written.exception()  # retrieved: each waiter raises it from result()


class AuditLog:
    """Append, verify, page, export and purge the audit events in ``engine``'s store.

    ``timeout`` bounds one append (seconds), its wait for the group commit
    included: a store that hangs must fail the request, not hold it forever;
    a hub merely busy (200 dashboards at once on two cores, each taking 20 s
    or more) must not fail them.
    """

    def __init__(self, engine: AsyncEngine, *, timeout: float = 30.0) -> None:
        self.engine = engine
        self.timeout = timeout
        self._postgres = is_postgres(engine)
        # One appender at a time per process; the database lock orders processes.
        self._lock = asyncio.Lock()
        # Appends reuse one connection and the head this process wrote last: a
        # request's audit cost is then BEGIN, one INSERT and COMMIT. The cached
        # head is only a guess: the append trigger refuses it when it is stale.
        self._writer: AsyncConnection | None = None
        self._cached_head: ChainHead | None = None
        self._contended = False
        # Events waiting for the next group commit (see record).
        self._queue: list[_Pending] = []
        self._writing: asyncio.Task[None] | None = None
        # Rejected tokens are counted and written once per client and minute.
        self.rejected_tokens = RejectedTokenCounter(self.record)

    async def __aenter__(self) -> AuditLog:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Write the rejected tokens counted so far, then return the append
        connection to the engine's pool (before ``engine.dispose()``)."""
        await self.rejected_tokens.flush_all()
        async with self._lock:
            await self._drop_writer()

    async def _drop_writer(self) -> None:
        writer, self._writer, self._cached_head = self._writer, None, None
        if writer is not None:
            with contextlib.suppress(Exception):
                await writer.invalidate()
            with contextlib.suppress(Exception):
                await writer.close()

    # -- writing --

    async def record(self, event: AuditEvent) -> int:
        """Append ``event`` and commit; returns its position (``seq``).

        Raises :class:`AuditUnavailable` if it cannot be committed.

        Appends are committed in groups by one writer task: events recorded
        while a group is being written wait for the next one, and each group
        is written in one transaction (one commit, one fsync). Under load (200
        dashboards at once, a burst of subscription events) a request then
        waits for one or two commits, not for every other request's, and its
        answer still leaves only once its own event is committed. The waiters
        never queue on a lock themselves: with a thousand of them, each
        acquisition scanned every waiter (measured: half of a burst's audit time).
        """
        content = event.content()
        canonical = canonical_content(content)  # before the queue: it orders all appenders
        pending = _Pending(content, canonical, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        self._start_writing()
        try:
            async with asyncio.timeout(self.timeout):
                # Shielded: a caller giving up never cancels the group others wait for.
                return await asyncio.shield(pending.written)
        except AuditUnavailable as exc:
            log.error("audit event NOT written: %s", exc.reason)
            raise
        except Exception as exc:
            reason = _reason(exc)
            log.error("audit event NOT written: %s", reason)
            raise AuditUnavailable(reason) from None
        finally:
            if not pending.written.done() and pending in self._queue:
                self._queue.remove(pending)  # given up before a group took it: not written

    def _start_writing(self) -> None:
        """The writer task, started when none runs on this loop."""
        loop = asyncio.get_running_loop()
        writing = self._writing
        if writing is None or writing.done() or writing.get_loop() is not loop:
            # A context of its own: it writes every request's events, not the one that started it.
            self._writing = loop.create_task(self._write_waiting(), context=contextvars.Context())

    async def _write_waiting(self) -> None:
        """Write the waiting events, a group at a time, until none waits."""
        try:
            while self._queue:
                async with self._lock:
                    group, self._queue = self._queue, []
                    try:
                        # A store that hangs fails the group, never the writer for good.
                        async with asyncio.timeout(self.timeout):
                            await self._write_group(group)
                    except TimeoutError:
                        _fail(group, TimeoutError())
        except BaseException:
            # Stopped (the loop is closing): nobody waits for a writer that is gone, and
            # what they were refused is never written later by another.
            queued, self._queue = self._queue, []
            _fail(queued, AuditUnavailable("the audit writer stopped"))
            raise

    async def _write_group(self, group: list[_Pending]) -> None:
        """Commit ``group`` in one transaction and settle each one's future (its
        ``seq``, or the failure, which every event of the group shares)."""
        started = time.perf_counter()
        try:
            try:
                seqs = await self._append(group)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # The held connection died (database restarted): one more try
                # on a fresh one. Should the lost commit have landed, the
                # events are recorded twice, never lost.
                seqs = await self._append(group)
        except Exception as exc:
            AUDIT_WRITE_FAILURES.inc()
            _fail(group, exc)
            return
        except BaseException:
            # Cancelled (timed out, or the loop is closing): the group is not written.
            AUDIT_WRITE_FAILURES.inc()
            _fail(group, TimeoutError())
            raise
        AUDIT_WRITE_SECONDS.observe(time.perf_counter() - started)
        for pending, seq in zip(group, seqs, strict=True):
            if not pending.written.done():
                pending.written.set_result(seq)

    async def _lock_chain(self, conn: AsyncConnection) -> None:
        if self._postgres:
            # Held until commit: the next appender then reads the head we wrote.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})

    async def _append(self, group: list[_Pending]) -> list[int]:
        guess = None if self._contended else self._cached_head
        try:
            head, seqs = await self._insert(group, guess)
        except _HeadMoved:
            # Another process appended since our last event: read the head from now on.
            self._contended = True
            head, seqs = await self._insert(group, None)
        self._cached_head = head
        return seqs

    async def _insert(self, group: list[_Pending], head: ChainHead | None) -> tuple[ChainHead, list[int]]:
        """One transaction: lock, (read the head,) insert the group's events after it.

        The append trigger (see the initial migration) refuses an event that
        does not extend the head, moves the head and indexes the students, so
        with a known head this is one INSERT per event. Returns the new head
        and each event's position.
        """
        if self._writer is None:
            self._writer = await writer_connection(self.engine)
        conn = self._writer
        try:
            async with conn.begin():
                await self._lock_chain(conn)
                if head is None:
                    head = await self._head(conn)
                    if head is None:
                        raise AuditUnavailable("the audit chain head is missing; run `homeroom audit verify`")
                    if head == self._cached_head:
                        self._contended = False  # nobody else wrote meanwhile
                seqs = []
                rows = []
                for pending in group:
                    seq = head.seq + 1
                    digest = chain_hash(seq, head.hash, pending.canonical)
                    rows.append({"seq": seq, **pending.content, "prev_hash": head.hash, "hash": digest})
                    head = ChainHead(seq, digest)
                    seqs.append(seq)
                # One statement for the group (the append trigger still checks each row in order).
                await conn.execute(insert(EVENTS), rows)
        except DBAPIError as exc:
            if _HEAD_MOVED in str(exc.orig):
                raise _HeadMoved from None
            await self._drop_writer()
            raise
        except BaseException:
            await self._drop_writer()
            raise
        return head, seqs

    # -- reading --

    async def _head(self, conn: AsyncConnection) -> ChainHead | None:
        row = (await conn.execute(select(CHAIN.c.head_seq, CHAIN.c.head_hash).where(CHAIN.c.id == 1))).first()
        return ChainHead(int(row.head_seq), str(row.head_hash)) if row is not None else None

    async def _checkpoint(self, conn: AsyncConnection) -> tuple[int, str] | None:
        row = (
            await conn.execute(
                select(CHECKPOINTS.c.through_seq, CHECKPOINTS.c.through_hash)
                .order_by(CHECKPOINTS.c.through_seq.desc())
                .limit(1)
            )
        ).first()
        return (int(row.through_seq), str(row.through_hash)) if row is not None else None

    async def head(self) -> ChainHead:
        """The newest event's position and hash (anchor it elsewhere to detect a rewrite)."""
        async with self.engine.connect() as conn:
            head = await self._head(conn)
        if head is None:
            raise AuditIntegrityError("the audit chain head is missing; run `homeroom audit verify`")
        return head

    async def _rows(
        self, conn: AsyncConnection, after: int, through: int | None
    ) -> AsyncIterator[list[tuple[int, Mapping[Any, Any] | None]]]:
        """Events with ``after < seq <= through`` in batches; an unreadable row
        (a hand-written value the driver cannot decode) comes back as ``None``."""
        while True:
            where = [EVENTS.c.seq > after] + ([EVENTS.c.seq <= through] if through is not None else [])
            stmt = select(EVENTS).where(*where).order_by(EVENTS.c.seq).limit(_VERIFY_BATCH)
            batch: list[tuple[int, Mapping[Any, Any] | None]]
            try:
                batch = [(int(r.seq), r._mapping) for r in (await conn.execute(stmt)).all()]
            except (ValueError, TypeError):
                seqs = (
                    (
                        await conn.execute(
                            select(EVENTS.c.seq).where(*where).order_by(EVENTS.c.seq).limit(_VERIFY_BATCH)
                        )
                    )
                    .scalars()
                    .all()
                )
                batch = []
                for seq in seqs:
                    try:
                        one = (await conn.execute(select(EVENTS).where(EVENTS.c.seq == seq))).one()
                        batch.append((int(seq), one._mapping))
                    except (ValueError, TypeError):
                        batch.append((int(seq), None))
            if not batch:
                return
            yield batch
            after = batch[-1][0]

    async def _index(self, conn: AsyncConnection, low: int, high: int) -> dict[int, set[str]]:
        rows = await conn.execute(
            select(STUDENTS.c.event_seq, STUDENTS.c.student_id).where(
                STUDENTS.c.event_seq >= low, STUDENTS.c.event_seq <= high
            )
        )
        out: dict[int, set[str]] = {}
        for seq, student_id in rows:
            out.setdefault(int(seq), set()).add(str(student_id))
        return out

    async def _scan(
        self,
        conn: AsyncConnection,
        start: tuple[int, str],
        head: ChainHead | None,
        through: int | None,
        anchors: Mapping[int, str],
    ) -> _Scan:
        scan = _Scan(start[0], start[1], head, anchors)
        async for batch in self._rows(conn, start[0], through):
            index = await self._index(conn, batch[0][0], batch[-1][0])
            for seq, row in batch:
                scan.feed(row, seq, index.get(seq, set()))
        return scan

    async def verify(self, anchors: Mapping[int, str] | None = None) -> VerifyReport:
        """Check the whole chain: every event's hash, every link, no gaps, the
        head, and the person index. ``anchors`` ({seq: hash}, e.g. head hashes
        printed by earlier runs and kept elsewhere) must still match: that
        catches a chain rewritten from some point on with recomputed hashes."""
        async with self.engine.connect() as conn:
            if self._postgres:
                # One snapshot for the whole walk: appends made meanwhile are not half-seen.
                await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                head = await self._head(conn)
                checkpoint = await self._checkpoint(conn)
                start = checkpoint or (0, GENESIS_HASH)
                scan = await self._scan(conn, start, head, None, anchors or {})
                early = (
                    (
                        await conn.execute(
                            select(EVENTS.c.seq)
                            .where(EVENTS.c.seq <= start[0])
                            .order_by(EVENTS.c.seq)
                            .limit(10)
                        )
                    )
                    .scalars()
                    .all()
                )
        problems = scan.finish()
        problems.extend(
            Problem(int(seq), ProblemKind.INSERTED, "older than the retention checkpoint") for seq in early
        )
        return VerifyReport(
            checked=scan.checked,
            first_seq=scan.first_seq,
            last_seq=scan.last_seq,
            head=head,
            checkpoint_seq=checkpoint[0] if checkpoint else None,
            problems=tuple(sorted(problems, key=lambda p: (p.seq, p.kind.value))),
        )

    async def disclosures_for(
        self,
        person_id: str,
        first: int = 50,
        after: str | None = None,
        *,
        kinds: Sequence[EventKind] = (EventKind.DISCLOSURE,),
    ) -> DisclosurePage:
        """The events naming ``person_id`` (a canonical hub id: a student, or a
        guardian or teacher), newest first (``accessLog``), each showing only the
        fields disclosed about that person.

        Raises ValueError for a bad ``first`` or ``after``.
        """
        if not 0 <= first <= MAX_PAGE:
            raise ValueError(f"'first' must be between 0 and {MAX_PAGE}")
        stmt = (
            select(EVENTS)
            .join(STUDENTS, STUDENTS.c.event_seq == EVENTS.c.seq)
            .where(STUDENTS.c.student_id == person_id, EVENTS.c.kind.in_([k.value for k in kinds]))
            .order_by(STUDENTS.c.event_seq.desc())
            .limit(first + 1)
        )
        if after is not None:
            stmt = stmt.where(STUDENTS.c.event_seq < decode_cursor(after))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        items = tuple(_stored(r, person_id) for r in rows[:first])
        return DisclosurePage(
            items=items, has_next=len(rows) > first, end_cursor=items[-1].cursor if items else None
        )

    async def events_for(
        self, person_id: str, kinds: Sequence[EventKind] = (EventKind.DISCLOSURE, EventKind.REFUSAL)
    ) -> list[StoredEvent]:
        """Every event naming ``person_id``, oldest first (a parent's inspection
        request), each showing only the fields asked or disclosed about that person."""
        stmt = (
            select(EVENTS)
            .join(STUDENTS, STUDENTS.c.event_seq == EVENTS.c.seq)
            .where(STUDENTS.c.student_id == person_id, EVENTS.c.kind.in_([k.value for k in kinds]))
            .order_by(STUDENTS.c.event_seq)
        )
        async with self.engine.connect() as conn:
            return [_stored(r, person_id) for r in (await conn.execute(stmt)).all()]

    async def export(self, person_id: str, format: ExportFormat | str = ExportFormat.JSON) -> str:
        """The record of requests and disclosures about ``person_id`` (34 CFR 99.32(c)),
        as CSV or JSON text: per event, the fields about that person only. Other
        people named by the same events are left out."""
        fmt = ExportFormat(format)
        events = await self.events_for(person_id)
        if fmt is ExportFormat.JSON:
            document = {
                "studentId": person_id,
                "generatedAt": format_at(dt.datetime.now(dt.UTC)),
                "events": [e.as_dict() for e in events],
            }
            return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for e in events:
            writer.writerow(
                _cell(v)
                for v in (
                    e.seq,
                    format_at(e.at),
                    e.kind.value,
                    e.subject,
                    ";".join(e.roles),
                    e.client,
                    e.operation,
                    e.purpose,
                    ";".join(e.field_names),
                    e.outcome,
                    e.hash,
                )
            )
        return out.getvalue()

    # -- retention --

    async def purge_older_than(self, days: int, *, now: dt.datetime | None = None) -> PurgeResult:
        """Delete the oldest events, those written more than ``days`` ago, and
        record a checkpoint (the last removed event's seq and hash) from which
        ``verify`` goes on. Only a prefix of the chain is removed, so an event
        stamped slightly out of order is kept a little longer, never orphaned.

        Refuses (:class:`AuditIntegrityError`) when the events to remove do not
        verify: a purge must not destroy the evidence of tampering.
        """
        if days < 1:
            raise ValueError("retention must be at least one day")
        cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
        async with self._lock, write_transaction(self.engine) as conn:
            await self._lock_chain(conn)
            head = await self._head(conn)
            if head is None:
                raise AuditIntegrityError("the audit chain head is missing; run `homeroom audit verify`")
            start = await self._checkpoint(conn) or (0, GENESIS_HASH)
            first_kept = (
                await conn.execute(
                    select(func.min(EVENTS.c.seq)).where(EVENTS.c.seq > start[0], EVENTS.c.at >= cutoff)
                )
            ).scalar()
            through = int(first_kept) - 1 if first_kept is not None else head.seq
            if through <= start[0]:
                return PurgeResult(0, start[0], None, cutoff)
            scan = await self._scan(conn, start, head, through, {})
            if scan.problems or scan.last_seq != through:
                raise AuditIntegrityError(
                    f"refusing to purge events {start[0] + 1}..{through}: they do not verify; "
                    "run `homeroom audit verify`"
                )
            await conn.execute(delete(STUDENTS).where(STUDENTS.c.event_seq <= through))
            removed = (await conn.execute(delete(EVENTS).where(EVENTS.c.seq <= through))).rowcount
            await conn.execute(
                insert(CHECKPOINTS),
                {
                    "at": dt.datetime.now(dt.UTC),
                    "through_seq": through,
                    "through_hash": scan.last_hash,
                    "removed": removed,
                    "retention_days": days,
                },
            )
        log.info("audit retention: removed %d events through seq %d", removed, through)
        return PurgeResult(removed, through, scan.last_hash, cutoff)


_CSV_COLUMNS = (
    "seq",
    "at",
    "kind",
    "subject",
    "roles",
    "client",
    "operation",
    "purpose",
    "fields",
    "outcome",
    "hash",
)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (the purpose and
    client come from callers)."""
    if value is None:
        return ""
    text_ = str(value)
    if text_[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text_
    return text_
