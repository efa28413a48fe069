"""The change bus: every feed of an entity gets each change once, in order; a
feed that falls behind is dropped instead of growing; leaving unsubscribes."""

from __future__ import annotations

import asyncio

import pytest

from hub.model import Entity
from hub.realtime import Change, ChangeBus, ChangeFeedClosed


async def test_each_feed_of_the_entity_gets_each_change_in_order() -> None:
    bus = ChangeBus()
    scores, marks = bus.subscribe(Entity.SCORE), bus.subscribe(Entity.ATTENDANCE_EVENT)
    with scores as first, bus.subscribe(Entity.SCORE) as second, marks as other:
        changes = [Change("sis", Entity.SCORE, (f"r{i}",)) for i in range(3)]
        for change in changes:
            bus.publish(change)
        bus.publish(Change("sis", Entity.SCORE, ()))  # nothing changed: not sent
        for feed in (first, second):
            got = [await anext(aiter(feed)) for _ in changes]
            assert got == changes
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await anext(aiter(other))
    assert bus.subscribers() == 0


async def test_a_feed_that_falls_behind_is_dropped_and_told() -> None:
    bus = ChangeBus(queue_size=4)
    with bus.subscribe(Entity.SCORE) as slow:
        for i in range(10):
            bus.publish(Change("sis", Entity.SCORE, (f"r{i}",)))
        assert slow.dropped
        with pytest.raises(ChangeFeedClosed):
            await anext(aiter(slow))
        assert slow._queue.qsize() == 0  # nothing kept for a dropped feed
    assert bus.subscribers(Entity.SCORE) == 0
