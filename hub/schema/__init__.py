"""The unified GraphQL schema (strawberry, code-first)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from hub.logsafe import safe_text
from hub.schema.cost import CostLimit
from hub.schema.gate import PolicyGate
from hub.schema.root import Query
from hub.schema.subscriptions import DeliveryAudit, Subscription
from hub.schema.types import Enrollment, Guardian, Student, Teacher

__all__ = ["HubSchema", "build_schema"]

log = logging.getLogger("homeroom.graphql")


class HubSchema(strawberry.Schema):
    """The schema, with error logging that never records request data.

    Strawberry logs every error with its message; ours would include one line
    per withheld cell (a log line per row) and possibly vendor text. Only
    unexpected failures are logged, by type.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError):
                # The path holds the caller's aliases: capped like any caller text.
                log.error(
                    "resolver failed: %s at %s",
                    type(original).__name__,
                    safe_text(".".join(str(p) for p in error.path or ()), limit=200),
                )


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
    gate: bool = True,
    extra_extensions: Sequence[Any] = (),
) -> HubSchema:
    """The hub schema with its limits (depth, aliases, tokens, cost) and (unless
    ``gate=False``) the policy gate."""
    # Factories, not instances: strawberry builds extensions per request, and
    # a shared instance would share its execution context between requests.
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        # Reads its limits from the request's hub settings and the caller's
        # roles, during validation: a refused operation never reaches the gate.
        CostLimit,
    ]
    if gate:
        extensions.append(PolicyGate)
        extensions.append(DeliveryAudit)
    extensions.extend(extra_extensions)
    return HubSchema(
        query=Query,
        subscription=Subscription,
        types=[Student, Teacher, Guardian, Enrollment],
        extensions=extensions,
    )
