"""Reading OneRoster collections: projection and filter push-down, paging,
and what to do when a provider refuses either.

Providers differ in what they accept. A ``fields=`` or ``filter=`` a
provider answers with 400 (``invalid_selection_field``,
``invalid_filter_field``) is remembered for the life of the adapter and
the read is done without it, filtering in the hub instead, so one
provider's gap costs one refused request, not an outage. The same holds
for the size of ``OR`` chunks: a filter of more than the portable two
predicates refused with 400 brings chunks back to two, and a 414 (URI too
long) halves the length they may take.

When the first page of a read says how many records there are
(``X-Total-Count``), the reader may ask for the following pages at once
(``ahead``): the client's ``max_concurrency`` slots bound how many are in
flight, and a page shorter than the provider's page size (the collection
changed under the read) falls back to reading on from there page by page.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.oneroster_rest._filter import FilterSyntaxError, encoded_length, or_chunks, parse_filter
from adapters.oneroster_rest._resources import Resource
from hub.sdk.http import OffsetLimitPaging, Page, RequestRejected, VendorClient

__all__ = ["PORTABLE_PREDICATES", "CollectionReader", "Lookup", "PushDownRefused", "concurrently"]

log = logging.getLogger("homeroom.sources.oneroster_rest")

PORTABLE_PREDICATES = 2
"""Predicates per ``filter=`` every provider is expected to take (vendors.md 1.4)."""

_REFUSAL_STATUSES = frozenset({400, 422})
_TOO_LONG = 414
_T = TypeVar("_T")
_SIZES_KEPT = 4096  # record counts remembered for planning (a few per dashboard)


class PushDownRefused(Exception):
    """A provider refused a ``filter=`` or ``fields=``; the read should be planned again."""


def _items_of(key: str) -> OffsetLimitPaging:
    def items(payload: Any) -> Sequence[Any]:
        found = payload[key]
        return found if isinstance(found, list) else []

    return OffsetLimitPaging(items_of=items)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Objects found by a look-up, by the looked-up field's value.

    ``whole``: the collection was read whole (cheaper than the chunks), and
    ``found`` holds every object of it, not only those asked for, so later
    look-ups in the same fetch need no request at all.
    """

    found: dict[str, dict[str, Any]]
    whole: bool


async def _one_page(
    paging: OffsetLimitPaging,
    client: VendorClient,
    path: str,
    params: dict[str, str | int | float],
    offset: int,
    size: int | None,
) -> Page:
    stream = paging.pages(client, path, params, resume=str(offset), page_size=size)
    try:
        return await anext(stream)
    finally:
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()


async def concurrently(reads: Sequence[Awaitable[_T]]) -> list[_T]:
    """The reads' results in order, run at once; on the first failure the others
    are cancelled (none is left running, or failing unseen) and that failure
    is raised."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _predicates(expression: str) -> int:
    """How many predicates a filter this adapter built holds."""
    try:
        return len(parse_filter(expression).predicates)
    except FilterSyntaxError:
        return 1


class CollectionReader:
    """Reads collections of one provider, remembering what it refused and how
    large the streams it read were (for planning)."""

    def __init__(self, client: VendorClient, max_predicates: int, max_length: int) -> None:
        self.client = client
        self._configured = (max_predicates, max_length)
        self.max_predicates, self.max_length = self._configured
        self._refused_filters: set[tuple[str, str]] = set()
        self._no_projection: set[str] = set()
        # Record counts by (path, filter): only for choosing a plan, never for an answer.
        self._sizes: OrderedDict[tuple[str, str | None], int | None] = OrderedDict()

    def can_push(self, resource: Resource, vendor_field: str) -> bool:
        """Whether ``vendor_field`` of ``resource`` may go into a ``filter=``."""
        return (resource.path, vendor_field.split(".")[0]) not in self._refused_filters

    def forget(self) -> None:
        """Forget refusals, learnt limits and sizes (on ``open``: the provider may have changed)."""
        self._refused_filters.clear()
        self._no_projection.clear()
        self._sizes.clear()
        self.max_predicates, self.max_length = self._configured

    async def pages(
        self,
        resource: Resource,
        fields: str | None,
        filter_expression: str | None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
        ahead: bool = False,
        until: int | None = None,
        newest_first: str | None = None,
        first: Page | None = None,
    ) -> AsyncGenerator[Page, None]:
        """Pages of ``resource`` with the given ``fields=`` and ``filter=``.

        ``ahead``: once the first page gives the total, ask for the pages
        up to offset ``until`` (the end when ``None``) at once; later pages
        are read one by one, as without it. ``newest_first``: sort by that
        field, descending. ``first``: the page at ``resume``, already read
        with the same arguments (see :meth:`first_pages`), so it costs no
        request. Raises :class:`PushDownRefused` (after remembering the
        refusal) when the provider answers 400/422 to a ``filter=`` or
        ``fields=``, or 414 to a filter it can be given in smaller chunks.
        Every page's ``X-Total-Count`` is remembered for planning.
        """
        params: dict[str, str | int | float] = {}
        if fields and resource.path not in self._no_projection:
            params["fields"] = fields
        if filter_expression:
            params["filter"] = filter_expression
        if newest_first:
            params["sort"], params["orderBy"] = newest_first, "desc"
        paging = _items_of(resource.key)
        key = (resource.path, filter_expression)
        try:
            if ahead:
                async for page in self._ahead(paging, resource.path, params, resume, page_size, until, first):
                    self._note(key, page)
                    yield page
                return
            if first is not None:
                yield first
                if first.next is None:
                    return
                resume = first.next
            async for page in paging.pages(
                self.client, resource.path, params, resume=resume, page_size=page_size
            ):
                self._note(key, page)
                yield page
        except RequestRejected as exc:
            if exc.status == _TOO_LONG and self._shorten(filter_expression):
                raise PushDownRefused(resource.path) from None
            if exc.status not in _REFUSAL_STATUSES or not self._learn(resource, params, exc):
                raise
            raise PushDownRefused(resource.path) from None

    async def _ahead(
        self,
        paging: OffsetLimitPaging,
        path: str,
        params: dict[str, str | int | float],
        resume: str | None,
        page_size: int | None,
        until: int | None,
        first: Page | None,
    ) -> AsyncGenerator[Page, None]:
        if first is None:
            first = await _one_page(paging, self.client, path, params, int(resume or 0), page_size)
        yield first
        following = first.next
        # The provider's own page length: it may cut ``limit`` to its maximum.
        step = len(first.items)
        if following is not None and first.total is not None and step > 0:
            end = first.total if until is None else min(first.total, until)
            reads = [
                _one_page(paging, self.client, path, params, offset, page_size)
                for offset in range(int(following), end, step)
            ]
            for page in await concurrently(reads):
                if page.position != following:
                    break  # an earlier page was short: the offsets asked for no longer line up
                yield page
                following = page.next
                if following is None:
                    return
        if following is not None:
            async for page in paging.pages(self.client, path, params, resume=following, page_size=page_size):
                yield page

    def _note(self, key: tuple[str, str | None], page: Page) -> None:
        # X-Total-Count counts the whole stream, whichever page says it.
        if page.total is not None or page.position in ("", "0"):
            self._remember(key, page.total)

    def _remember(self, key: tuple[str, str | None], total: int | None) -> None:
        self._sizes[key] = total
        self._sizes.move_to_end(key)
        if len(self._sizes) > _SIZES_KEPT:
            self._sizes.popitem(last=False)

    def _shorten(self, expression: str | None) -> bool:
        """After a 414: chunks half as long as ``expression`` from now on, when
        it was an ``OR`` chunk that can be split (one predicate cannot)."""
        if not expression or " OR " not in expression:
            return False
        self.max_length = max(1, min(self.max_length, encoded_length(expression) // 2))
        log.warning(
            "source %s: URI too long; filters of at most %d characters from now on",
            self.client.name,
            self.max_length,
        )
        return True

    def _learn(self, resource: Resource, params: dict[str, str | int | float], exc: RequestRejected) -> bool:
        codes = set(exc.vendor_codes)
        expression = str(params.get("filter") or "")
        if (
            expression
            and "invalid_selection_field" not in codes
            and self.max_predicates > PORTABLE_PREDICATES
            and _predicates(expression) > PORTABLE_PREDICATES
        ):
            # Longer than portable: the length may be what was refused, not the field.
            self.max_predicates = PORTABLE_PREDICATES
            log.warning(
                "source %s: %s refuses a long filter; %d predicates per filter from now on",
                self.client.name,
                resource.path,
                PORTABLE_PREDICATES,
            )
            return True
        if "filter" in params and ("invalid_filter_field" in codes or "invalid_selection_field" not in codes):
            field = expression.split("=")[0].rstrip("!<>~").split(".")[0]
            self._refused_filters.add((resource.path, field))
            log.warning(
                "source %s: %s refuses filter on %s; filtering in the hub",
                self.client.name,
                resource.path,
                field,
            )
            return True
        if "fields" in params:
            self._no_projection.add(resource.path)
            log.warning(
                "source %s: %s refuses fields=; reading whole records", self.client.name, resource.path
            )
            return True
        return False

    def known(self, resource: Resource, expression: str | None) -> tuple[bool, int | None]:
        """(whether it is remembered, the remembered number of records) of a stream."""
        key = (resource.path, expression)
        if key not in self._sizes:
            return False, None
        self._sizes.move_to_end(key)
        return True, self._sizes[key]

    async def size(self, resource: Resource, expression: str | None = None) -> int | None:
        """The number of records of ``resource`` matching ``expression`` (all when
        ``None``): remembered from an earlier read, else from a one-record read;
        kept for planning (the most recent :data:`_SIZES_KEPT` of them)."""
        remembered, total = self.known(resource, expression)
        if remembered:
            return total
        stream = self.pages(resource, "sourcedId", expression, page_size=1)
        try:
            return (await anext(stream)).total
        finally:
            await stream.aclose()

    async def first_pages(
        self, resource: Resource, fields: str | None, expressions: Sequence[str | None]
    ) -> list[Page]:
        """The first page (at the source's page size) of each stream, read at once:
        what a read of them starts with, and (``X-Total-Count``) what the rest costs."""

        async def first(expression: str | None) -> Page:
            stream = self.pages(resource, fields, expression)
            try:
                return await anext(stream)
            finally:
                await stream.aclose()

        return await concurrently([first(expression) for expression in expressions])

    def expressions(self, vendor_field: str, values: Sequence[str]) -> list[str]:
        """``vendor_field`` is one of ``values``, as ``OR`` chunks within the
        provider's predicate and length limits (see :func:`or_chunks`)."""
        return or_chunks(vendor_field, values, max_predicates=self.max_predicates, max_length=self.max_length)

    def pages_of(self, total: int | None) -> int:
        """Requests a stream of ``total`` records takes at the source's page size."""
        return max(1, math.ceil((total or 0) / self.client.config.page_size))

    async def plan(
        self, resource: Resource, vendor_field: str, values: Sequence[str], expected: int = 0
    ) -> list[str | None]:
        """Filter expressions reading the records whose ``vendor_field`` is one of ``values``.

        OneRoster has no multi-id GET and portable filters hold few
        predicates, so values go in ``OR`` chunks (:meth:`expressions`).
        When that needs more requests than reading the whole collection (its
        size remembered, or from one probe when more than two chunks), the
        plan is the whole collection (``[None]``) and the caller filters.
        ``expected``: how many values the caller will look up in all (a
        join over pages still to come), when more than ``values`` holds.
        """
        if not self.can_push(resource, vendor_field):
            return [None]
        chunks = self.expressions(vendor_field, values)
        needed = len(chunks)
        if expected > len(values) and chunks:
            # Values of this length per chunk, within both limits.
            length = sum(encoded_length(chunk) for chunk in chunks) / len(set(values))
            per_chunk = max(1, min(self.max_predicates, int(self.max_length // max(length, 1.0))))
            needed = max(needed, math.ceil(expected / per_chunk))
        remembered, _ = self.known(resource, None)
        # More than two chunks are worth a probe; a remembered size costs nothing.
        if needed > 2 or (remembered and needed > 1):
            total = await self.size(resource)
            if total is not None and self.pages_of(total) < needed:
                return [None]
        return list(chunks)

    async def objects(
        self, resource: Resource, fields: str, vendor_field: str, values: Sequence[str], expected: int = 0
    ) -> Lookup:
        """Objects whose ``vendor_field`` is one of ``values``, by that field (for joins).

        When the collection is read whole (see :meth:`plan`; ``expected`` as
        there), every object is kept: see :class:`Lookup`.
        """
        wanted = set(values)
        found: dict[str, dict[str, Any]] = {}
        for _ in range(3):
            try:
                plan = await self.plan(resource, vendor_field, values, expected)
                whole = plan == [None]
                for expression in plan:
                    async for page in self.pages(resource, fields, expression, ahead=True):
                        for item in page.items:
                            if not isinstance(item, dict) or not isinstance(
                                key := item.get(vendor_field), str
                            ):
                                continue
                            if whole or key in wanted:
                                found[key] = item
                return Lookup(found, whole)
            except PushDownRefused:
                continue
        return Lookup(found, False)
