"""Which mirrored rows changed, fanned out to this process's subscriptions.

A change names rows (source, entity, vendor ids), never their values: each
subscriber reads the rows again under its own policy and relations. A
subscriber's queue is bounded; one that falls behind is dropped (its feed
raises :class:`ChangeFeedClosed`) rather than let memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field

from hub.model import Entity

__all__ = ["ROSTER", "Change", "ChangeBus", "ChangeFeed", "ChangeFeedClosed", "Links"]

QUEUE_SIZE = 256
"""Changes a subscriber may have waiting before it is dropped as too slow."""


Links = Mapping[str, Mapping[str, tuple[str, ...]]]
"""Per vendor id, the row's link attributes (``section_id``, ``student_id``, ...) and their values."""

ROSTER = frozenset({Entity.ENROLLMENT, Entity.SECTION, Entity.STUDENT, Entity.GUARDIAN, Entity.TEACHER})
"""Entities whose changes can change who is related to whom."""


@dataclass(frozen=True, slots=True)
class Change:
    """Rows of one source's entity written (added or changed) by a sync.

    ``links`` holds, where the writer knew them, each row's links (ids only):
    a subscriber skips at once a row none of its relations can reach, and
    reads only the others through its scope (which alone decides)."""

    source: str
    entity: Entity
    vendor_ids: tuple[str, ...]
    links: Links = field(default_factory=dict)


class ChangeFeedClosed(Exception):
    """The subscriber fell too far behind and was dropped."""


class ChangeFeed:
    """One subscriber's changes of one entity, in the order they were published."""

    def __init__(self, entity: Entity, size: int) -> None:
        self.entity = entity
        self._queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=size)
        self.dropped = False

    def offer(self, change: Change) -> None:
        if self.dropped:
            return
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            # Never an unbounded backlog: the subscriber is told and let go.
            self.dropped = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)  # wakes the subscriber to tell it

    def __aiter__(self) -> AsyncIterator[Change]:
        return self._changes()

    async def _changes(self) -> AsyncIterator[Change]:
        while True:
            change = await self._queue.get()
            if change is None:
                raise ChangeFeedClosed("too many changes waiting: the subscription was dropped")
            yield change


class ChangeBus:
    """The changes of this process's mirrors, to every feed subscribed to their entity."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._feeds: dict[Entity, set[ChangeFeed]] = {}
        self.roster_version = 0
        """Raised by every roster change: subscribers then work out their relations again."""

    def publish(self, change: Change) -> None:
        """Hand ``change`` to every feed of its entity (never waits)."""
        if change.entity in ROSTER and change.vendor_ids:
            self.roster_version += 1
        if change.vendor_ids:
            for feed in tuple(self._feeds.get(change.entity, ())):
                feed.offer(change)

    def rows_deleted(self, entity: Entity) -> None:
        """Rows of ``entity`` were deleted (nothing is delivered for them; a roster
        deletion, an enrollment that ended, changes who is related to whom)."""
        if entity in ROSTER:
            self.roster_version += 1

    @contextlib.contextmanager
    def subscribe(self, entity: Entity) -> Iterator[ChangeFeed]:
        """A feed of ``entity``'s changes while the ``with`` block runs."""
        feed = ChangeFeed(entity, self.queue_size)
        self._feeds.setdefault(entity, set()).add(feed)
        try:
            yield feed
        finally:
            feeds = self._feeds.get(entity)
            if feeds is not None:
                feeds.discard(feed)
                if not feeds:
                    del self._feeds[entity]

    def subscribers(self, entity: Entity | None = None) -> int:
        """How many feeds are open (of ``entity``, or of all)."""
        if entity is not None:
            return len(self._feeds.get(entity, ()))
        return sum(len(feeds) for feeds in self._feeds.values())
