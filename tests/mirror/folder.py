"""Changing a simulator's CSV folder from a test, and reading what the mirror and the vendor saw."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from sqlalchemy import select

from hub.mirror import MirroredAdapter
from hub.mirror.tables import entity_table
from hub.model import Entity


def change_first_score(folder: Path, score: str) -> str:
    """Set the first row of ``results.csv`` to ``score``; returns its sourcedId.

    The modification time moves on by a second: a file system's clock may be
    coarser than the test is fast, and the simulator compares times."""
    path = folder / "results.csv"
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        header, rows = list(reader.fieldnames or ()), list(reader)
    assert rows[0]["score"] != score
    rows[0]["score"] = score
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    before = path.stat().st_mtime_ns
    path.write_text(out.getvalue(), encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))
    return rows[0]["sourcedId"]


async def stored_score(adapter: MirroredAdapter, vendor_id: str) -> float | None:
    """The score the mirror holds for the result ``vendor_id``."""
    assert adapter.store is not None
    table = entity_table(Entity.SCORE)
    async with adapter.store.engine.connect() as conn:
        query = select(table.c.score).where(table.c.source == adapter.name, table.c.vendor_id == vendor_id)
        value = (await conn.execute(query)).scalar_one_or_none()
    return None if value is None else float(value)


def full_reads(queries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Requests that are not delta reads (no ``dateLastModified`` filter) and
    not the one-row probe ``open`` makes."""
    return [
        query
        for query in queries
        if "dateLastModified" not in query.get("filter", "") and query.get("limit") != "1"
    ]
