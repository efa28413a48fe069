"""A GraphQL-over-HTTP request body read defensively: bounded in size, JSON
only, and shaped ``{"query", "variables", "operationName"}``.

Anything else is a :class:`BadRequest` carrying the HTTP status to answer
(400, 413 or 415). Its message never quotes the body: that is the caller's text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

__all__ = ["MAX_BODY_BYTES", "BadRequest", "GraphQLRequest", "read_graphql_request"]

MAX_BODY_BYTES = 1_000_000
JSON_TYPES = frozenset({"application/json", "application/graphql-response+json", ""})


class BadRequest(Exception):
    """The body is not a GraphQL request; ``status`` is the HTTP answer."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """What the caller asked to run."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have.
    raise ValueError(f"{name} is not JSON")


async def _bounded_body(request: Request) -> bytes:
    too_large = BadRequest("request body too large (1 MB at most)", status=413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large  # refused before a byte of it is read
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large  # chunked, or a Content-Length that lied
        chunks.append(chunk)
    return b"".join(chunks)


async def read_graphql_request(request: Request) -> GraphQLRequest:
    """The operation in ``request``'s body, or :class:`BadRequest` saying why not."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise BadRequest("send the operation as application/json", status=415)
    body = await _bounded_body(request)
    try:
        payload = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: thousands of nested brackets, which must not be a 500.
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object with a 'query'")
    query = payload.get("query")
    variables = payload.get("variables")
    operation = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("'query' must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be an object")
    if operation is not None and not isinstance(operation, str):
        raise BadRequest("'operationName' must be a string")
    return GraphQLRequest(query, variables, operation or None)
