"""Reading nested Canvas collections, page by page, resumable at any record.

Almost everything in Canvas hangs off a course or a section: the sections
of each course of the account, the submissions of each section. A read is
therefore a walk down a few *levels*: each level turns the records above it
(its parents) into the collections to read, or names its records directly.
Every collection is paged by ``Link: <...>; rel="next"``, followed verbatim.

A :class:`Position` says where the next record is: at each level, which
collection, which page (its URL) and how many of that page's records were
already taken. Resuming re-reads those pages and skips, so a cursor costs
one request per level, never a re-read from the start.

Query strings are built here, not by the toolkit's paging helpers, because
Canvas repeats keys (``type[]=StudentEnrollment&type[]=TaEnrollment``), which
the toolkit's ``QueryParams`` mapping cannot express.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from hub.sdk import BadVendorData, SourceError
from hub.sdk.http import VendorClient, parse_link_header

__all__ = [
    "Chain",
    "Expand",
    "Level",
    "Mark",
    "Position",
    "Stream",
    "Walker",
    "decode_position",
    "encode_position",
    "gather_all",
]

Json = dict[str, Any]
Chain = tuple[Json, ...]
"""One record and its parents, top level first."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stream:
    """One paged collection: ``path`` under ``/api/v1/``, its query and envelope.

    - ``query``: (name, value) pairs, repeated names allowed; ``per_page`` is added.
    - ``key``: the envelope holding the list (``enrollment_terms``); ``None``
      for a bare list. Either shape is accepted.
    - ``missing_ok``: a 404 is an empty collection (the parent is gone), not an error.
    """

    path: str
    query: tuple[tuple[str, str], ...] = ()
    key: str | None = None
    missing_ok: bool = False


@dataclass(frozen=True, slots=True)
class Level:
    """The records of one level under one parent: read from ``streams`` in
    order, or given as ``items`` (ids the request named, objects read before)."""

    streams: tuple[Stream, ...] = ()
    items: tuple[Json, ...] | None = None


Expand = Callable[[Chain], Level]
"""A level's records given its parents (``()`` at the top level)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a level stands: collection ``stream``, page ``url`` (``None``: its
    first page) and the number of that page's records already passed."""

    stream: int = 0
    url: str | None = None
    skip: int = 0


Position = tuple[Mark, ...]


@dataclass(slots=True)
class _Page:
    url: str
    items: list[Json]
    next: str | None
    headers: httpx.Headers


def _items(payload: Any, key: str | None) -> list[Json]:
    found = payload.get(key) if isinstance(payload, dict) and key else payload
    if found is None:
        return []
    if not isinstance(found, list):
        raise ValueError("not a list")
    return [item for item in found if isinstance(item, dict)]


async def gather_all(jobs: Sequence[Awaitable[T]]) -> list[T]:
    """Run ``jobs`` concurrently (the client bounds requests in flight);
    the first failure cancels the rest and is raised as itself."""
    if not jobs:
        return []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_await(job)) for job in jobs]
    except BaseExceptionGroup as failures:
        errors = list(_leaves(failures))
        raise next((e for e in errors if isinstance(e, SourceError)), errors[0]) from None
    return [task.result() for task in tasks]


async def _await(job: Awaitable[T]) -> T:
    return await job


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for error in group.exceptions:
        found.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return found


@dataclass
class Walker:
    """Reads levels of collections through one source's client."""

    client: VendorClient
    per_page: int
    pages_read: int = field(default=0)

    def first_url(self, stream: Stream) -> httpx.URL:
        """The URL of ``stream``'s first page."""
        query: list[tuple[str, str | int | float | bool | None]] = [
            *stream.query,
            ("per_page", self.per_page),
        ]
        return self.client.url(stream.path).copy_merge_params(query)

    async def page(self, stream: Stream, url: str | None) -> _Page:
        """One page of ``stream``: the first, or the one at ``url`` (a followed link)."""
        target = self.first_url(stream) if url is None else self.client.url(url)
        payload, headers = await self.client.get_json(target, missing_ok=stream.missing_ok)
        self.pages_read += 1
        try:
            items = _items(payload, stream.key)
        except ValueError:
            raise BadVendorData(self.client.name, f"{target.path} answered a body without a list") from None
        link = parse_link_header(headers.get("Link", "")).get("next") if payload is not None else None
        following = str(self.client.url(target.join(link))) if link else None
        if following == str(target):
            raise BadVendorData(self.client.name, f"{target.path}: the next link points to the same page")
        return _Page(str(target), items, following, headers)

    async def pages(
        self, stream: Stream, headers: Callable[[httpx.Headers], None] | None = None
    ) -> AsyncIterator[list[Json]]:
        """Every page's records of ``stream``, in order; ``headers`` is given each page's."""
        url: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.page(stream, url)
            seen.add(page.url)
            if headers is not None:
                headers(page.headers)
            yield page.items
            if page.next is None:
                return
            if page.next in seen:
                raise BadVendorData(
                    self.client.name, f"{stream.path}: the next link points back to a page read"
                )
            url = page.next

    # -- paged walks --

    def walk(
        self, levels: Sequence[Expand], start: Position = ()
    ) -> AsyncGenerator[tuple[Chain, Position], None]:
        """Records (with their parents) from ``start`` on, each with the position after it."""
        return self._walk(levels, 0, (), start)

    async def _walk(
        self, levels: Sequence[Expand], depth: int, parents: Chain, start: Position
    ) -> AsyncGenerator[tuple[Chain, Position], None]:
        level = levels[depth](parents)
        first = start[0] if start else Mark()
        deeper = start[1:]
        last = depth == len(levels) - 1
        if level.items is not None:
            for index in range(first.skip, len(level.items)):
                async for found in self._descend(
                    levels, depth, parents, level.items[index], Mark(0, None, index), deeper, last
                ):
                    yield found
                deeper = ()
            return
        for number in range(first.stream, len(level.streams)):
            stream = level.streams[number]
            url = first.url if number == first.stream else None
            skip = first.skip if number == first.stream else 0
            seen: set[str] = set()
            while True:
                page = await self.page(stream, url)
                seen.add(page.url)
                for index in range(skip, len(page.items)):
                    here = Mark(number, page.url, index)
                    async for found in self._descend(
                        levels, depth, parents, page.items[index], here, deeper, last
                    ):
                        yield found
                    deeper = ()
                if page.next is None:
                    break
                if page.next in seen:
                    raise BadVendorData(
                        self.client.name, f"{stream.path}: the next link points back to a page read"
                    )
                url, skip = page.next, 0

    async def _descend(
        self,
        levels: Sequence[Expand],
        depth: int,
        parents: Chain,
        item: Json,
        here: Mark,
        deeper: Position,
        last: bool,
    ) -> AsyncGenerator[tuple[Chain, Position], None]:
        if last:
            yield (*parents, item), (Mark(here.stream, here.url, here.skip + 1),)
            return
        async for chain, tail in self._walk(levels, depth + 1, (*parents, item), deeper):
            yield chain, (here, *tail)

    # -- whole reads --

    async def collect(self, levels: Sequence[Expand], depth: int = 0, parents: Chain = ()) -> list[Chain]:
        """Every record of the walk, in walk order; the subtrees of one page's
        records are read concurrently."""
        level = levels[depth](parents)
        last = depth == len(levels) - 1

        async def below(items: Sequence[Json]) -> list[Chain]:
            if last:
                return [(*parents, item) for item in items]
            groups = await gather_all([self.collect(levels, depth + 1, (*parents, item)) for item in items])
            return [chain for group in groups for chain in group]

        if level.items is not None:
            return await below(level.items)
        found: list[Chain] = []
        for stream in level.streams:
            async for items in self.pages(stream):
                found.extend(await below(items))
        return found


def encode_position(position: Position, base_url: str) -> str:
    """An opaque cursor for ``position``; page URLs are kept relative to ``base_url``."""
    marks = []
    for mark in position:
        url = mark.url
        if url is not None and url.startswith(base_url):
            url = url[len(base_url) :]
        marks.append([mark.stream, url, mark.skip])
    raw = json.dumps(marks, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(cursor: str, base_url: str) -> Position | None:
    """The position of a cursor from :func:`encode_position`; ``None`` when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        marks = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(marks, list) or not marks:
        return None
    position = []
    for mark in marks:
        if not (isinstance(mark, list) and len(mark) == 3):
            return None
        stream, url, skip = mark
        if not (isinstance(stream, int) and isinstance(skip, int) and stream >= 0 and skip >= 0):
            return None
        if url is not None and not isinstance(url, str):
            return None
        if url is not None and not url.startswith(("http://", "https://")):
            url = base_url + url
        position.append(Mark(stream, url, skip))
    return tuple(position)
