"""The adapter against the simulator in process: what each question costs
(push-down), paging by offset and course by course, search, hostile ids and
auth. The SDK contract itself is checked by the conformance kit
(``test_conformance``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.google_classroom import GoogleClassroomAdapter
from hub.model import of_type
from hub.sdk import (
    Entity,
    FetchRequest,
    Record,
    Section,
    SourceAuthFailed,
    UnsupportedRequest,
    matches,
)

from .conftest import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    SIM_BASE,
    TOKEN_ENV,
    classroom,
    classroom_config,
    fetch_all,
    simulator,
)


def _queries(
    paths: list[str], queries: list[list[tuple[str, str]]], fragment: str
) -> list[dict[str, list[str]]]:
    """The query parameters of the requests whose path contains ``fragment``."""
    found = []
    for path, query in zip(paths, queries, strict=True):
        if fragment in path:
            grouped: dict[str, list[str]] = {}
            for key, value in query:
                grouped.setdefault(key, []).append(value)
            found.append(grouped)
    return found


async def test_one_students_scores_read_only_their_courses_with_user_id(district: Path) -> None:
    app, state = simulator(district)
    d = state.district
    student = d.students[d.courses[0]["id"]][0]["userId"]
    courses = [c for c, roster in d.students.items() if any(m["userId"] == student for m in roster)]
    async with classroom(app) as adapter:
        before = state.data_requests
        rows = await fetch_all(
            adapter,
            FetchRequest(
                entity=Entity.SCORE, fields=frozenset({"score"}), filters={"student_id": (student,)}
            ),
        )
        spent = state.data_requests - before
    expected = [s["id"] for c in courses for s in d.submissions.get(c, []) if s["userId"] == student]
    assert sorted(r.vendor_id.rsplit("/", 1)[1] for r in rows) == sorted(expected) and expected
    # One course look-up by student, then one submissions list per course of theirs.
    assert spent == 1 + len(courses) < len(d.courses)
    lists = _queries(state.paths, state.queries, "/studentSubmissions")
    assert lists and all(q.get("userId") == [student] for q in lists)
    assert any(q.get("studentId") == [student] for q in _queries(state.paths, state.queries, "/v1/courses"))


async def test_many_students_read_every_course_and_agree_with_a_few(district: Path) -> None:
    app, state = simulator(district)
    d = state.district
    students = tuple(dict.fromkeys(m["userId"] for c in d.courses[:9] for m in d.students[c["id"]]))[:7]
    async with classroom(app, lookup_limit=5) as adapter:
        fields = frozenset({"student_id", "section_id"})
        every = await fetch_all(adapter, FetchRequest(entity=Entity.SCORE, fields=fields))
        many = await fetch_all(
            adapter, FetchRequest(entity=Entity.SCORE, fields=fields, filters={"student_id": students})
        )
        few = await fetch_all(
            adapter, FetchRequest(entity=Entity.SCORE, fields=fields, filters={"student_id": students[:2]})
        )
    assert _ids(many) == _ids([r for r in every if matches(r, {"student_id": students})])
    assert _ids(few) == _ids([r for r in every if matches(r, {"student_id": students[:2]})])
    assert few and len(few) < len(many) < len(every)


def _ids(rows: list[Record]) -> list[str]:
    return sorted(row.vendor_id for row in rows)


async def test_section_filters_read_only_those_courses(district: Path) -> None:
    app, state = simulator(district)
    sections = tuple(c["id"] for c in state.district.courses[:2])
    async with classroom(app) as adapter:
        await adapter.fetch(
            FetchRequest(
                entity=Entity.ASSIGNMENT, fields=frozenset({"title"}), filters={"section_id": sections}
            )
        )
    read = {path.split("/")[3] for path in state.paths if path.endswith("/courseWork")}
    assert read == set(sections)


async def test_one_assignments_scores_read_only_that_course_work(district: Path) -> None:
    app, state = simulator(district)
    course = state.district.courses[0]["id"]
    work = state.district.course_work[course][1]["id"]
    async with classroom(app) as adapter:
        rows = await fetch_all(
            adapter,
            FetchRequest(
                entity=Entity.SCORE,
                fields=frozenset({"score"}),
                filters={"assignment_id": (f"{course}/{work}",)},
            ),
        )
    listed = [p for p in state.paths if p.endswith("/studentSubmissions")]
    assert listed == [f"/v1/courses/{course}/courseWork/{work}/studentSubmissions"]
    expected = [s for s in state.district.submissions[course] if s["courseWorkId"] == work]
    assert len(rows) == len(expected) > 0


async def test_only_the_vendor_fields_behind_the_asked_attributes_are_requested(district: Path) -> None:
    app, state = simulator(district)
    async with classroom(app) as adapter:
        await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), limit=3))
    masks = {q["fields"][0] for q in _queries(state.paths, state.queries, "/students")}
    assert masks == {"students(profile(name(givenName)),userId),nextPageToken"}


async def test_a_principal_is_never_looked_for_in_classroom(district: Path) -> None:
    app, state = simulator(district)
    async with classroom(app) as adapter:
        before = state.data_requests
        found = await adapter.fetch(
            FetchRequest(entity=Entity.TEACHER, fields=frozenset(), filters={"role": ("principal",)})
        )
    assert found.records == [] and state.data_requests == before


async def test_guardians_are_read_in_one_domain_wide_listing(district: Path) -> None:
    app, state = simulator(district, max_page_size=40)
    async with classroom(app) as adapter:
        before = state.data_requests
        rows = await fetch_all(
            adapter, FetchRequest(entity=Entity.GUARDIAN, fields=frozenset({"student_ids"}))
        )
    assert len(rows) > 100
    assert state.data_requests - before == sum("/userProfiles/-/guardians" in p for p in state.paths) > 1


async def test_class_codes_are_the_courses_sis_aliases(district: Path) -> None:
    app, state = simulator(district)
    by_course = {course: sis for sis, course in state.district.course_ids.items()}
    async with classroom(app) as adapter:
        plain = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"})))
        coded = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset({"class_code"})))
    assert sum("/aliases" in p for p in state.paths) == len(state.district.courses)  # only when asked
    assert all(r.class_code is None for r in of_type(plain.records, Section))
    assert {r.vendor_id: r.class_code for r in of_type(coded.records, Section)} == by_course


async def test_the_scan_bound_stops_a_question_that_reads_too_much(district: Path) -> None:
    app, _ = simulator(district)
    async with classroom(app, max_scan_records=500) as adapter:
        with pytest.raises(UnsupportedRequest, match="max_scan_records"):
            await adapter.fetch(FetchRequest(entity=Entity.SCORE, fields=frozenset()))


# -- paging and search -------------------------------------------------------------------


async def test_course_scoped_pages_resume_inside_a_course(district: Path) -> None:
    app, state = simulator(district)
    sections = tuple(c["id"] for c in state.district.courses[:3])
    request = FetchRequest(entity=Entity.SCORE, fields=frozenset(), filters={"section_id": sections})
    async with classroom(app) as adapter:
        whole = await adapter.fetch(request)
        first = await adapter.fetch(
            FetchRequest(request.entity, request.fields, filters=request.filters, limit=7)
        )
        walked = await fetch_all(
            adapter, FetchRequest(request.entity, request.fields, filters=request.filters, limit=7)
        )
        before = state.data_requests
        await adapter.fetch(FetchRequest(request.entity, request.fields, filters=request.filters, limit=7))
        one_page = state.data_requests - before
        with pytest.raises(UnsupportedRequest, match="cursor"):
            await adapter.fetch(FetchRequest(request.entity, request.fields, cursor="c1"))
    assert whole.total == len(whole.records) > 7 and whole.next_cursor is None
    assert first.next_cursor == "c0.7" and first.total is None
    assert [r.vendor_id for r in walked] == [r.vendor_id for r in whole.records]
    # A page reads the course list and the courses it needs (here a batch of max_concurrency).
    assert one_page <= 1 + 3 * 3


async def test_offset_pages_of_sections(district: Path) -> None:
    app, _ = simulator(district)
    async with classroom(app) as adapter:
        first = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), limit=50))
        rows = await fetch_all(adapter, FetchRequest(entity=Entity.SECTION, fields=frozenset(), limit=50))
        with pytest.raises(UnsupportedRequest, match="cursor"):
            await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), cursor="c0.1"))
    assert first.total == 91 and first.next_cursor == "50" and len(first.records) == 50
    assert len({r.vendor_id for r in rows}) == 91


async def test_search_finds_people_by_every_word_of_their_names(district: Path) -> None:
    app, state = simulator(district)
    member = state.district.students[state.district.courses[5]["id"]][0]
    name = member["profile"]["name"]
    term = f"{name['familyName'].upper()} {name['givenName'][:2]}"
    async with classroom(app) as adapter:
        found = await adapter.fetch(
            FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"search": (term,)})
        )
        with pytest.raises(UnsupportedRequest, match="one term"):
            await adapter.fetch(
                FetchRequest(entity=Entity.STUDENT, fields=frozenset(), filters={"search": ()})
            )
    assert member["userId"] in {r.vendor_id for r in found.records}
    assert len(found.records) < 5


async def test_hostile_and_unknown_ids_are_simply_not_found(district: Path) -> None:
    app, state = simulator(district)
    hostile = ("../../v1/courses", "-", "a/b/c/d", "nope", "%2e%2e", "1/-")
    async with classroom(app) as adapter:
        for entity in (Entity.SECTION, Entity.ASSIGNMENT, Entity.SCORE, Entity.ENROLLMENT):
            result = await adapter.fetch(FetchRequest(entity=entity, fields=frozenset(), ids=hostile))
            assert result.records == [], entity
        empty = await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset(), ids=()))
    assert empty.records == [] and empty.total == 0
    assert all(".." not in path and "%2" not in path for path in state.paths)


# -- auth ---------------------------------------------------------------------------------


async def test_a_wrong_token_is_an_auth_failure_with_a_hint(
    district: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    app, _ = simulator(district)
    with pytest.raises(SourceAuthFailed) as caught:
        async with classroom(app):
            pass
    assert f"check {TOKEN_ENV}" in caught.value.reason and "UNAUTHENTICATED" in caught.value.reason
    assert "not-the-token" not in str(caught.value)


async def test_a_token_file_is_read_again_when_it_changes(district: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("stale-token\n", encoding="utf-8")
    app, _ = simulator(district, token="fresh-token")
    config = classroom_config(token_env=None, token_file=str(token_file))
    adapter = GoogleClassroomAdapter(config, transport=httpx.ASGITransport(app=app))
    try:
        with pytest.raises(SourceAuthFailed):
            await adapter.open()
        token_file.write_text("fresh-token\n", encoding="utf-8")
        await adapter.open()
        result = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), limit=1))
    finally:
        await adapter.aclose()
    assert result.records


async def test_oauth2_client_credentials_against_the_simulators_token_endpoint(district: Path) -> None:
    app, state = simulator(district, token=None)
    async with classroom(
        app,
        token_env=None,
        token_url=f"{SIM_BASE}/token",
        client_id_env=CLIENT_ID_ENV,
        client_secret_env=CLIENT_SECRET_ENV,
    ) as adapter:
        result = await adapter.fetch(
            FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"}), limit=2)
        )
    assert len(result.records) == 2 and state._tokens
