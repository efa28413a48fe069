"""The live path's joins read their collection once per fetch, not once per page,
and reads to the end ask for their pages at once when the total is known."""

from __future__ import annotations

import asyncio
import math
import shutil
from collections import Counter
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from hub.sdk import Entity, FetchRequest

from .conftest import csv_adapter, every_field, fetch_all, rest_adapter, simulator
from .test_simulator_changes import rewrite

PAGE = 7  # small pages: a 60-student district is many pages


def per_collection(paths: list[str]) -> Counter[str]:
    return Counter(path.rsplit("/", 1)[-1] for path in paths)


async def test_demographics_are_read_once_for_every_page_of_students(district: Path) -> None:
    app, state = simulator(district)
    fields = frozenset({"given_name", "birth_date", "directory_opt_out"})
    async with rest_adapter(app, page_size=PAGE) as rest, csv_adapter(district) as csv:
        state.paths.clear()
        got = await rest.fetch(FetchRequest(Entity.STUDENT, fields))
        expected = await csv.fetch(FetchRequest(Entity.STUDENT, fields))
    counts = per_collection(state.paths)
    students, demographics = len(got.records), len(state.district.collections["demographics"])
    assert got.records == expected.records and students > 5 * PAGE
    assert counts["students"] == math.ceil(students / PAGE)
    # Once, whole (after a one-row probe of its size): not once per page of
    # students, which made the live path pages x pages.
    assert counts["demographics"] == 1 + math.ceil(demographics / PAGE)


async def test_demographics_of_an_id_look_up_are_read_once_across_its_chunks(district: Path) -> None:
    app, state = simulator(district)
    fields = frozenset({"birth_date"})
    async with rest_adapter(app, page_size=PAGE) as rest, csv_adapter(district) as csv:
        ids = tuple(
            record.vendor_id for record in (await csv.fetch(FetchRequest(Entity.STUDENT, fields))).records
        )
        few = ids[:6]
        state.paths.clear()
        got = await rest.fetch(FetchRequest(Entity.STUDENT, fields, ids=few))
        expected = await csv.fetch(FetchRequest(Entity.STUDENT, fields, ids=few))
    counts = per_collection(state.paths)
    assert got.records == expected.records
    # Six ids: a size probe and three chunks of two for the students, and each
    # student's demographics asked for once, in the same chunks.
    assert counts["students"] == 1 + 3 and counts["demographics"] == 3


async def test_category_titles_are_read_once_for_every_page_of_line_items(district: Path) -> None:
    app, state = simulator(district)
    fields = frozenset({"title", "category"})
    async with rest_adapter(app, page_size=PAGE) as rest, csv_adapter(district) as csv:
        state.paths.clear()
        got = await fetch_all(rest, FetchRequest(Entity.ASSIGNMENT, fields))
        expected = await fetch_all(csv, FetchRequest(Entity.ASSIGNMENT, fields))
    counts = per_collection(state.paths)
    categories = len(state.district.collections["categories"])
    assert sorted(got, key=lambda r: r.vendor_id) == sorted(expected, key=lambda r: r.vendor_id)
    assert counts["lineItems"] > 5
    assert counts["categories"] <= 1 + math.ceil(categories / PAGE)  # a size probe, then once


async def test_a_deleted_demographics_row_lends_nothing(district: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(district, tmp_path / "district"))
    app, _ = simulator(folder)
    fields = frozenset({"birth_date"})
    async with rest_adapter(app) as rest:
        before = (await rest.fetch(FetchRequest(Entity.STUDENT, fields))).records
        dated = next(record for record in before if getattr(record, "birth_date", None) is not None)
        rewrite(
            folder / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] != dated.vendor_id]
        )
        after = await rest.fetch(FetchRequest(Entity.STUDENT, fields, ids=(dated.vendor_id,)))
    # The provider still lists the row (tobedeleted): its values must not be used.
    assert [getattr(record, "birth_date", "?") for record in after.records] == [None]


class InFlight:
    """ASGI wrapper recording the most data requests in flight at once."""

    def __init__(self, app: Starlette) -> None:
        self.app, self.now, self.most = app, 0, 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/token":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.005)  # long enough for the client to start the others
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


async def test_pages_are_read_at_once_when_the_total_is_known(district: Path) -> None:
    app, _ = simulator(district, max_page_size=PAGE)
    watched = InFlight(app)
    fields = every_field(Entity.ENROLLMENT)
    # The provider cuts the asked-for 50 to 7 a page: the offsets must follow its page length.
    async with rest_adapter(watched, page_size=50, max_concurrency=3) as rest, csv_adapter(district) as csv:  # type: ignore[arg-type]
        watched.most = 0
        got = await rest.fetch(FetchRequest(Entity.ENROLLMENT, fields))
        expected = await csv.fetch(FetchRequest(Entity.ENROLLMENT, fields))
        at_once = watched.most
        watched.most = 0
        limited = await rest.fetch(FetchRequest(Entity.ENROLLMENT, fields, limit=3))
    assert got.records == expected.records and len(got.records) > 10 * PAGE
    assert at_once == 3  # the client's max_concurrency, no more
    assert watched.most == 1 and limited.records == expected.records[:3]
