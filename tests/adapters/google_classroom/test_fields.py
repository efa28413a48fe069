"""Partial responses: masks the adapter builds mean what the simulator applies."""

from __future__ import annotations

import pytest

from adapters.google_classroom._fields import (
    FieldMaskError,
    build_mask,
    object_mask,
    parse_mask,
    prune,
    tree_of,
)

BODY = {
    "students": [
        {
            "courseId": "1",
            "userId": "7",
            "profile": {"id": "7", "name": {"givenName": "A", "familyName": "B"}},
        },
        {"courseId": "1", "userId": "8", "profile": {"id": "8", "emailAddress": "c@d.e"}},
    ],
    "nextPageToken": "t",
}


def test_a_built_mask_selects_exactly_the_paths() -> None:
    mask = build_mask("students", ["userId", "profile/name/givenName", "profile/emailAddress"])
    assert mask == "students(profile(emailAddress,name(givenName)),userId),nextPageToken"
    assert prune(BODY, parse_mask(mask)) == {
        "students": [
            {"userId": "7", "profile": {"name": {"givenName": "A"}}},
            {"userId": "8", "profile": {"emailAddress": "c@d.e"}},
        ],
        "nextPageToken": "t",
    }


def test_a_whole_value_wins_over_narrower_paths_below_it() -> None:
    assert tree_of(["profile/name/givenName", "profile"]) == {"profile": {}}
    assert object_mask(["id", "name", "id"]) == "id,name"
    assert build_mask("courses", []) == "courses,nextPageToken"


def test_slashes_stars_and_spaces_parse() -> None:
    assert parse_mask("students/profile/id, nextPageToken") == {
        "students": {"profile": {"id": {}}},
        "nextPageToken": {},
    }
    assert prune(BODY, parse_mask("students(*(id))")) == {
        "students": [
            {"courseId": "1", "userId": "7", "profile": {"id": "7"}},
            {"courseId": "1", "userId": "8", "profile": {"id": "8"}},
        ]
    }


@pytest.mark.parametrize("bad", ["", "a(", "a(b", "a,", "a)b", "a/", "(a)", "a.b"])
def test_malformed_masks_are_refused(bad: str) -> None:
    with pytest.raises(FieldMaskError):
        parse_mask(bad)
