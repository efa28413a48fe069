"""Audit events: normalised, names and ids only, per-person field sets, and stable canonical forms."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.audit import HASH_VERSION, AuditEvent, Disclosures, EventKind, hash_query, purpose_from
from hub.audit.events import GENESIS_HASH, canonical_content, chain_hash, fields_of_person

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
    assert event.person_ids == ("a", "b")
    # Named without a set of their own: each was shown the event's fields.
    assert dict(event.people["a"]) == {"Section": ("name",), "Student": ("givenName", "id")}
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
    with pytest.raises(ValueError, match="person id"):
        AuditEvent.create("disclosure", student_ids=["ok", "bad\nid"])
    with pytest.raises(ValueError, match="person id"):
        AuditEvent.create("disclosure", student_ids=["x" * 1025])
    with pytest.raises(ValueError, match="person id"):
        AuditEvent.create("disclosure", people={"bad\tid": {"Student": ["id"]}})
    with pytest.raises(ValueError, match="not a GraphQL"):
        AuditEvent.create("disclosure", people={"g-1": {"Guardian": ["phone 555-0100"]}})
    for count in (0, -1, 2**31, True):
        with pytest.raises(ValueError, match="occurrences"):
            AuditEvent.create("rejected_token", occurrences=count)
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent.create("refusal", outcome="denied: Ada's grades")
    with pytest.raises(ValueError, match="query_hash"):
        AuditEvent(kind=EventKind.DISCLOSURE, query_hash="not-a-digest")
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent(kind=EventKind.DISCLOSURE, at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        AuditEvent.create("leaked")


def test_canonical_form_and_hash_are_stable() -> None:
    """Changing a canonical form would make every stored chain fail: these
    digests must only change together with a new hash domain (v3). The v1 pin
    is the digest events written before per-person field sets carry."""
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
    v1 = canonical_content(event.content(), version=1)
    assert v1 == (
        b'{"at":"2026-11-18T08:30:00.123456Z","client":"dashboard","fields":{"Student":["id"]},'
        b'"kind":"disclosure","operation":"Roster","outcome":"ok","purpose":null,'
        b'"query_hash":"' + hash_query("{ x }").encode() + b'","roles":["teacher"],'
        b'"student_ids":["s-1"],"subject":"t-1"}'
    )
    digest = chain_hash(1, GENESIS_HASH, v1, version=1)
    assert digest == "2d681ab59ea82e6c4b3c2cae3ef661640dbcff2094b21140dd6ff81f74489078"
    assert chain_hash(2, GENESIS_HASH, v1, version=1) != digest  # the position is part of the hash
    assert chain_hash(1, "f" * 64, v1, version=1) != digest


def test_v2_canonical_form_holds_per_person_field_sets() -> None:
    event = AuditEvent.create(
        "disclosure",
        subject="t-1",
        roles=["teacher"],
        client="dashboard",
        operation="Roster",
        query="{ x }",
        fields={"Section": ["title"]},
        people={
            "s-1": {"Student": ["id", "givenName"]},
            "s-2": {"Student": ["id"]},
            "g-1": {"Guardian": ["email"]},
        },
        at=AT,
    )
    assert event.content()["hash_version"] == HASH_VERSION == 2
    content = canonical_content(event.content())
    assert content == (
        b'{"at":"2026-11-18T08:30:00.123456Z","client":"dashboard","field_sets":['
        b'{"fields":{"Guardian":["email"]},"people":["g-1"]},'
        b'{"fields":{"Student":["givenName","id"]},"people":["s-1"]},'
        b'{"fields":{"Student":["id"]},"people":["s-2"]}],'
        b'"fields":{"Guardian":["email"],"Section":["title"],"Student":["givenName","id"]},'
        b'"kind":"disclosure","occurrences":1,"operation":"Roster","outcome":"ok","purpose":null,'
        b'"query_hash":"' + hash_query("{ x }").encode() + b'","roles":["teacher"],'
        b'"student_ids":["g-1","s-1","s-2"],"subject":"t-1"}'
    )
    digest = chain_hash(1, GENESIS_HASH, content)
    assert digest == "37b20545cd90bc045f21418fd00e00c51e15b9ffa6fa1c0cfd4217bcf60830fc"
    # The same bytes under the other domain are another hash: a v2 event
    # relabelled v1 (or the reverse) does not verify.
    assert chain_hash(1, GENESIS_HASH, content, version=1) != digest
    with pytest.raises(ValueError, match="hash version"):
        chain_hash(1, GENESIS_HASH, content, version=3)
    with pytest.raises(ValueError, match="hash version"):
        canonical_content(event.content(), version=0)


def test_people_shown_the_same_fields_share_one_stored_set() -> None:
    roster = {f"s-{n}": {"Student": ["id", "givenName"]} for n in range(50)}
    event = AuditEvent.create("disclosure", people={**roster, "s-x": {"Student": ["id"]}})
    sets = event.content()["field_sets"]
    assert [len(group["people"]) for group in sets] == [50, 1]
    assert dict(fields_of_person(event.content(), "s-7")) == {"Student": ("givenName", "id")}
    assert dict(fields_of_person(event.content(), "s-x")) == {"Student": ("id",)}
    assert dict(fields_of_person(event.content(), "nobody")) == {}


def test_a_v1_row_names_its_event_fields_for_everyone() -> None:
    row = {"hash_version": 1, "fields": {"Student": ["id"]}, "field_sets": None}
    assert dict(fields_of_person(row, "s-1")) == {"Student": ("id",)}
    # What a v1 hash does not cover is never read.
    forged = {**row, "field_sets": [{"fields": {"Student": ["birthDate"]}, "people": ["s-1"]}]}
    assert dict(fields_of_person(forged, "s-1")) == {"Student": ("id",)}


def test_naive_stored_time_is_read_as_utc() -> None:
    stored = AuditEvent.create("disclosure", at=AT).content()
    naive = {**stored, "at": AT.replace(tzinfo=None)}
    assert canonical_content(naive) == canonical_content(stored)


def test_disclosures_collector() -> None:
    seen = Disclosures()
    assert not seen.discloses and not seen.was_refused
    assert seen.events(subject="t", roles=[], client=None, operation=None, query=None, purpose=None) == []
    seen.fields("Section", ["title"])
    seen.people({"s-2": {"Student": ["id"]}, "s-1": {"Student": ["id", "givenName"]}})
    seen.person("s-1", {"Score": ["score"]})
    seen.person("g-1", {"Guardian": ["email", "phone"]})
    seen.refused("NOT_FOUND", type_name="Student", names=["birthDate"], student_ids=["s-9"])
    seen.refused("FORBIDDEN", type_name="Student", names=["sex"])
    assert seen.discloses and seen.was_refused
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
    assert disclosure.person_ids == ("g-1", "s-1", "s-2")
    assert {p: dict(f) for p, f in disclosure.people.items()} == {
        "g-1": {"Guardian": ("email", "phone")},
        "s-1": {"Score": ("score",), "Student": ("givenName", "id")},
        "s-2": {"Student": ("id",)},
    }
    assert dict(disclosure.fields) == {
        "Guardian": ("email", "phone"),
        "Score": ("score",),
        "Section": ("title",),
        "Student": ("givenName", "id"),
    }
    assert (refusal.kind, refusal.outcome, refusal.person_ids) == (EventKind.REFUSAL, "NOT_FOUND", ("s-9",))
    # Each refused person with what was asked of them; the event with everything refused.
    assert dict(refusal.people["s-9"]) == {"Student": ("birthDate",)}
    assert dict(refusal.fields) == {"Student": ("birthDate", "sex")}
    assert refusal.purpose == "class list" and refusal.query_hash == hash_query("{ x }")


def test_a_guardian_alone_is_a_disclosure() -> None:
    seen = Disclosures()
    seen.person("g-1", {"Guardian": ["phone"]})
    assert seen.discloses  # fail closed applies to every person, not students only
    (event,) = seen.events(subject="t", roles=[], client=None, operation=None, query=None, purpose=None)
    assert event.person_ids == ("g-1",)


def test_purpose_header() -> None:
    assert purpose_from({"homeroom-purpose": "grading"}) == "grading"
    assert purpose_from({"Homeroom-Purpose": "IEP review"}) == "IEP review"
    assert purpose_from({"other": "x"}) is None
