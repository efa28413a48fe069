"""Reading Clever's envelopes: paging along the body's ``links``, single
objects, and the list items unwrapped to plain records.

Clever does not page with a ``Link`` header but in the body::

    {"data": [{"data": {...}, "uri": "/v3.0/users/5a25..."}, ...],
     "links": [{"rel": "next", "uri": "/v3.0/users?limit=100&starting_after=5a25..."}]}

:class:`BodyLinkPaging` follows those links as the toolkit's
``LinkHeaderPaging`` follows headers (it has the toolkit's ``Paging``
shape, so it could move into ``hub.sdk.http`` as is).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.clever._mapping import Json, unwrap
from adapters.clever._routes import Stream
from hub.sdk import BadVendorData
from hub.sdk.http import ItemsOf, Page, QueryParams, VendorClient

__all__ = ["BodyLinkPaging", "CleverReader", "data_items"]

log = logging.getLogger("homeroom.sources.clever")


def data_items(body: Any) -> Sequence[Any]:
    """The ``data`` list of a Clever list envelope."""
    items = body["data"]
    if not isinstance(items, list):
        raise TypeError("data is not a list")
    return items


def _link(payload: Any, rel: str) -> str | None:
    links = payload.get("links") if isinstance(payload, dict) else None
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("rel") == rel and isinstance(link.get("uri"), str):
            return str(link["uri"]) or None
    return None


@dataclass(frozen=True, slots=True)
class BodyLinkPaging:
    """Follows the body's ``links`` entry ``rel`` (``next``) verbatim until there is none.

    The first request is ``path`` with ``params`` and ``size_param``; every
    further one is the linked URI exactly as the vendor wrote it, resolved
    against ``base_url``. A link to another host is refused (the token would
    go with it) and a link back to a page already read ends with
    ``BadVendorData`` rather than looping. With ``missing_ok`` a 404 is one
    empty page. ``position``/``next`` are URLs.
    """

    items_of: ItemsOf = data_items
    size_param: str | None = "limit"
    rel: str = "next"
    missing_ok: bool = False

    async def pages(
        self,
        client: VendorClient,
        path: str,
        params: QueryParams | None = None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages from ``path`` (or the URL ``resume``) along the links."""
        if resume:
            url, position = client.url(resume), resume
        else:
            query = dict(params or {})
            if self.size_param:
                query[self.size_param] = page_size or client.config.page_size
            url, position = client.url(path).copy_merge_params(query), ""
        seen: set[str] = set()
        while True:
            payload, headers = await client.get_json(url, missing_ok=self.missing_ok)
            if payload is None:
                yield Page((), payload, headers, None, position, None)
                return
            seen.add(str(url))
            try:
                items = self.items_of(payload)
            except (KeyError, IndexError, TypeError, AttributeError):
                raise BadVendorData(client.name, f"{url.path} answered a body without a data list") from None
            link = _link(payload, self.rel)
            following = client.url(link) if link else None
            if following is not None and str(following) in seen:
                raise BadVendorData(
                    client.name, f"{url.path}: the next link points back to a page already read"
                )
            yield Page(items, payload, headers, None, position, str(following) if following else None)
            if following is None:
                return
            url, position = following, str(following)


class CleverReader:
    """The reads of :class:`Stream` objects, below the versioned root (``/v3.0``)."""

    def __init__(self, client: VendorClient, api_path: str) -> None:
        self._client = client
        self._root = api_path

    async def pages(self, stream: Stream, *, after: str = "", size: int) -> AsyncIterator[list[Json]]:
        """The stream's records page by page (a single object is one page of one).

        ``after`` resumes after that Clever id: ``starting_after`` for a paged
        list; an unpaged list (``/districts``) drops what comes before it here.
        """
        path = f"{self._root}{stream.path}"
        if stream.kind == "single":
            payload, _ = await self._client.get_json(path, missing_ok=stream.missing_ok)
            found = unwrap(payload.get("data")) if isinstance(payload, dict) else None
            if payload is not None and found is None:
                raise BadVendorData(self._client.name, f"{path} answered a body without a data object")
            yield [found] if found is not None and not after else []
            return
        params: dict[str, str | int | float] = dict(stream.params)
        paged = stream.kind == "paged"
        if after and paged:
            params["starting_after"] = after
        paging = BodyLinkPaging(size_param="limit" if paged else None, missing_ok=stream.missing_ok)
        async for page in paging.pages(self._client, path, params, page_size=size):
            records = self._records(page.items, path)
            if after and not paged:
                ids = [record.get("id") for record in records]
                records = records[ids.index(after) + 1 :] if after in ids else []
            yield records

    async def read_all(self, stream: Stream, *, after: str = "", size: int) -> list[list[Json]]:
        """Every page of ``stream`` (for reads sent concurrently, then used in order)."""
        return [page async for page in self.pages(stream, after=after, size=size)]

    def _records(self, items: Sequence[Any], path: str) -> list[Json]:
        records = [found for item in items if (found := unwrap(item)) is not None]
        if len(records) < len(items):
            log.warning(
                "source %s: %s: %d malformed items skipped",
                self._client.name,
                path,
                len(items) - len(records),
            )
        return records
