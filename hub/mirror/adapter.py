"""A mirrored source: the ``Adapter`` protocol answered from the hub's database.

Built by composition around the vendor's adapter, the way an httpx transport
wraps another: the hub's policy plan, scope, identity map and audit see an
adapter like any other, which never calls the vendor in ``fetch``. The
vendor is read by :class:`~hub.mirror.sync.MirrorSync`: in full on the first
start (in the background), then by deltas; a restart over a store that holds
a complete sync serves at once and resumes from the stored watermarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from sqlalchemy.exc import DataError, SQLAlchemyError

from hub.mirror.codec import is_storable
from hub.mirror.freshness import Freshness
from hub.mirror.query import InvalidCursor
from hub.mirror.store import MirrorStore
from hub.mirror.sync import DEFAULT_INTERVALS, MirrorSync, SyncIntervals
from hub.model import RECORD_TYPES, Entity, data_fields
from hub.sdk import (
    NAME_ATTRIBUTES,
    Adapter,
    Capabilities,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    SourceUnavailable,
    UnsupportedRequest,
)

__all__ = ["MirroredAdapter"]

log = logging.getLogger("homeroom.mirror")


def _special_filters(entity: Entity) -> frozenset[str]:
    names = set(data_fields(RECORD_TYPES[entity]))
    special = {"search"} if names & set(NAME_ATTRIBUTES) else set()
    if "date" in names:
        special |= {"date_from", "date_to"}
    return frozenset(special)


def _holdable(request: FetchRequest) -> bool:
    """Whether every value the request compares is one a database can hold."""
    values = [*(request.ids or ())]
    for accepted in request.filters.values():
        values.extend(accepted)
    for _, accepted in request.visible_if:
        values.extend(accepted)
    return all(is_storable(value) for value in values)


class MirroredAdapter:
    """``inner`` answered from a :class:`MirrorStore`.

    - ``store_factory`` makes the store when the adapter opens (its engine
      then belongs to the loop serving the hub);
    - ``fields_for(entity)`` is what the policy in force lets some grant read
      (see :func:`hub.mirror.fields.stored_attributes`); only those of the
      inner adapter's fields are fetched and stored, and declared;
    - ``background``: run :class:`MirrorSync` after ``open`` (off in tests
      that drive syncs themselves).
    """

    def __init__(
        self,
        inner: Adapter,
        store_factory: Callable[[], MirrorStore],
        fields_for: Callable[[Entity], frozenset[str]],
        *,
        intervals: SyncIntervals = DEFAULT_INTERVALS,
        background: bool = True,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.store_factory = store_factory
        self.fields_for = fields_for
        self.intervals = intervals
        self.background = background
        self.freshness = Freshness()
        self.store: MirrorStore | None = None
        self.sync: MirrorSync | None = None
        self._stored = self._wanted()
        self._capabilities = self._declare()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- the Adapter protocol --

    def capabilities(self) -> Capabilities:
        """The inner adapter's entities, with the fields stored and a filter on each."""
        return self._capabilities

    async def open(self) -> LoadReport:
        """Open the inner adapter and the store, and resume what the store holds.

        When every entity's last full read is in the store with the attributes
        wanted now, the mirror serves at once and the sync catches up by delta.
        Otherwise the entities missing are read in full: in the background
        (``background``; the source says it is syncing and :meth:`fetch` waits
        for it) or here, before returning.
        """
        report = await self.inner.open()
        self.store = self.store_factory()
        self.sync = MirrorSync(
            self.inner, self.store, lambda: self._stored, freshness=self.freshness, intervals=self.intervals
        )
        counts: dict[str, int] = {}
        try:
            pending = await self.sync.resume()
            if not pending:
                self.freshness.first_sync_done = True
                self.sync.first_attempt.set()
            elif not self.background:
                counts = await self.sync.first_sync()
        except SQLAlchemyError as exc:
            failure = type(exc).__name__
            reason = f"the mirror cannot be written ({failure}; is the store migrated? homeroom db upgrade)"
            # Tried, and failed: whoever waits for the first sync (the hub's readiness) stops waiting.
            self.freshness.failed(None, reason)
            self.sync.first_attempt.set()
            raise SourceUnavailable(self.name, reason) from None
        if self.background:
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self.sync.run(self._stop))
        held = {entity.value: rows for entity, rows in self.freshness.rows.items()}
        return LoadReport(counts={**held, **counts}, problems=list(report.problems))

    def first_sync_progress(self) -> tuple[int, int]:
        """Entities read in full so far and entities to read, for the first sync
        (both equal once it is done; ``(0, n)`` before it began)."""
        total = len(self._stored)
        if self.freshness.first_sync_done:
            return total, total
        pending = self.sync.pending if self.sync is not None else set(self._stored)
        return total - len(pending & set(self._stored)), total

    async def first_sync_attempted(self) -> None:
        """Wait until the first sync was tried (at once when the store held everything)."""
        if self.sync is not None:
            await self.sync.first_attempt.wait()

    async def read_in_full(self, entities: Iterable[Entity]) -> dict[str, int] | None:
        """Open the inner adapter and the store, read ``entities`` in full, close
        them (``homeroom mirror resync`` when no hub is syncing). Holds the
        source's sync lock meanwhile, as a hub does; ``None`` when a hub
        process holds it (it then reads what was marked, at its next tick)."""
        store = self.store_factory()
        store.held = None  # a one-off read serves no fetch: nothing to hold in memory
        sync = MirrorSync(
            self.inner, store, lambda: self._stored, freshness=self.freshness, intervals=self.intervals
        )
        try:
            if not await sync.lock.acquire():
                return None
            await self.inner.open()
            try:
                wanted = [entity for entity in entities if entity in self._stored]
                return {entity.value: await sync.full(entity) for entity in wanted}
            finally:
                await self.inner.aclose()
        finally:
            try:
                await sync.lock.release()
            finally:
                await store.aclose()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from the store; the vendor is never asked."""
        support = self._capabilities.entities.get(request.entity)
        if support is None:
            raise UnsupportedRequest(self.name, f"{request.entity.value} is not served by this source")
        undeclared = sorted(request.fields - support.fields)
        if undeclared:
            raise UnsupportedRequest(
                self.name, f"{request.entity.value} fields not mirrored: {', '.join(undeclared)}"
            )
        unfiltered = sorted(set(request.filters) - support.filters)
        if unfiltered:
            raise UnsupportedRequest(
                self.name, f"{request.entity.value} cannot be filtered by {', '.join(unfiltered)}"
            )
        if not _holdable(request):
            # No stored value holds one (see codec.storable): it matches nothing, and must not
            # reach the database as a query it refuses (a vendor outage to everyone else).
            raise UnsupportedRequest(self.name, "a value with a NUL character or an unpaired surrogate")
        if self.store is None:
            raise SourceUnavailable(self.name, "the mirror is not open")
        if not self.freshness.first_sync_done:
            # Never a half-read mirror: wait for the first sync (the hub answers
            # NOT_READY meanwhile), and say so when it failed.
            await self.first_sync_attempted()
            if not self.freshness.first_sync_done:
                reason = self.freshness.last_error or "the first sync has not finished"
                raise SourceUnavailable(self.name, f"the mirror is not filled yet: {reason}")
        try:
            return await self.store.fetch(self.name, request)
        except InvalidCursor:
            raise UnsupportedRequest(self.name, "a cursor this source did not issue") from None
        except (ValueError, DataError):
            # DataError: the database refused a value of the request, not a failure of its own.
            raise UnsupportedRequest(self.name, "a filter value of the wrong shape") from None
        except SQLAlchemyError as exc:
            raise SourceUnavailable(self.name, f"the mirror cannot be read ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        """Stop the sync, then close the inner adapter and the store."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        try:
            await self.inner.aclose()
        finally:
            if self.store is not None:
                await self.store.aclose()
                self.store = None

    # -- policy changes --

    async def policy_changed(self) -> bool:
        """Follow the policy in force: erase attributes no grant reads any more
        at once, then read newly granted ones in full. Returns whether the
        declared capabilities changed (the registry then reads them again)."""
        wanted = self._wanted()
        if wanted == self._stored:
            return False
        store, sync = self.store, self.sync
        before = self._stored
        withdrawn = {e: before.get(e, frozenset()) - f for e, f in wanted.items()}
        withdrawn = {e: names for e, names in withdrawn.items() if names}
        added = {e: f for e, f in wanted.items() if f - before.get(e, frozenset())}
        # Withdrawn fields leave what the sync keeps and what is declared before
        # anything else happens: a sync write from now on leaves them out.
        self._stored = {e: f - withdrawn.get(e, frozenset()) for e, f in before.items()}
        self._capabilities = self._declare()
        for entity, names in withdrawn.items():
            if store is None:
                continue
            # After a sync write under way (it may still hold them), never during it.
            async with sync.writes if sync is not None else contextlib.nullcontext():
                await store.erase(self.name, entity, names)
        for entity, fields in added.items():
            if sync is not None:
                try:
                    await sync.full(entity, fields)
                except Exception as exc:  # the next scheduled full read back-fills instead
                    log.warning(
                        "source %s: back-fill of %s failed (%s)", self.name, entity.value, type(exc).__name__
                    )
                    continue
            self._stored = {**self._stored, entity: fields}
        self._capabilities = self._declare()
        return True

    # -- helpers --

    def _wanted(self) -> dict[Entity, frozenset[str]]:
        inner = self.inner.capabilities().entities
        return {entity: support.fields & self.fields_for(entity) for entity, support in inner.items()}

    def _declare(self) -> Capabilities:
        return Capabilities(
            {
                # narrowing: visible_if is answered in SQL over links always stored.
                entity: EntitySupport(
                    fields=fields,
                    filters=fields | _special_filters(entity),
                    batch=True,
                    paging=True,
                    narrowing=True,
                )
                for entity, fields in self._stored.items()
            }
        )
