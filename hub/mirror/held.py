"""Which rows this process holds in memory, and keeping them in step with the store.

One :class:`~hub.mirror.memory.HeldEntity` per source and entity, loaded in
the background the first time a fetch needs it (the tables answer
meanwhile). After each write of the store the copy is brought up to date:
the rows written are read back (so the copy holds what the tables hold,
values as the database returns them), deleted rows dropped, and a full read
or an erase reloads the entity. Every write raises the entity's ``version``
in ``mirror_state``; a copy at another version than the one the write
started from (another process wrote meanwhile) is reloaded instead, and
:meth:`HeldCopies.follow` reloads what another process changed.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from hub.mirror.memory import HeldEntity
from hub.model import Entity, Record
from hub.sdk import FetchRequest, FetchResult

__all__ = ["HeldCopies"]

log = logging.getLogger("homeroom.mirror")

Load = Callable[[str, Entity], Awaitable[HeldEntity]]
Versions = tuple[int, int]
"""An entity's version before and after one write."""
ReadRows = Callable[[str, Entity, Sequence[str]], Awaitable[list[tuple[int, Record]]]]


class HeldCopies:
    """The copies of one process; ``load`` reads an entity whole (with its
    version), ``read_rows`` some of its rows by id."""

    def __init__(self, load: Load, read_rows: ReadRows) -> None:
        self._load = load
        self._read_rows = read_rows
        self._copies: dict[tuple[str, Entity], HeldEntity] = {}
        self._loading: dict[tuple[str, Entity], asyncio.Task[None]] = {}
        self._settling: asyncio.Handle | None = None
        self._latest: dict[tuple[str, Entity], int] = {}
        """The newest version each entity's writes here reached (a load older than it is read again)."""

    def get(self, source: str, entity: Entity) -> HeldEntity | None:
        """The copy of ``source``'s ``entity``, or ``None`` while it is being loaded
        (a load starts now if none is under way)."""
        key = (source, entity)
        copy = self._copies.get(key)
        if copy is not None:
            return copy
        if key not in self._loading:
            # A context of its own: the load is not the request that happened to start it.
            task = asyncio.create_task(self._load_now(source, entity), context=contextvars.Context())
            self._loading[key] = task
            task.add_done_callback(lambda _: self._loading.pop(key, None))
        return None

    def answer(self, source: str, entity: Entity, request: FetchRequest) -> FetchResult | None:
        """``request`` answered from the copy, or ``None`` while it is being loaded."""
        copy = self.get(source, entity)
        if copy is None:
            return None
        indexed = copy.indexed
        result = copy.answer(request)
        if copy.indexed != indexed and self._settling is None:
            # A new index (a filter no link needed): settled once this request is done.
            self._settling = asyncio.get_running_loop().call_soon(self._settle_later)
        return result

    def _settle_later(self) -> None:
        self._settling = None
        _settle()

    def held(self, source: str) -> dict[Entity, HeldEntity]:
        """The copies of ``source`` held now."""
        return {entity: copy for (name, entity), copy in self._copies.items() if name == source}

    async def reload(self, source: str, entity: Entity) -> None:
        """Read ``entity`` whole again, now."""
        await self._load_now(source, entity)

    async def written(
        self,
        source: str,
        entity: Entity,
        versions: Versions,
        ids: Sequence[str],
        rows: list[tuple[int, Record]] | None = None,
    ) -> None:
        """The write from ``versions[0]`` to ``versions[1]`` changed the rows ``ids``
        (``rows``: those rows as read from the tables since, when the caller has them)."""
        copy = await self._current(source, entity, versions)
        if copy is None:
            return
        if rows is None:
            rows = await self._read_rows(source, entity, ids)
        if self._copies.get((source, entity)) is copy and copy.version == versions[0]:
            copy.put(rows)
            copy.drop(set(ids) - {record.vendor_id for _, record in rows})
            copy.version = versions[1]

    async def dropped(self, source: str, entity: Entity, versions: Versions, ids: Iterable[str]) -> None:
        """The write from ``versions[0]`` to ``versions[1]`` deleted the rows ``ids``."""
        copy = await self._current(source, entity, versions)
        if copy is not None:
            copy.drop(ids)
            copy.version = versions[1]

    async def replaced(self, source: str, entity: Entity, versions: Versions) -> list[Record]:
        """``entity`` was rewritten whole (a full read, an erase) by the write from
        ``versions[0]`` to ``versions[1]``: load it again now. Returns the ids of the
        rows it changed (added or different: as held now), when a copy was held."""
        key = (source, entity)
        self._latest[key] = max(self._latest.get(key, 0), versions[1])
        before = self._copies.get(key)
        if before is not None and before.version < versions[1]:
            # Nothing older than this write may be served, even if the reload fails.
            self._copies.pop(key, None)
        await self._load_now(source, entity)
        after = self._copies.get((source, entity))
        if before is None or after is None or after is before:
            return []
        return after.changed_from(before)

    async def warm(self, source: str, entities: Iterable[Entity]) -> None:
        """Load the copies of ``entities`` not held yet (on start, over a filled store)."""
        for entity in entities:
            if (source, entity) not in self._copies:
                await self._load_now(source, entity)

    async def follow(
        self, source: str, versions: Mapping[Entity, int]
    ) -> list[tuple[Entity, list[Record], list[str]]]:
        """Reload the copies of ``source`` whose version the store has moved past.
        Returns, per entity reloaded, the rows it changed (added or different) and
        the ids of those it deleted (another process's writes, as the store has them)."""
        moved = []
        for entity, copy in self.held(source).items():
            stored = versions.get(entity, copy.version)
            if stored != copy.version:
                # The store's version is the truth (a restored backup may be older).
                self._latest[(source, entity)] = stored
                await self._load_now(source, entity)
                after = self._copies.get((source, entity))
                if after is not None and after is not copy:
                    moved.append((entity, after.changed_from(copy), after.gone_from(copy)))
        return moved

    async def _current(self, source: str, entity: Entity, versions: Versions) -> HeldEntity | None:
        """The copy to update in place, when it is at the version the write began
        from. Otherwise (another writer came between) it is reloaded, and ``None``."""
        key = (source, entity)
        self._latest[key] = max(self._latest.get(key, 0), versions[1])
        copy = self._copies.get(key)
        if copy is None:
            return None
        if copy.version != versions[0]:
            await self._load_now(source, entity)
            return None
        return copy

    async def _load_now(self, source: str, entity: Entity) -> None:
        key = (source, entity)
        try:
            copy = await self._load(source, entity)
            for _ in range(_RELOADS):
                if copy.version >= self._latest.get(key, 0):
                    break
                # Read before a write of this process committed: again, after it.
                copy = await self._load(source, entity)
            else:
                raise _Behind
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the tables keep answering; the next fetch tries again
            self._copies.pop(key, None)
            log.warning(
                "source %s: cannot hold %s in memory (%s); answering from the tables",
                source,
                entity.value,
                type(exc).__name__,
            )
            return
        current = self._copies.get(key)
        # A slower load of an older version never replaces a newer copy.
        if current is None or copy.version >= current.version or copy.version >= self._latest.get(key, 0):
            self._copies[key] = copy
            _settle()


_RELOADS = 5
"""Loads tried in a row while this process's own writes keep moving the version."""


class _Behind(Exception):
    """Every load found the entity older than this process's last write."""


def _settle() -> None:
    """Take everything alive now out of the cyclic collector's rounds.

    The copies are hundreds of thousands of long-lived records; each full
    collection walked them all (measured: a dashboard every few took 160 ms
    instead of 75). Collected first, so no garbage cycle is kept; records
    have no cycles of their own and are still freed when a copy is replaced.
    At most every ``DEEP_SETTLE_SECONDS`` what was frozen before is unfrozen
    and collected too: garbage that was alive at an earlier settle (a request
    in flight) is freed then rather than kept for the process's life, without
    a walk of the whole heap at every reload (seconds for a large district).
    """
    global _last_deep
    now = time.monotonic()
    if now - _last_deep >= DEEP_SETTLE_SECONDS:
        _last_deep = now
        gc.unfreeze()
    gc.collect()
    gc.freeze()


DEEP_SETTLE_SECONDS = 600.0
_last_deep = -DEEP_SETTLE_SECONDS
