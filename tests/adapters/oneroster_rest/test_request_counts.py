"""The live path's request count for a teacher's questions (issue #10 item 5).

The hub asks a teacher's scores by ``student_id`` for every student of the
teacher, with the teacher's relations in ``visible_if`` (``section_id`` in the
taught sections), and re-asks the rows it admits by ``ids`` within the same
filters. Read by student, two per ``filter=``, that cost grew with the
students; read by section it is a few requests, whatever the district's size.
Every answer must still be exact: only matching rows, only the asked fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from hub.sdk import Entity, FetchRequest, Record, Score
from tests.support import make_district

from .conftest import csv_adapter, fetch_all, rest_adapter, simulator

SCORE_FIELDS = frozenset({"score", "student_id", "section_id"})


@pytest.fixture(scope="module")
def larger_district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("or-rest-larger"), 240)


async def _largest_section(district: Path) -> tuple[str, tuple[str, ...]]:
    """The section with the most students, and those students."""
    async with csv_adapter(district) as csv:
        request = FetchRequest(Entity.ENROLLMENT, frozenset({"section_id", "person_id", "role"}))
        enrollments = await fetch_all(csv, request)
    members: dict[str, set[str]] = {}
    for row in enrollments:
        if getattr(row, "role", None) == "student":
            members.setdefault(str(getattr(row, "section_id", "")), set()).add(
                str(getattr(row, "person_id", ""))
            )
    section = max(sorted(members), key=lambda key: len(members[key]))
    return section, tuple(sorted(members[section]))


def _by_id(records: Sequence[Record]) -> list[Record]:
    return sorted(records, key=lambda record: record.vendor_id)


async def _teacher_reads(district: Path) -> tuple[int, int, int]:
    """(requests of the first read, of the re-ask by ids, students asked for) of a
    teacher's one section, checked against the CSV adapter's answers."""
    section, students = await _largest_section(district)
    app, state = simulator(district)
    first = FetchRequest(
        Entity.SCORE,
        SCORE_FIELDS,
        filters={"student_id": students},
        visible_if=(("section_id", (section,)),),
    )
    async with rest_adapter(app, page_size=1000) as rest, csv_adapter(district) as csv:
        state.paths.clear()
        found = await fetch_all(rest, first)
        first_requests = len(state.paths)
        again = FetchRequest(
            Entity.SCORE,
            SCORE_FIELDS | {"score_status"},
            ids=tuple(record.vendor_id for record in found),
            filters=first.filters,
            visible_if=first.visible_if,
        )
        state.paths.clear()
        refilled = await fetch_all(rest, again)
        again_requests = len(state.paths)
        assert _by_id(found) == _by_id(await fetch_all(csv, first))
        assert _by_id(refilled) == _by_id(await fetch_all(csv, again))
    assert found and all(isinstance(record, Score) and record.section_id == section for record in found)
    assert {record.vendor_id for record in refilled} == {record.vendor_id for record in found}
    return first_requests, again_requests, len(students)


async def test_a_sections_scores_cost_the_same_requests_however_many_students(
    district: Path, larger_district: Path
) -> None:
    small = await _teacher_reads(district)
    large = await _teacher_reads(larger_district)
    # Probes of the collection's and the section's sizes and one page by
    # section, then one page for the re-ask (the probes are remembered), in
    # both districts; by student, two per filter=, it was at least half the
    # section's students per read.
    assert small[:2] == large[:2] == (3, 1)
    assert min(small[2], large[2]) > 2 * 2


async def test_relations_over_several_attributes_answer_exactly(district: Path) -> None:
    """Attendance's teacher relation is a section or, for a daily mark, a
    student: both pairs are read and merged, and only matching rows come back."""
    section, students = await _largest_section(district)
    fields = frozenset({"status", "date"})
    request = FetchRequest(
        Entity.ATTENDANCE_EVENT,
        fields,
        filters={"student_id": students[:9]},
        visible_if=(("section_id", (section,)), ("student_id", students[:5])),
    )
    app, _ = simulator(district)
    async with rest_adapter(app, page_size=7) as rest, csv_adapter(district) as csv:
        got = await fetch_all(rest, request)
        expected = await fetch_all(csv, request)
    assert got and _by_id(got) == _by_id(expected)
    # Only the asked fields leave the adapter, not what the relations were read for.
    assert all(getattr(row, "student_id", None) is None for row in got)


async def test_the_requests_own_filter_is_read_when_relations_would_cost_more(district: Path) -> None:
    """A school-wide relation is one filter= but many pages: one student's
    attendance is read by the student, in one request."""
    _, students = await _largest_section(district)
    app, state = simulator(district)
    async with rest_adapter(app, page_size=7) as rest, csv_adapter(district) as csv:
        people = await fetch_all(csv, FetchRequest(Entity.STUDENT, frozenset({"school_id"})))
        schools = {str(getattr(row, "school_id", "")) for row in people}
        request = FetchRequest(
            Entity.ATTENDANCE_EVENT,
            frozenset({"status"}),
            filters={"student_id": students[:1]},
            visible_if=(("school_id", tuple(sorted(schools))),),
        )
        state.paths.clear()
        got = await fetch_all(rest, request)
        assert len(state.paths) == 2  # ten school days of one student: two pages of 7
        assert _by_id(got) == _by_id(await fetch_all(csv, request))


async def test_relations_naming_no_one_cost_no_request(district: Path) -> None:
    app, state = simulator(district)
    async with rest_adapter(app) as rest:
        state.paths.clear()
        got = await rest.fetch(FetchRequest(Entity.SCORE, SCORE_FIELDS, visible_if=(("section_id", ()),)))
    assert got.records == [] and state.paths == []


async def test_without_a_class_filter_on_results_the_students_are_read(district: Path) -> None:
    """OneRoster 1.1 results name no class: the relation cannot be pushed, the
    answer is the same, read by student."""
    section, students = await _largest_section(district)
    app, state = simulator(district, version="1.1")
    request = FetchRequest(
        Entity.SCORE,
        SCORE_FIELDS,
        filters={"student_id": students[:4]},
        visible_if=(("section_id", (section,)),),
    )
    async with rest_adapter(app, version="1.1", page_size=1000) as rest, csv_adapter(district) as csv:
        state.paths.clear()
        got = await fetch_all(rest, request)
        expected = await fetch_all(csv, request)
    assert got and _by_id(got) == _by_id(expected)
    assert sum(path.endswith("/results") for path in state.paths) == 2  # two chunks of two students
