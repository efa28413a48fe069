"""Nested queries cost a bounded number of upstream calls, whatever the size."""

from __future__ import annotations

from pathlib import Path

from tests.support import make_district, running_hub

NESTED = """
{
  sections(first: 10000) {
    edges { node {
      title
      course { title }
      school { name }
      teachers { givenName }
      students(first: 5) { edges { node {
        givenName
        school { name }
        guardians { givenName }
        scores(first: 3) { edges { node { score assignment { title } } } }
        courseGrades { letterGrade }
        attendance(from: "2026-11-17") { status }
      } } }
      assignments(first: 3) { edges { node { title scores(first: 5) { totalCount } } } }
    } }
  }
}
"""


async def _calls_for(data_dir: Path, query: str, persona: str) -> tuple[int, int]:
    async with running_hub(data_dir) as running:
        before = running.hub.registry.calls
        body = await running.query(query, persona=persona)
        assert "errors" not in body, body.get("errors")
        rows = len(body["data"]["sections"]["edges"])
        return running.hub.registry.calls - before, rows


async def test_upstream_calls_do_not_grow_with_rows(tmp_path: Path) -> None:
    small_calls, small_rows = await _calls_for(
        make_district(tmp_path / "small", 100), NESTED, "district_admin"
    )
    large_calls, large_rows = await _calls_for(
        make_district(tmp_path / "large", 800), NESTED, "district_admin"
    )
    assert large_rows > 2 * small_rows
    assert small_calls == large_calls
    assert small_calls <= 25


async def test_teacher_dashboard_calls_are_bounded_too(tmp_path: Path) -> None:
    query = """{ viewer { sections { edges { node { title students { edges { node {
        givenName scores { edges { node { score } } } attendance { status } } } } } } } } }"""
    calls = []
    for size in (150, 700):
        async with running_hub(make_district(tmp_path / str(size), size)) as running:
            before = running.hub.registry.calls
            body = await running.query(query, persona="teacher")
            assert "errors" not in body, body.get("errors")
            assert body["data"]["viewer"]["sections"]["edges"]
            calls.append(running.hub.registry.calls - before)
    assert calls[0] == calls[1]
