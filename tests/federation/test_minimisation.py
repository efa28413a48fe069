"""Adapters are asked only for what the plan allows, and only for related rows
where the question allows it; withheld values do not stay on records."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.model import Entity
from hub.sdk import FetchRequest
from tests.support import RunningHub, make_district, running_hub

SENSITIVE = {"birth_date", "sex", "races", "hispanic_or_latino", "directory_opt_out"}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 200)


def _asked(running: RunningHub, entity: Entity) -> list[FetchRequest]:
    return [request for _, request in running.hub.registry.requests if request.entity is entity]


async def test_teacher_dashboard_never_asks_for_sensitive_student_fields(district: Path) -> None:
    async with running_hub(district) as running:
        running.hub.registry.record_requests = True
        body = await running.query(
            """{ viewer { students { edges { node { givenName email programs
                 scores { edges { node { score } } } } } } } }""",
            persona="teacher",
        )
        assert "errors" not in body, body.get("errors")
        student_requests = _asked(running, Entity.STUDENT)
        assert student_requests, "the students were never fetched"
        for request in student_requests:
            assert not (request.fields & SENSITIVE), request.fields
            assert "guardian_ids" not in request.fields
        # The teacher's students are asked for by id: no other student is fetched.
        listing = [r for r in student_requests if r.ids is not None and "given_name" in r.fields]
        assert listing and all(len(r.ids or ()) <= 200 for r in listing)


async def test_guardian_rows_are_asked_by_id(district: Path) -> None:
    async with running_hub(district) as running:
        running.hub.registry.record_requests = True
        body = await running.query(
            "{ viewer { students { edges { node { givenName birthDate } } } } }", persona="guardian"
        )
        assert "errors" not in body, body.get("errors")
        children = {edge["node"]["givenName"] for edge in body["data"]["viewer"]["students"]["edges"]}
        assert children
        fetched = [r for r in _asked(running, Entity.STUDENT) if "birth_date" in r.fields]
        assert fetched and all(r.ids is not None and len(r.ids) == len(children) for r in fetched)


async def test_a_forbidden_operation_asks_no_adapter(district: Path) -> None:
    async with running_hub(district) as running:
        running.hub.registry.record_requests = True
        before = running.hub.registry.calls
        body = await running.query(
            "{ students { edges { node { givenName birthDate } } } }", persona="teacher"
        )
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "fields": ["Student.birthDate"]}
        assert running.hub.registry.calls == before


async def test_withheld_values_are_cleared_from_the_records(district: Path) -> None:
    from hub.federation.scope import denied_fields

    async with running_hub(district) as running:
        body = await running.query(
            "{ students(first: 200) { edges { node { id givenName email } } } }", persona="teacher"
        )
        withheld = [e for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN_FIELD"]
        assert withheld, "expected students the teacher does not teach"
        assert all(e["path"][-1] == "email" for e in withheld)
        nodes = [edge["node"] for edge in body["data"]["students"]["edges"]]
        for error in withheld:
            assert nodes[error["path"][2]]["email"] is None
    assert denied_fields is not None
