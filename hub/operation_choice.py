"""Which operation of a request's document runs, as the GraphQL spec says.

Strawberry runs the first operation of a document with several when the
request names none; the spec asks for a request error. It also fails with an
exception (an HTTP 500 quoting the name) when ``operationName`` is not in the
document: the hub catches that and answers :data:`NOT_FOUND`. The refusals
never repeat the caller's text.
"""

from __future__ import annotations

import re

from graphql import GraphQLError, OperationDefinitionNode, parse

__all__ = ["NAME_REQUIRED", "NOT_FOUND", "NO_OPERATION", "ambiguous_operation"]

NAME_REQUIRED = "operationName is required when the document has several operations"
NOT_FOUND = "operation not found in the document"
NO_OPERATION = "the document has no operation"

# Two named operations need two of these keywords: a document with fewer is
# never ambiguous, so the common request is not parsed twice.
_OPERATION_KEYWORD = re.compile(r"\b(?:query|mutation|subscription)\b")


def ambiguous_operation(query: str, operation_name: str | None, *, max_tokens: int) -> str | None:
    """:data:`NAME_REQUIRED` when ``query`` holds several operations and the
    request names none, else ``None`` (a document that does not parse, or
    exceeds ``max_tokens``, is left to the schema, which reports why)."""
    if operation_name is not None:
        return None
    keywords = _OPERATION_KEYWORD.finditer(query)
    if next(keywords, None) is None or next(keywords, None) is None:
        return None
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operations = sum(isinstance(node, OperationDefinitionNode) for node in document.definitions)
    return NAME_REQUIRED if operations > 1 else None
