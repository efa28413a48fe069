"""Reading Ed-Fi collections: pages, searches, and the cached catalogue.

Ed-Fi searches by example, one value per property: there is no ``IN``. A
batch of look-ups (a page of students' associations, fifty section ids) is
therefore either one search per value or one read of the whole collection,
filtered here. :meth:`CollectionReader.search` picks the cheaper by request
count: it asks the collection's size once (``limit=1&totalCount=true``) and
reads it whole when that takes at most a quarter as many pages as there are
searches (a full page weighs about four small answers, at the vendor and on
the wire, so page count alone would favour reading too much). The
searches themselves run concurrently, bounded by the source's
``max_concurrency`` (the :class:`VendorClient` holds that many slots).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from adapters.edfi._query import Params, matches_any
from hub.sdk import BadVendorData
from hub.sdk.http import OffsetLimitPaging, Page, VendorClient

__all__ = ["Catalogue", "CollectionReader"]

Json = dict[str, Any]
TOTAL_HEADER = "Total-Count"
_PAGE_WEIGHT = 4  # a full page costs about as much as this many one-value searches


def _items(body: Any) -> Sequence[Any]:
    if not isinstance(body, list):
        raise TypeError("an Ed-Fi collection answers a JSON array")
    return body


def _objects(client: VendorClient, path: str, items: Sequence[Any]) -> list[Json]:
    objects = [item for item in items if isinstance(item, dict)]
    if len(objects) < len(items):
        raise BadVendorData(client.name, f"{path} answered array items that are not objects")
    return objects


class CollectionReader:
    """Reads the collections under ``data_path`` (``/data/v3/ed-fi``) of one source."""

    def __init__(
        self,
        client: VendorClient,
        data_path: str,
        page_size: int,
        *,
        count_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.data_path = data_path.strip("/")
        self.page_size = page_size
        self._paging = OffsetLimitPaging(items_of=_items, total_header=TOTAL_HEADER)
        # Sizes only steer the choice between searching and reading whole, and
        # change slowly: kept a while, they save a request per batch.
        self._count_ttl = count_ttl
        self._clock = clock
        self._counts: dict[str, tuple[float, int | None]] = {}

    def path(self, resource: str) -> str:
        """The path of ``resource`` relative to the source's ``base_url``."""
        return f"{self.data_path}/{resource}"

    def pages(
        self, resource: str, params: Params | None = None, *, offset: int = 0, page_size: int | None = None
    ) -> AsyncIterator[Page]:
        """The pages of ``resource`` matching ``params``, from ``offset``, with ``Total-Count``."""
        query: dict[str, str | int | float] = {**(params or {}), "totalCount": "true"}
        return self._paging.pages(
            self.client, self.path(resource), query, resume=str(offset), page_size=page_size or self.page_size
        )

    async def read(self, resource: str, params: Params | None = None) -> list[Json]:
        """Every item of ``resource`` matching ``params``."""
        found: list[Json] = []
        page: Page
        async for page in self.pages(resource, params):
            found.extend(_objects(self.client, self.path(resource), page.items))
        return found

    async def count(self, resource: str) -> int | None:
        """The size of ``resource`` (``None`` when the API does not say), kept ``count_ttl`` seconds."""
        kept = self._counts.get(resource)
        if kept is not None and self._clock() - kept[0] < self._count_ttl:
            return kept[1]
        query: dict[str, str | int | float] = {"limit": 1, "offset": 0, "totalCount": "true"}
        _, headers = await self.client.get_json(self.path(resource), query)
        value = headers.get(TOTAL_HEADER, "").strip()
        size = int(value) if value.isdigit() else None
        self._counts[resource] = (self._clock(), size)
        return size

    def forget(self) -> None:
        """Drop the sizes kept."""
        self._counts.clear()

    async def search(self, resource: str, searches: Sequence[Params]) -> list[Json]:
        """Items of ``resource`` found by any of ``searches``, each item once.

        One request per search, or one read of the whole collection when that
        needs fewer requests (see the module docstring).
        """
        unique = list({tuple(sorted(s.items())): s for s in searches}.values())
        if not unique:
            return []
        if len(unique) > 1:
            size = await self.count(resource)
            if size is not None and math.ceil(size / self.page_size) * _PAGE_WEIGHT <= len(unique):
                everything = await self.read(resource)
                return [item for item in everything if matches_any(resource, item, unique)]
        results = await asyncio.gather(*(self.read(resource, search) for search in unique))
        seen: set[str] = set()
        found: list[Json] = []
        for items in results:
            for item in items:
                key = str(item.get("id") or id(item))
                if key not in seen:
                    seen.add(key)
                    found.append(item)
        return found


class Catalogue:
    """Collections without personal data (courses, offerings, calendar, schools),
    read whole and kept ``ttl`` seconds, so per-row joins cost no requests.

    Concurrent readers of the same collection share one read.
    """

    def __init__(
        self, reader: CollectionReader, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._reader = reader
        self._ttl = ttl
        self._clock = clock
        self._kept: dict[str, tuple[float, list[Json]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def forget(self) -> None:
        """Drop everything kept (the next read goes to the API)."""
        self._kept.clear()

    async def items(self, resource: str) -> list[Json]:
        """Every item of ``resource``, from the API or from the last read within ``ttl``."""
        lock = self._locks.setdefault(resource, asyncio.Lock())
        async with lock:
            kept = self._kept.get(resource)
            if kept is not None and self._clock() - kept[0] < self._ttl:
                return kept[1]
            items = await self._reader.read(resource)
            if self._ttl > 0:
                self._kept[resource] = (self._clock(), items)
            return items
