"""The adapter's change feed over the simulator (in process): a row changed
or removed in the CSV folder arrives through ``changes`` as a record built as
``fetch`` builds it or as a deleted vendor id, joined resources' changes
included, at a cost of one request when nothing changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.edfi._identity import key_values, vendor_id
from adapters.edfi._sim_data import SimulatedDistrict
from adapters.edfi.adapter import EdFiAdapter
from adapters.edfi.simulator import SimulatorState
from hub.sdk import ChangeFeed, Changes, Entity, FetchRequest, Record
from tests.csv_files import Row, csv_rows, rewrite_csv

from .changes import API, VERSIONS, drop_first, set_first
from .conftest import edfi_adapter, fetch_all, simulator

# Every resource an entity is read from, per data standard (the catalogue's included).
PRIMARY: dict[Entity, tuple[str, ...]] = {
    Entity.ORGANIZATION: ("localEducationAgencies", "schools"),
    Entity.ACADEMIC_SESSION: ("sessions", "gradingPeriods"),
    Entity.COURSE: ("courses",),
    Entity.SECTION: ("sections",),
    Entity.STUDENT: ("students",),
    Entity.TEACHER: ("staffs",),
    Entity.ENROLLMENT: ("studentSectionAssociations", "staffSectionAssociations"),
    Entity.ASSIGNMENT: ("gradebookEntries",),
    Entity.SCORE: ("studentGradebookEntries",),
    Entity.COURSE_GRADE: ("grades",),
    Entity.ATTENDANCE_EVENT: ("studentSchoolAttendanceEvents", "studentSectionAttendanceEvents"),
}


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A copy of the package's district that a test may change."""
    return Path(shutil.copytree(district, tmp_path / "district"))


def fields_of(adapter: EdFiAdapter, entity: Entity) -> frozenset[str]:
    return adapter.capabilities().entities[entity].fields - {"vendor_id"}


def collection_reads(state: SimulatorState, mark: int) -> list[tuple[str, dict[str, str]]]:
    """Data requests since ``mark`` that read a collection without a change-version
    range or a search: what a delta must never do."""
    paging = {"offset", "limit", "totalCount"}
    return [
        (path, query)
        for path, query in zip(state.paths[mark:], state.queries[mark:], strict=True)
        if path.startswith(API) and not path.endswith(("/deletes", "/keyChanges")) and not set(query) - paging
    ]


async def by_id(adapter: EdFiAdapter, entity: Entity, ids: list[str]) -> list[Record]:
    """What ``fetch`` builds for ``ids``, every field."""
    fields = fields_of(adapter, entity)
    return await fetch_all(adapter, FetchRequest(entity=entity, fields=fields, ids=tuple(ids)))


async def test_the_starting_watermark_is_the_newest_version_in_one_request(folder: Path) -> None:
    app, state = simulator(folder)
    async with edfi_adapter(app) as adapter:
        assert isinstance(adapter, ChangeFeed)
        assert state.changes is not None
        for entity in Entity:
            mark = len(state.paths)
            start = await adapter.changes(entity, None, fields_of(adapter, entity))
            assert start == Changes(watermark=str(state.changes.newest))
            assert state.paths[mark:] == [VERSIONS]


async def test_nothing_changed_costs_one_request_per_entity(folder: Path) -> None:
    app, state = simulator(folder)
    async with edfi_adapter(app) as adapter:
        start = (await adapter.changes(Entity.SCORE, None, frozenset({"score"}))).watermark
        assert start is not None
        for entity in Entity:
            mark = len(state.paths)
            assert await adapter.changes(entity, start, fields_of(adapter, entity)) == Changes(
                watermark=start
            )
            assert state.paths[mark:] == [VERSIONS]


async def test_a_changed_score_arrives_alone_built_as_fetch_builds_it(folder: Path) -> None:
    app, state = simulator(folder)
    async with edfi_adapter(app) as adapter:
        fields = fields_of(adapter, Entity.SCORE)
        start = (await adapter.changes(Entity.SCORE, None, fields)).watermark
        assert start is not None
        set_first(folder, "results.csv", score="12.5")
        mark = len(state.paths)
        changes = await adapter.changes(Entity.SCORE, start, fields)
        requests = state.paths[mark:]
        reads = collection_reads(state, mark)
        assert changes.complete and changes.deleted == ()
        assert changes.watermark == str(int(start) + 1)
        assert [record.score for record in changes.records] == [12.5]  # type: ignore[attr-defined]
        assert list(changes.records) == await by_id(adapter, Entity.SCORE, [changes.records[0].vendor_id])
        # The versions, the changed scores and gradebook entries (the section join),
        # the score's entry by its key, the scores' deletes and key changes: no collection read.
        assert reads == []
        assert sorted(requests) == sorted(
            [
                VERSIONS,
                f"{API}/gradebookEntries",
                f"{API}/gradebookEntries",
                f"{API}/studentGradebookEntries",
                f"{API}/studentGradebookEntries/deletes",
                f"{API}/studentGradebookEntries/keyChanges",
            ]
        )
        # The watermark covers it: asked again, nothing.
        assert await adapter.changes(Entity.SCORE, changes.watermark, fields) == Changes(
            watermark=changes.watermark
        )
        # Other entities saw nothing of theirs change.
        assert await adapter.changes(
            Entity.ASSIGNMENT, start, fields_of(adapter, Entity.ASSIGNMENT)
        ) == Changes(watermark=changes.watermark)


async def test_a_removed_score_arrives_in_deleted_under_the_id_fetch_gave_it(folder: Path) -> None:
    app, _ = simulator(folder)
    async with edfi_adapter(app) as adapter:
        fields = fields_of(adapter, Entity.SCORE)
        request = FetchRequest(entity=Entity.SCORE, fields=fields)
        before = {record.vendor_id for record in await fetch_all(adapter, request)}
        start = (await adapter.changes(Entity.SCORE, None, fields)).watermark
        assert start is not None
        drop_first(folder, "results.csv")
        changes = await adapter.changes(Entity.SCORE, start, fields)
        after = {record.vendor_id for record in await fetch_all(adapter, request)}
    assert changes.complete and changes.records == () and changes.watermark == str(int(start) + 1)
    assert list(changes.deleted) == sorted(before - after) and len(changes.deleted) == 1


async def test_a_gradebook_entry_moved_to_another_section_brings_its_scores(folder: Path) -> None:
    app, _ = simulator(folder)
    lines = csv_rows(folder / "lineItems.csv")
    moved = lines[0]["sourcedId"]
    other = next(
        row["classSourcedId"] for row in lines if row["classSourcedId"] != lines[0]["classSourcedId"]
    )
    async with edfi_adapter(app) as adapter:
        fields = fields_of(adapter, Entity.SCORE)
        start = (await adapter.changes(Entity.SCORE, None, fields)).watermark
        assert start is not None
        set_first(folder, "lineItems.csv", classSourcedId=other)
        changes = await adapter.changes(Entity.SCORE, start, fields)
        scores = [row for row in csv_rows(folder / "results.csv") if row["lineItemSourcedId"] == moved]
        assert scores and len(changes.records) == len(scores)
        assert {record.assignment_id for record in changes.records} == {  # type: ignore[attr-defined]
            f"gradebookEntry/uri:%2F%2Fhomeroom.example%2Fgradebook/{moved}"
        }
        assert len({record.section_id for record in changes.records}) == 1  # type: ignore[attr-defined]
        fetched = await by_id(adapter, Entity.SCORE, [record.vendor_id for record in changes.records])
        assert sorted(changes.records, key=lambda r: r.vendor_id) == sorted(
            fetched, key=lambda r: r.vendor_id
        )
        # Without section_id the join is not read, and the scores did not change themselves.
        assert (await adapter.changes(Entity.SCORE, start, frozenset({"score"}))).records == ()
        (assignment,) = (await adapter.changes(Entity.ASSIGNMENT, start, frozenset({"section_id"}))).records
        assert assignment.section_id == changes.records[0].section_id  # type: ignore[attr-defined]


async def test_a_changed_demographic_reaches_the_student_through_its_association(folder: Path) -> None:
    app, state = simulator(folder)
    async with edfi_adapter(app) as adapter:
        fields = fields_of(adapter, Entity.STUDENT)
        start = (await adapter.changes(Entity.STUDENT, None, fields)).watermark
        assert start is not None
        sex = "male" if csv_rows(folder / "demographics.csv")[0]["sex"] != "male" else "female"
        row = set_first(folder, "demographics.csv", sex=sex)
        mark = len(state.paths)
        changes = await adapter.changes(Entity.STUDENT, start, fields)
        assert collection_reads(state, mark) == []
        (student,) = changes.records
        assert student.sex != row["sex"]  # type: ignore[attr-defined]
        assert list(changes.records) == await by_id(adapter, Entity.STUDENT, [student.vendor_id])


async def test_a_removed_guardian_link_changes_the_student_and_the_guardian(folder: Path) -> None:
    users = csv_rows(folder / "users.csv")
    student = next(row for row in users if row["sourcedId"].startswith("stu-") and row["agentSourcedIds"])
    guardian = student["agentSourcedIds"].split(",")[0]

    def unlink(rows: list[Row]) -> list[Row]:
        for row in rows:
            if row["sourcedId"] in (student["sourcedId"], guardian):
                agents = row["agentSourcedIds"].split(",")
                row["agentSourcedIds"] = ",".join(
                    a for a in agents if a not in (student["sourcedId"], guardian)
                )
        return rows

    app, state = simulator(folder)
    async with edfi_adapter(app) as adapter:
        people = {entity: fields_of(adapter, entity) for entity in (Entity.STUDENT, Entity.GUARDIAN)}
        start = (await adapter.changes(Entity.STUDENT, None, people[Entity.STUDENT])).watermark
        assert start is not None
        before = {
            entity: await fetch_all(adapter, FetchRequest(entity=entity, fields=fields))
            for entity, fields in people.items()
        }
        rewrite_csv(folder / "users.csv", unlink)
        assert state.changes is not None
        deletes = await adapter.changes(Entity.STUDENT, start, people[Entity.STUDENT])
        links = state.changes.tombstones("studentContactAssociations")
        assert len(links) == 1 and links[0].change_version == int(deletes.watermark or 0)
        (kid,) = deletes.records
        contact = f"contact/{links[0].key_values['contactUniqueId']}"
        guardians = await adapter.changes(Entity.GUARDIAN, start, people[Entity.GUARDIAN])
        # Its other guardian's link changed too (it became the primary contact): read again as well.
        assert contact in {record.vendor_id for record in guardians.records}
        parent = next(record for record in guardians.records if record.vendor_id == contact)
        old_kid = next(r for r in before[Entity.STUDENT] if r.vendor_id == kid.vendor_id)
        old_parent = next(r for r in before[Entity.GUARDIAN] if r.vendor_id == contact)
        assert set(old_kid.guardian_ids) - set(kid.guardian_ids) == {contact}  # type: ignore[attr-defined]
        assert set(old_parent.student_ids) - set(parent.student_ids) == {kid.vendor_id}  # type: ignore[attr-defined]
        assert list(deletes.records) == await by_id(adapter, Entity.STUDENT, [kid.vendor_id])
        ids = sorted(record.vendor_id for record in guardians.records)
        fetched = await by_id(adapter, Entity.GUARDIAN, ids)
        assert sorted(guardians.records, key=lambda r: r.vendor_id) == sorted(
            fetched, key=lambda r: r.vendor_id
        )


async def test_a_renamed_course_reaches_the_sections_of_its_offerings(folder: Path) -> None:
    app, _ = simulator(folder)
    course = csv_rows(folder / "courses.csv")[0]
    async with edfi_adapter(app) as adapter:
        fields = fields_of(adapter, Entity.SECTION)
        start = (await adapter.changes(Entity.SECTION, None, fields)).watermark
        assert start is not None
        before = await fetch_all(
            adapter, FetchRequest(entity=Entity.SECTION, fields=fields)
        )  # fills the catalogue
        set_first(folder, "courses.csv", title="Renamed Course", subjects="Mathematics")
        changes = await adapter.changes(Entity.SECTION, start, fields)
        of_course = [s for s in before if s.course_id and s.course_id.endswith(f"/{course['courseCode']}")]  # type: ignore[attr-defined]
        assert of_course and {s.vendor_id for s in changes.records} == {s.vendor_id for s in of_course}
        assert all(s.subjects == ("Mathematics",) for s in changes.records)  # type: ignore[attr-defined]
        courses = await adapter.changes(Entity.COURSE, start, fields_of(adapter, Entity.COURSE))
        assert "Renamed Course" in {c.title for c in courses.records}  # type: ignore[attr-defined]
        assert courses.deleted == ()


async def test_a_gap_in_the_history_or_a_foreign_watermark_is_incomplete(folder: Path) -> None:
    app, state = simulator(folder)
    async with edfi_adapter(app) as adapter:
        fields = frozenset({"score"})
        start = (await adapter.changes(Entity.SCORE, None, fields)).watermark
        assert start is not None and state.changes is not None
        drop_first(folder, "results.csv")
        assert (await adapter.changes(Entity.SCORE, start, fields)).complete
        state.changes.purge(state.changes.newest + 1)  # the delete is forgotten
        assert await adapter.changes(Entity.SCORE, start, fields) == Changes(watermark=start, complete=False)
        newest = state.changes.newest
        assert (await adapter.changes(Entity.SCORE, str(newest), fields)).complete  # from there on: fine
        ahead = str(newest + 100)  # a watermark past the ODS's newest: restored from a backup
        assert await adapter.changes(Entity.SCORE, ahead, fields) == Changes(watermark=ahead, complete=False)
        assert not (await adapter.changes(Entity.SCORE, "2026-11-18T23:30:00Z", fields)).complete


async def test_without_change_queries_the_feed_says_so(folder: Path) -> None:
    app, _ = simulator(folder, change_queries=False)
    async with edfi_adapter(app) as adapter:
        assert await adapter.changes(Entity.SCORE, None, frozenset({"score"})) == Changes(complete=False)
        assert await adapter.changes(Entity.SCORE, "7", frozenset({"score"})) == Changes(
            watermark="7", complete=False
        )


async def test_data_standard_4_reads_pascal_case_versions(folder: Path) -> None:
    app, state = simulator(folder, data_standard="4")
    async with edfi_adapter(app, data_standard="4") as adapter:
        fields = fields_of(adapter, Entity.GUARDIAN)
        start = (await adapter.changes(Entity.GUARDIAN, None, fields)).watermark
        assert state.changes is not None and start == str(state.changes.newest)
        guardian = next(row for row in csv_rows(folder / "users.csv") if row["sourcedId"].startswith("gdn-"))
        users = csv_rows(folder / "users.csv")
        index = users.index(guardian)

        def rename(rows: list[Row]) -> list[Row]:
            rows[index]["givenName"] = "Zelda"
            return rows

        rewrite_csv(folder / "users.csv", rename)
        (parent,) = (await adapter.changes(Entity.GUARDIAN, start, fields)).records
        assert parent.vendor_id.startswith("parent/") and parent.given_name == "Zelda"  # type: ignore[attr-defined]


@pytest.mark.parametrize("data_standard", ["4", "5"])
async def test_every_natural_key_gives_the_vendor_id_fetch_gives(district: Path, data_standard: str) -> None:
    """A delete's ``keyValues`` must name the record a full read stored."""
    app, state = simulator(district, data_standard=data_standard)
    served: SimulatedDistrict = state.district
    guardians = "parents" if data_standard == "4" else "contacts"
    async with edfi_adapter(app, data_standard=data_standard) as adapter:
        for entity, resources in {**PRIMARY, Entity.GUARDIAN: (guardians,)}.items():
            fetched = await fetch_all(adapter, FetchRequest(entity=entity, fields=frozenset()))
            keyed = {
                vendor_id(resource, key_values(resource, item, data_standard))
                for resource in resources
                for item in served.collections[resource]
            }
            assert keyed == {record.vendor_id for record in fetched}, entity
