"""The simulated Clever over time: a changed CSV folder is read again, changed
objects get a new ``last_modified``, and every difference is an event of the
v3 Events API (``users.updated``, ``sections.created``, ``users.deleted``),
paged with ``starting_after`` / ``ending_before`` and filtered by
``record_type`` and ``school``, until it is past its retention."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import simulator
from .folder import drop_rows, rewrite, rows, section_id, set_cell, user_id
from .test_simulator import signed_in

V30 = "/v3.0"
STUDENT = "stu-000001"
# Later than any date the generated files carry: events are stamped from the clock.
FUTURE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A copy of the package's district that a test may change."""
    return Path(shutil.copytree(district, tmp_path / "district"))


async def _get(client: httpx.AsyncClient, path: str, params: Any = None) -> dict[str, Any]:
    answer = await client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _events(client: httpx.AsyncClient, params: Any = None) -> list[dict[str, Any]]:
    """Every event, following ``links`` rel ``next``."""
    found: list[dict[str, Any]] = []
    body = await _get(client, f"{V30}/events", params)
    while True:
        found.extend(item["data"] for item in body["data"])
        following = [link["uri"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return found
        body = await _get(client, following[0])


async def test_an_unchanged_folder_tells_nothing(folder: Path) -> None:
    app, _ = simulator(folder)
    async with signed_in(app) as client:
        users = await _get(client, f"{V30}/users", {"limit": 1000})
        assert await _events(client) == []
        assert (await _get(client, f"{V30}/events", {"ending_before": "last", "limit": 1}))["data"] == []
        assert await _get(client, f"{V30}/users", {"limit": 1000}) == users


async def test_a_changed_name_is_one_updated_user_served_as_users_serves_it(folder: Path) -> None:
    app, _ = simulator(folder)
    target = f"{V30}/users/{user_id(STUDENT)}"
    async with signed_in(app) as client:
        before = (await _get(client, target))["data"]
        others = {
            item["data"]["id"]: item["data"]
            for item in (await _get(client, f"{V30}/users", {"limit": 1000}))["data"]
        }
        set_cell(folder, "users.csv", STUDENT, "givenName", "Zelda")
        (event,) = await _events(client)
        after = (await _get(client, target))["data"]
        now = {
            item["data"]["id"]: item["data"]
            for item in (await _get(client, f"{V30}/users", {"limit": 1000}))["data"]
        }
    assert event["type"] == "users.updated"
    assert event["data"]["object"] == after and after["name"]["first"] == "Zelda"
    assert after["last_modified"] == event["created"] > before["last_modified"]
    assert event["previous_attributes"] == {"last_modified": before["last_modified"], "name": before["name"]}
    del now[after["id"]], others[after["id"]]
    assert now == others  # the others keep their stamps


async def test_a_removed_row_is_a_deleted_event_and_its_links_are_updated(folder: Path) -> None:
    app, _ = simulator(folder)
    student = user_id(STUDENT)
    async with signed_in(app) as client:
        before = (await _get(client, f"{V30}/users/{student}"))["data"]
        sections = (await _get(client, f"{V30}/users/{student}/sections"))["data"]
        assert sections
        drop_rows(folder, "users.csv", lambda row: row["sourcedId"] != STUDENT)
        events = await _events(client)
        gone = await client.get(f"{V30}/users/{student}")
    assert gone.status_code == 404
    deleted = [event for event in events if event["type"] == "users.deleted"]
    assert [event["data"]["object"] for event in deleted] == [before]
    rosters = {
        event["data"]["object"]["id"]: event for event in events if event["type"] == "sections.updated"
    }
    assert set(rosters) == {item["data"]["id"] for item in sections}
    for event in rosters.values():
        assert student in event["previous_attributes"]["students"]
        assert student not in event["data"]["object"]["students"]
    contacts = [event for event in events if event["type"] == "users.updated"]
    assert contacts and all("contact" in event["data"]["object"]["roles"] for event in contacts)


async def test_a_new_row_is_a_created_event(folder: Path) -> None:
    app, _ = simulator(folder)

    def add_class(found: list[dict[str, str]]) -> list[dict[str, str]]:
        return [*found, found[0] | {"sourcedId": "cls-new", "title": "Robotics Club", "classCode": "RB-1"}]

    async with signed_in(app) as client:
        rewrite(folder, "classes.csv", add_class)
        (event,) = await _events(client)
        served = (await _get(client, f"{V30}/sections/{section_id('cls-new')}"))["data"]
    assert event["type"] == "sections.created"
    assert event["data"]["object"] == served and served["name"] == "Robotics Club"
    assert "previous_attributes" not in event


async def test_events_page_in_id_order_and_filter_by_record_type_and_school(folder: Path) -> None:
    app, _ = simulator(folder)
    students = [row for row in rows(folder, "users.csv") if row["sourcedId"].startswith("stu-")]
    renamed = {row["sourcedId"] for row in students[:4] + students[-1:]}  # two schools
    klass = rows(folder, "classes.csv")[0]

    def rename(found: list[dict[str, str]]) -> list[dict[str, str]]:
        for row in found:
            if row["sourcedId"] in renamed:
                row["familyName"] += "-Renamed"
        return found

    async with signed_in(app) as client:
        rewrite(folder, "users.csv", rename)
        set_cell(folder, "classes.csv", klass["sourcedId"], "title", "Renamed class")
        every = await _events(client, {"limit": 100})
        ids = [event["id"] for event in every]
        assert [event["type"] for event in every] == ["users.updated"] * 5 + ["sections.updated"]
        assert ids == sorted(ids) and len(set(ids)) == 6
        assert await _events(client, {"limit": 2}) == every
        assert [e["id"] for e in await _events(client, {"starting_after": ids[1]})] == ids[2:]
        newest = await _get(client, f"{V30}/events", {"ending_before": "last", "limit": 1})
        assert [item["data"]["id"] for item in newest["data"]] == ids[-1:]
        before = await _get(client, f"{V30}/events", {"ending_before": ids[3], "limit": 2})
        assert [item["data"]["id"] for item in before["data"]] == ids[1:3]
        sections = await _events(client, {"record_type": "sections"})
        assert [event["id"] for event in sections] == ids[-1:]
        both = await _events(client, [("record_type", "users"), ("record_type", "sections"), ("limit", 2)])
        assert both == every  # the next links keep both record types
        schools = [item["data"]["id"] for item in (await _get(client, f"{V30}/schools"))["data"]]
        at_school = {school: await _events(client, {"school": school}) for school in schools}
        refused = await client.get(f"{V30}/events", params={"record_type": "students"})
    assert refused.status_code == 400
    for school, found in at_school.items():
        assert found == [event for event in every if school in _schools(event["data"]["object"])]
    assert 0 < len(at_school[every[-1]["data"]["object"]["school"]]) < len(every)


def _schools(obj: dict[str, Any]) -> set[str]:
    """The schools a section or a student belongs to."""
    if "roles" not in obj:
        return {obj["school"]}
    return set(obj["roles"]["student"]["schools"])


async def test_an_event_past_its_retention_is_not_found(folder: Path) -> None:
    clock = [FUTURE]
    app, _ = simulator(folder, wall_clock=lambda: clock[0], event_retention=3600)
    async with signed_in(app) as client:
        set_cell(folder, "users.csv", STUDENT, "givenName", "Zelda")
        (event,) = await _events(client)
        assert event["created"].startswith("2030-01-01T00:00:00")
        one = await _get(client, f"{V30}/events/{event['id']}")
        assert one["data"] == event
        kept = await client.get(f"{V30}/events", params={"starting_after": event["id"]})
        assert kept.status_code == 200 and kept.json()["data"] == []
        clock[0] += 3601
        expired = await client.get(f"{V30}/events", params={"starting_after": event["id"]})
        unknown = await client.get(f"{V30}/events", params={"starting_after": "0" * 24})
        remaining = await _events(client)
    assert expired.status_code == 404 and unknown.status_code == 404
    assert "message" in expired.json()
    assert remaining == []
