"""The first sync on the terminal: a progress bar per mirrored source.

``homeroom serve`` on a terminal draws, while the mirrors' first full read
runs, one bar per source (entities read of entities to read) with the rows
held so far per entity; off a terminal the per-entity log lines say the
same. Counts only: never a record's values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.mirror.adapter import MirroredAdapter
from hub.sdk import Adapter

__all__ = ["rows_line", "show_first_syncs"]


def rows_line(adapter: MirroredAdapter) -> str:
    """``Student 2,000 · Score 66,635``: the rows held per entity so far."""
    return " · ".join(f"{entity} {rows:,}" for entity, rows in adapter.freshness.rows_by_entity().items())


def _finished(adapter: MirroredAdapter) -> bool:
    # Done, or tried and failed (the source is then down, like a live source that
    # fails to open), or never started (its vendor failed to open: no sync at all).
    sync = adapter.sync
    return adapter.freshness.first_sync_done or sync is None or sync.first_attempt.is_set()


async def show_first_syncs(
    adapters: Iterable[Adapter], console: Console | None = None, every: float = 0.25
) -> None:
    """Draw the first sync of every mirrored source among ``adapters`` until each was tried."""
    syncing = [a for a in adapters if isinstance(a, MirroredAdapter) and not a.freshness.first_sync_done]
    if not syncing:
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rows]}"),
    )
    with Progress(*columns, console=console or Console(stderr=True), transient=False) as progress:
        tasks = {}
        for adapter in syncing:
            done, total = adapter.first_sync_progress()
            tasks[adapter.name] = progress.add_task(
                f"first sync of {adapter.name}", total=total, completed=done, rows=""
            )
        while True:
            for adapter in syncing:
                done, total = adapter.first_sync_progress()
                progress.update(tasks[adapter.name], completed=done, total=total, rows=rows_line(adapter))
            if all(_finished(adapter) for adapter in syncing):
                return
            await asyncio.sleep(every)
