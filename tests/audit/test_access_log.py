"""``disclosures_for`` (behind ``accessLog``) and ``export`` (a parent's inspection request)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hub.audit import AuditLog, EventKind, ExportFormat
from tests.audit.helpers import event, student


async def _day(audit: AuditLog) -> None:
    """Five disclosures naming student 1 (and others), one refusal about student 1."""
    for n in range(1, 6):
        await audit.record(event(n, students=(1, n + 1)))
    await audit.record(
        event(6, students=(1,), kind=EventKind.REFUSAL, outcome="NOT_FOUND", subject="stranger")
    )
    await audit.record(event(7, students=(2,)))


async def test_pages_newest_first(audit: AuditLog) -> None:
    await _day(audit)
    first = await audit.disclosures_for(student(1), first=2)
    assert [e.seq for e in first.items] == [5, 4]
    assert first.has_next and first.end_cursor == first.items[-1].cursor
    second = await audit.disclosures_for(student(1), first=2, after=first.end_cursor)
    assert [e.seq for e in second.items] == [3, 2]
    last = await audit.disclosures_for(student(1), first=2, after=second.end_cursor)
    assert [e.seq for e in last.items] == [1] and not last.has_next


async def test_page_shows_the_disclosure_but_no_other_student(audit: AuditLog) -> None:
    await _day(audit)
    item = (await audit.disclosures_for(student(1), first=1)).items[0]
    assert item.kind is EventKind.DISCLOSURE
    assert item.subject == "teacher-2" and item.roles == ("teacher",)
    assert (item.client, item.operation) == ("dashboard", "TeacherDashboard")
    assert item.field_names == (
        "Score.score",
        "Score.scoreStatus",
        "Student.familyName",
        "Student.givenName",
        "Student.id",
    )
    assert item.student_ids == (student(1),)  # event 5 also named student 6: not shown here
    assert item.at.tzinfo is not None


async def test_refusals_only_when_asked(audit: AuditLog) -> None:
    await _day(audit)
    refusals = await audit.disclosures_for(student(1), kinds=(EventKind.REFUSAL,))
    assert [(e.seq, e.outcome, e.subject) for e in refusals.items] == [(6, "NOT_FOUND", "stranger")]
    assert (await audit.disclosures_for("nobody")).items == ()


async def test_bad_paging_arguments(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await audit.disclosures_for(student(1), after="bm9wZQ")
    with pytest.raises(ValueError, match="first"):
        await audit.disclosures_for(student(1), first=10_000)


async def test_export_json(audit: AuditLog) -> None:
    await _day(audit)
    document = json.loads(await audit.export(student(1), ExportFormat.JSON))
    assert document["studentId"] == student(1)
    events = document["events"]
    assert [(e["seq"], e["kind"]) for e in events] == [
        (1, "disclosure"),
        (2, "disclosure"),
        (3, "disclosure"),
        (4, "disclosure"),
        (5, "disclosure"),
        (6, "refusal"),
    ]
    assert events[0]["fields"] == {
        "Score": ["score", "scoreStatus"],
        "Student": ["familyName", "givenName", "id"],
    }
    text = json.dumps(document)
    assert student(2) not in text  # other students stay out of a parent's copy (34 CFR 99.12)


async def test_export_csv_is_spreadsheet_safe(audit: AuditLog) -> None:
    await audit.record(event(1, students=(1,), purpose="=HYPERLINK('http://x')"))
    await audit.record(event(2, students=(1,), purpose="attendance follow-up"))
    rows = list(csv.DictReader(io.StringIO(await audit.export(student(1), "csv"))))
    assert [r["seq"] for r in rows] == ["1", "2"]
    assert rows[0]["purpose"] == "'=HYPERLINK('http://x')"
    assert rows[1]["purpose"] == "attendance follow-up"
    assert (
        rows[1]["fields"] == "Score.score;Score.scoreStatus;Student.familyName;Student.givenName;Student.id"
    )
    assert rows[1]["at"].endswith("Z") and len(rows[1]["hash"]) == 64


async def test_export_of_an_unknown_student_is_empty(audit: AuditLog) -> None:
    assert json.loads(await audit.export("nobody", "json"))["events"] == []
    assert (await audit.export("nobody", "csv")).count("\n") == 1
    with pytest.raises(ValueError):
        await audit.export("nobody", "xml")
