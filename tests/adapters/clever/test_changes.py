"""The adapter's change feed over the simulator's Events API: where a feed
starts, that a delta brings every entity to what a full read gives (joins
included), what it costs in requests, paging, and when it gives up
(``complete=False``) so the hub reads in full."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.clever import CleverAdapter
from adapters.clever._sim_data import clever_id
from adapters.clever.adapter import _EVENT_PAGES
from hub.sdk import ChangeFeed, Changes, Enrollment, Entity, FetchRequest, Record, Section, Student

from .conftest import clever_adapter, fetch_all, simulator
from .folder import Row, drop_rows, rewrite, rows, section_id, set_cell, user_id

V30 = "/v3.0"
EVENTS = f"{V30}/events"
LISTS = {f"{V30}/{name}" for name in ("districts", "schools", "terms", "courses", "sections", "users")}
FUTURE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp()

Fields = dict[Entity, frozenset[str]]


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A copy of the package's district that a test may change."""
    return Path(shutil.copytree(district, tmp_path / "district"))


def _fields(adapter: CleverAdapter) -> Fields:
    return {entity: support.fields for entity, support in adapter.capabilities().entities.items()}


async def _snapshot(adapter: CleverAdapter, entity: Entity, fields: frozenset[str]) -> dict[str, Record]:
    return {
        row.vendor_id: row for row in await fetch_all(adapter, FetchRequest(entity=entity, fields=fields))
    }


def _apply(held: dict[str, Record], changes: Changes) -> dict[str, Record]:
    """``held`` after the changes, as the mirror applies them."""
    out = {key: row for key, row in held.items() if key not in set(changes.deleted)}
    out.update((row.vendor_id, row) for row in changes.records)
    return out


def _nothing(changes: Changes) -> bool:
    """Whether ``changes`` tells nothing new (and keeps the watermark)."""
    return not changes.records and not changes.deleted and changes.watermark is None and changes.complete


def _add_class(folder: Path) -> None:
    template = rows(folder, "classes.csv")[0]
    rewrite(
        folder,
        "classes.csv",
        lambda found: [*found, template | {"sourcedId": "cls-new", "title": "Robotics"}],
    )
    enrolled = [
        row for row in rows(folder, "enrollments.csv") if row["classSourcedId"] == template["sourcedId"]
    ]
    rewrite(
        folder,
        "enrollments.csv",
        lambda found: [
            *found,
            *(
                row | {"sourcedId": f"{row['sourcedId']}-new", "classSourcedId": "cls-new"}
                for row in enrolled[:3]
            ),
        ],
    )


def _leave_class(folder: Path) -> None:
    (first,) = [row for row in rows(folder, "enrollments.csv") if row["userSourcedId"] == "stu-000002"][:1]
    drop_rows(folder, "enrollments.csv", lambda row: row["sourcedId"] != first["sourcedId"])


def _unlink_contact(folder: Path) -> None:
    (contact,) = [row for row in rows(folder, "users.csv") if row["sourcedId"] == "gdn-000001"]
    linked = contact["agentSourcedIds"].split(",")
    assert len(linked) > 1
    set_cell(folder, "users.csv", "gdn-000001", "agentSourcedIds", linked[0])


def _retitle(folder: Path) -> None:
    set_cell(folder, "academicSessions.csv", "sy2027", "title", "School Year 2027")
    set_cell(folder, "courses.csv", rows(folder, "courses.csv")[0]["sourcedId"], "title", "Kinder Homeroom")
    set_cell(folder, "orgs.csv", "org-school-01", "name", "Washington Elementary")


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "a student renamed": lambda f: set_cell(f, "users.csv", "stu-000001", "givenName", "Zelda"),
    "a teacher renamed": lambda f: set_cell(f, "users.csv", "tch-00001", "familyName", "Okafor"),
    "a guardian's phone": lambda f: set_cell(f, "users.csv", "gdn-000001", "phone", "(404) 555-0000"),
    "a student removed": lambda f: drop_rows(f, "users.csv", lambda row: row["sourcedId"] != "stu-000001"),
    "a student left a class": _leave_class,
    "a class retitled": lambda f: set_cell(
        f, "classes.csv", rows(f, "classes.csv")[3]["sourcedId"], "title", "X"
    ),
    "a class added": _add_class,
    "a contact unlinked": _unlink_contact,
    "a term, course and school renamed": _retitle,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_a_delta_brings_every_entity_to_what_a_full_read_gives(folder: Path, scenario: str) -> None:
    app, state = simulator(folder, api_version="v3.1")
    async with clever_adapter(app, api_version="v3.1") as adapter:
        assert isinstance(adapter, ChangeFeed)
        fields = _fields(adapter)
        before = {entity: await _snapshot(adapter, entity, names) for entity, names in fields.items()}
        marks = {
            entity: (await adapter.changes(entity, None, names)).watermark for entity, names in fields.items()
        }
        SCENARIOS[scenario](folder)
        mark = len(state.paths)
        deltas = {
            entity: await adapter.changes(entity, marks[entity], names) for entity, names in fields.items()
        }
        during = state.paths[mark:]
        again = {
            entity: await adapter.changes(entity, deltas[entity].watermark or marks[entity], names)
            for entity, names in fields.items()
        }
        after = {entity: await _snapshot(adapter, entity, names) for entity, names in fields.items()}
    assert before != after, "the scenario changed nothing"
    for entity in fields:
        assert deltas[entity].complete, entity
        assert _apply(before[entity], deltas[entity]) == after[entity], entity
        assert _nothing(again[entity]), entity  # nothing is told twice
    assert not set(during) & LISTS, "a delta read a whole list"


async def test_a_feed_starts_at_the_newest_event_in_one_request(folder: Path) -> None:
    app, state = simulator(folder)
    async with clever_adapter(app) as adapter:
        fields = _fields(adapter)[Entity.STUDENT]
        mark = len(state.paths)
        empty = await adapter.changes(Entity.STUDENT, None, fields)
        assert state.paths[mark:] == [EVENTS]
        assert state.queries[-1] == {"ending_before": "last", "limit": "1"}
        set_cell(folder, "users.csv", "stu-000001", "givenName", "Zelda")
        set_cell(folder, "classes.csv", rows(folder, "classes.csv")[0]["sourcedId"], "title", "X")
        started = await adapter.changes(Entity.STUDENT, None, fields)
        # From the beginning, the feed tells what happened after it started, once.
        (student,) = (await adapter.changes(Entity.STUDENT, empty.watermark or "", fields)).records
    assert empty.complete and empty.watermark is not None and empty.watermark.startswith("start@")
    assert state.events is not None
    assert started.watermark == state.events.events[-1]["id"]  # the newest, whatever its type
    assert isinstance(student, Student) and student.given_name == "Zelda"


async def test_requests_per_delta(folder: Path) -> None:
    app, state = simulator(folder)
    async with clever_adapter(app) as adapter:
        fields = _fields(adapter)
        marks = {
            entity: (await adapter.changes(entity, None, names)).watermark for entity, names in fields.items()
        }
        for entity, names in fields.items():
            mark = len(state.paths)
            assert _nothing(await adapter.changes(entity, marks[entity], names))
            assert state.paths[mark:] == [EVENTS], entity
        set_cell(folder, "users.csv", "stu-000001", "givenName", "Zelda")
        mark = len(state.paths)
        changed = await adapter.changes(Entity.STUDENT, marks[Entity.STUDENT], fields[Entity.STUDENT])
        # The event, then the student's contacts for guardian_ids.
        assert state.paths[mark:] == [EVENTS, f"{V30}/users/{user_id('stu-000001')}/mycontacts"]
        assert state.queries[mark] == {"limit": "1000", "record_type": "users"}  # from the beginning
        mark = len(state.paths)
        assert _nothing(
            await adapter.changes(Entity.STUDENT, changed.watermark or "", fields[Entity.STUDENT])
        )
        assert state.queries[mark:] == [
            {"limit": "1000", "record_type": "users", "starting_after": changed.watermark or ""}
        ]
        for entity in set(fields) - {Entity.STUDENT}:
            mark = len(state.paths)
            await adapter.changes(entity, marks[entity], fields[entity])
            assert state.paths[mark:] == [EVENTS], entity
    assert [row.vendor_id for row in changed.records] == [user_id("stu-000001")]


async def test_events_are_read_page_by_page_and_only_the_fields_asked_for_filled(folder: Path) -> None:
    app, state = simulator(folder)
    students = [row["sourcedId"] for row in rows(folder, "users.csv") if row["sourcedId"].startswith("stu-")][
        :5
    ]

    def rename(found: list[Row]) -> list[Row]:
        for row in found:
            if row["sourcedId"] in students:
                row["givenName"] += "-Renamed"
        return found

    async with clever_adapter(app, page_size=2) as adapter:
        fields = frozenset({"given_name"})
        start = await adapter.changes(Entity.STUDENT, None, fields)
        rewrite(folder, "users.csv", rename)
        mark = len(state.paths)
        changed = await adapter.changes(Entity.STUDENT, start.watermark or "", fields)
    assert state.paths[mark:] == [EVENTS] * 3  # 5 events, 2 a page
    assert sorted(row.vendor_id for row in changed.records) == sorted(user_id(key) for key in students)
    for row in changed.records:
        assert isinstance(row, Student) and row.given_name and row.given_name.endswith("-Renamed")
        assert row.family_name is None and row.guardian_ids == ()


async def test_a_removed_student_is_deleted_with_their_enrollments(folder: Path) -> None:
    app, _ = simulator(folder)
    student = user_id("stu-000001")
    async with clever_adapter(app) as adapter:
        fields = _fields(adapter)
        enrolled = await fetch_all(
            adapter,
            FetchRequest(
                entity=Entity.ENROLLMENT, fields=fields[Entity.ENROLLMENT], filters={"person_id": (student,)}
            ),
        )
        marks = {
            entity: (await adapter.changes(entity, None, names)).watermark for entity, names in fields.items()
        }
        drop_rows(folder, "users.csv", lambda row: row["sourcedId"] != "stu-000001")
        people = await adapter.changes(Entity.STUDENT, marks[Entity.STUDENT], fields[Entity.STUDENT])
        rosters = await adapter.changes(
            Entity.ENROLLMENT, marks[Entity.ENROLLMENT], fields[Entity.ENROLLMENT]
        )
        staff = await adapter.changes(Entity.TEACHER, marks[Entity.TEACHER], fields[Entity.TEACHER])
    assert enrolled and student not in {row.vendor_id for row in people.records}
    assert people.deleted == [student]
    assert set(rosters.deleted) == {row.vendor_id for row in enrolled}
    assert staff.records == [] and staff.deleted == []  # a student's deletion is no teacher's


async def test_a_moved_section_is_told_to_sections_and_enrollments(folder: Path) -> None:
    app, _ = simulator(folder)
    klass = rows(folder, "classes.csv")[0]
    async with clever_adapter(app) as adapter:
        fields = _fields(adapter)
        marks = {entity: (await adapter.changes(entity, None, fields[entity])).watermark for entity in fields}
        set_cell(folder, "classes.csv", klass["sourcedId"], "schoolSourcedId", "org-school-02")
        section = await adapter.changes(Entity.SECTION, marks[Entity.SECTION], fields[Entity.SECTION])
        members = await adapter.changes(
            Entity.ENROLLMENT, marks[Entity.ENROLLMENT], fields[Entity.ENROLLMENT]
        )
    school = clever_id("school", "org-school-02")
    (moved,) = section.records
    assert isinstance(moved, Section) and (moved.vendor_id, moved.school_id) == (
        section_id(klass["sourcedId"]),
        school,
    )
    assert members.records and members.deleted == []
    for row in members.records:  # the whole roster, now at the other school
        assert isinstance(row, Enrollment) and (row.section_id, row.school_id) == (moved.vendor_id, school)


async def test_an_expired_event_or_an_old_start_reads_in_full(folder: Path) -> None:
    clock = [FUTURE]
    app, state = simulator(folder, wall_clock=lambda: clock[0], event_retention=3600)
    async with clever_adapter(app) as adapter:
        fields = _fields(adapter)[Entity.STUDENT]
        set_cell(folder, "users.csv", "stu-000001", "givenName", "Zelda")
        mark = (await adapter.changes(Entity.STUDENT, None, fields)).watermark
        assert mark is not None and not mark.startswith("start@")
        assert (await adapter.changes(Entity.STUDENT, mark, fields)).complete
        clock[0] += 3601  # the event is past the simulator's retention
        expired = await adapter.changes(Entity.STUDENT, mark, fields)
        asked = state.data_requests
        old_start = await adapter.changes(Entity.STUDENT, "start@2000-01-01T00:00:00Z", fields)
        unreadable = await adapter.changes(Entity.STUDENT, "not a watermark!", fields)
        asked_after = state.data_requests
    assert expired == Changes(complete=False)
    assert old_start == Changes(complete=False) and unreadable == Changes(complete=False)
    assert asked_after == asked  # decided without asking Clever


async def test_a_backlog_longer_than_a_full_read_is_read_in_full(folder: Path) -> None:
    app, state = simulator(folder)
    students = [row["sourcedId"] for row in rows(folder, "users.csv") if row["sourcedId"].startswith("stu-")]

    def rename(found: list[Row]) -> list[Row]:
        for row in found:
            if row["sourcedId"] in students:
                row["familyName"] += "-Renamed"
        return found

    async with clever_adapter(app, page_size=2) as adapter:
        fields = frozenset({"family_name"})
        start = (await adapter.changes(Entity.STUDENT, None, fields)).watermark or ""
        rewrite(folder, "users.csv", rename)
        mark = len(state.paths)
        backlog = await adapter.changes(Entity.STUDENT, start, fields)
    assert len(students) > 2 * _EVENT_PAGES
    assert backlog == Changes(complete=False)
    assert state.paths[mark:] == [EVENTS] * _EVENT_PAGES  # it stops there, not at the end
