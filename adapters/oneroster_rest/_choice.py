"""Choosing how to read a request when there are two ways: by its own
restriction, or by the caller's relations (``visible_if``), whichever costs
fewer requests.

A way is a list of streams (``filter=`` expressions). A stream costs its
pages at the source's page size: known when its size is remembered (the
``X-Total-Count`` of an earlier read) or its first page is in hand, else at
least one. The way cheapest by that estimate is taken as soon as all of its
streams are known; until then, its unknown streams' first pages are read,
all at once, and kept: the read of the way taken starts from them, so
learning what a stream costs is never paid twice. A first page of a way not
taken is the only waste, one request, as a one-row size probe would be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from adapters.oneroster_rest._reader import CollectionReader
from adapters.oneroster_rest._resources import Resource
from hub.sdk.http import Page

__all__ = ["Plan", "cheapest"]


@dataclass(frozen=True, slots=True)
class Plan:
    """The streams to read, the first pages of them already read, and whether
    they are the caller's relations rather than the request's own restriction
    (a paging cursor says so, so that the next page reads the same streams)."""

    expressions: tuple[str | None, ...]
    firsts: Mapping[str | None, Page] = field(default_factory=dict)
    narrowed: bool = False


async def cheapest(
    reader: CollectionReader,
    resource: Resource,
    fields: str,
    own: Sequence[str | None],
    narrowed: Sequence[str],
    *,
    own_unrestricted: bool = False,
) -> Plan:
    """Of two ways of reading the same rows (``own`` and ``narrowed``), the one
    that costs fewer requests from here on; on a tie the one whose cost is
    known, then ``own``, unless ``own_unrestricted`` (a stream the request
    does not narrow, likely the district's whole collection). First pages
    are read with ``fields``."""
    ways: tuple[tuple[str | None, ...], ...] = (tuple(dict.fromkeys(own)), tuple(dict.fromkeys(narrowed)))
    order = (1, 0) if own_unrestricted else (0, 1)
    firsts: dict[str | None, Page] = {}
    while True:
        costs = [_remaining(reader, resource, way, firsts) for way in ways]
        best = min(order, key=lambda index: (costs[index][0], bool(costs[index][1]), order.index(index)))
        unknown = costs[best][1]
        if not unknown:
            way = ways[best]
            kept = {expression: firsts[expression] for expression in way if expression in firsts}
            return Plan(way, kept, narrowed=best == 1)
        pages = await reader.first_pages(resource, fields, unknown)
        firsts.update(zip(unknown, pages, strict=True))


def _remaining(
    reader: CollectionReader, resource: Resource, way: Sequence[str | None], firsts: Mapping[str | None, Page]
) -> tuple[int, list[str | None]]:
    """(requests reading ``way`` still takes, at least; its streams of unknown size)."""
    cost = 0
    unknown: list[str | None] = []
    for expression in way:
        page = firsts.get(expression)
        if page is not None:
            cost += _after(page)
            continue
        remembered, total = reader.known(resource, expression)
        if remembered and total is not None:
            cost += reader.pages_of(total)
        else:
            cost += 1
            unknown.append(expression)
    return cost, unknown


def _after(page: Page) -> int:
    """Requests for the pages after ``page`` (at least one when it says more follow)."""
    if page.next is None:
        return 0
    step = len(page.items)
    if page.total is None or step == 0:
        return 1
    return max(1, math.ceil((page.total - int(page.position or 0) - step) / step))
