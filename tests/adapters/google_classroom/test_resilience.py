"""Throttling, users with Classroom turned off, and a failing or broken vendor."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.model import of_type
from hub.sdk import (
    BadVendorData,
    Entity,
    FetchRequest,
    Guardian,
    Score,
    SourceAuthFailed,
    SourceUnavailable,
    Student,
)

from .conftest import FakeTime, classroom, fetch_all, simulator


async def test_429_resource_exhausted_is_retried_with_backoff(district: Path) -> None:
    clock = FakeTime()
    app, state = simulator(district, rate_limit_per_second=3, max_page_size=10, clock=clock.monotonic)
    async with classroom(app, timing=clock.timing(), page_size=10) as adapter:
        rows = await fetch_all(adapter, FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"})))
    assert len(rows) == 91
    assert state.throttled > 0
    # Exponential backoff on the fake clock: no Retry-After from Google, so the toolkit's own delays.
    assert clock.slept and min(clock.slept) > 0 and max(clock.slept) > min(clock.slept)


async def test_a_retry_after_pauses_the_whole_source(district: Path) -> None:
    clock = FakeTime()
    app, state = simulator(district, rate_limit_per_second=2, retry_after=2, clock=clock.monotonic)
    ids = tuple(course["id"] for course in state.district.courses[:3])
    async with classroom(app, timing=clock.timing()) as adapter:
        clock.now += 5  # a fresh second after open's request
        result = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), ids=ids))
    assert sorted(r.vendor_id for r in result.records) == sorted(ids)
    assert state.throttled == 1
    assert clock.slept == [2.0]  # the vendor's pause, not a backoff of our own


async def test_quota_that_never_recovers_is_a_clear_unavailable(district: Path) -> None:
    clock = FakeTime()
    app, _ = simulator(district, rate_limit_per_second=1, clock=lambda: 0.0)
    async with classroom(app, timing=clock.timing(), retries=2) as adapter:
        with pytest.raises(SourceUnavailable) as caught:
            await adapter.fetch(FetchRequest(entity=Entity.STUDENT, fields=frozenset()))
    assert "answered 429" in caught.value.reason and "RESOURCE_EXHAUSTED" in caught.value.reason
    assert caught.value.source == "lms"


async def _student_with_guardians(district: Path) -> tuple[str, str]:
    """(e-mail, user id) of a student with guardians, and of one other."""
    _, state = simulator(district)
    links = state.district.guardians
    user = sorted(links)[0]
    return state.district.emails[user], user


async def test_a_student_with_classroom_turned_off_is_skipped_and_reported(district: Path) -> None:
    email, disabled = await _student_with_guardians(district)
    app, state = simulator(district, api_disabled_user=email)
    others = [user for user in sorted(state.district.guardians) if user != disabled][:2]
    async with classroom(app, guardians="per_student") as adapter:
        result = await adapter.fetch(
            FetchRequest(
                entity=Entity.GUARDIAN,
                fields=frozenset({"email"}),
                filters={"student_ids": (disabled, *others)},
            )
        )
        students = await adapter.fetch(
            FetchRequest(entity=Entity.STUDENT, fields=frozenset({"guardian_ids"}), ids=(disabled, others[0]))
        )
        report = adapter.report
    expected = {link["guardianId"] for user in others for link in state.district.guardians[user]}
    assert {r.vendor_id for r in result.records} == expected
    by_id = {r.vendor_id: r for r in of_type(students.records, Student)}
    assert by_id[disabled].guardian_ids == ()
    assert by_id[others[0]].guardian_ids
    (problem,) = report.problems
    assert problem.where == f"userProfiles/{disabled}/guardians"
    assert "ClassroomApiDisabled" in problem.reason and problem.rejected
    assert email not in str(problem)


async def test_the_domain_wide_guardian_listing_leaves_such_a_student_out(district: Path) -> None:
    email, disabled = await _student_with_guardians(district)
    app, _ = simulator(district, api_disabled_user=email)
    async with classroom(app) as adapter:
        rows = await fetch_all(
            adapter, FetchRequest(entity=Entity.GUARDIAN, fields=frozenset({"student_ids"}))
        )
    assert rows and all(disabled not in r.student_ids for r in of_type(rows, Guardian))


async def test_a_course_with_classroom_turned_off_is_skipped_and_reported(district: Path) -> None:
    app, state = simulator(district)
    course = state.district.courses[3]["id"]
    app, state = simulator(district, api_disabled_courses=(course,))
    async with classroom(app) as adapter:
        scores = await fetch_all(adapter, FetchRequest(entity=Entity.SCORE, fields=frozenset({"section_id"})))
        again = await fetch_all(adapter, FetchRequest(entity=Entity.STUDENT, fields=frozenset()))
        problems = list(adapter.report.problems)
        await adapter.open()  # a new open starts a new report
        reopened = list(adapter.report.problems)
    sections = {r.section_id for r in of_type(scores, Score)}
    assert course not in sections and len(sections) == len(state.district.courses) - 1
    assert again
    assert {p.where for p in problems} == {
        f"courses/{course}/courseWork/-/studentSubmissions",
        f"courses/{course}/students",
    }
    assert reopened == []


async def test_guardians_of_everyone_need_a_domain_administrator(district: Path) -> None:
    app, _ = simulator(district, domain_admin=False)
    async with classroom(app) as adapter:
        with pytest.raises(SourceAuthFailed, match="403"):
            await adapter.fetch(FetchRequest(entity=Entity.GUARDIAN, fields=frozenset()))
    async with classroom(app, guardians="per_student") as adapter:
        rows = await fetch_all(
            adapter, FetchRequest(entity=Entity.GUARDIAN, fields=frozenset({"student_ids"}))
        )
    assert len(rows) > 100


async def test_5xx_after_retries_is_source_unavailable_naming_the_path(district: Path) -> None:
    clock = FakeTime()
    app, _ = simulator(district, error_rate=1.0, error_status=503, fault_paths=("studentSubmissions",))
    async with classroom(app, timing=clock.timing(), retries=2) as adapter:
        sections = await adapter.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset(), limit=3))
        with pytest.raises(SourceUnavailable) as caught:
            await adapter.fetch(FetchRequest(entity=Entity.SCORE, fields=frozenset()))
    assert len(sections.records) == 3
    assert "studentSubmissions answered 503" in caught.value.reason
    # Every course fails at once: the source's retry budget ends the retries early.
    assert "UNAVAILABLE" in caught.value.reason
    assert "attempts" in caught.value.reason or "retry budget" in caught.value.reason


async def test_a_body_cut_short_is_bad_vendor_data(district: Path) -> None:
    app, _ = simulator(district, truncate_rate=1.0, fault_paths=("/courseWork",))
    async with classroom(app) as adapter:
        with pytest.raises(BadVendorData, match="invalid JSON"):
            await adapter.fetch(FetchRequest(entity=Entity.ASSIGNMENT, fields=frozenset()))
