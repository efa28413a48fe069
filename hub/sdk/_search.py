"""What ``search`` means, in one place: the hub re-checks every adapter's
answer with it, on the names the caller may read."""

from __future__ import annotations

from collections.abc import Iterable

from hub.model import Record

NAME_ATTRIBUTES: tuple[str, ...] = ("given_name", "preferred_name", "middle_name", "family_name")
"""The attributes a people ``search`` compares, in the order they are joined."""


def name_matches(record: Record, term: str, attributes: Iterable[str] = NAME_ATTRIBUTES) -> bool:
    """Whether every word of ``term`` occurs in ``record``'s names (ignoring case).

    ``attributes`` narrows the names compared (the hub passes those the caller
    may read for this record). A term with no words matches every record.
    """
    text = " ".join(str(part) for name in attributes if (part := getattr(record, name, None))).casefold()
    return all(word in text for word in term.casefold().split())
