"""GraphQL subscriptions over Server-Sent Events, for clients that cannot use WebSockets.

The "distinct connections" mode of the GraphQL over SSE protocol: a
``POST /graphql`` with ``Accept: text/event-stream`` (and the usual bearer
token and JSON body) holds the response open and sends each result as an
``event: next`` (its ``data`` the result's JSON), then ``event: complete``.
The subscription runs exactly as over WebSocket: the same schema, policy
plan, scope, audit (an event that cannot be audited is not sent) and the
caller's limits; the stream ends when the token expires and when the client
goes. A comment line every ``KEEPALIVE_SECONDS`` keeps proxies from closing
an idle stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.responses import StreamingResponse
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing

from hub.realtime.limits import SubscriptionLimits
from hub.schema import HubSchema
from hub.schema.context import HubContext

__all__ = ["KEEPALIVE_SECONDS", "accepts_event_stream", "event_stream"]

KEEPALIVE_SECONDS = 15.0

FormatError = Callable[[GraphQLError], dict[str, Any]]


def accepts_event_stream(accept: str) -> bool:
    """Whether an ``Accept`` header asks for ``text/event-stream``."""
    return any(part.split(";", 1)[0].strip().lower() == "text/event-stream" for part in accept.split(","))


@dataclass(frozen=True)
class _Asked:
    """One subscription asked over SSE: the document, for whom, under which limits."""

    schema: HubSchema
    context: HubContext
    limits: SubscriptionLimits
    query: str
    variables: dict[str, Any] | None
    operation: str | None
    expires: float | None
    format_error: FormatError


def event_stream(
    schema: HubSchema,
    context: HubContext,
    limits: SubscriptionLimits,
    asked: tuple[str, dict[str, Any] | None, str | None],
    *,
    expires: float | None,
    format_error: FormatError,
) -> StreamingResponse:
    """The response streaming ``asked`` (query, variables, operation name) as SSE."""
    query, variables, operation = asked
    return StreamingResponse(
        _events(_Asked(schema, context, limits, query, variables, operation, expires, format_error)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event(kind: str, payload: dict[str, Any] | None) -> str:
    data = "" if payload is None else json.dumps(payload, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n"


def _body(result: Any, format_error: FormatError) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(error) for error in result.errors]
    return body


async def _events(asked: _Asked) -> AsyncIterator[str]:
    format_error, limits, expires = asked.format_error, asked.limits, asked.expires
    subject = asked.context.principal.subject
    refusal = limits.refusal(subject)
    if refusal is not None:
        yield _event("next", {"data": None, "errors": [format_error(refusal)]})
        yield _event("complete", None)
        return
    with limits.holding(subject):
        results = await asked.schema.stream(
            asked.query,
            variable_values=asked.variables,
            context_value=asked.context,
            operation_name=asked.operation,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )
        # One result at a time: the subscription waits while the client reads (a
        # client too slow for its changes is dropped by the change feed's bound).
        queue: asyncio.Queue[Any] = asyncio.Queue()
        done = object()

        async def pump() -> None:
            try:
                async with aclosing(results):
                    async for result in results:
                        queue.put_nowait(result)
                        await queue.join()
            finally:
                queue.put_nowait(done)

        task = asyncio.create_task(pump())
        try:
            while True:
                timeout = KEEPALIVE_SECONDS
                if expires is not None:
                    left = expires - dt.datetime.now(dt.UTC).timestamp()
                    if left <= 0:
                        expired = GraphQLError("the token expired", extensions={"code": "UNAUTHENTICATED"})
                        yield _event("next", {"data": None, "errors": [format_error(expired)]})
                        break
                    timeout = min(timeout, left)
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=timeout)
                except TimeoutError:
                    yield ":\n\n"  # keepalive (and a look at the token's expiry)
                    continue
                if item is done:
                    break
                yield _event("next", _body(item, format_error))
                queue.task_done()
            yield _event("complete", None)
        finally:
            # The client went, the token expired or the stream ended: the subscription ends too.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
