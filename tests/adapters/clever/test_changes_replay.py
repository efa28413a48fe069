"""The change feed against Events API pages shaped as Clever's ``v3.0-events.yml``
says (``{"data": [{"data": Event}], "links": [...]}``, ``previous_attributes``
beside the event's ``data``), carrying the real v3.0 sample objects
(``../shared/data/clever/``), replayed with respx: what each entity keeps,
that the records are those ``fetch`` makes of the same objects, paging along
``links``, and the answers that mean "read in full"."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.clever import CleverAdapter, capabilities
from adapters.clever._mapping import enrollment_id
from hub.sdk import Changes, Entity, FetchRequest, Organization, Student
from tests.conftest import shared_path

from .conftest import TOKEN, clever_config, fetch_all

HOST = "api.clever.com"
EVENTS = "/v3.0/events"
IDS = [f"603ebb2bb452fb006c76000{n}" for n in range(6)]
"""Event ids, ascending; the feed stands after the first."""
SINCE = IDS[0]


def _load(name: str) -> Any:
    return json.loads(shared_path("data", "clever", name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def objects() -> dict[str, Any]:
    """The sample objects by kind."""
    users = [item["data"] for item in _load("users.sample.json")["data"]]
    return {
        "students": [user for user in users if "student" in user["roles"]],
        "teachers": [user for user in users if "teacher" in user["roles"]],
        "sections": [item["data"] for item in _load("sections.sample.json")["data"]],
    }


SCHOOL = {
    "id": "5a25ff950a5f621109000005",
    "district": "5a0c91b95c7cc000010d417c",
    "name": "Renamed Elementary",
    "school_number": "02",
    "sis_id": "02",
    "state_id": "ST-02",
    "created": "2017-12-05T02:09:06.567Z",
    "last_modified": "2021-03-03T10:00:00.000Z",
}
"""A school object with the fields ``School`` in the spec names."""


def _event(event_id: str, kind: str, obj: Any, previous: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": event_id, "type": kind, "created": "2021-03-03T10:00:00.000Z"}
    body["data"] = {"object": obj}
    if previous is not None:
        body["previous_attributes"] = previous
    return {"data": body}


class Feed:
    """Events pages by record type, and the objects Clever serves now."""

    def __init__(self, objects: dict[str, Any]) -> None:
        student, other = objects["students"][0], objects["students"][1]
        self.student = copy.deepcopy(student) | {"name": {**student["name"], "first": "Stephan"}}
        self.created = copy.deepcopy(other) | {"id": "603ebb2bb452fb006c76ffff"}
        self.teacher = objects["teachers"][0]
        section = objects["sections"][0]
        self.left = section["students"][0]
        self.section = copy.deepcopy(section) | {"students": section["students"][1:]}
        self.pages: dict[str, list[dict[str, Any]]] = {
            "users": [
                {
                    "data": [
                        _event(
                            IDS[1],
                            "users.updated",
                            self.student,
                            {"name": student["name"]},
                        ),
                        _event(IDS[2], "users.deleted", self.teacher),
                    ],
                    "links": [
                        {
                            "rel": "self",
                            "uri": f"{EVENTS}?limit=1000&record_type=users&starting_after={SINCE}",
                        },
                        {
                            "rel": "next",
                            "uri": f"{EVENTS}?limit=1000&record_type=users&starting_after={IDS[2]}",
                        },
                    ],
                },
                {
                    "data": [
                        _event(IDS[3], "users.created", self.created),
                        # Not asked for (a looser server): read past, not kept.
                        _event(IDS[4], "sections.updated", self.section),
                    ],
                    "links": [{"rel": "self", "uri": f"{EVENTS}?starting_after={IDS[2]}"}],
                },
            ],
            "sections": [
                {
                    "data": [
                        _event(
                            IDS[4],
                            "sections.updated",
                            self.section,
                            {"students": section["students"], "last_modified": section["last_modified"]},
                        )
                    ],
                    "links": [{"rel": "self", "uri": f"{EVENTS}?record_type=sections"}],
                }
            ],
        }

    def events(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        params = request.url.params
        if params.get("ending_before") == "last":
            assert params["limit"] == "1"
            return httpx.Response(200, json={"data": self.pages["users"][0]["data"][:1], "links": []})
        if params.get("starting_after") == "expired":
            return httpx.Response(404, json={"message": "Resource not found"})
        kinds = params.get_list("record_type")
        if kinds == ["districts", "schools"]:  # repeated, as the spec's collectionFormat multi
            return httpx.Response(
                200, json={"data": [_event(IDS[5], "schools.updated", SCHOOL)], "links": []}
            )
        (kind,) = kinds
        pages = self.pages[kind]
        after = params.get("starting_after")
        index = 1 if kind == "users" and after == IDS[2] else 0
        if index == 0:  # the adapter's own first request; later ones follow the links verbatim
            assert after == SINCE and params["limit"] == "1000"
        return httpx.Response(200, json=pages[index])

    def user(self, request: httpx.Request, user: str) -> httpx.Response:
        found = [obj for obj in (self.student, self.created) if obj["id"] == user]
        if not found:
            return httpx.Response(404, json={"message": "Resource not found"})
        return httpx.Response(200, json={"data": found[0], "links": []})


@pytest.fixture
def feed(objects: dict[str, Any]) -> Iterator[Feed]:
    served = Feed(objects)
    with respx.mock(assert_all_called=False) as router:
        router.get(host=HOST, path=EVENTS).mock(side_effect=served.events)
        router.get(host=HOST, path__regex=r"^/v3.0/users/(?P<user>\w+)$").mock(side_effect=served.user)
        router.get(host=HOST, path=f"/v3.0/sections/{served.section['id']}").respond(
            200, json={"data": served.section, "links": []}
        )
        yield served


def _fields(entity: Entity) -> frozenset[str]:
    # Without guardian_ids: the contacts' look-ups are the simulator tests' business.
    return capabilities(clever_config(f"https://{HOST}")).entities[entity].fields - {"guardian_ids"}


async def _changes(entity: Entity, since: str | None = SINCE) -> Changes:
    adapter = CleverAdapter(clever_config(f"https://{HOST}"))
    try:
        return await adapter.changes(entity, since, _fields(entity))
    finally:
        await adapter.aclose()


async def _fetched(entity: Entity, ids: tuple[str, ...]) -> list[Any]:
    adapter = CleverAdapter(clever_config(f"https://{HOST}"))
    try:
        return await fetch_all(adapter, FetchRequest(entity=entity, fields=_fields(entity), ids=ids))
    finally:
        await adapter.aclose()


async def test_the_feed_starts_at_the_newest_event(feed: Feed) -> None:
    start = await _changes(Entity.STUDENT, None)
    assert start == Changes(watermark=IDS[1])


async def test_users_events_become_students_as_fetch_makes_them(feed: Feed) -> None:
    students = await _changes(Entity.STUDENT)
    expected = await _fetched(Entity.STUDENT, (feed.student["id"], feed.created["id"]))
    assert sorted(students.records, key=lambda row: row.vendor_id) == sorted(
        expected, key=lambda row: row.vendor_id
    )
    changed = next(row for row in students.records if row.vendor_id == feed.student["id"])
    assert isinstance(changed, Student) and changed.given_name == "Stephan"
    assert students.deleted == []  # the deleted user was a teacher
    # The last event read, of any type: the second page's (where the created student was).
    assert students.watermark == IDS[4]


async def test_a_deleted_teacher_is_deleted_from_teachers(feed: Feed) -> None:
    teachers = await _changes(Entity.TEACHER)
    assert teachers.records == [] and teachers.deleted == [feed.teacher["id"]]


async def test_a_section_update_tells_its_roster_and_who_left(feed: Feed) -> None:
    sections = await _changes(Entity.SECTION)
    members = await _changes(Entity.ENROLLMENT)
    expected = await _fetched(Entity.ENROLLMENT, tuple(row.vendor_id for row in members.records))
    assert [row.vendor_id for row in sections.records] == [feed.section["id"]]
    assert members.deleted == [enrollment_id(feed.section["id"], "student", feed.left)]
    assert members.records == expected and len(members.records) == len(feed.section["students"]) + len(
        {feed.section.get("teacher"), *feed.section["teachers"]} - {None}
    )


async def test_organisations_follow_districts_and_schools_events(feed: Feed) -> None:
    (school,) = (await _changes(Entity.ORGANIZATION)).records
    assert isinstance(school, Organization)
    assert (school.vendor_id, school.name, school.type) == (SCHOOL["id"], "Renamed Elementary", "school")
    assert (school.identifier, school.parent_id) == ("ST-02", SCHOOL["district"])


async def test_an_event_clever_no_longer_knows_reads_in_full(feed: Feed) -> None:
    assert await _changes(Entity.STUDENT, "expired") == Changes(complete=False)


async def test_a_token_without_events_has_no_feed() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(host=HOST, path=EVENTS).respond(404, json={"message": "Resource not found"})
        assert await _changes(Entity.STUDENT, None) == Changes(complete=False)


async def test_an_update_that_hides_who_left_a_section_reads_in_full(feed: Feed) -> None:
    del feed.pages["sections"][0]["data"][0]["data"]["previous_attributes"]
    assert await _changes(Entity.ENROLLMENT) == Changes(complete=False)
    assert (await _changes(Entity.SECTION)).records  # a section itself needs no removals


async def test_an_event_it_cannot_read_reads_in_full(feed: Feed) -> None:
    feed.pages["users"][1]["data"].append(_event(IDS[5], "users.merged", feed.student))
    assert await _changes(Entity.STUDENT) == Changes(complete=False)
