"""The mirror against odd values and partial failures (found by a red-team
pass over the read model):

1. An id list long enough to go to the database as one parameter matches ids
   exactly (SQLite's ``json_each`` would cut a value at a NUL): such a value
   is refused as the request's own fault.
2. A caller's value no database can hold (a NUL, an unpaired surrogate) is a
   clear refusal, never "source unavailable", and the source stays UP for
   everyone: only the vendor's failures change its health.
3. One vendor value no database can hold (a NUL, an unpaired surrogate, which
   JSON's ``\\ud800`` escape gives) does not stop its entity's full read.
4. A source with one entity whose sync keeps failing is not reported UP when
   another entity's sync succeeds.
5. Google Classroom's course work delta keeps only ``PUBLISHED`` work, as
   ``fetch`` does: a ``DRAFT`` item a looser server sends is not stored.
6. Rows the CSV source's re-read of a changed set rejected reach the source's
   health (DEGRADED), as the rows of its first load do.
"""

from __future__ import annotations

import asyncio
import csv
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import respx

from adapters.google_classroom import GoogleClassroomAdapter
from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.federation.registry import SourceRegistry
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import RECORD_TYPES, Entity, Record, Section, Student, data_fields
from hub.sdk import (
    Capabilities,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    SourceError,
    SourceUnavailable,
    UnsupportedRequest,
)
from hub.store import create_engine
from tests.adapters.google_classroom.conftest import TOKEN_ENV, classroom_config
from tests.mirror.conftest import mirror
from tests.store.fixtures import backend, migrated_url, pg_database, sqlite_template
from tests.support import make_district

__all__ = ["backend", "migrated_url", "mirror", "pg_database", "sqlite_template"]


class _Vendor:
    """A vendor's adapter holding fixed records, without a change feed (every
    sync is a full read); ``failing`` entities answer as an outage."""

    def __init__(self, name: str, records: Mapping[Entity, Sequence[Record]]) -> None:
        self.name = name
        self.records = dict(records)
        self.failing: set[Entity] = set()

    def capabilities(self) -> Capabilities:
        return Capabilities(
            {
                entity: EntitySupport(fields=frozenset(data_fields(RECORD_TYPES[entity])))
                for entity in self.records
            }
        )

    async def open(self) -> LoadReport:
        return LoadReport()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.entity in self.failing:
            raise SourceUnavailable(self.name, "the vendor is down")
        records = list(self.records[request.entity])
        return FetchResult(records, None, len(records))

    async def aclose(self) -> None:
        return None


def _students(*extra: Student) -> list[Student]:
    return [
        *(Student(vendor_id=f"s{i}", given_name=f"Kid{i}", grade_level="05") for i in range(30)),
        *extra,
    ]


def _sections() -> list[Section]:
    return [Section(vendor_id=f"sec{i}", title=f"Class {i}") for i in range(3)]


@asynccontextmanager
async def _mirrored(url: str, vendor: _Vendor) -> AsyncIterator[tuple[SourceRegistry, MirroredAdapter]]:
    """``vendor`` mirrored into the store at ``url`` (first sync in ``open``), behind a registry."""

    def every(entity: Entity) -> frozenset[str]:
        return frozenset(data_fields(RECORD_TYPES[entity]))

    adapter = MirroredAdapter(vendor, lambda: MirrorStore(create_engine(url)), every, background=False)
    registry = SourceRegistry([adapter], {vendor.name: "fake"})
    try:
        yield registry, adapter
    finally:
        await registry.aclose()


def _url(store: MirrorStore) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _name() -> str:
    return f"rt{secrets.token_hex(3)}"  # the PostgreSQL test database is shared by a run


# -- 1 and 2: a caller's ids and filters ------------------------------------------------


async def test_a_long_id_list_matches_ids_exactly_not_up_to_a_nul(mirror: MirrorStore) -> None:
    vendor = _Vendor(_name(), {Entity.STUDENT: _students()})
    async with _mirrored(_url(mirror), vendor) as (registry, _):
        assert await registry.open()
        # Twenty ids none of which is a student's: past 16 the list is one parameter.
        ids = ("s1\x00zz", *(f"nobody{i}" for i in range(20)))
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), ids=ids)
        try:
            found = [record.vendor_id for record in (await registry.fetch(vendor.name, request)).records]
        except UnsupportedRequest:
            found = []  # a clear refusal is fine too
        assert found == [], "no asked id is s1"
        assert registry.states[vendor.name].state == "UP"


@pytest.mark.parametrize("value", ["05\x00", "\ud800"], ids=["nul", "lone-surrogate"])
async def test_a_value_the_database_cannot_hold_is_refused_and_leaves_the_source_up(
    mirror: MirrorStore, value: str
) -> None:
    vendor = _Vendor(_name(), {Entity.STUDENT: _students()})
    async with _mirrored(_url(mirror), vendor) as (registry, _):
        assert await registry.open()
        request = FetchRequest(
            entity=Entity.STUDENT, fields=frozenset({"given_name"}), filters={"grade_level": (value,)}
        )
        try:
            answer = await registry.fetch(vendor.name, request)
        except UnsupportedRequest:
            pass  # the request's own fault, said as such
        except SourceError as exc:
            pytest.fail(f"a caller's value answered as a source failure: {type(exc).__name__}: {exc.reason}")
        else:
            assert answer.records == []
        state = registry.states[vendor.name]
        assert (state.state, state.last_error) == ("UP", None), "a caller changed the source's health"


# -- 3: a vendor's value ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["Zo\x00e", "Zo\ud800e"], ids=["nul", "lone-surrogate"])
async def test_one_vendor_value_the_database_cannot_hold_does_not_block_the_full_read(
    mirror: MirrorStore, value: str
) -> None:
    odd = Student(vendor_id="odd", given_name=value, grade_level="05")
    vendor = _Vendor(_name(), {Entity.STUDENT: _students(odd)})
    async with _mirrored(_url(mirror), vendor) as (registry, adapter):
        opened = await registry.open()
        assert opened, registry.states[vendor.name].last_error
        assert adapter.freshness.first_sync_done
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), ids=("s1",))
        assert [r.vendor_id for r in (await registry.fetch(vendor.name, request)).records] == ["s1"]


# -- 4: one entity's failing sync -------------------------------------------------------


async def test_a_source_whose_section_sync_keeps_failing_is_not_reported_up(mirror: MirrorStore) -> None:
    vendor = _Vendor(_name(), {Entity.STUDENT: _students(), Entity.SECTION: _sections()})
    async with _mirrored(_url(mirror), vendor) as (registry, adapter):
        assert await registry.open()
        assert adapter.sync is not None
        vendor.failing = {Entity.SECTION}
        await adapter.sync.sync_once(Entity.SECTION)
        registry.observe_mirrors()
        assert registry.states[vendor.name].state == "DEGRADED"
        # The next tick: students sync fine, sections fail again.
        await adapter.sync.sync_once(Entity.STUDENT)
        registry.observe_mirrors()
        assert registry.states[vendor.name].state == "DEGRADED", "sections still fail at every interval"
        await adapter.sync.sync_once(Entity.SECTION)
        await adapter.sync.sync_once(Entity.STUDENT)
        registry.observe_mirrors()
        assert registry.states[vendor.name].state == "DEGRADED"


# -- 5: Google Classroom's course work delta --------------------------------------------

HOST = "classroom.test"
COURSE = "123456789012"


def _work(work_id: str, update_time: str, state: str) -> dict[str, object]:
    return {
        "courseId": COURSE,
        "id": work_id,
        "title": f"Work {work_id}",
        "state": state,
        "updateTime": update_time,
        "maxPoints": 100,
        "workType": "ASSIGNMENT",
    }


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setenv(TOKEN_ENV, "homeroom-sim-token")
    with respx.mock(base_url=f"https://{HOST}", assert_all_called=False) as router:
        router.get("/v1/courses").respond(200, json={"courses": [{"id": COURSE, "courseState": "ACTIVE"}]})
        yield router


async def test_a_draft_course_work_item_is_not_taken_as_a_change(google: respx.MockRouter) -> None:
    fields = frozenset({"title", "section_id"})
    route = google.get(f"/v1/courses/{COURSE}/courseWork")
    route.respond(200, json={"courseWork": [_work("1", "2020-04-06T08:00:00Z", "PUBLISHED")]})
    adapter = GoogleClassroomAdapter(classroom_config(f"https://{HOST}", retries=0))
    try:
        start = await adapter.changes(Entity.ASSIGNMENT, None, fields)
        assert start.watermark is not None
        # A looser server answers a DRAFT item although only PUBLISHED and DELETED were asked.
        route.respond(
            200,
            json={
                "courseWork": [
                    _work("2", "2020-04-07T08:00:00Z", "DRAFT"),
                    _work("1", "2020-04-06T08:00:00Z", "PUBLISHED"),
                ]
            },
        )
        delta = await adapter.changes(Entity.ASSIGNMENT, start.watermark, fields)
        route.respond(200, json={"courseWork": [_work("1", "2020-04-06T08:00:00Z", "PUBLISHED")]})
        served = await adapter.fetch(FetchRequest(entity=Entity.ASSIGNMENT, fields=fields))
    finally:
        await adapter.aclose()
    assert [r.vendor_id for r in served.records] == [f"{COURSE}/1"]
    assert f"{COURSE}/2" not in [r.vendor_id for r in delta.records], "a draft fetch never returns"


# -- 6: the CSV source's re-read --------------------------------------------------------


async def test_rows_a_reread_rejects_show_in_the_source_health(tmp_path: Path) -> None:
    folder = make_district(tmp_path / "district", 50)
    config = OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=folder)
    adapter = OneRosterCsvAdapter(config)
    registry = SourceRegistry([adapter], {"sis": "oneroster-csv"})
    try:
        assert await registry.open()
        assert registry.states["sis"].state == "UP"
        users = folder / "users.csv"
        with users.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.reader(stream))
        rows.append(["", *rows[1][1:]])  # a row without its sourcedId: rejected
        with users.open("w", encoding="utf-8", newline="") as stream:
            csv.writer(stream, lineterminator="\n").writerows(rows)
        async with asyncio.timeout(20):
            while adapter.last_report is None or not adapter.last_report.rejected:
                await asyncio.sleep(0.1)
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), limit=1)
        await registry.fetch("sis", request)
        assert registry.states["sis"].state == "DEGRADED", "the set served now lost a row"
    finally:
        await registry.aclose()
        shutil.rmtree(folder, ignore_errors=True)
