"""MirrorStore on SQLite and PostgreSQL: it answers a FetchRequest as an adapter
filtering in memory would (hub.sdk.matches / name_matches), pages, counts,
projects, reconciles and forgets."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from hub.mirror.query import InvalidCursor
from hub.mirror.store import MirrorStore
from hub.mirror.tables import MIRROR_LINK, entity_table
from hub.model import Entity, Score, Student, data_fields
from hub.sdk import FetchRequest, fetch_every_page, matches, name_matches

AT = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
ALL_STUDENT = frozenset(data_fields(Student))
ALL_SCORE = frozenset(data_fields(Score))


def _students() -> list[Student]:
    return [
        Student(
            vendor_id="s3",
            given_name="Zoë",
            family_name="Brontë",
            grade_level="05",
            birth_date=dt.date(2015, 3, 1),
            races=("white", "asian"),
            programs=(),
            directory_opt_out=False,
            school_id="sch1",
            school_ids=("sch1", "sch2"),
            guardian_ids=("g1",),
        ),
        Student(
            vendor_id="s1",
            given_name="Ana",
            family_name="Lopez_100%",
            preferred_name="Annie",
            grade_level="04",
            birth_date=dt.date(2016, 1, 9),
            races=None,
            programs=("iep",),
            directory_opt_out=True,
            school_id="sch2",
            school_ids=("sch2",),
        ),
        Student(
            vendor_id="s2",
            given_name="Ben",
            family_name="Anand",
            grade_level="05",
            enabled=True,
            school_id="sch1",
            school_ids=("sch1",),
            guardian_ids=("g1", "g2"),
        ),
    ]


def _scores() -> list[Score]:
    return [
        Score(
            vendor_id=f"r{i}",
            assignment_id=f"a{i % 3}",
            student_id=f"s{i % 2}",
            section_id="c1",
            score=float(i * 10) + 0.5,
            late=i % 2 == 0,
            submitted_at=dt.datetime(2026, 11, i + 1, 15, 30, tzinfo=dt.UTC),
        )
        for i in range(10)
    ]


async def _ids(store: MirrorStore, request: FetchRequest) -> list[str]:
    return [r.vendor_id for r in await fetch_every_page(lambda q: store.fetch("sis", q), request)]


async def test_filters_mean_what_matches_means(mirror: MirrorStore) -> None:
    students = _students()
    await mirror.replace_all("sis", Entity.STUDENT, students, ALL_STUDENT, AT)
    cases: list[dict[str, tuple[str, ...]]] = [
        {"grade_level": ("05",)},
        {"grade_level": ("05", "04")},
        {"school_id": ("sch2",)},
        {"school_ids": ("sch2",)},  # a tuple item
        {"guardian_ids": ("g2", "nobody")},
        {"races": ("asian",)},
        {"programs": ("iep",)},
        {"directory_opt_out": ("true",)},
        {"directory_opt_out": ("false",)},
        {"directory_opt_out": ("yes",)},  # no stored value renders so: nothing
        {"enabled": ("true",)},
        {"birth_date": ("2016-01-09",)},
        {"grade_level": ("05",), "school_ids": ("sch1",)},
        {"school_ids": ()},
    ]
    for filters in cases:
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters=filters)
        expected = [s.vendor_id for s in students if matches(s, filters)]
        assert await _ids(mirror, request) == expected, filters
    both = FetchRequest(
        entity=Entity.STUDENT, fields=frozenset(), ids=("s1", "s2"), filters={"school_ids": ("sch1",)}
    )
    assert await _ids(mirror, both) == ["s2"]
    assert await _ids(mirror, FetchRequest(entity=Entity.STUDENT, fields=frozenset(), ids=())) == []


async def test_search_is_name_matches_in_any_alphabet(mirror: MirrorStore) -> None:
    students = _students()
    await mirror.replace_all("sis", Entity.STUDENT, students, ALL_STUDENT, AT)
    for term in ("an", "AN lop", "zoë", "BRONTË", "annie", "_100%", "%", "ben anand", "", "nobody"):
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"search": (term,)})
        expected = [s.vendor_id for s in students if name_matches(s, term)]
        assert await _ids(mirror, request) == expected, term
        result = await mirror.fetch("sis", request)
        assert result.total == len(expected)


async def test_dates_floats_and_datetimes(mirror: MirrorStore) -> None:
    scores = _scores()
    await mirror.replace_all("sis", Entity.SCORE, scores, ALL_SCORE, AT)
    request = FetchRequest(entity=Entity.SCORE, fields=ALL_SCORE)
    back = list((await mirror.fetch("sis", request)).records)
    # Every value comes back equal, times timezone-aware in UTC.
    assert back == scores
    for filters in (
        {"score": ("20.5", "30.5")},
        {"score": ("20", "30.50")},  # not as filter_value renders them: nothing
        {"late": ("true",)},
        {"student_id": ("s1",), "assignment_id": ("a0", "a2")},
        {"submitted_at": ("2026-11-03T15:30:00+00:00",)},
    ):
        ask = FetchRequest(entity=Entity.SCORE, fields=frozenset(), filters=filters)
        assert await _ids(mirror, ask) == [s.vendor_id for s in scores if matches(s, filters)], filters


async def test_date_range_on_attendance(mirror: MirrorStore) -> None:
    from hub.model import AttendanceEvent

    events = [
        AttendanceEvent(vendor_id=f"e{i}", student_id="s1", date=dt.date(2026, 11, 1 + i), status="PRESENT")
        for i in range(8)
    ]
    events.append(AttendanceEvent(vendor_id="undated", student_id="s1"))
    fields = frozenset(data_fields(AttendanceEvent))
    await mirror.replace_all("sis", Entity.ATTENDANCE_EVENT, events, fields, AT)
    for filters in (
        {"date_from": ("2026-11-03",)},
        {"date_to": ("2026-11-03",)},
        {"date_from": ("2026-11-02",), "date_to": ("2026-11-05",), "student_id": ("s1",)},
    ):
        ask = FetchRequest(entity=Entity.ATTENDANCE_EVENT, fields=frozenset(), filters=filters)
        assert await _ids(mirror, ask) == [e.vendor_id for e in events if matches(e, filters)], filters


async def test_paging_keeps_the_vendor_order_and_counts(mirror: MirrorStore) -> None:
    scores = _scores()
    await mirror.replace_all("sis", Entity.SCORE, scores, ALL_SCORE, AT)
    request = FetchRequest(entity=Entity.SCORE, fields=frozenset(), limit=3)
    first = await mirror.fetch("sis", request)
    assert [r.vendor_id for r in first.records] == ["r0", "r1", "r2"]
    assert first.total == 10 and first.next_cursor is not None
    assert await _ids(mirror, request) == [s.vendor_id for s in scores]
    filtered = FetchRequest(entity=Entity.SCORE, fields=frozenset(), filters={"late": ("true",)}, limit=2)
    page = await mirror.fetch("sis", filtered)
    assert page.total == 5 and len(page.records) == 2
    assert await _ids(mirror, filtered) == ["r0", "r2", "r4", "r6", "r8"]
    last = await mirror.fetch("sis", dataclasses.replace(request, limit=100))
    assert last.next_cursor is None
    with pytest.raises(InvalidCursor):
        await mirror.fetch("sis", dataclasses.replace(request, cursor="not-ours"))


async def test_only_requested_fields_are_filled(mirror: MirrorStore) -> None:
    await mirror.replace_all("sis", Entity.STUDENT, _students(), ALL_STUDENT, AT)
    request = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name", "school_ids"}), ids=("s3",))
    (row,) = (await mirror.fetch("sis", request)).records
    assert row == Student(vendor_id="s3", given_name="Zoë", school_ids=("sch1", "sch2"))


async def test_only_the_given_fields_are_stored(mirror: MirrorStore) -> None:
    fields = frozenset({"given_name", "school_ids"})
    await mirror.replace_all("sis", Entity.STUDENT, _students(), fields, AT)
    table = entity_table(Entity.STUDENT)
    async with mirror.engine.connect() as conn:
        births = (await conn.execute(select(table.c.birth_date, table.c.family_name))).all()
        attributes = set((await conn.execute(select(MIRROR_LINK.c.attribute))).scalars())
    assert births and all(tuple(row) == (None, None) for row in births)
    assert attributes == {"school_ids"}


async def test_replace_all_deletes_what_the_vendor_no_longer_has(mirror: MirrorStore) -> None:
    students = _students()
    await mirror.replace_all("sis", Entity.STUDENT, students, ALL_STUDENT, AT)
    await mirror.replace_all("lms", Entity.STUDENT, students[:1], ALL_STUDENT, AT)
    counts = await mirror.replace_all("sis", Entity.STUDENT, students[1:], ALL_STUDENT, AT)
    assert (counts.written, counts.deleted) == (2, 1)
    assert await _ids(mirror, FetchRequest(entity=Entity.STUDENT, fields=frozenset())) == ["s1", "s2"]
    gone = FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"races": ("asian",)})
    assert await _ids(mirror, gone) == []
    # Another source's rows are its own.
    assert [r.vendor_id for r in (await mirror.fetch("lms", gone)).records] == ["s3"]
    state = (await mirror.state("sis"))[Entity.STUDENT]
    assert state.rows == 2 and state.last_full_sync == AT


async def test_upsert_and_delete_apply_a_delta(mirror: MirrorStore) -> None:
    students = _students()
    await mirror.replace_all("sis", Entity.STUDENT, students, ALL_STUDENT, AT)
    later = AT + dt.timedelta(minutes=1)
    changed = Student(vendor_id="s1", grade_level="05", school_ids=("sch1",))
    new = Student(vendor_id="s9", grade_level="01", school_ids=("sch9",))
    await mirror.upsert(
        "sis", Entity.STUDENT, [changed, new], frozenset({"grade_level", "school_ids"}), later
    )
    assert await mirror.delete("sis", Entity.STUDENT, ["s2", "absent"]) == 1
    every = FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name", "grade_level", "school_ids"}))
    rows = {r.vendor_id: r for r in (await mirror.fetch("sis", every)).records}
    assert list(rows) == ["s3", "s1", "s9"]  # the vendor's order; new rows last
    assert rows["s1"] == Student(vendor_id="s1", given_name="Ana", grade_level="05", school_ids=("sch1",))
    by_school = FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"school_ids": ("sch2",)})
    assert await _ids(mirror, by_school) == ["s3"]
    state = (await mirror.state("sis"))[Entity.STUDENT]
    assert (state.rows, state.last_delta_sync, state.last_sync) == (3, later, later)


async def test_erase_forgets_an_attribute_everywhere(mirror: MirrorStore) -> None:
    await mirror.replace_all("sis", Entity.STUDENT, _students(), ALL_STUDENT, AT)
    await mirror.erase("sis", Entity.STUDENT, {"birth_date", "races"})
    table = entity_table(Entity.STUDENT)
    async with mirror.engine.connect() as conn:
        values = (await conn.execute(select(table.c.birth_date, table.c.races))).all()
        kept = (await conn.execute(select(table.c.given_name))).scalars().all()
        links = set((await conn.execute(select(MIRROR_LINK.c.attribute))).scalars())
    assert all(tuple(row) == (None, None) for row in values)
    assert sorted(kept) == ["Ana", "Ben", "Zoë"]
    assert "races" not in links and "school_ids" in links


async def test_state_is_kept_per_entity(mirror: MirrorStore) -> None:
    await mirror.set_state("sis", Entity.SCORE, watermark="2026-12-03T08:00:00Z", last_error="vendor down")
    await mirror.set_state("sis", Entity.SCORE, last_error=None)
    (state,) = (await mirror.state("sis")).values()
    assert (state.entity, state.watermark, state.last_error) == (Entity.SCORE, "2026-12-03T08:00:00Z", None)
    assert await mirror.state("other") == {}


async def test_visible_if_keeps_rows_matching_any_pair(mirror: MirrorStore) -> None:
    from hub.sdk import visible

    students = _students()
    await mirror.replace_all("sis", Entity.STUDENT, students, ALL_STUDENT, AT)
    for pairs in (
        (("vendor_id", ("s1",)), ("school_ids", ("sch1",))),
        (("guardian_ids", ("g2",)),),
        (("grade_level", ("04",)), ("vendor_id", ())),
        (("school_id", ("nowhere",)),),
    ):
        request = FetchRequest(entity=Entity.STUDENT, fields=frozenset(), visible_if=pairs)
        result = await mirror.fetch("sis", request)
        expected = [s.vendor_id for s in students if visible(s, pairs)]
        assert [r.vendor_id for r in result.records] == expected, pairs
        assert result.total == len(expected)
