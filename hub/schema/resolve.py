"""Small helpers resolvers share: the context, withheld relationship fields,
and in-memory paging of nested lists."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.types import Info

from hub.federation.access import DataAccess
from hub.federation.ids import decode_id
from hub.federation.scope import FORBIDDEN_FIELD, denied_fields
from hub.model import Entity, Record
from hub.schema.context import HubContext

_OFFSET_PREFIX = "o:"


def context(info: Info[Any, Any]) -> HubContext:
    """The request context (typed)."""
    ctx: HubContext = info.context
    return ctx


def data(info: Info[Any, Any]) -> DataAccess:
    """The request's data access; set by the policy gate before execution."""
    access = context(info).data
    if access is None:  # pragma: no cover - the gate always sets it
        raise GraphQLError("internal error: no access plan", extensions={"code": "INTERNAL"})
    return access


def withheld(root: Record, field_name: str, info: Info[Any, Any]) -> bool:
    """Whether ``field_name`` is withheld on ``root``; if so, record the
    FORBIDDEN_FIELD error at this path (the field answers empty)."""
    if field_name not in denied_fields(root):
        return False
    context(info).withheld.append(
        GraphQLError(
            "field withheld by policy for this record",
            path=info.path.as_list(),
            extensions={"code": FORBIDDEN_FIELD},
        )
    )
    return True


def vendor_id_of(hub_id: str | None, entity: Entity, source: str) -> str | None:
    """The vendor id of ``hub_id`` when it names ``entity`` in ``source``."""
    if not hub_id:
        return None
    decoded = decode_id(hub_id)
    if decoded is None or decoded.entity is not entity or decoded.source != source:
        return ""
    return decoded.vendor_id


@dataclass(slots=True)
class Edge:
    """An edge of a nested list."""

    node: Record
    cursor: str


@dataclass(slots=True)
class PageState:
    has_next_page: bool
    end_cursor: str | None


@dataclass(slots=True)
class Connection:
    """A Relay connection over rows already in memory."""

    edges: list[Edge]
    page_info: PageState
    total_count: int | None


def _offset_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_OFFSET_PREFIX}{position}".encode()).decode()


def _offset_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_OFFSET_PREFIX) or not text[2:].isdigit():
        raise GraphQLError("invalid cursor", extensions={"code": "BAD_USER_INPUT"})
    return int(text[2:])


DEFAULT_PAGE_SIZE = 100


def check_first(first: int | None, info: Info[Any, Any]) -> int:
    """Validate a ``first`` argument against the configured page limit
    (an explicit null means the default page size)."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    limit = context(info).hub.settings.server.max_page_size
    if first < 0 or first > limit:
        raise GraphQLError(f"first must be between 0 and {limit}", extensions={"code": "BAD_USER_INPUT"})
    return first


def paginate(
    rows: Sequence[Record], first: int | None, after: str | None, info: Info[Any, Any]
) -> Connection:
    """Slice ``rows`` as a connection page (and disclose the page's rows)."""
    first = check_first(first, info)
    start = _offset_of(after)
    window = rows[start : start + first]
    # Only the rows of the window leave: they alone are disclosed (the rows
    # were read with ``disclose=False``).
    data(info).disclose(window)
    edges = [Edge(row, _offset_cursor(start + i + 1)) for i, row in enumerate(window)]
    end = start + len(window)
    return Connection(edges, PageState(end < len(rows), edges[-1].cursor if edges else None), len(rows))


def empty_connection() -> Connection:
    """A connection with no rows (for withheld fields)."""
    return Connection([], PageState(False, None), 0)
