"""Paging strategies, written once: each turns a collection endpoint into an
async iterator of :class:`Page`, and can resume from any page's position."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from hub.sdk._errors import BadVendorData
from hub.sdk.http._client import QueryParams, VendorClient

__all__ = [
    "CursorPaging",
    "ItemsOf",
    "LinkHeaderPaging",
    "OffsetLimitPaging",
    "Page",
    "PageTokenPaging",
    "Paging",
    "parse_link_header",
]

ItemsOf = Callable[[Any], Sequence[Any]]
"""Picks a page's records out of its decoded body, e.g. ``lambda body: body["users"]``."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a collection.

    - ``items``: the page's records (as the vendor sent them).
    - ``payload`` / ``headers``: the whole decoded body and the response headers.
    - ``total``: the number of matching records, when the vendor says (``X-Total-Count``).
    - ``position``: the state this page was fetched from (``""`` for the first page);
      passing it as ``resume`` fetches this page again.
    - ``next``: the state of the following page, ``None`` on the last page.

    Positions are strings the strategy understands: an offset, a URL, a
    token or a cursor. They are opaque to everyone else.
    """

    items: Sequence[Any]
    payload: Any
    headers: httpx.Headers
    total: int | None
    position: str
    next: str | None


class Paging(Protocol):
    """What every paging strategy offers: the pages of ``path``, in order.

    ``params`` are sent with every request the strategy builds (a followed
    link is sent verbatim instead); ``resume`` starts at a page's ``position``
    or ``next``; ``page_size`` defaults to the source's ``page_size``.
    """

    def pages(
        self,
        client: VendorClient,
        path: str,
        params: QueryParams | None = None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Fetch page after page until the last one."""
        ...


def _items(items_of: ItemsOf, payload: Any, client: VendorClient, path: str) -> Sequence[Any]:
    try:
        items = items_of(payload)
    except (KeyError, IndexError, TypeError, AttributeError):
        raise BadVendorData(client.name, f"{path} answered a body without the expected list") from None
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise BadVendorData(client.name, f"{path} answered a body without the expected list")
    return items


def _total(headers: httpx.Headers, name: str | None) -> int | None:
    if not name:
        return None
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


@dataclass(frozen=True, slots=True)
class OffsetLimitPaging:
    """``limit``/``offset`` paging with a total-count header (OneRoster, Ed-Fi 5).

    Stops when the offset reaches the total header, or, without one, at the
    first page shorter than asked or empty. ``position``/``next`` are offsets.
    """

    items_of: ItemsOf
    limit_param: str = "limit"
    offset_param: str = "offset"
    total_header: str | None = "X-Total-Count"

    async def pages(
        self,
        client: VendorClient,
        path: str,
        params: QueryParams | None = None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages from offset ``resume`` (0 by default) to the end."""
        size = page_size or client.config.page_size
        offset = _offset(resume)
        while True:
            query = {**(params or {}), self.limit_param: size, self.offset_param: offset}
            payload, headers = await client.get_json(path, query)
            items = _items(self.items_of, payload, client, path)
            total = _total(headers, self.total_header)
            after = offset + len(items)
            more = bool(items) and (after < total if total is not None else len(items) >= size)
            yield Page(items, payload, headers, total, str(offset), str(after) if more else None)
            if not more:
                return
            offset = after


def _offset(resume: str | None) -> int:
    if not resume:
        return 0
    if not (resume.isascii() and resume.isdigit()):
        raise ValueError(f"not an offset: {resume!r}")
    return int(resume)


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*"?([^";,]*)"?')


def parse_link_header(value: str) -> dict[str, str]:
    """``rel -> URL`` of an RFC 8288 ``Link`` header (URLs exactly as sent).

    A link with several relations (``rel="next last"``) is listed under each.
    """
    links: dict[str, str] = {}
    for match in _LINK.finditer(value):
        url, params = match.group(1).strip(), match.group(2)
        for name, rels in _PARAM.findall(params):
            if name.lower() == "rel":
                for rel in rels.split():
                    links.setdefault(rel.lower(), url)
    return links


@dataclass(frozen=True, slots=True)
class LinkHeaderPaging:
    """Follows ``Link: <url>; rel="next"`` verbatim until there is none (Canvas, OneRoster).

    The first request is ``path`` with ``params`` (plus ``size_param`` when
    set); every further request is the linked URL exactly as the vendor
    wrote it, resolved against the current URL when relative. Links to
    another host are refused (the token would go with them) and a link seen
    before ends with ``BadVendorData`` rather than looping.
    ``position``/``next`` are URLs.
    """

    items_of: ItemsOf
    size_param: str | None = "per_page"
    rel: str = "next"
    total_header: str | None = None

    async def pages(
        self,
        client: VendorClient,
        path: str,
        params: QueryParams | None = None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages from ``path`` (or the URL ``resume``) along the ``next`` links."""
        seen: set[str] = set()
        position = resume or ""
        if resume:
            url = client.url(resume)
            query: QueryParams | None = None
        else:
            url = client.url(path)
            size = page_size or client.config.page_size
            query = {**(params or {}), **({self.size_param: size} if self.size_param else {})}
        while True:
            payload, headers = await client.get_json(url, query)
            seen.add(str(url))
            items = _items(self.items_of, payload, client, url.path)
            link = parse_link_header(headers.get("Link", "")).get(self.rel)
            following = client.url(url.join(link)) if link else None
            if following is not None and str(following) in seen:
                reason = f"{url.path}: the next link points back to a page already read"
                raise BadVendorData(client.name, reason)
            next_position = str(following) if following is not None else None
            yield Page(items, payload, headers, _total(headers, self.total_header), position, next_position)
            if following is None or next_position is None:
                return
            url, query, position = following, None, next_position


def _field(name: str) -> Callable[[Any, httpx.Headers], str | None]:
    def read(payload: Any, headers: httpx.Headers) -> str | None:
        value = payload.get(name) if isinstance(payload, dict) else None
        return value if isinstance(value, str) and value else None

    return read


def _last_item_id(name: str) -> Callable[[Sequence[Any]], str | None]:
    def read(items: Sequence[Any]) -> str | None:
        last = items[-1] if items else None
        value = last.get(name) if isinstance(last, dict) else None
        return str(value) if value not in (None, "") else None

    return read


async def _token_pages(
    client: VendorClient,
    path: str,
    params: QueryParams | None,
    resume: str | None,
    size: int,
    items_of: ItemsOf,
    token_param: str,
    size_param: str | None,
    next_token: Callable[[Any, httpx.Headers, Sequence[Any]], str | None],
) -> AsyncIterator[Page]:
    token = resume or ""
    seen: set[str] = set()
    while True:
        query: dict[str, str | int | float] = dict(params or {})
        if size_param:
            query[size_param] = size
        if token:
            query[token_param] = token
        payload, headers = await client.get_json(path, query)
        items = _items(items_of, payload, client, path)
        seen.add(token)
        following = next_token(payload, headers, items)
        if following is not None and following in seen:
            raise BadVendorData(client.name, f"{path}: the next page token repeats a page already read")
        yield Page(items, payload, headers, None, token, following)
        if following is None:
            return
        token = following


@dataclass(frozen=True, slots=True)
class PageTokenPaging:
    """Opaque page tokens: ``pageToken``/``pageSize`` in, ``nextPageToken`` out
    (Google Classroom, Ed-Fi 7). Ends when the answer names no next token.

    ``next_token`` reads the token from a body and headers; by default the
    body's ``next_field``. ``position``/``next`` are tokens.
    """

    items_of: ItemsOf
    token_param: str = "pageToken"
    size_param: str | None = "pageSize"
    next_field: str = "nextPageToken"
    next_token: Callable[[Any, httpx.Headers], str | None] | None = field(default=None)

    def pages(
        self,
        client: VendorClient,
        path: str,
        params: QueryParams | None = None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages from the first (or the token ``resume``) to the last."""
        read = self.next_token or _field(self.next_field)
        return _token_pages(
            client,
            path,
            params,
            resume,
            page_size or client.config.page_size,
            self.items_of,
            self.token_param,
            self.size_param,
            lambda payload, headers, items: read(payload, headers),
        )


@dataclass(frozen=True, slots=True)
class CursorPaging:
    """Record cursors: ask for the records after the last one seen
    (Clever's ``starting_after``). Ends on a page shorter than asked.

    ``cursor_of`` reads the cursor from a page's records; by default the
    last record's ``id_field``. ``position``/``next`` are cursors.
    """

    items_of: ItemsOf
    cursor_param: str = "starting_after"
    size_param: str = "limit"
    id_field: str = "id"
    cursor_of: Callable[[Sequence[Any]], str | None] | None = field(default=None)

    def pages(
        self,
        client: VendorClient,
        path: str,
        params: QueryParams | None = None,
        *,
        resume: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages from the start (or after the cursor ``resume``) to the end."""
        size = page_size or client.config.page_size
        read = self.cursor_of or _last_item_id(self.id_field)

        def next_cursor(payload: Any, headers: httpx.Headers, items: Sequence[Any]) -> str | None:
            return read(items) if len(items) >= size else None

        return _token_pages(
            client, path, params, resume, size, self.items_of, self.cursor_param, self.size_param, next_cursor
        )
