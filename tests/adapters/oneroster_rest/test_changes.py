"""The adapter's change feed against the simulator (in process): a row changed
or deleted in the CSV folder arrives through ``changes`` as a record or a
deleted id, joined collections' changes included, with a watermark that moves on."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.oneroster_rest._filter import instant, parse_filter
from hub.sdk import Assignment, ChangeFeed, Entity, FetchRequest, Score, Student

from .conftest import every_field, rest_adapter, simulator
from .test_simulator_changes import Row, rewrite

SCORE_FIELDS = frozenset({"score", "student_id", "assignment_id", "section_id"})
Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Any, Any], Awaitable[None]]


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(district, tmp_path / "district"))


def edit(folder: Path, name: str, sourced_id: str, **values: str) -> None:
    def change(rows: list[Row]) -> list[Row]:
        for row in rows:
            if row["sourcedId"] == sourced_id:
                row.update(values)
        return rows

    rewrite(folder / name, change)


def first_id(folder: Path, name: str) -> str:
    with (folder / name).open(encoding="utf-8") as stream:
        stream.readline()
        return stream.readline().split(",", 1)[0]


def delta_queries(queries: list[dict[str, str]]) -> list[dict[str, str]]:
    return [query for query in queries if "dateLastModified" in query.get("filter", "")]


async def test_the_adapter_offers_the_change_feed(folder: Path) -> None:
    app, _ = simulator(folder)
    async with rest_adapter(app) as rest:
        assert isinstance(rest, ChangeFeed)


async def test_a_changed_score_arrives_alone_and_the_watermark_moves_on(folder: Path) -> None:
    app, state = simulator(folder)
    target = first_id(folder, "results.csv")
    async with rest_adapter(app) as rest:
        start = await rest.changes(Entity.SCORE, None, SCORE_FIELDS)
        assert start.watermark is not None and list(start.records) == [] and start.complete
        quiet = await rest.changes(Entity.SCORE, start.watermark, SCORE_FIELDS)
        edit(folder, "results.csv", target, score="3")
        state.queries.clear()
        changed = await rest.changes(Entity.SCORE, start.watermark, SCORE_FIELDS)
        after = await rest.changes(Entity.SCORE, changed.watermark, SCORE_FIELDS)
        fetched = await rest.fetch(FetchRequest(Entity.SCORE, SCORE_FIELDS, ids=(target,)))
    # The watermark is the newest date the provider served, in its own words.
    served = max(state.district.collections["results"], key=lambda obj: instant(obj["dateLastModified"]))
    assert list(quiet.records) == [] and list(quiet.deleted) == []
    assert [record.vendor_id for record in changed.records] == [target]
    (record,) = changed.records
    assert isinstance(record, Score) and record.score == 3
    assert record == fetched.records[0]  # mapped and projected as fetch does
    assert changed.watermark == served["dateLastModified"]
    assert list(after.records) == [] and list(after.deleted) == []
    assert after.watermark is None  # nothing newer: keep the previous one
    # One filtered read per call, projected to the fields asked for, the date added.
    query, _ = delta_queries(state.queries)
    assert parse_filter(query["filter"]).predicates[0].value == start.watermark
    assert set(query["fields"].split(",")) == {
        *("sourcedId", "status", "dateLastModified", "score", "student", "lineItem", "class"),
    }


async def test_a_deleted_row_is_reported_deleted(folder: Path) -> None:
    app, _ = simulator(folder)
    gone = first_id(folder, "results.csv")
    async with rest_adapter(app) as rest:
        start = await rest.changes(Entity.SCORE, None, SCORE_FIELDS)
        rewrite(folder / "results.csv", lambda rows: [row for row in rows if row["sourcedId"] != gone])
        changed = await rest.changes(Entity.SCORE, start.watermark, SCORE_FIELDS)
    assert list(changed.records) == [] and list(changed.deleted) == [gone]
    assert instant(changed.watermark or "") is not None


async def test_a_deleted_teacher_is_reported_deleted_and_students_are_not(folder: Path) -> None:
    app, _ = simulator(folder)
    async with rest_adapter(app) as rest:
        teachers = await rest.fetch(FetchRequest(Entity.TEACHER, frozenset({"given_name"})))
        gone = teachers.records[0].vendor_id
        start = await rest.changes(Entity.TEACHER, None, frozenset({"given_name"}))
        students = await rest.changes(Entity.STUDENT, None, frozenset({"given_name"}))
        rewrite(folder / "users.csv", lambda rows: [row for row in rows if row["sourcedId"] != gone])
        changed = await rest.changes(Entity.TEACHER, start.watermark, frozenset({"given_name"}))
        unchanged = await rest.changes(Entity.STUDENT, students.watermark, frozenset({"given_name"}))
    assert list(changed.deleted) == [gone] and list(changed.records) == []
    assert list(unchanged.deleted) == [] and list(unchanged.records) == []


async def test_a_changed_demographic_brings_its_student_back(folder: Path) -> None:
    app, state = simulator(folder)
    student_id = first_id(folder, "demographics.csv")
    fields = frozenset({"given_name", "birth_date"})
    async with rest_adapter(app) as rest:
        start = await rest.changes(Entity.STUDENT, None, fields)
        names_only = await rest.changes(Entity.STUDENT, None, frozenset({"given_name"}))
        edit(folder, "demographics.csv", student_id, birthDate="2011-02-03")
        changed = await rest.changes(Entity.STUDENT, start.watermark, fields)
        state.paths.clear()
        without = await rest.changes(Entity.STUDENT, names_only.watermark, frozenset({"given_name"}))
    (record,) = changed.records
    assert isinstance(record, Student) and record.vendor_id == student_id
    assert str(record.birth_date) == "2011-02-03" and record.given_name
    # Names alone do not depend on demographics: neither read nor reported.
    assert list(without.records) == [] and not any(path.endswith("/demographics") for path in state.paths)


async def test_a_renamed_category_brings_its_line_items_back(folder: Path) -> None:
    app, _ = simulator(folder)
    category = first_id(folder, "categories.csv")
    with (folder / "lineItems.csv").open(encoding="utf-8", newline="") as stream:
        in_category = {
            row["sourcedId"] for row in csv.DictReader(stream) if row["categorySourcedId"] == category
        }
    fields = frozenset({"title", "category"})
    async with rest_adapter(app) as rest:
        start = await rest.changes(Entity.ASSIGNMENT, None, fields)
        edit(folder, "categories.csv", category, title="Renamed Category")
        changed = await rest.changes(Entity.ASSIGNMENT, start.watermark, fields)
    assert in_category
    assert {record.vendor_id for record in changed.records} == in_category
    assert {record.category for record in changed.records if isinstance(record, Assignment)} == {
        "Renamed Category"
    }


async def test_a_1_1_provider_has_the_same_feed(folder: Path) -> None:
    app, _ = simulator(folder, version="1.1")
    target = first_id(folder, "results.csv")
    async with rest_adapter(app, version="1.1") as rest:
        start = await rest.changes(Entity.SCORE, None, SCORE_FIELDS)
        edit(folder, "results.csv", target, score="4")
        changed = await rest.changes(Entity.SCORE, start.watermark, SCORE_FIELDS)
    (record,) = changed.records
    assert isinstance(record, Score) and record.score == 4 and record.section_id  # from the line item


def refusing_date_filters(app: Starlette) -> Asgi:
    """The simulator as a provider that cannot filter on ``dateLastModified``."""

    async def provider(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and b"dateLastModified" in scope.get("query_string", b""):
            body = {"imsx_codeMajor": "failure", "imsx_description": "unknown filter field"}
            body["imsx_CodeMinor"] = {
                "imsx_codeMinorField": [
                    {"imsx_codeMinorFieldName": "x", "imsx_codeMinorFieldValue": "invalid_filter_field"}
                ]
            }
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": json.dumps(body).encode()})
            return
        await app(scope, receive, send)

    return provider


async def test_a_provider_without_date_filters_has_no_feed(folder: Path) -> None:
    app, _ = simulator(folder)
    async with rest_adapter(refusing_date_filters(app)) as rest:  # type: ignore[arg-type]
        start = await rest.changes(Entity.SCORE, None, SCORE_FIELDS)
        changed = await rest.changes(Entity.SCORE, start.watermark, SCORE_FIELDS)
    assert start.watermark is not None  # sorting still works: only the filter is refused
    assert changed.complete is False and list(changed.records) == [] and changed.watermark == start.watermark


async def test_changes_refuse_what_fetch_refuses(folder: Path) -> None:
    app, _ = simulator(folder)
    async with rest_adapter(app, homeroom_extensions=False) as rest:
        with pytest.raises(Exception, match="not served"):
            await rest.changes(Entity.ATTENDANCE_EVENT, None, every_field(Entity.ATTENDANCE_EVENT))
