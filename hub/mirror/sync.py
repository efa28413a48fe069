"""Keeping a mirror fresh: full reads, deltas from a change feed, and surviving outages.

Per entity, at its interval (rosters every 15 minutes, gradebook and
attendance every 60 s by default): when the adapter has a
:class:`~hub.sdk.ChangeFeed` and a watermark is held, the changes since it
are applied; otherwise (and at the reconciliation interval, nightly by
default) the entity is read in full and the mirror made equal to it, which
also removes rows the vendor deleted. A vendor failure costs nothing but
freshness: the mirror keeps serving what it holds, ``mirror_state.last_error``
and :class:`~hub.mirror.freshness.Freshness` say why, and the next interval
tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.metrics import SYNC_SECONDS
from hub.mirror.control import SyncLock, forget_syncer, holder_name, note_syncer
from hub.mirror.freshness import Freshness
from hub.mirror.store import EntityState, MirrorStore
from hub.model import Entity
from hub.sdk import (
    Adapter,
    ChangeFeed,
    Changes,
    FetchRequest,
    SourceError,
    background_reads,
    fetch_every_page,
)

__all__ = [
    "DEFAULT_INTERVALS",
    "GRADEBOOK_ENTITIES",
    "MirrorSync",
    "SyncIntervals",
    "decode_fields",
    "encode_fields",
]

log = logging.getLogger("homeroom.mirror")

GRADEBOOK_ENTITIES = frozenset(
    {Entity.ASSIGNMENT, Entity.SCORE, Entity.COURSE_GRADE, Entity.ATTENDANCE_EVENT}
)
"""Entities that change during the school day; every other entity is roster data."""


@dataclass(frozen=True, slots=True)
class SyncIntervals:
    """Seconds between syncs of roster and gradebook entities, between full
    reconciliations, and between two looks at the store (``tick``: resync
    requests, the sync lock, the other processes' progress)."""

    rosters: float = 900.0
    gradebook: float = 60.0
    reconcile: float = 86_400.0
    tick: float = 10.0
    read: float = 3_600.0
    """The most one of the sync's reads may take (``mirror_read_seconds``)."""

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> SyncIntervals:
        """The intervals of a validated ``[[sources]]`` table (defaults where absent)."""
        defaults = cls()
        return cls(
            rosters=float(table.get("mirror_rosters_seconds", defaults.rosters)),
            gradebook=float(table.get("mirror_gradebook_seconds", defaults.gradebook)),
            reconcile=float(table.get("mirror_reconcile_seconds", defaults.reconcile)),
            tick=min(defaults.tick, float(table.get("mirror_gradebook_seconds", defaults.gradebook))),
            read=float(table.get("mirror_read_seconds", defaults.read)),
        )

    def of(self, entity: Entity) -> float:
        """The interval of ``entity``."""
        return self.gradebook if entity in GRADEBOOK_ENTITIES else self.rosters


DEFAULT_INTERVALS = SyncIntervals()
"""15 minutes for rosters, 60 s for gradebook and attendance, a full read nightly."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def encode_fields(fields: frozenset[str]) -> str:
    """``mirror_state.fields``: the attributes a full read stored, as a sorted JSON list."""
    return json.dumps(sorted(fields))


def decode_fields(stored: str | None) -> frozenset[str] | None:
    """The attributes of :func:`encode_fields` (``None`` when unknown: read in full)."""
    if stored is None:
        return None
    try:
        names = json.loads(stored)
    except ValueError:
        return None
    return frozenset(str(name) for name in names) if isinstance(names, list) else None


class MirrorSync:
    """Reads ``inner``'s records into ``store`` under the name ``source``.

    ``stored`` gives, when called, the attributes to keep per entity (they
    change with the policy). ``freshness`` is updated after every sync.
    """

    def __init__(
        self,
        inner: Adapter,
        store: MirrorStore,
        stored: Callable[[], Mapping[Entity, frozenset[str]]],
        *,
        freshness: Freshness,
        intervals: SyncIntervals = DEFAULT_INTERVALS,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.inner = inner
        self.store = store
        self.source = inner.name
        self.stored = stored
        self.freshness = freshness
        self.intervals = intervals
        self.clock = clock
        self.lock = SyncLock(store.engine, self.source)
        self.holder = holder_name()
        self.pending: set[Entity] = set()
        """Entities to read in full before the mirror serves (none held, or held with fewer attributes)."""
        self.first_attempt = asyncio.Event()
        """Set once the first sync was tried (or found unneeded), whether it succeeded or not."""
        self._lock = asyncio.Lock()
        self.writes = asyncio.Lock()
        """Held around each write of this sync to the store (not its vendor reads):
        a policy erase waits for a write under way, so nothing it erased is written back."""
        self._last_full: dict[Entity, dt.datetime] = {}

    async def full(self, entity: Entity, fields: frozenset[str] | None = None) -> int:
        """Read ``entity`` in full and make the mirror equal to it; returns its row count.

        With a change feed, its starting watermark is taken *before* the read,
        so a change made while reading is applied by the next delta.
        """
        with SYNC_SECONDS.labels(self.source, "full").time():
            return await self._full(entity, fields)

    async def _full(self, entity: Entity, fields: frozenset[str] | None) -> int:
        kept_before = self.stored().get(entity, frozenset())
        fields = kept_before if fields is None else fields
        async with self._lock, self._background():
            feed = self.inner if isinstance(self.inner, ChangeFeed) else None
            start = await self._starting_point(feed, entity, fields) if feed is not None else None
            at = self.clock()
            request = FetchRequest(entity=entity, fields=fields)
            records = await fetch_every_page(functools.partial(self.inner.fetch), request)
            async with self.writes:
                # A field the policy withdrew while the vendor was read is not written back.
                fields = fields - (kept_before - self.stored().get(entity, frozenset()))
                counts = await self.store.replace_all(self.source, entity, records, fields, at)
                if start is not None:
                    if start.records:
                        await self.store.upsert(self.source, entity, start.records, fields, at)
                    # An incomplete answer means no usable feed: full reads only.
                    watermark = start.watermark if start.complete else None
                    await self.store.set_state(self.source, entity, watermark=watermark)
                # Recorded last: a crash before it leaves the entity to be read in full again.
                await self.store.set_state(
                    self.source, entity, fields=encode_fields(fields), resync_requested=None
                )
            self._last_full[entity] = at
            self.freshness.rows[entity] = counts.written
            self._synced(entity, at)
            return counts.written

    @contextlib.asynccontextmanager
    async def _background(self) -> AsyncIterator[None]:
        # No dashboard waits for a sync's read: it may take past the per-query total_timeout.
        with background_reads(self.intervals.read):
            yield

    async def _starting_point(
        self, feed: ChangeFeed, entity: Entity, fields: frozenset[str]
    ) -> Changes | None:
        """Where the feed starts, asked before a full read. A feed that fails
        to say does not stop the full read: the watermark held (if any, older
        than this read) stays, and a delta from it only applies again what
        the read already holds."""
        try:
            return await feed.changes(entity, None, fields)
        except SourceError as exc:
            log.warning(
                "source %s: %s change feed gave no starting point (%s); reading in full",
                self.source,
                entity.value,
                exc.reason,
            )
            return None

    async def delta(self, entity: Entity, feed: ChangeFeed, since: str) -> int:
        """Apply the changes since ``since``; returns how many rows changed or went."""
        with SYNC_SECONDS.labels(self.source, "delta").time():
            return await self._delta(entity, feed, since)

    async def _delta(self, entity: Entity, feed: ChangeFeed, since: str) -> int:
        fields = self.stored()[entity]
        async with self._lock, self._background():
            at = self.clock()
            changes = await feed.changes(entity, since, fields)
            if not changes.complete:
                log.info("source %s: %s change feed has a gap; reading it in full", self.source, entity.value)
        if not changes.complete:
            return await self.full(entity, fields)
        async with self._lock, self.writes:
            # What the policy still wants now: an erase since the read must not be undone.
            fields = fields & self.stored().get(entity, frozenset())
            if changes.records:
                await self.store.upsert(self.source, entity, changes.records, fields, at)
            if changes.deleted:
                await self.store.delete(self.source, entity, changes.deleted)
            await self.store.set_state(self.source, entity, last_delta_sync=at, last_error=None)
            if changes.watermark is not None:
                await self.store.set_state(self.source, entity, watermark=changes.watermark)
            self._synced(entity, at)
        if changes.records or changes.deleted:
            log.info(
                "source %s: %s: %d changed, %d deleted",
                self.source,
                entity.value,
                len(changes.records),
                len(changes.deleted),
            )
        return len(changes.records) + len(changes.deleted)

    async def resume(self) -> set[Entity]:
        """Take up what the store holds of this source: an entity whose last full
        read stored the attributes wanted now (or more: those are erased) is
        served at once, its freshness that of its last sync; the others are
        left in :attr:`pending` for a full read. Returns :attr:`pending`."""
        states = await self.store.state(self.source)
        # What the previous holder wrote last may not have reached this process's copies.
        await self.store.follow(self.source, states)
        pending: set[Entity] = set()
        for entity, fields in self.stored().items():
            state = states.get(entity)
            held = decode_fields(state.fields) if state is not None else None
            if held is not None and held - fields:
                # Withdrawn while the hub was down: not kept a moment longer (even
                # when the entity also waits for a full read of a newly granted one).
                await self.store.erase(self.source, entity, held - fields)
                held = held & fields
                await self.store.set_state(self.source, entity, fields=encode_fields(held))
            if state is None or state.last_full_sync is None or held is None or fields - held:
                pending.add(entity)
                continue
            self._last_full[entity] = state.last_full_sync
            self._follow(entity, state)
        self.pending = pending
        if self.store.held is not None:
            await self.store.held.warm(
                self.source, [entity for entity in self.stored() if entity not in pending]
            )
        if pending:
            log.info(
                "source %s: %d of %d entities to read in full; serving the others from the mirror",
                self.source,
                len(pending),
                len(self.stored()),
            )
        return pending

    async def first_sync(self) -> dict[str, int]:
        """Read every :attr:`pending` entity in full (all of them on a first
        start), logging rows per entity as it goes; a vendor failure propagates
        (what was read stays read)."""
        counts: dict[str, int] = {}
        order = [entity for entity in self.stored() if entity in self.pending]
        for done, entity in enumerate(order, start=1):
            counts[entity.value] = await self.full(entity)
            self.pending.discard(entity)
            log.info(
                "source %s: first sync %d/%d: %s %d rows",
                self.source,
                done,
                len(order),
                entity.value,
                counts[entity.value],
            )
        self.freshness.first_sync_done = True
        self.freshness.succeeded(None)
        self.first_attempt.set()
        return counts

    async def sync_once(self, entity: Entity) -> None:
        """One scheduled sync of ``entity``: a delta when possible, else a full read.
        Failures are recorded, never raised."""
        try:
            state = (await self.store.state(self.source)).get(entity)
            watermark = state.watermark if state is not None else None
            requested = state is not None and state.resync_requested is not None
            reconcile_due = self.clock() - self._last_full.get(entity, self.clock()) >= dt.timedelta(
                seconds=self.intervals.reconcile
            )
            feed = self.inner if isinstance(self.inner, ChangeFeed) else None
            if feed is not None and watermark is not None and not (reconcile_due or requested):
                await self.delta(entity, feed, watermark)
            else:
                if requested:
                    log.info("source %s: %s re-read in full as requested", self.source, entity.value)
                await self.full(entity)
            self.freshness.succeeded(entity)
        except SourceError as exc:
            self._failed(entity, exc.reason)
            await self._note_error(entity, exc.reason)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug or a database outage must not stop the loop; the mirror keeps serving.
            reason = f"sync error ({type(exc).__name__})"
            self._failed(entity, reason)
            await self._note_error(entity, reason)

    async def run(self, stop: asyncio.Event) -> None:
        """Sync each entity at its interval until ``stop`` is set.

        Each tick: while another process holds the source's lock, follow its
        progress in ``mirror_state``; once this one holds it, resume (read what
        is :attr:`pending` first, then catch up the others at once), take up
        resync requests, and sync what is due."""
        due: dict[Entity, dt.datetime] = {}
        resumed = False
        try:
            while not stop.is_set():
                wait = self.intervals.tick
                if await self._take_lock():
                    if not resumed:
                        # What the store holds may have been written by the previous holder;
                        # what was resumed is caught up at once (a delta after a restart).
                        await self.resume()
                        now = self.clock()
                        due = {entity: now for entity in self.stored()}
                        resumed = True
                    await self._beat()
                    if self.pending:
                        reading = set(self.pending)
                        await self._first_sync_attempt()
                        now = self.clock()
                        for entity in reading - self.pending:  # just read in full
                            due[entity] = now + dt.timedelta(seconds=self.intervals.of(entity))
                    if not self.pending:
                        await self._sync_due(due, stop)
                    now = self.clock()
                    upcoming = min((when - now).total_seconds() for when in due.values()) if due else wait
                    wait = min(wait, max(upcoming, 0.0))
                else:
                    resumed = False
                    await self._follow_store()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=wait)
        finally:
            await self._stand_down()

    async def _take_lock(self) -> bool:
        try:
            return await self.lock.acquire()
        except Exception as exc:  # the database is away: serve what is held, try again next tick
            log.warning(
                "source %s: cannot reach the store for the sync lock (%s)", self.source, type(exc).__name__
            )
            return False

    async def _first_sync_attempt(self) -> None:
        try:
            await self.first_sync()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = exc.reason if isinstance(exc, SourceError) else f"sync error ({type(exc).__name__})"
            self.freshness.failed(None, reason)
            log.warning("source %s: the first sync failed: %s; trying again", self.source, reason)
            self.first_attempt.set()

    async def _sync_due(self, due: dict[Entity, dt.datetime], stop: asyncio.Event) -> None:
        try:
            states = await self.store.state(self.source)
        except Exception:
            states = {}
        for entity, state in states.items():
            if entity in due and state.resync_requested is not None:
                due[entity] = self.clock()  # asked for by an admin: now, not at the interval
        for entity, when in sorted(due.items(), key=lambda item: item[1]):
            if when <= self.clock() and not stop.is_set():
                await self.sync_once(entity)
                # At a fixed rate from when it was due, not from when this sync (and those
                # before it in the tick) ended: a change waits at most one interval plus
                # one read (measured by bench.realtime: up to 2.5 s more, before).
                due[entity] = max(when + dt.timedelta(seconds=self.intervals.of(entity)), self.clock())

    async def _follow_store(self) -> None:
        """Another process syncs: serve its data, with its freshness and errors."""
        try:
            states = await self.store.state(self.source)
        except Exception as exc:
            log.warning("source %s: cannot read the sync state (%s)", self.source, type(exc).__name__)
            return
        await self.store.follow(self.source, states)
        wanted = self.stored()
        complete = True
        errors: dict[Entity | None, str] = {}
        for entity, fields in wanted.items():
            state = states.get(entity)
            held = decode_fields(state.fields) if state is not None else None
            if state is None or state.last_full_sync is None or held is None or fields - held:
                complete = False
            if state is not None:
                self._follow(entity, state)
                if state.last_error:
                    errors[entity] = state.last_error
        self.freshness.errors = errors
        if complete and not self.freshness.first_sync_done:
            self.freshness.first_sync_done = True
            self.pending = set()
            log.info("source %s: served from the mirror another process syncs", self.source)
        if complete or errors:
            self.first_attempt.set()

    def _follow(self, entity: Entity, state: EntityState) -> None:
        if state.last_sync is not None:
            self.freshness.synced_at[entity] = state.last_sync
        if state.rows is not None:
            self.freshness.rows[entity] = state.rows

    async def _beat(self) -> None:
        try:
            await note_syncer(self.store.engine, self.source, self.holder, self.clock())
        except Exception as exc:
            log.warning("source %s: cannot note the syncer (%s)", self.source, type(exc).__name__)

    async def _stand_down(self) -> None:
        if not self.lock.held:
            return
        with contextlib.suppress(Exception):
            await forget_syncer(self.store.engine, self.source, self.holder)
        with contextlib.suppress(Exception):
            await self.lock.release()

    def _synced(self, entity: Entity, at: dt.datetime) -> None:
        self.freshness.synced_at[entity] = at

    def _failed(self, entity: Entity, reason: str) -> None:
        self.freshness.failed(entity, reason)
        log.warning("source %s: sync of %s failed: %s; serving the mirror", self.source, entity.value, reason)

    async def _note_error(self, entity: Entity, reason: str) -> None:
        try:
            await self.store.set_state(self.source, entity, last_error=reason)
        except Exception as exc:
            log.warning("source %s: cannot record the sync failure (%s)", self.source, type(exc).__name__)
