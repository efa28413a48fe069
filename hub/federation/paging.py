"""Cursors of root lists: keyset cursors over the rows the caller may see.

A cursor names the last *visible* row of a page (its source and vendor id),
nothing else: it is a function of what the caller was shown, so it cannot
move when a row the caller cannot see is added, removed or matches a search.
Where to resume in the source's own paging (an offset or a vendor page token,
which count hidden rows) is kept server side, in :class:`ResumeHints`, keyed
by the caller and the question; a hub that does not hold the hint (another
worker, a restart) finds the row again by reading from the start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Resume", "ResumeHints", "decode_cursor", "encode_cursor"]

_VERSION = "k1"


def encode_cursor(source: str, vendor_id: str) -> str:
    """The opaque cursor after the row ``vendor_id`` of ``source``."""
    return base64.urlsafe_b64encode(json.dumps([_VERSION, source, vendor_id]).encode()).decode()


def decode_cursor(value: str) -> tuple[str, str] | None:
    """The (source, vendor id) a cursor names, or ``None`` when it is not one of ours."""
    if len(value) > 2048:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, binascii.Error, TypeError, UnicodeError):
        return None
    if not isinstance(decoded, list) or len(decoded) != 3 or decoded[0] != _VERSION:
        return None
    _, source, vendor_id = decoded
    if isinstance(source, str) and isinstance(vendor_id, str) and vendor_id:
        return source, vendor_id
    return None


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a page ended in the source's paging: read from ``cursor`` (``""``:
    the start), where the row named by the GraphQL cursor is the
    ``index``-th row (1-based)."""

    cursor: str
    index: int


def question_key(
    subject: str,
    entity: str,
    source: str,
    filters: Mapping[str, tuple[str, ...]],
    ids: tuple[str, ...] | None,
    after: str,
) -> str:
    """A digest naming one caller's question and position (never stored in clear)."""
    material = json.dumps(
        [subject, entity, source, sorted((k, list(v)) for k, v in filters.items()), ids, after],
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


class ResumeHints:
    """A bounded, process-local map from a question and position to where the
    source's paging resumes. Losing an entry costs a re-read, never a wrong
    answer: the hub checks that the hinted row is the cursor's row."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._hints: OrderedDict[str, Resume] = OrderedDict()

    def get(self, key: str) -> Resume | None:
        hint = self._hints.get(key)
        if hint is not None:
            self._hints.move_to_end(key)
        return hint

    def put(self, key: str, hint: Resume) -> None:
        self._hints[key] = hint
        self._hints.move_to_end(key)
        while len(self._hints) > self.capacity:
            self._hints.popitem(last=False)

    def __len__(self) -> int:
        return len(self._hints)
