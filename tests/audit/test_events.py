"""Audit events: normalised, names and ids only, and a stable canonical form."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.audit import AuditEvent, Disclosures, EventKind, hash_query, purpose_from
from hub.audit.events import GENESIS_HASH, canonical_content, chain_hash

AT = dt.datetime(2026, 11, 18, 8, 30, 0, 123456, tzinfo=dt.UTC)


def test_event_is_normalised() -> None:
    event = AuditEvent.create(
        "disclosure",
        subject="  t-1\n",
        roles=["teacher", "staff", "teacher"],
        fields={"Student": ["id", "givenName", "id"], "Score": [], "Section": ("name",)},
        student_ids=["b", "a", "b"],
        purpose="grading\x00 " + "x" * 400,
        query="{ viewer { subject } }",
        at=AT.astimezone(dt.timezone(dt.timedelta(hours=-5))),
    )
    assert event.kind is EventKind.DISCLOSURE
    assert event.subject == "t-1"
    assert event.roles == ("staff", "teacher")
    assert dict(event.fields) == {"Section": ("name",), "Student": ("givenName", "id")}
    assert event.student_ids == ("a", "b")
    assert event.purpose is not None and len(event.purpose) == 256 and "\x00" not in event.purpose
    assert event.query_hash == hash_query("{ viewer { subject } }")
    assert event.at == AT and event.at.tzinfo is dt.UTC
    assert event.field_names() == ("Section.name", "Student.givenName", "Student.id")


@pytest.mark.parametrize(
    "fields",
    [
        {"Student": ["givenName = Ada"]},  # a value smuggled into a field name
        {"Student": ["ada@example.org"]},
        {"Not a type": ["id"]},
        {"Student": [""]},
    ],
)
def test_only_graphql_names_are_accepted_as_fields(fields: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match="not a GraphQL"):
        AuditEvent.create("disclosure", fields=fields)


def test_ids_outcome_hash_and_time_are_checked() -> None:
    with pytest.raises(ValueError, match="student id"):
        AuditEvent.create("disclosure", student_ids=["ok", "bad\nid"])
    with pytest.raises(ValueError, match="student id"):
        AuditEvent.create("disclosure", student_ids=["x" * 1025])
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent.create("refusal", outcome="denied: Ada's grades")
    with pytest.raises(ValueError, match="query_hash"):
        AuditEvent(kind=EventKind.DISCLOSURE, query_hash="not-a-digest")
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent(kind=EventKind.DISCLOSURE, at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        AuditEvent.create("leaked")


def test_canonical_form_and_hash_are_stable() -> None:
    """Changing the canonical form would make every stored chain fail: this
    digest must only change together with a new hash domain (v2)."""
    event = AuditEvent.create(
        "disclosure",
        subject="t-1",
        roles=["teacher"],
        client="dashboard",
        operation="Roster",
        query="{ x }",
        fields={"Student": ["id"]},
        student_ids=["s-1"],
        at=AT,
    )
    content = canonical_content(event.content())
    assert content == (
        b'{"at":"2026-11-18T08:30:00.123456Z","client":"dashboard","fields":{"Student":["id"]},'
        b'"kind":"disclosure","operation":"Roster","outcome":"ok","purpose":null,'
        b'"query_hash":"' + hash_query("{ x }").encode() + b'","roles":["teacher"],'
        b'"student_ids":["s-1"],"subject":"t-1"}'
    )
    digest = chain_hash(1, GENESIS_HASH, content)
    assert digest == "2d681ab59ea82e6c4b3c2cae3ef661640dbcff2094b21140dd6ff81f74489078"
    assert chain_hash(2, GENESIS_HASH, content) != digest  # the position is part of the hash
    assert chain_hash(1, "f" * 64, content) != digest


def test_naive_stored_time_is_read_as_utc() -> None:
    stored = AuditEvent.create("disclosure", at=AT).content()
    naive = {**stored, "at": AT.replace(tzinfo=None)}
    assert canonical_content(naive) == canonical_content(stored)


def test_disclosures_collector() -> None:
    seen = Disclosures()
    assert not seen.discloses and not seen.was_refused
    assert seen.events(subject="t", roles=[], client=None, operation=None, query=None, purpose=None) == []
    seen.fields("Student", ["id", "givenName"])
    seen.fields("Student", ["id"])
    seen.students(["s-2", "s-1"])
    seen.student("s-1")
    seen.refused("NOT_FOUND", type_name="Student", names=["birthDate"], student_ids=["s-9"])
    seen.refused("FORBIDDEN")
    disclosure, refusal = seen.events(
        subject="t-1",
        roles=["teacher"],
        client="dashboard",
        operation="Roster",
        query="{ x }",
        purpose="class list",
        outcome="partial",
    )
    assert (disclosure.kind, disclosure.outcome) == (EventKind.DISCLOSURE, "partial")
    assert disclosure.student_ids == ("s-1", "s-2")
    assert dict(disclosure.fields) == {"Student": ("givenName", "id")}
    assert (refusal.kind, refusal.outcome, refusal.student_ids) == (EventKind.REFUSAL, "NOT_FOUND", ("s-9",))
    assert refusal.purpose == "class list" and refusal.query_hash == hash_query("{ x }")


def test_purpose_header() -> None:
    assert purpose_from({"homeroom-purpose": "grading"}) == "grading"
    assert purpose_from({"Homeroom-Purpose": "IEP review"}) == "IEP review"
    assert purpose_from({"other": "x"}) is None
