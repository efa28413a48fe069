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
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.mirror.freshness import Freshness
from hub.mirror.store import MirrorStore
from hub.model import Entity
from hub.sdk import Adapter, ChangeFeed, FetchRequest, SourceError, fetch_every_page

__all__ = ["DEFAULT_INTERVALS", "GRADEBOOK_ENTITIES", "MirrorSync", "SyncIntervals"]

log = logging.getLogger("homeroom.mirror")

GRADEBOOK_ENTITIES = frozenset(
    {Entity.ASSIGNMENT, Entity.SCORE, Entity.COURSE_GRADE, Entity.ATTENDANCE_EVENT}
)
"""Entities that change during the school day; every other entity is roster data."""


@dataclass(frozen=True, slots=True)
class SyncIntervals:
    """Seconds between syncs of roster and gradebook entities, and between full reconciliations."""

    rosters: float = 900.0
    gradebook: float = 60.0
    reconcile: float = 86_400.0

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> SyncIntervals:
        """The intervals of a validated ``[[sources]]`` table (defaults where absent)."""
        defaults = cls()
        return cls(
            rosters=float(table.get("mirror_rosters_seconds", defaults.rosters)),
            gradebook=float(table.get("mirror_gradebook_seconds", defaults.gradebook)),
            reconcile=float(table.get("mirror_reconcile_seconds", defaults.reconcile)),
        )

    def of(self, entity: Entity) -> float:
        """The interval of ``entity``."""
        return self.gradebook if entity in GRADEBOOK_ENTITIES else self.rosters


DEFAULT_INTERVALS = SyncIntervals()
"""15 minutes for rosters, 60 s for gradebook and attendance, a full read nightly."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
        self._lock = asyncio.Lock()
        self._last_full: dict[Entity, dt.datetime] = {}

    async def full(self, entity: Entity, fields: frozenset[str] | None = None) -> int:
        """Read ``entity`` in full and make the mirror equal to it; returns its row count.

        With a change feed, its starting watermark is taken *before* the read,
        so a change made while reading is applied by the next delta.
        """
        fields = self.stored()[entity] if fields is None else fields
        async with self._lock:
            feed = self.inner if isinstance(self.inner, ChangeFeed) else None
            start = await feed.changes(entity, None, fields) if feed is not None else None
            at = self.clock()
            request = FetchRequest(entity=entity, fields=fields)
            records = await fetch_every_page(functools.partial(self.inner.fetch), request)
            counts = await self.store.replace_all(self.source, entity, records, fields, at)
            if start is not None:
                if start.records:
                    await self.store.upsert(self.source, entity, start.records, fields, at)
                # An incomplete answer means no usable feed: full reads only.
                watermark = start.watermark if start.complete else None
                await self.store.set_state(self.source, entity, watermark=watermark)
            self._last_full[entity] = at
            self._synced(entity, at)
            return counts.written

    async def delta(self, entity: Entity, feed: ChangeFeed, since: str) -> int:
        """Apply the changes since ``since``; returns how many rows changed or went."""
        fields = self.stored()[entity]
        async with self._lock:
            at = self.clock()
            changes = await feed.changes(entity, since, fields)
            if not changes.complete:
                log.info("source %s: %s change feed has a gap; reading it in full", self.source, entity.value)
        if not changes.complete:
            return await self.full(entity, fields)
        async with self._lock:
            if changes.records:
                await self.store.upsert(self.source, entity, changes.records, fields, at)
            if changes.deleted:
                await self.store.delete(self.source, entity, changes.deleted)
            await self.store.set_state(self.source, entity, last_delta_sync=at, last_error=None)
            if changes.watermark is not None:
                await self.store.set_state(self.source, entity, watermark=changes.watermark)
            self._synced(entity, at)
        return len(changes.records) + len(changes.deleted)

    async def first_sync(self) -> dict[str, int]:
        """Read every entity in full (at start-up); a vendor failure propagates."""
        counts = {entity.value: await self.full(entity) for entity in self.stored()}
        self.freshness.first_sync_done = True
        self.freshness.last_error = None
        return counts

    async def sync_once(self, entity: Entity) -> None:
        """One scheduled sync of ``entity``: a delta when possible, else a full read.
        Failures are recorded, never raised."""
        try:
            watermark = await self._watermark(entity)
            reconcile_due = self.clock() - self._last_full.get(entity, self.clock()) >= dt.timedelta(
                seconds=self.intervals.reconcile
            )
            if isinstance(self.inner, ChangeFeed) and watermark is not None and not reconcile_due:
                await self.delta(entity, self.inner, watermark)
            else:
                await self.full(entity)
            self.freshness.last_error = None
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
        """Sync each entity at its interval until ``stop`` is set."""
        start = self.clock()
        due = {entity: start + dt.timedelta(seconds=self.intervals.of(entity)) for entity in self.stored()}
        while not stop.is_set():
            now = self.clock()
            wait = min((when - now).total_seconds() for when in due.values()) if due else 3600.0
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                continue
            for entity, when in sorted(due.items(), key=lambda item: item[1]):
                if when <= self.clock() and not stop.is_set():
                    await self.sync_once(entity)
                    due[entity] = self.clock() + dt.timedelta(seconds=self.intervals.of(entity))

    async def _watermark(self, entity: Entity) -> str | None:
        state = (await self.store.state(self.source)).get(entity)
        return state.watermark if state is not None else None

    def _synced(self, entity: Entity, at: dt.datetime) -> None:
        self.freshness.synced_at[entity] = at

    def _failed(self, entity: Entity, reason: str) -> None:
        self.freshness.last_error = reason
        log.warning("source %s: sync of %s failed: %s; serving the mirror", self.source, entity.value, reason)

    async def _note_error(self, entity: Entity, reason: str) -> None:
        try:
            await self.store.set_state(self.source, entity, last_error=reason)
        except Exception as exc:
            log.warning("source %s: cannot record the sync failure (%s)", self.source, type(exc).__name__)
