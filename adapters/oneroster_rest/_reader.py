"""Reading OneRoster collections: projection and filter push-down, paging,
and what to do when a provider refuses either.

Providers differ in what they accept. A ``fields=`` or ``filter=`` a
provider answers with 400 (``invalid_selection_field``,
``invalid_filter_field``) is remembered for the life of the adapter and
the read is done without it, filtering in the hub instead, so one
provider's gap costs one refused request, not an outage.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Sequence
from typing import Any

from adapters.oneroster_rest._filter import any_of
from adapters.oneroster_rest._resources import Resource
from hub.sdk.http import OffsetLimitPaging, Page, RequestRejected, VendorClient

__all__ = ["CollectionReader", "PushDownRefused"]

log = logging.getLogger("homeroom.sources.oneroster_rest")

_REFUSAL_STATUSES = frozenset({400, 422})


class PushDownRefused(Exception):
    """A provider refused a ``filter=`` or ``fields=``; the read should be planned again."""


def _items_of(key: str) -> OffsetLimitPaging:
    def items(payload: Any) -> Sequence[Any]:
        found = payload[key]
        return found if isinstance(found, list) else []

    return OffsetLimitPaging(items_of=items)


class CollectionReader:
    """Reads collections of one provider, remembering what it refused."""

    def __init__(self, client: VendorClient, max_predicates: int) -> None:
        self.client = client
        self.max_predicates = max_predicates
        self._refused_filters: set[tuple[str, str]] = set()
        self._no_projection: set[str] = set()
        self._sizes: dict[str, int | None] = {}

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
    ) -> AsyncIterator[Page]:
        """Pages of ``resource`` with the given ``fields=`` and ``filter=``.

        Raises :class:`PushDownRefused` (after remembering the refusal) when
        the provider answers 400/422 to either.
        """
        params: dict[str, str | int | float] = {}
        if fields and resource.path not in self._no_projection:
            params["fields"] = fields
        if filter_expression:
            params["filter"] = filter_expression
        paging = _items_of(resource.key)
        try:
            async for page in paging.pages(
                self.client, resource.path, params, resume=resume, page_size=page_size
            ):
                yield page
        except RequestRejected as exc:
            if exc.status not in _REFUSAL_STATUSES or not self._learn(resource, params, exc):
                raise
            raise PushDownRefused(resource.path) from None

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

    async def size(self, resource: Resource) -> int | None:
        """The collection's record count from a one-record read (cached)."""
        if resource.path not in self._sizes:
            total = None
            async for page in self.pages(resource, "sourcedId", None, page_size=1):
                total = page.total
                break
            self._sizes[resource.path] = total
        return self._sizes[resource.path]

    async def plan(self, resource: Resource, vendor_field: str, values: Sequence[str]) -> list[str | None]:
        """Filter expressions reading the records whose ``vendor_field`` is one of ``values``.

        OneRoster has no multi-id GET and portable filters hold few
        predicates, so values go in chunks of ``max_predicates`` joined by
        ``OR``. When that needs more requests than reading the whole
        collection (its size from one probe), the plan is the whole
        collection (``[None]``) and the caller filters.
        """
        if not self.can_push(resource, vendor_field):
            return [None]
        unique = list(dict.fromkeys(values))
        size = self.max_predicates
        chunks = [unique[i : i + size] for i in range(0, len(unique), size)]
        if len(chunks) > 2:
            total = await self.size(resource)
            if total is not None and math.ceil(max(total, 1) / self.client.config.page_size) < len(chunks):
                return [None]
        return [any_of(vendor_field, chunk) for chunk in chunks]

    async def objects(
        self, resource: Resource, fields: str, vendor_field: str, values: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Objects whose ``vendor_field`` is one of ``values``, by sourcedId (for joins)."""
        wanted = set(values)
        found: dict[str, dict[str, Any]] = {}
        for _ in range(3):
            try:
                for expression in await self.plan(resource, vendor_field, values):
                    async for page in self.pages(resource, fields, expression):
                        for item in page.items:
                            if isinstance(item, dict) and item.get(vendor_field) in wanted:
                                found[str(item[vendor_field])] = item
                return found
            except PushDownRefused:
                continue
        return found
