"""fetch(): ids, filters, projection, paging and refusals, on the small 1.2 set."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from adapters.oneroster_csv import SPEC, OneRosterCsvAdapter
from hub.sdk import (
    Entity,
    FetchRequest,
    SourceUnavailable,
    Student,
    UnsupportedRequest,
    data_fields,
)

from .csv_sets import adapter_for, of_type, write_set

ALL = frozenset[str]()


async def ids_of(adapter: OneRosterCsvAdapter, request: FetchRequest) -> list[str]:
    result = await adapter.fetch(request)
    assert result.total == len(result.records)
    return [record.vendor_id for record in result.records]


def filtered(entity: Entity, **filters: tuple[str, ...]) -> FetchRequest:
    return FetchRequest(entity, ALL, filters=filters)


async def test_ids_come_back_in_file_order(v12: OneRosterCsvAdapter) -> None:
    request = FetchRequest(Entity.STUDENT, ALL, ids=("stu3", "nobody", "stu1", "stu3"))
    assert await ids_of(v12, request) == ["stu1", "stu3"]
    assert await ids_of(v12, FetchRequest(Entity.STUDENT, ALL, ids=())) == []


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (filtered(Entity.ORGANIZATION, type=("school",)), ["s1", "s2"]),
        (filtered(Entity.ORGANIZATION, parent_id=("d1",)), ["s1", "s2"]),
        (filtered(Entity.ACADEMIC_SESSION, type=("semester",)), ["f2024", "sp2025"]),
        (filtered(Entity.ACADEMIC_SESSION, parent_id=("f2024",)), ["gp1"]),
        (filtered(Entity.COURSE, org_id=("d1",)), ["c-alg"]),
        (filtered(Entity.SECTION, school_id=("s1",)), ["k1", "k3"]),
        (filtered(Entity.SECTION, course_id=("c-alg",)), ["k1", "k2", "k3"]),
        (filtered(Entity.SECTION, term_ids=("sp2025",)), ["k1"]),
        (filtered(Entity.STUDENT, school_id=("s1",)), ["stu1", "stu3"]),
        (filtered(Entity.STUDENT, grade_level=("KG",)), ["stu2"]),
        (filtered(Entity.STUDENT, guardian_ids=("gua1", "gua2")), ["stu1", "stu2"]),
        (filtered(Entity.TEACHER, school_ids=("s2",)), ["prn1"]),
        (filtered(Entity.TEACHER, role=("teacher",)), ["tch1"]),
        (filtered(Entity.GUARDIAN, student_ids=("stu3", "stu1")), ["gua1", "rel1"]),
        (filtered(Entity.ENROLLMENT, section_id=("k1",)), ["e1", "e3", "e4"]),
        (filtered(Entity.ENROLLMENT, person_id=("stu1",)), ["e1", "e7"]),
        (filtered(Entity.ENROLLMENT, role=("teacher", "administrator")), ["e4", "e5"]),
        (filtered(Entity.ENROLLMENT, school_id=("s2",)), ["e2", "e5"]),
        (filtered(Entity.ENROLLMENT, section_id=("k1", "k2"), role=("student",)), ["e1", "e2", "e3"]),
        (filtered(Entity.ASSIGNMENT, section_id=("k2",)), ["li2"]),
        (filtered(Entity.SCORE, student_id=("stu1", "stu2")), ["res1", "res3"]),
        (filtered(Entity.SCORE, assignment_id=("li1",)), ["res1", "res2"]),
        (filtered(Entity.SCORE, section_id=("k1",), student_id=("stu3",)), ["res2"]),
        (filtered(Entity.COURSE_GRADE, student_id=("stu2",)), ["cg2"]),
        (filtered(Entity.COURSE_GRADE, section_id=("k1",)), ["cg1", "cg3"]),
        (filtered(Entity.COURSE_GRADE, term_id=("f2024",)), ["cg1", "cg2"]),
        (filtered(Entity.ATTENDANCE_EVENT, student_id=("stu1",)), ["a1", "a2", "a5"]),
        (filtered(Entity.ATTENDANCE_EVENT, section_id=("k1",)), ["a1", "a2", "a4"]),
        (filtered(Entity.ATTENDANCE_EVENT, school_id=("s2",)), ["a3"]),
        (filtered(Entity.ATTENDANCE_EVENT, date_from=("2024-09-04",)), ["a2", "a3", "a4", "a5"]),
        (filtered(Entity.ATTENDANCE_EVENT, date_to=("2024-09-04",)), ["a1", "a2", "a3"]),
        (
            filtered(Entity.ATTENDANCE_EVENT, date_from=("2024-09-04",), date_to=("2024-09-05",)),
            ["a2", "a3", "a4"],
        ),
        (
            filtered(Entity.ATTENDANCE_EVENT, student_id=("stu1",), date_from=("2024-09-04",)),
            ["a2", "a5"],
        ),
        (filtered(Entity.STUDENT, school_id=()), []),
        (filtered(Entity.STUDENT, school_id=("s1",), grade_level=("KG",)), []),
    ],
    ids=lambda value: (
        value.entity.value + ":" + ",".join(value.filters) if isinstance(value, FetchRequest) else ""
    ),
)
async def test_filters(v12: OneRosterCsvAdapter, request_: FetchRequest, expected: list[str]) -> None:
    assert await ids_of(v12, request_) == expected


async def test_ids_and_filters_together(v12: OneRosterCsvAdapter) -> None:
    request = FetchRequest(Entity.STUDENT, ALL, ids=("stu1", "stu2"), filters={"school_id": ("s2",)})
    assert await ids_of(v12, request) == ["stu2"]


async def test_only_requested_fields_are_filled(v12: OneRosterCsvAdapter) -> None:
    result = await v12.fetch(
        FetchRequest(Entity.STUDENT, frozenset({"given_name", "guardian_ids"}), ids=("stu1",))
    )

    assert of_type(result.records, Student) == [
        Student(vendor_id="stu1", given_name="Ana", guardian_ids=("gua1",))
    ]


async def test_no_fields_gives_bare_ids(v12: OneRosterCsvAdapter) -> None:
    result = await v12.fetch(FetchRequest(Entity.STUDENT, ALL, ids=("stu1",)))
    assert of_type(result.records, Student) == [Student(vendor_id="stu1")]


async def test_records_belong_to_the_caller(v12: OneRosterCsvAdapter) -> None:
    fields = frozenset({"given_name", "birth_date"})
    [first] = of_type((await v12.fetch(FetchRequest(Entity.STUDENT, fields, ids=("stu1",)))).records, Student)
    first.given_name = "changed"
    first.source = "sis"

    [again] = of_type((await v12.fetch(FetchRequest(Entity.STUDENT, fields, ids=("stu1",)))).records, Student)
    assert again is not first
    assert (again.given_name, again.source) == ("Ana", "")


async def test_paging_to_the_end(v12: OneRosterCsvAdapter) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        result = await v12.fetch(FetchRequest(Entity.ENROLLMENT, ALL, limit=4, cursor=cursor))
        assert result.total == 6
        seen += [record.vendor_id for record in result.records]
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == ["e1", "e2", "e3", "e4", "e5", "e7"]
    assert pages == 2


async def test_paging_with_a_filter(v12: OneRosterCsvAdapter) -> None:
    first = await v12.fetch(FetchRequest(Entity.ENROLLMENT, ALL, filters={"section_id": ("k1",)}, limit=2))
    assert ([r.vendor_id for r in first.records], first.total) == (["e1", "e3"], 3)
    assert first.next_cursor is not None
    rest = await v12.fetch(
        FetchRequest(
            Entity.ENROLLMENT, ALL, filters={"section_id": ("k1",)}, limit=2, cursor=first.next_cursor
        )
    )
    assert ([r.vendor_id for r in rest.records], rest.next_cursor) == (["e4"], None)


async def test_a_limit_covering_everything_has_no_next_page(v12: OneRosterCsvAdapter) -> None:
    result = await v12.fetch(FetchRequest(Entity.SCORE, ALL, limit=3))
    assert (len(result.records), result.next_cursor, result.total) == (3, None, 3)


@pytest.mark.parametrize(
    "request_",
    [
        FetchRequest(Entity.STUDENT, frozenset({"phone"})),
        FetchRequest(Entity.STUDENT, frozenset({"source"})),
        FetchRequest(Entity.STUDENT, ALL, filters={"phone": ("555",)}),
        FetchRequest(Entity.ENROLLMENT, ALL, filters={"date_from": ("2024-01-01",)}),
        FetchRequest(Entity.ATTENDANCE_EVENT, ALL, filters={"date_from": ("yesterday",)}),
        FetchRequest(Entity.ATTENDANCE_EVENT, ALL, filters={"date_to": ("2024-01-01", "2024-02-01")}),
        FetchRequest(Entity.STUDENT, ALL, cursor="page-2"),
        FetchRequest(Entity.STUDENT, ALL, limit=-1),
    ],
)
async def test_undeclared_requests_are_refused(v12: OneRosterCsvAdapter, request_: FetchRequest) -> None:
    with pytest.raises(UnsupportedRequest, match="source 'sis'"):
        await v12.fetch(request_)


async def test_fetch_before_open_is_a_source_error(v12_dir: Path) -> None:
    with pytest.raises(SourceUnavailable):
        await adapter_for(v12_dir).fetch(FetchRequest(Entity.STUDENT, ALL))


async def test_aclose_drops_the_set(v12: OneRosterCsvAdapter) -> None:
    await v12.aclose()
    with pytest.raises(SourceUnavailable):
        await v12.fetch(FetchRequest(Entity.STUDENT, ALL))


def test_capabilities_declare_every_entity_all_fields_batched_and_paged() -> None:
    capabilities = SPEC.create(SPEC.config(name="sis", kind="oneroster-csv", path=Path("."))).capabilities()

    assert set(capabilities.entities) == set(Entity)
    for support in capabilities.entities.values():
        assert support.batch and support.paging
    student = capabilities.entities[Entity.STUDENT]
    assert student.fields == frozenset(data_fields(Student))
    assert student.filters == {
        "school_id",
        "grade_level",
        "guardian_ids",
        "directory_opt_out",
        "email",
        "search",
    }
    assert capabilities.entities[Entity.ATTENDANCE_EVENT].filters == {
        "student_id",
        "section_id",
        "school_id",
        "date_from",
        "date_to",
    }


STUDENT_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,givenName,familyName,email,grades"
)


async def test_fetching_ten_thousand_students_is_fast(tmp_path: Path) -> None:
    rows = [f"s{i},,,true,s1,student,Given{i},Family{i},s{i}@x.org,{9 + i % 4}" for i in range(10_000)]
    folder = write_set(
        tmp_path / "big",
        {
            "orgs.csv": "sourcedId,status,dateLastModified,name,type\ns1,,,School,school",
            "users.csv": "\n".join([STUDENT_HEADER, *rows]),
        },
    )
    adapter = adapter_for(folder)
    await adapter.open()
    fields = frozenset(data_fields(Student)[:10])
    request = FetchRequest(Entity.STUDENT, fields)

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        result = await adapter.fetch(request)
        best = min(best, time.perf_counter() - started)

    assert len(result.records) == 10_000
    # Typically ~15 ms on a 2-core machine; the bound leaves room for a busy CI runner.
    assert best < 0.15, f"fetching 10,000 students took {best * 1000:.0f} ms"


async def test_directory_opt_out_filters_without_returning_the_flag(tmp_path: Path) -> None:
    from hub.testing import DistrictSpec, generate_district

    generate_district(tmp_path, DistrictSpec(students=300, seed=3))
    adapter = SPEC.create(SPEC.config(name="sis", kind="oneroster-csv", path=tmp_path))
    await adapter.open()
    everyone = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"directory_opt_out"})))
    opted = {r.vendor_id for r in everyone.records if getattr(r, "directory_opt_out", None)}
    assert opted, "the generator opts about 3% of students out"
    result = await adapter.fetch(
        FetchRequest(Entity.STUDENT, frozenset(), filters={"directory_opt_out": ("true",)})
    )
    assert {r.vendor_id for r in result.records} == opted
    assert all(getattr(r, "directory_opt_out", None) is None for r in result.records)


async def test_search_matches_every_word_of_a_name(v12: OneRosterCsvAdapter) -> None:
    everyone = await v12.fetch(FetchRequest(Entity.STUDENT, frozenset({"given_name", "family_name"})))
    first = everyone.records[0]
    term = f"{str(first.given_name).upper()} {str(first.family_name)[:3].lower()}"  # type: ignore[attr-defined]
    found = await v12.fetch(FetchRequest(Entity.STUDENT, frozenset(), filters={"search": (term,)}))
    assert first.vendor_id in {r.vendor_id for r in found.records}
    none = await v12.fetch(FetchRequest(Entity.STUDENT, frozenset(), filters={"search": ("zzqx",)}))
    assert none.records == [] and none.total == 0
