"""Hub ids: opaque, stable, and carrying the entity, source and vendor id.

The id is URL-safe base64 of ``Entity:source:vendor_id``. Opaque to clients
(they must not parse it), but deterministic, so the same vendor record keeps its
id across restarts without storing anything.
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

from hub.model import Entity


class HubId(NamedTuple):
    """A decoded hub id."""

    entity: Entity
    source: str
    vendor_id: str


def encode_id(entity: str, source: str, vendor_id: str) -> str:
    """The hub id of a vendor record."""
    raw = f"{entity}:{source}:{vendor_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_id(hub_id: str) -> HubId | None:
    """Decode a hub id, or ``None`` when it is not one of ours."""
    if not hub_id or len(hub_id) > 1024:
        return None
    padded = hub_id + "=" * (-len(hub_id) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    entity_name, sep, rest = text.partition(":")
    source, sep2, vendor_id = rest.partition(":")
    if not sep or not sep2 or not source or not vendor_id:
        return None
    try:
        entity = Entity(entity_name)
    except ValueError:
        return None
    return HubId(entity, source, vendor_id)
