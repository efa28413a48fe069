"""Identity links in the store: a link found once holds across restarts,
even if the key that made it (an e-mail, say) changes later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.federation.ids import decode_id, encode_id
from hub.store.tables import IdentityLink

Link = tuple[str, str, str, str, str]  # entity, source, vendor id, primary source, primary vendor id


def _primary_of(hub_id: str) -> tuple[str, str] | None:
    decoded = decode_id(hub_id)
    return (decoded.source, decoded.vendor_id) if decoded is not None else None


async def load_links(engine: AsyncEngine) -> list[Link]:
    """Every remembered link."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(IdentityLink.entity, IdentityLink.source, IdentityLink.vendor_id, IdentityLink.hub_id)
            )
        ).all()
    links: list[Link] = []
    for entity, source, vendor_id, primary in rows:
        key = _primary_of(primary)
        if key is not None:
            links.append((entity, source, vendor_id, key[0], key[1]))
    return links


async def save_links(engine: AsyncEngine, links: Iterable[tuple[Link, str]]) -> int:
    """Remember new links (``(link, match key)`` pairs); known ones are kept as they are."""
    known = {(e, s, v) for e, s, v, _, _ in await load_links(engine)}
    now = dt.datetime.now(dt.UTC)
    new = [
        {
            "entity": e,
            "source": s,
            "vendor_id": v,
            "hub_id": encode_id(e, ps, pv),
            "match_key": key[:128],
            "created_at": now,
        }
        for (e, s, v, ps, pv), key in links
        if (e, s, v) not in known
    ]
    if new:
        async with engine.begin() as connection:
            await connection.execute(insert(IdentityLink), new)
    return len(new)
