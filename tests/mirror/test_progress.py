"""The first sync drawn on a terminal: one bar per mirrored source, entities
read of entities to read and rows so far; counts, never a record's values."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from hub.mirror import MirroredAdapter, MirrorStore
from hub.mirror.progress import show_first_syncs
from hub.sdk import FetchRequest, FetchResult
from hub.store import create_engine

from .hubs import every_field
from .test_sync import Vendor, _records


class SlowVendor(Vendor):
    """Each read takes a while, so the bar is seen moving."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        await asyncio.sleep(0.3)
        return await super().fetch(request)


async def test_the_bar_follows_the_first_sync_to_its_end(url: str) -> None:
    adapter = MirroredAdapter(
        SlowVendor("sis", _records()), lambda: MirrorStore(create_engine(url)), every_field
    )
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=140, color_system=None)
    await adapter.open()
    try:
        assert adapter.first_sync_progress() == (0, 2)
        async with asyncio.timeout(30):
            await show_first_syncs([adapter], console=console, every=0.05)
        assert adapter.freshness.first_sync_done
        assert adapter.first_sync_progress() == (2, 2)
    finally:
        await adapter.aclose()
    drawn = screen.getvalue()
    assert "first sync of sis" in drawn
    assert "1/2" in drawn and "2/2" in drawn  # seen part way, and at the end
    assert "Score 2" in drawn and "Student 2" in drawn
    assert not {"Ana", "Ben"} & set(drawn.replace("·", " ").split())  # counts only


async def test_nothing_is_drawn_when_the_store_held_everything(url: str) -> None:
    first = MirroredAdapter(Vendor("sis", _records()), lambda: MirrorStore(create_engine(url)), every_field)
    await first.open()
    async with asyncio.timeout(30):
        await first.first_sync_attempted()
    await first.aclose()
    again = MirroredAdapter(Vendor("sis", _records()), lambda: MirrorStore(create_engine(url)), every_field)
    screen = io.StringIO()
    await again.open()
    try:
        await show_first_syncs([again], console=Console(file=screen, force_terminal=True))
    finally:
        await again.aclose()
    assert screen.getvalue() == ""
