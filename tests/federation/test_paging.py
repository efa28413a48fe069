"""Keyset cursors and resume hints: a cursor names a visible row and nothing
else; a hint is only ever a shortcut, checked before it is used."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from hub.federation.paging import Resume, ResumeHints, decode_cursor, encode_cursor, question_key


@given(source=st.text(min_size=1, max_size=20), vendor_id=st.text(min_size=1, max_size=60))
def test_a_cursor_round_trips_and_holds_only_the_row(source: str, vendor_id: str) -> None:
    cursor = encode_cursor(source, vendor_id)
    assert decode_cursor(cursor) == (source, vendor_id)
    assert json.loads(base64.urlsafe_b64decode(cursor)) == ["k1", source, vendor_id]


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_foreign_and_old_cursors_are_not_cursors() -> None:
    for value in (
        "",
        "not base64!",
        _b64(["sis", "72", 0]),  # the old offset cursor
        _b64(["k1", "sis", ""]),
        _b64(["k1", "sis", 7]),
        _b64({"k1": "sis"}),
        _b64(["k2", "sis", "72"]),
        "A" * 5000,
    ):
        assert decode_cursor(value) is None, value


def test_hints_are_bounded_and_most_recent_stay() -> None:
    hints = ResumeHints(capacity=3)
    for i in range(5):
        hints.put(f"q{i}", Resume(str(i), i + 1))
    assert len(hints) == 3
    assert hints.get("q0") is None and hints.get("q1") is None
    assert hints.get("q4") == Resume("4", 5)
    hints.get("q2")  # touched: kept over q3
    hints.put("q5", Resume("5", 1))
    assert hints.get("q3") is None and hints.get("q2") is not None


def test_question_keys_separate_callers_and_questions() -> None:
    base = question_key("alice", "Student", "sis", {"search": ("an",)}, None, "s1")
    assert base == question_key("alice", "Student", "sis", {"search": ("an",)}, None, "s1")
    assert base != question_key("bob", "Student", "sis", {"search": ("an",)}, None, "s1")
    assert base != question_key("alice", "Student", "sis", {"search": ("ann",)}, None, "s1")
    assert base != question_key("alice", "Student", "sis", {"search": ("an",)}, ("s1",), "s1")
    assert base != question_key("alice", "Student", "sis", {"search": ("an",)}, None, "s2")
    assert "alice" not in base
