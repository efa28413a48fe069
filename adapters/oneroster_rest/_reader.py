"""Reading OneRoster collections: projection and filter push-down, paging,
and what to do when a provider refuses either.

Providers differ in what they accept. A ``fields=`` or ``filter=`` a
provider answers with 400 (``invalid_selection_field``,
``invalid_filter_field``) is remembered for the life of the adapter and
the read is done without it, filtering in the hub instead, so one
provider's gap costs one refused request, not an outage.

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
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.oneroster_rest._filter import any_of
from adapters.oneroster_rest._resources import Resource
from hub.sdk.http import OffsetLimitPaging, Page, RequestRejected, VendorClient

__all__ = ["CollectionReader", "Lookup", "PushDownRefused"]

log = logging.getLogger("homeroom.sources.oneroster_rest")

_REFUSAL_STATUSES = frozenset({400, 422})
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


async def _all_of(reads: Sequence[asyncio.Future[_T]]) -> list[_T]:
    """The tasks' pages in order; on the first failure the others are cancelled
    (none is left running, or failing unseen) and that failure is raised."""
    try:
        return list(await asyncio.gather(*reads))
    except BaseException:
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        raise


class CollectionReader:
    """Reads collections of one provider, remembering what it refused."""

    def __init__(self, client: VendorClient, max_predicates: int) -> None:
        self.client = client
        self.max_predicates = max_predicates
        self._refused_filters: set[tuple[str, str]] = set()
        self._no_projection: set[str] = set()
        # Record counts by (path, filter): only for choosing a plan, never for an answer.
        self._sizes: OrderedDict[tuple[str, str | None], int | None] = OrderedDict()

    def can_push(self, resource: Resource, vendor_field: str) -> bool:
        """Whether ``vendor_field`` of ``resource`` may go into a ``filter=``."""
        return (resource.path, vendor_field.split(".")[0]) not in self._refused_filters

    def forget(self) -> None:
        """Forget refusals and sizes (on ``open``: the provider may have changed)."""
        self._refused_filters.clear()
        self._no_projection.clear()
        self._sizes.clear()

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
    ) -> AsyncIterator[Page]:
        """Pages of ``resource`` with the given ``fields=`` and ``filter=``.

        ``ahead``: once the first page gives the total, ask for the pages
        up to offset ``until`` (the end when ``None``) at once; later pages
        are read one by one, as without it. ``newest_first``: sort by that
        field, descending. Raises :class:`PushDownRefused` (after
        remembering the refusal) when the provider answers 400/422 to a
        ``filter=`` or ``fields=``.
        """
        params: dict[str, str | int | float] = {}
        if fields and resource.path not in self._no_projection:
            params["fields"] = fields
        if filter_expression:
            params["filter"] = filter_expression
        if newest_first:
            params["sort"], params["orderBy"] = newest_first, "desc"
        paging = _items_of(resource.key)
        try:
            if ahead:
                async for page in self._ahead(paging, resource.path, params, resume, page_size, until):
                    yield page
                return
            async for page in paging.pages(
                self.client, resource.path, params, resume=resume, page_size=page_size
            ):
                yield page
        except RequestRejected as exc:
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
    ) -> AsyncIterator[Page]:
        first = await _one_page(paging, self.client, path, params, int(resume or 0), page_size)
        yield first
        following = first.next
        # The provider's own page length: it may cut ``limit`` to its maximum.
        step = len(first.items)
        if following is not None and first.total is not None and step > 0:
            end = first.total if until is None else min(first.total, until)
            reads = [
                asyncio.ensure_future(_one_page(paging, self.client, path, params, offset, page_size))
                for offset in range(int(following), end, step)
            ]
            for page in await _all_of(reads):
                if page.position != following:
                    break  # an earlier page was short: the offsets asked for no longer line up
                yield page
                following = page.next
                if following is None:
                    return
        if following is not None:
            async for page in paging.pages(self.client, path, params, resume=following, page_size=page_size):
                yield page

    def _learn(self, resource: Resource, params: dict[str, str | int | float], exc: RequestRejected) -> bool:
        codes = set(exc.vendor_codes)
        expression = str(params.get("filter") or "")
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

    async def size(self, resource: Resource, expression: str | None = None) -> int | None:
        """The number of records of ``resource`` matching ``expression`` (all when
        ``None``), from a one-record read, remembered for planning (the most
        recent :data:`_SIZES_KEPT` of them)."""
        key = (resource.path, expression)
        if key in self._sizes:
            self._sizes.move_to_end(key)
            return self._sizes[key]
        total = None
        async for page in self.pages(resource, "sourcedId", expression, page_size=1):
            total = page.total
            break
        self._sizes[key] = total
        if len(self._sizes) > _SIZES_KEPT:
            self._sizes.popitem(last=False)
        return total

    def chunks(self, values: Sequence[str]) -> list[list[str]]:
        """``values`` without repeats, in ``OR`` chunks of at most ``max_predicates``."""
        unique = list(dict.fromkeys(values))
        size = self.max_predicates
        return [unique[i : i + size] for i in range(0, len(unique), size)]

    async def cost(self, resource: Resource, expressions: Sequence[str | None]) -> int:
        """Requests reading every stream of ``expressions`` to the end costs, with
        the one-record probes that tell (made at once; remembered, see :meth:`size`)."""
        probes = sum((resource.path, expression) not in self._sizes for expression in expressions)
        reads = [asyncio.ensure_future(self.size(resource, expression)) for expression in expressions]
        totals = await _all_of(reads)
        size = self.client.config.page_size
        return probes + sum(max(1, math.ceil((total or 0) / size)) for total in totals)

    async def plan(
        self, resource: Resource, vendor_field: str, values: Sequence[str], expected: int = 0
    ) -> list[str | None]:
        """Filter expressions reading the records whose ``vendor_field`` is one of ``values``.

        OneRoster has no multi-id GET and portable filters hold few
        predicates, so values go in chunks of ``max_predicates`` joined by
        ``OR``. When that needs more requests than reading the whole
        collection (its size from one probe), the plan is the whole
        collection (``[None]``) and the caller filters. ``expected``: how
        many values the caller will look up in all (a join over pages
        still to come), when more than ``values`` holds.
        """
        if not self.can_push(resource, vendor_field):
            return [None]
        chunks = self.chunks(values)
        needed = max(len(chunks), math.ceil(expected / self.max_predicates))
        if needed > 2:
            total = await self.size(resource)
            pages = math.ceil(max(total or 0, 1) / self.client.config.page_size)
            if total is not None and pages < needed:
                return [None]
        return [any_of(vendor_field, chunk) for chunk in chunks]

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
