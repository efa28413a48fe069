"""Changing a simulator's CSV folder from a test, and reading what the mirror and the vendor saw."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from hub.mirror import MirroredAdapter
from hub.mirror.tables import entity_table
from hub.model import Entity
from tests.csv_files import Row, rewrite_csv


def change_first_score(folder: Path, score: str) -> str:
    """Set the first row of ``results.csv`` to ``score``; returns its sourcedId
    (the file is rewritten as :func:`tests.csv_files.rewrite_csv` does)."""
    changed: list[str] = []

    def change(rows: list[Row]) -> list[Row]:
        assert rows[0]["score"] != score
        rows[0]["score"] = score
        changed.append(rows[0]["sourcedId"])
        return rows

    rewrite_csv(folder / "results.csv", change)
    return changed[0]


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
