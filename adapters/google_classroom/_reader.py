"""Reading Classroom list methods: partial responses, every page, a bound on
how much one question may read, and the per-item errors that are skipped.

Classroom answers ``403 PERMISSION_DENIED`` with ``@ClassroomApiDisabled``
for a user (or a course owned by a user) whose Classroom data access is
turned off. One such user must not take the district down: the item is
skipped, the skip is written to the source's :class:`LoadReport` (the one
``open`` returned, which the hub keeps and shows as ``rejectedRows`` in
``/healthz``) and logged once. A course deleted between listing and reading
(404) is skipped the same way. Every other error stays an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from adapters.google_classroom._fields import build_mask, object_mask
from hub.sdk import BadVendorData, LoadReport, RowProblem, SourceAuthFailed, SourceError, UnsupportedRequest
from hub.sdk.http import Page, PageTokenPaging, QueryParams, RequestRejected, VendorClient

__all__ = ["API_DISABLED", "ClassroomReader", "Json", "Notes", "ScanBudget", "each", "segment"]

log = logging.getLogger("homeroom.sources.google_classroom")

Json = dict[str, Any]
T = TypeVar("T")
R = TypeVar("R")

API_DISABLED = "ClassroomApiDisabled"
_MAX_NOTES = 200


def segment(value: str) -> str:
    """``value`` quoted as one URL path segment."""
    return quote(value, safe="")


class Notes:
    """Items skipped while reading, kept in the source's report (bounded, no duplicates)."""

    def __init__(self, report: LoadReport) -> None:
        self.report = report
        self._seen: set[tuple[str, str]] = set()

    def clear(self) -> None:
        """Forget what was noted (on ``open``: the domain may have changed)."""
        self.report.problems.clear()
        self._seen.clear()

    def skip(self, source: str, where: str, reason: str, *, rejected: bool = True) -> None:
        """Record that ``where`` was skipped for ``reason`` (ids only, no personal values)."""
        key = (where, reason)
        if key in self._seen:
            return
        self._seen.add(key)
        log.warning("source %s: %s skipped: %s", source, where, reason)
        if len(self.report.problems) < _MAX_NOTES:
            self.report.problems.append(RowProblem(where, 0, reason, rejected=rejected))


class ScanBudget:
    """How many vendor objects one question may still read."""

    def __init__(self, source: str, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.read = 0

    def spend(self, count: int) -> None:
        """Count ``count`` more objects; past the limit the question fails."""
        self.read += count
        if self.read > self.limit:
            raise UnsupportedRequest(
                self.source,
                f"the question reads more than max_scan_records ({self.limit}) Classroom objects; "
                "ask for fewer records or raise max_scan_records",
            )


def _items_of(key: str) -> Callable[[Any], Sequence[Any]]:
    def items(body: Any) -> Sequence[Any]:
        if not isinstance(body, dict):
            raise TypeError("not an object")
        # proto3 JSON leaves an empty list out: {} is an empty page.
        found = body.get(key, [])
        return found if isinstance(found, list) else []

    return items


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def each(items: Iterable[T], read: Callable[[T], Coroutine[Any, Any, R]]) -> list[R]:
    """``read`` every item concurrently (the client bounds requests in flight);
    the first failure cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(read(item)) for item in items]
    except BaseExceptionGroup as failed:
        raise _first_error(failed) from None
    return [task.result() for task in tasks]


class ClassroomReader:
    """The list and get calls the adapter makes, through the source's client."""

    def __init__(self, client: VendorClient, notes: Notes) -> None:
        self.client = client
        self.name = client.name
        self.notes = notes

    async def list(
        self,
        path: str,
        key: str,
        paths: Iterable[str],
        budget: ScanBudget,
        params: QueryParams | None = None,
        *,
        skippable: bool = False,
    ) -> list[Json]:
        """Every object of a list method, with only ``paths`` of each (a partial response).

        With ``skippable`` a ``ClassroomApiDisabled`` or 404 answer skips the
        list (noted in the report) instead of failing the question.
        """
        query: dict[str, str | int | float] = {**(params or {}), "fields": build_mask(key, paths)}
        paging = PageTokenPaging(items_of=_items_of(key))
        found: list[Json] = []
        try:
            async for page in paging.pages(self.client, path, query):
                budget.spend(len(page.items))
                found.extend(item for item in page.items if isinstance(item, dict))
        except SourceError as exc:
            if not skippable or not self.skipped(path, exc):
                raise
            return []
        return found

    async def pages(
        self,
        path: str,
        key: str,
        paths: Iterable[str],
        budget: ScanBudget,
        params: Sequence[tuple[str, str | int]] = (),
        *,
        page_size: int | None = None,
    ) -> AsyncGenerator[Page, None]:
        """The pages of a list method one by one, for a reader that may stop early
        (close the iterator, e.g. with ``contextlib.aclosing``). Errors are raised
        as they come; :meth:`skipped` tells which ones skip the list.

        ``params`` may name a parameter more than once (``courseWorkStates``
        twice), which the client's ``QueryParams`` mapping cannot: the whole
        query is therefore encoded here and sent as part of the path. Each
        page repeats it with only ``pageToken`` added, as Google requires.
        """
        size = page_size or self.client.config.page_size
        query = [*params, ("fields", build_mask(key, paths)), ("pageSize", size)]
        items_of = _items_of(key)
        token = ""
        seen: set[str] = set()
        while True:
            asked = [*query, ("pageToken", token)] if token else query
            payload, headers = await self.client.get_json(f"{path}?{urlencode(asked)}")
            try:
                items = items_of(payload)
            except TypeError:
                raise BadVendorData(self.name, f"{path} answered a body without the expected list") from None
            budget.spend(len(items))
            seen.add(token)
            following = payload.get("nextPageToken") if isinstance(payload, dict) else None
            following = following if isinstance(following, str) and following else None
            if following is not None and following in seen:
                raise BadVendorData(self.name, f"{path}: the next page token repeats a page already read")
            yield Page(items, payload, headers, None, token, following)
            if following is None:
                return
            token = following

    async def get(self, path: str, paths: Iterable[str], *, skippable: bool = True) -> Json | None:
        """One object (``None`` when absent or skipped)."""
        try:
            body, _ = await self.client.get_json(path, {"fields": object_mask(paths)}, missing_ok=True)
        except SourceError as exc:
            if not skippable or not self.skipped(path, exc):
                raise
            return None
        return body if isinstance(body, dict) else None

    def skipped(self, path: str, exc: SourceError) -> bool:
        """Whether ``exc``, raised reading ``path``, skips that item (noted in the
        report: ``ClassroomApiDisabled`` or 404) rather than failing the question."""
        where = path.removeprefix("v1/")
        if isinstance(exc, SourceAuthFailed) and API_DISABLED in exc.reason:
            reason = f"{API_DISABLED}: Classroom data access is off for this user or course owner"
            self.notes.skip(self.name, where, reason)
            return True
        if isinstance(exc, RequestRejected) and exc.status == 404:
            self.notes.skip(self.name, where, "not found (deleted while being read)", rejected=False)
            return True
        return False
